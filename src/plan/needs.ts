// detailNeeds: the payloads whose file lists the planner will use — those of every sibling group that acts (pure).
import type { HashallConfig } from '../config/types.js';
import type { CatalogSnapshot, SnapshotPlanner } from '../domain/snapshot.js';
import { placementPolicy } from '../policy/placement.js';
import { groupMembers } from './build.js';
import { targetCandidates } from './target-path.js';
import { buildMember, decidePlacement } from './torrent-groups.js';
import { indexSnapshot, insideRootsTest } from './snapshot-index.js';

/**
 * Payload roots of every group decidePlacement sends on to moving or reusing: buildPlan touches file lists, donors
 * and client file lists only for those (and for relocations, which the reader always loads). Works on a snapshot
 * whose file lists are not loaded yet; `loaded` names the payloads whose lists already are (they need nothing more).
 */
export function detailNeeds(config: HashallConfig, snapshot: CatalogSnapshot, now: number, loaded: ReadonlySet<string> = new Set()): string[] {
  const ix = indexSnapshot(config, snapshot, now);
  const policy = placementPolicy(config);
  const members = snapshot.torrents.map((t) => buildMember(ix, t));
  const out: string[] = [];
  for (const ms of groupMembers(members)) {
    const d = decidePlacement(ix, ms, policy);
    if (d.outcome !== 'act') continue;
    for (const m of d.ready) if (!loaded.has(m.payload.rootPath)) out.push(m.payload.rootPath);
  }
  return out;
}

/** The planner's side of the snapshot read: the file lists and target occupancy a plan for `now` will consult. */
export function snapshotPlanner(config: HashallConfig, now: number): SnapshotPlanner {
  return {
    needs: (snapshot, loaded) => detailNeeds(config, snapshot, now, loaded),
    targets: (snapshot) => targetCandidates(config, snapshot),
    // The one place torrent groups take donors from (torrent-groups.ts: insideRoots on the same roots).
    donorPlaces: (snapshot) => insideRootsTest(snapshot.roots),
  };
}
