// Orphan retirement groups (orphans.action: retire): each proven orphan tree is staged into the trash; anything unknown blocks them all (pure).
//
// Must never: plan a retirement while the classification is not proven (src/plan/orphans.ts blockers), for a tree on a
// filesystem hashall.yaml does not name, or when safety.retire.mode is never. What the decision rests on goes into the
// fingerprint: every file of the tree (inode, size, mtime, link count — a hardlink made since may be a consumer) and
// the client's whole torrent list (a torrent added since may use the tree): either changed makes a saved plan stale.
import { noTrashOn } from '../domain/trash-dir.js';
import { createHash } from 'node:crypto';
import type { HashallConfig } from '../config/types.js';
import { DEFAULT_ORPHANS } from '../config/types.js';
import type { SnapshotTorrent } from '../domain/snapshot.js';
import { baseName, isAtOrUnder } from '../domain/path-string.js';
import { compareBytes } from '../domain/payload-hash.js';
import { formatBytes } from '../domain/format-bytes.js';
import type { OrphanReport } from './orphans.js';
import type { GroupFingerprint, PlanGroup, RetireOrphanStep } from './types.js';

/** Count and SHA-256 over the sorted lower-case infohashes: the identity of a client's torrent list. */
export function torrentListDigest(hashes: Iterable<string>): { count: number; digest: string } {
  const list = [...new Set([...hashes].map((h) => h.toLowerCase()))].sort();
  return { count: list.length, digest: createHash('sha256').update(list.join('\n'), 'utf8').digest('hex') };
}

const empty = { payloadHash: null, to: null, rule: null, bytesToCopy: 0 } as const;

export function planOrphanGroups(config: HashallConfig, report: OrphanReport | undefined, torrents: readonly SnapshotTorrent[], noPermissions: ReadonlySet<string> = new Set()): Omit<PlanGroup, 'id'>[] {
  const policy = config.orphans ?? DEFAULT_ORPHANS;
  if (policy.action !== 'retire' || report === undefined) return [];
  if (config.safety.retire.mode === 'never') return [];
  if (!report.proven) {
    return [
      {
        ...empty,
        torrents: [],
        key: 'orphans:blocked',
        action: 'blocked',
        title: 'orphan retirement',
        from: null,
        reasons: [`no orphan is proven, so none is retired (${report.trees.length} candidate tree(s)): ${report.blockers.slice(0, 5).join('; ')}${report.blockers.length > 5 ? `; … and ${report.blockers.length - 5} more` : ''}`],
        bytesToFree: 0,
        steps: [],
        fingerprint: { files: [], torrents: [] },
      },
    ];
  }
  // Every instance's torrents, each as instance/info-hash (the same hash in two instances is two torrents).
  const clientTorrents = torrentListDigest(torrents.map((t) => `${t.client}/${t.hash}`));
  return report.trees.map((t): Omit<PlanGroup, 'id'> => {
    const base = { ...empty, torrents: [], key: `orphan:${t.path}`, title: baseName(t.path), from: { fs: t.fs, path: t.path } };
    if (config.filesystems[t.fs] === undefined) {
      return { ...base, action: 'blocked', reasons: [`orphan ${t.path} lies on a filesystem hashall.yaml does not name (${t.fs})`], bytesToFree: 0, steps: [], fingerprint: { files: [], torrents: [] } };
    }
    if (noPermissions.has(t.fs)) return { ...base, action: 'blocked', reasons: [noTrashOn(t.fs, `orphan ${t.path}`)], bytesToFree: 0, steps: [], fingerprint: { files: [], torrents: [] } };
    const step: RetireOrphanStep = { kind: 'retire-orphan', fs: t.fs, seedingRoot: t.seedingRoot, path: t.path, treeKind: t.kind, files: t.fileCount, bytes: t.freedBytes };
    const fingerprint: GroupFingerprint = {
      files: t.files.map((f) => ({ path: f.path, ino: f.ino, size: f.size, mtimeNs: f.mtimeNs, nlink: f.nlink })),
      torrents: [],
      clientTorrents,
    };
    const frees =
      t.freedBytes === 0
        ? `frees nothing: every file is hardlinked elsewhere`
        : `frees ${formatBytes(t.freedBytes)} once the trash is purged${t.duplicatedBytes > 0 ? ` (${formatBytes(t.duplicatedBytes)} of it also exists elsewhere)` : ''}${t.uniqueBytes > 0 ? ` — ${formatBytes(t.uniqueBytes)} of it is the only copy` : ''}${t.unhashedBytes > 0 ? `; ${formatBytes(t.unhashedBytes)} not hashed yet (whether another copy exists is not known)` : ''}`;
    return {
      ...base,
      action: 'retire',
      reasons: [
        `orphan: ${t.why} (${t.fileCount} file(s), ${formatBytes(t.bytes)}, newest ${new Date(t.newestMtimeMs).toISOString().slice(0, 10)})`,
        `staged into ${config.filesystems[t.fs]!.path}/.hashall-trash (restorable with \`hashall trash restore\`, purged after safety.retire.observeHours ${config.safety.retire.observeHours}h); ${frees}`,
      ],
      bytesToFree: t.freedBytes,
      steps: [step],
      fingerprint,
    };
  });
}

/**
 * Orphan groups with the sources of open moves left to the moves: a tree at or under such a source is dropped (the
 * move's own retire removes it, only after the target has seeded for the observation window — an orphan retire would
 * stage it at once and purge it on its own clock, whatever became of the target); a tree holding one is blocked.
 * `sources`: the source roots of the plan's retire groups (pending, blocked or due).
 */
export function sparingMoveSources(groups: Omit<PlanGroup, 'id'>[], sources: readonly string[]): Omit<PlanGroup, 'id'>[] {
  if (sources.length === 0) return groups;
  return groups.flatMap((g): Omit<PlanGroup, 'id'>[] => {
    if (!g.key.startsWith('orphan:') || g.from === null) return [g];
    const tree = g.from.path;
    if (sources.some((s) => isAtOrUnder(tree, s))) return [];
    const held = sources.filter((s) => isAtOrUnder(s, tree)).sort(compareBytes);
    if (held.length === 0) return [g];
    const more = held.length > 1 ? ` (and ${held.length - 1} more)` : '';
    return [
      {
        ...g,
        action: 'blocked',
        reasons: [`it holds ${held[0]}${more}, the source of a move waiting for its own retire (after the target has seeded for the observation window): retired with it, never as an orphan`, ...g.reasons],
        bytesToFree: 0,
        steps: [],
      },
    ];
  });
}

