// buildPlan: config + catalog snapshot + now → Plan. The whole reconcile decision, deterministic (pure).
//
// Group order: torrent groups (by title bytes, then key), then dedupe groups, then retire groups, then orphan groups; ids g1…gN
// follow that order, so the same inputs always give the same plan, byte for byte.
import { torrentKey } from '../domain/instance.js';
import type { HashallConfig } from '../config/types.js';
import type { CatalogSnapshot } from '../domain/snapshot.js';
import { PLAN_FORMAT_VERSION, type Plan, type PlanGroup } from './types.js';
import { compareBytes } from '../domain/payload-hash.js';
import { placementPolicy } from '../policy/placement.js';
import { indexSnapshot } from './snapshot-index.js';
import { buildMember, planTorrentGroup, type Member, type PlanState } from './torrent-groups.js';
import { planDedupeGroups } from './dedupe.js';
import { mergeLinkedMoves } from './linked-moves.js';
import { planRetireGroups } from './retire.js';
import { summarize } from './summary.js';
import { blockUnresolved, runsForPlan } from './unresolved.js';
import type { UnresolvedRun } from '../domain/unresolved-run.js';
import { blockOnIntegrity } from './integrity.js';
import { planOrphanGroups, sparingMoveSources } from './orphan-groups.js';
import type { OrphanReport } from './orphans.js';

export interface BuildPlanInput {
  config: HashallConfig;
  snapshot: CatalogSnapshot;
  /** Epoch ms the plan is computed for (scan ages, observation windows). */
  now: number;
  /** ISO timestamp recorded in the plan. */
  createdAt: string;
  /** Apply runs not resolved yet (read from the run store by the caller): shown first, their paths blocked. */
  unresolvedRuns?: UnresolvedRun[];
  /** The orphan classification (src/reconcile/orphans.ts), when orphans.action is retire: its trees become retire groups. */
  orphans?: OrphanReport;
}

/** Sibling groups: torrents sharing a known payload hash; every torrent with an unknown hash is alone. */
export function groupMembers(members: Member[]): Member[][] {
  const byKey = new Map<string, Member[]>();
  for (const m of members) {
    const h = m.payload?.payloadHash ?? null;
    const key = h !== null ? `p:${h}` : `t:${torrentKey(m.torrent)}`;
    const list = byKey.get(key);
    if (list) list.push(m);
    else byKey.set(key, [m]);
  }
  const groups = [...byKey.values()];
  for (const g of groups) g.sort((a, b) => compareBytes(a.torrent.hostContentPath ?? '', b.torrent.hostContentPath ?? '') || compareBytes(a.torrent.hash, b.torrent.hash) || compareBytes(a.torrent.client, b.torrent.client));
  return groups;
}

export function buildPlan(input: BuildPlanInput): Plan {
  const { config, snapshot, now, createdAt } = input;
  const ix = indexSnapshot(config, snapshot, now);
  const policy = placementPolicy(config);
  const members = [...snapshot.torrents].sort((a, b) => compareBytes(a.hash, b.hash) || compareBytes(a.client, b.client)).map((t) => buildMember(ix, t));
  const sets = groupMembers(members);
  // Decide in a fixed order so reservations (free space, claimed roots) are deterministic.
  const ordered = sets
    .map((ms) => ({ ms, title: ms[0]!.torrent.name, key: ms[0]!.payload?.payloadHash ?? ms[0]!.torrent.hash }))
    .sort((a, b) => compareBytes(a.title, b.title) || compareBytes(a.key, b.key));
  const state: PlanState = { reserved: new Map(), claimed: new Map(), claimedAncestors: new Set(), copied: new Map(), follows: new Map() };
  // Moves linking files from another move's copy are one group with it (linked-moves.ts); merged before the checks
  // below, which then block such a group as a whole.
  const torrentGroups = mergeLinkedMoves(
    ordered.map((o) => planTorrentGroup(ix, o.ms, policy, state)),
    state.follows,
  );
  const unresolved = runsForPlan(input.unresolvedRuns ?? [], snapshot.torrents);
  const retireGroups = planRetireGroups(ix);
  // A move's source is retired by the move itself, never as an orphan (no torrent uses it while it waits).
  const orphanGroups = sparingMoveSources(
    planOrphanGroups(config, input.orphans, snapshot.torrents, new Set(snapshot.filesystems.filter((f) => f.permissionsKept === false && f.name !== null).map((f) => f.name!))),
    retireGroups.flatMap((g) => (g.from ? [g.from.path] : [])),
  );
  const all = blockOnIntegrity(
    blockUnresolved([...torrentGroups, ...planDedupeGroups(ix), ...retireGroups, ...orphanGroups], unresolved),
    snapshot.integrityProblems ?? [],
  );
  const groups: PlanGroup[] = all.map((g, i) => ({ id: `g${i + 1}`, ...g }));
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    createdAt,
    configPath: config.configPath,
    configHash: config.configHash,
    catalog: { lineage: snapshot.lineage, serial: snapshot.serial },
    groups,
    summary: summarize(groups),
    ...(unresolved.length > 0 ? { unresolvedRuns: unresolved } : {}),
  };
}

/** True when the plan holds at least one actionable group (move, reuse, dedupe, retire). */
export function hasChanges(plan: Plan): boolean {
  return plan.summary.move + plan.summary.reuse + plan.summary.dedupe + plan.summary.retire > 0;
}
