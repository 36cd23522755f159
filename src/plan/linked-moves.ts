// Torrents whose payloads share files by hardlink, moved to one filesystem in one plan: one copy of each shared file, one group (pure).
//
// A season pack and a cross-seeded episode linked from it (cross-seed's hardlink mode) are two sibling groups (their
// payload hashes differ). Moved in one plan, each copied its files: the shared file's bytes were written twice (two
// inodes on the target, the link between them lost) and reserved twice against safety.minFree. The planner now notes
// every file a move copies by its source inode (PlanState.copied); a later group of the plan moving to the same
// filesystem links its files of those inodes from that copy (a planned donor), copying only the rest. The two groups
// then become ONE group (mergeLinkedMoves): the donor exists only once the first group's copy ran, so both must succeed
// or be rolled back together — one journal, one rollback, crash recovery unchanged. Only moves merge: a group that
// stays, keeps, reuses or is blocked copies nothing, so nothing links from it (today's behaviour).
import type { PlanGroup, PlanStep, RepointStep } from './types.js';
import { fileFingerprints } from './file-fingerprints.js';

/** A file a move of this plan copies: where the copy will be, and which group copies it. */
export interface PlannedCopy {
  path: string;
  size: number;
  sha256: string;
  /** Key and title of the group that copies it. */
  key: string;
  title: string;
}

/** PlanState.copied's key: the target filesystem and the source file's inode (filesystem id + inode number). */
export function plannedCopyKey(targetFs: string, fsId: number, ino: number): string {
  return `${targetFs}\0${fsId}:${ino}`;
}

type Group = Omit<PlanGroup, 'id'>;

/**
 * The payload hash of the content a group moves from `root` (a copy step's fromRoot): that of the torrents repointed from
 * there (RepointStep.payloadHash), else the group's. A merged group may copy two payloads whole (two packs a folder links
 * files of): each copy is checked against its own content.
 */
export function payloadHashFrom(group: Pick<PlanGroup, 'payloadHash' | 'steps'>, root: string): string | null {
  for (const s of group.steps) if (s.kind === 'repoint' && s.hostFrom === root && s.payloadHash !== undefined) return s.payloadHash;
  return group.payloadHash;
}

/**
 * The groups with every group that links from another's copy (`follows`: group key → keys of the groups it links from)
 * merged into the first group of its cluster, at that group's place. A merged group keeps the first group's key, title,
 * payload hash and places; it holds every torrent, every copy and view (in group order) before every repoint, and
 * every fingerprint. A repoint of a torrent whose payload hash is not the group's carries its own (RepointStep.payloadHash):
 * its relocation, and so its retire, are recorded with its content.
 */
export function mergeLinkedMoves(groups: Group[], follows: ReadonlyMap<string, ReadonlySet<string>>): Group[] {
  if (follows.size === 0) return groups;
  const index = new Map(groups.map((g, i) => [g.key, i]));
  // Union-find over group positions; a cluster's representative is its earliest group (a follower always comes after
  // the groups it links from: the planner records a copy only once its group is planned).
  const parent = groups.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (const [key, leaders] of follows) {
    const f = index.get(key);
    if (f === undefined || groups[f]!.action !== 'move') continue;
    for (const l of leaders) {
      const li = index.get(l);
      if (li === undefined || groups[li]!.action !== 'move') continue;
      const [a, b] = [find(f), find(li)];
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    }
  }
  const clusters = new Map<number, Group[]>();
  for (const [i, g] of groups.entries()) {
    const r = find(i);
    clusters.set(r, [...(clusters.get(r) ?? []), g]);
  }
  const out: Group[] = [];
  for (const [i, g] of groups.entries()) {
    if (find(i) !== i) continue;
    const cluster = clusters.get(i)!;
    out.push(cluster.length === 1 ? g : mergeCluster(cluster));
  }
  return out;
}

function mergeCluster(cluster: Group[]): Group {
  const first = cluster[0]!;
  const work: PlanStep[] = [];
  const repoints: RepointStep[] = [];
  for (const g of cluster) {
    for (const s of g.steps) {
      if (s.kind !== 'repoint') work.push(s);
      else repoints.push(g.payloadHash !== first.payloadHash && g.payloadHash !== null ? { ...s, payloadHash: g.payloadHash } : s);
    }
  }
  // Each other torrent's why (its placement reason only when another rule placed it).
  const others = cluster.slice(1).map((g) => `also "${g.title}": ${g.reasons.filter((r, i) => i > 0 || r !== first.reasons[0]).join('; ')}`);
  const fileLists = cluster.map((g) => g.fingerprint.files).filter((l) => l.length > 0);
  const payloads = cluster.flatMap((g) => g.fingerprint.payloads ?? []);
  return {
    ...first,
    torrents: cluster.flatMap((g) => g.torrents),
    reasons: [...first.reasons, ...others],
    bytesToCopy: cluster.reduce((n, g) => n + g.bytesToCopy, 0),
    bytesToFree: cluster.reduce((n, g) => n + g.bytesToFree, 0),
    steps: [...work, ...repoints],
    fingerprint: {
      files: fileLists.length > 0 ? fileFingerprints(fileLists, true) : [],
      ...(payloads.length > 0 ? { payloads } : {}),
      torrents: cluster.flatMap((g) => g.fingerprint.torrents),
    },
  };
}
