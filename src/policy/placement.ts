// Desired placement of a sibling group: category `place`, then placement rules in order, else the default (pure).
import type { HashallConfig, PlacementRule, RuleMatch } from '../config/types.js';
import type { SnapshotTorrent } from '../domain/snapshot.js';
import { globToRegExp } from './glob.js';

/** One torrent of a group with the facts rules can look at. */
export interface PolicyMember {
  torrent: Pick<SnapshotTorrent, 'hash' | 'category' | 'tags' | 'seedingTimeSec'>;
  /** Total bytes of the torrent's payload; null when unknown (then `minSize` never matches). */
  payloadSize: number | null;
  /** Payload path relative to its seeding root; null when unknown (then `paths` never matches). */
  relPath: string | null;
}

export interface PolicyGroup {
  members: PolicyMember[];
}

export interface Placement {
  /** Filesystem name, or `keep` (stay wherever it is). */
  fs: string;
  /** Rule that decided it: a placement rule name, `category:<name>`, or null for the default. */
  rule: string | null;
  reason: string;
}

const DAY_SEC = 86_400;

/** True when every criterion present in `match` holds for the member (an empty match holds for everything). */
export function ruleMatches(match: RuleMatch, m: PolicyMember, globs: Map<string, RegExp> = new Map()): boolean {
  const t = m.torrent;
  if (match.tags && !match.tags.some((tag) => t.tags.includes(tag))) return false;
  if (match.categories && !match.categories.includes(t.category)) return false;
  if (match.minSeedingDays !== undefined && !(t.seedingTimeSec >= match.minSeedingDays * DAY_SEC)) return false;
  if (match.minSize !== undefined && (m.payloadSize === null || m.payloadSize < match.minSize)) return false;
  if (match.paths) {
    const rel = m.relPath;
    if (rel === null || !match.paths.some((g) => compiled(globs, g).test(rel))) return false;
  }
  return true;
}

function compiled(cache: Map<string, RegExp>, glob: string): RegExp {
  let re = cache.get(glob);
  if (!re) {
    re = globToRegExp(glob);
    cache.set(glob, re);
  }
  return re;
}

function placeWords(place: string): string {
  return place === 'keep' ? 'keeps it where it is' : `places it on ${place}`;
}

/**
 * Where a group belongs. A category `place` comes first: it decides when every torrent's category has a
 * `place` and they all name the same filesystem (siblings in categories that disagree fall through to the
 * rules). Then the first rule whose match holds for EVERY torrent of the group; else `placement.default`.
 * `now` is part of the contract for time-based rules; seeding time comes from the client's counter.
 */
export function desiredPlacement(group: PolicyGroup, config: HashallConfig, now: number): Placement {
  return placementPolicy(config)(group, now);
}

/** The same decision with globs compiled once, for deciding many groups. */
export function placementPolicy(config: HashallConfig): (group: PolicyGroup, now: number) => Placement {
  const globs = new Map<string, RegExp>();
  return (group, _now) => decide(group, config, globs);
}

function decide(group: PolicyGroup, config: HashallConfig, globs: Map<string, RegExp>): Placement {
  const members = group.members;
  if (members.length > 0) {
    const places = members.map((m) => config.categories[m.torrent.category]?.place ?? null);
    const first = places[0];
    if (first && places.every((p) => p === first)) {
      const cats = [...new Set(members.map((m) => m.torrent.category))].sort();
      const names = cats.map((c) => `"${c}"`).join(', ');
      return {
        fs: first,
        rule: `category:${cats.join(',')}`,
        reason: `category ${names} belongs on ${first}`,
      };
    }
    for (const rule of config.placement.rules as PlacementRule[]) {
      if (members.every((m) => ruleMatches(rule.match, m, globs))) {
        return { fs: rule.place, rule: rule.name, reason: `rule "${rule.name}" ${placeWords(rule.place)}` };
      }
    }
  }
  const d = config.placement.default;
  return { fs: d, rule: null, reason: `no rule matched; the default ${placeWords(d)}` };
}
