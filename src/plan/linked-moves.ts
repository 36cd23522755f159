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
//
// Equal content on other inodes (a cross-seed downloaded twice: equal size and full SHA-256, two inodes on the source)
// links from the planned copy too — but only where the target's dedupe policy would link the two copies afterwards
// anyway (linksEqualContent: the target is one of dedupe.filesystems, the file not below dedupe.minSize): the outcome
// is then the same, without writing and reserving the bytes twice. Elsewhere each keeps its own copy, as before. As
// dedupe, it never links two inodes whose owner, group or mode differ or are unknown (PayloadFile.meta, read by the
// snapshot reader): the linked file would show the copy's owner and mode, and its torrent's container might no longer
// read it. So a content's planned copy is keyed by its source's owner, group and mode too (one copy per content and
// metadata), a file of unknown metadata is neither linked nor a donor by content, and the link carries its own source
// (LinkViewLink.metaOf), which apply re-reads before linking. The
// linked torrent then seeds from bytes read from the other's source: its repoint carries its own payload hash (the
// relocation and its retire prove its content on the target, every byte), and its source is kept until that retire.
import type { HashallConfig } from '../config/types.js';
import type { InodeMeta } from '../domain/snapshot.js';
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

/**
 * PlanState.copied's key of a content on the target filesystem (size and full SHA-256) whose source showed owner, group
 * and mode `meta`, where linksEqualContent: only a file of that very metadata links from it (dedupe links no other).
 */
function plannedContentKey(targetFs: string, size: number, sha256: string, meta: InodeMeta): string {
  return `${targetFs}\0=${size}:${sha256}:${meta.uid}:${meta.gid}:${meta.mode}`;
}

/**
 * The dedupe policy of `targetFs` lets two inodes of equal content (size and full SHA-256) become one there: it is one
 * of dedupe.filesystems and the file is not empty nor below dedupe.minSize (the files dedupe links, see
 * catalog/payload-summary.ts DUPE_MEMBERS_SQL). Where it does not, a move never links one torrent's file from another's
 * copy of equal content: each keeps its own.
 */
export function linksEqualContent(config: Pick<HashallConfig, 'dedupe'>, targetFs: string, size: number): boolean {
  return config.dedupe.filesystems.includes(targetFs) && size > 0 && size >= config.dedupe.minSize;
}

/** A file of a move linked from a planned copy: the copy, and whether it is of the file's own source inode (else: of equal content). */
export interface PlannedLink extends PlannedCopy {
  sameInode: boolean;
}

/** A move's source file as plannedCopyFor and recordPlannedCopy read it: its inode, and its owner, group and mode (absent: unknown). */
export interface PlannedSource {
  fsId: number;
  ino: number;
  meta?: InodeMeta;
}

/**
 * The planned copy on `targetFs` a file of a move links from instead of copying it again: the copy of its own source
 * inode, else (linksEqualContent, and the source's owner, group and mode known) the first copy of its content whose
 * source showed the same owner, group and mode. Undefined: it is copied.
 */
export function plannedCopyFor(copied: ReadonlyMap<string, PlannedCopy>, config: Pick<HashallConfig, 'dedupe'>, targetFs: string, source: PlannedSource, f: { size: number; sha256: string }): PlannedLink | undefined {
  const same = copied.get(plannedCopyKey(targetFs, source.fsId, source.ino));
  if (same !== undefined && same.size === f.size && same.sha256 === f.sha256) return { ...same, sameInode: true };
  if (source.meta === undefined || !linksEqualContent(config, targetFs, f.size)) return undefined;
  const equal = copied.get(plannedContentKey(targetFs, f.size, f.sha256, source.meta));
  return equal !== undefined && equal.size === f.size && equal.sha256 === f.sha256 ? { ...equal, sameInode: false } : undefined;
}

/**
 * Note a file a move copies to `targetFs`, for later groups of the plan: by its source inode, and — its source's owner,
 * group and mode known — by its content and that metadata (the first such copy stays its donor).
 */
export function recordPlannedCopy(copied: Map<string, PlannedCopy>, config: Pick<HashallConfig, 'dedupe'>, targetFs: string, source: PlannedSource, copy: PlannedCopy): void {
  copied.set(plannedCopyKey(targetFs, source.fsId, source.ino), copy);
  if (source.meta === undefined || !linksEqualContent(config, targetFs, copy.size)) return;
  const key = plannedContentKey(targetFs, copy.size, copy.sha256, source.meta);
  if (!copied.has(key)) copied.set(key, copy);
}

/** The reason a move that links some files from planned copies shows (`copied`: the files it still copies, and their bytes). */
export function linkedMoveHeadline(linked: ReadonlyMap<string, PlannedLink>, sourceFs: string, targetFs: string, copied: { files: number; bytes: string | null }): string {
  const titles = (ls: PlannedLink[]) => [...new Set(ls.map((c) => `"${c.title}"`))].join(', ');
  const byInode = [...linked.values()].filter((c) => c.sameInode);
  const byContent = [...linked.values()].filter((c) => !c.sameInode);
  const tail = copied.bytes !== null ? `, the other ${copied.files} copied (${copied.bytes}), verified by SHA-256` : ', nothing else is copied';
  const inodes = `${byInode.length} of its files ${byInode.length === 1 ? 'is a hardlink of a file' : 'are hardlinks of files'} of ${titles(byInode)} on ${sourceFs}`;
  if (byContent.length === 0) return `${inodes}, which this group copies to ${targetFs} once: linked from that copy${tail}`;
  const content = `${byContent.length} of its files ${byContent.length === 1 ? 'has' : 'have'} the same content (size and SHA-256) as ${byContent.length === 1 ? 'a file' : 'files'} of ${titles(byContent)} on another inode, and dedupe links equal content on ${targetFs} (the same owner, group and mode)`;
  const parts = byInode.length > 0 ? [inodes, content] : [content];
  return `${parts.join('; ')}; this plan copies ${byInode.length + byContent.length === 1 ? 'it' : 'them'} to ${targetFs} once: linked from that copy${tail}`;
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
