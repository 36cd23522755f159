// Dedupe groups: same-filesystem files with equal size and full SHA-256 become hardlinks of one keeper (pure).
//
// Invariants (must never be broken here):
// - never a file a client may still write (SnapshotIndex.mayWrite: unfinished downloads, in-progress names, an unsynced
//   client) — two zero-filled placeholders hash alike; such inodes are left out and the plan says why;
// - linking never changes what a path shows besides its inode: only inodes whose owner, group and mode agree (as the
//   snapshot reader found them on disk) are linked together, one link set per (owner, group, mode); unknown metadata
//   is never linked; and an inode with a path outside every seeding root (a library, a consumer's file) is linked
//   into another keeper only when its modification time is the keeper's too;
// - only paths inside a root hashall.yaml gives the group's filesystem (its seeding roots, the libraries under its path:
//   src/config/filesystem-roots.ts, what apply's scope check allows) are linked or kept: a path the catalog holds from
//   elsewhere (an ad-hoc `hashall scan /etc`) is a link hashall may not touch — an inode with no path inside is left
//   out, one with some counts its other links as outside the scanned roots; a path inside another configured root
//   (a library outside the filesystem's path) is left out the same way, and the plan says why;
// - never across filesystems (a DupeGroup is per filesystem by construction).
//
// Keeper choice (documented, deterministic), in order: an inode with a path outside every seeding root (the consumer's
// file keeps its own metadata); the most links; a path whose name has no copy marker (src/plan/copy-marker.ts); the
// bytewise-lowest such path; the lowest inode number. Every path of every other inode of its link set becomes a link
// of the keeper, so whole existing link groups merge; each then shows the keeper's owner, mode and mtime.
import type { DupeGroup, InodeMeta } from '../domain/snapshot.js';
import type { DedupeFile, DedupeLinkStep, PlanGroup } from './types.js';
import { compareBytes } from '../domain/payload-hash.js';
import { baseName, isAtOrUnder } from '../domain/path-string.js';
import { formatBytes } from '../domain/format-bytes.js';
import { hasCopyMarker } from './copy-marker.js';
import { insideRoots, rootCovering, type SnapshotIndex } from './snapshot-index.js';
import { rootHolding, scannedRootsOf } from '../config/filesystem-roots.js';

type Inode = DupeGroup['inodes'][number];
type KnownInode = Inode & { meta: InodeMeta };

interface Ranked {
  i: Inode;
  consumer: boolean;
  /** The inode's path shown as the keeper: unmarked names first, then bytewise lowest. */
  first: string;
  marked: boolean;
}

function rank(i: Inode, seedingRoots: readonly string[]): Ranked {
  const paths = i.paths.map((p) => ({ p, marked: hasCopyMarker(baseName(p)) })).sort((a, b) => Number(a.marked) - Number(b.marked) || compareBytes(a.p, b.p));
  const consumer = i.paths.some((p) => !seedingRoots.some((r) => isAtOrUnder(p, r)));
  return { i, consumer, first: paths[0]?.p ?? '', marked: paths[0]?.marked ?? true };
}

function byKeeperOrder(a: Ranked, b: Ranked): number {
  return Number(b.consumer) - Number(a.consumer) || b.i.nlink - a.i.nlink || Number(a.marked) - Number(b.marked) || compareBytes(a.first, b.first) || a.i.ino - b.i.ino;
}

/** The keeper of a link set (see the file comment for the order). */
export function chooseKeeper<T extends Inode>(inodes: readonly T[], seedingRoots: readonly string[] = []): T {
  return inodes.map((i) => rank(i, seedingRoots)).sort(byKeeperOrder)[0]!.i as T;
}

/** Why the keeper won over the runner-up, in words (`ranked`: the keeper and the inodes linked into it). */
function keeperWhy(ranked: Ranked[]): string {
  const [k, next] = [...ranked].sort(byKeeperOrder);
  if (!k || !next) return 'the only copy';
  if (k.consumer && !next.consumer) return 'it is the file a consumer outside the seeding roots uses, so its metadata stays as that consumer knows it';
  if (k.i.nlink !== next.i.nlink) return 'it has the most links';
  if (k.marked !== next.marked) return `its name has no copy marker (unlike ${next.first})`;
  return 'ties go to the bytewise-lowest path';
}

/** The path a keeper is shown and linked from: an unmarked name first, then the bytewise-lowest. */
export function keeperPath(i: Inode): string {
  return rank(i, []).first;
}

export function formatMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

export function formatMeta(m: InodeMeta): string {
  return `owner ${m.uid}:${m.gid}, mode ${formatMode(m.mode)}`;
}

function metaKey(m: InodeMeta): string {
  return `${m.uid}:${m.gid}:${formatMode(m.mode)}`;
}

/** Nanosecond mtime as an ISO instant (UTC), for reasons. */
function isoOf(mtimeNs: string): string {
  const ms = Number(BigInt(mtimeNs) / 1_000_000n);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : mtimeNs;
}

function paths(i: Inode): string {
  const sorted = [...i.paths].sort(compareBytes);
  return sorted.length === 1 ? sorted[0]! : `${sorted[0]!} (+${sorted.length - 1} more link${sorted.length === 2 ? '' : 's'})`;
}

/**
 * Why files of the catalog's filesystem `fsName` inside a configured root are not linked: the root is not one
 * hashall.yaml gives that entry (another entry's seeding root on the same filesystem, a library outside its path).
 */
function notOwnRoots(ix: SnapshotIndex, fsName: string, elsewhere: readonly string[]): string {
  const where = [...new Set(elsewhere.map((p) => rootCovering(ix, p)).filter((r) => r !== undefined).map((r) => `${r.kind} root ${r.path}${r.fsName !== null && r.fsName !== fsName ? ` (of filesystem ${r.fsName})` : ''}`))].sort(compareBytes);
  const fsPath = ix.config.filesystems[fsName]?.path ?? '?';
  const more = elsewhere.length > 1 ? ` (+${elsewhere.length - 1} more)` : '';
  return `not linked: ${elsewhere[0]!}${more} lies on ${fsName} as scanned, but in ${where.join(', ')}, which hashall.yaml does not give filesystem ${fsName} (its seeding roots and the libraries under its path ${fsPath}); apply links nowhere else — make filesystems.${fsName}.path a folder holding both`;
}

export function planDedupeGroups(ix: SnapshotIndex): Omit<PlanGroup, 'id'>[] {
  const { config, snapshot } = ix;
  const wanted = new Set(config.dedupe.filesystems);
  const seedingRoots = snapshot.roots.filter((r) => r.kind === 'seeding').map((r) => r.path);
  const ownRoots = new Map<string, string[]>();
  const out: Omit<PlanGroup, 'id'>[] = [];
  for (const d of snapshot.dupes) {
    const fsName = ix.fsById.get(d.fsId)?.name ?? null;
    if (fsName === null || !wanted.has(fsName)) continue;
    if (d.size < config.dedupe.minSize) continue;
    // The roots hashall.yaml gives this filesystem (apply's scope check links nowhere else): a path of the catalog's
    // filesystem inside a root of another entry or a library outside the entry's path is never linked — said, not silent.
    let roots = ownRoots.get(fsName);
    if (roots === undefined) ownRoots.set(fsName, (roots = scannedRootsOf(config, fsName)));
    const own = roots;
    const inScope = (p: string): boolean => rootHolding(config, p, own) !== null;
    const elsewhere = new Set<string>();
    for (const i of d.inodes) for (const p of i.paths) if (!inScope(p) && insideRoots(ix, p)) elsewhere.add(p);
    const inodes = d.inodes.map((i) => (i.paths.every(inScope) ? i : { ...i, paths: i.paths.filter(inScope) })).filter((i) => i.paths.length > 0);
    if (inodes.length < 2 && elsewhere.size === 0) continue;
    const copies = d.inodes.filter((i) => i.paths.some((p) => inScope(p) || elsewhere.has(p))).length;
    const what = `${copies} separate copies of the same ${formatBytes(d.size)} file on ${fsName} (equal size and SHA-256)`;
    // Left out, with the reason the plan shows: outside this filesystem's roots, a client may write them, or their
    // metadata is unknown.
    const held: string[] = [];
    if (elsewhere.size > 0) held.push(notOwnRoots(ix, fsName, [...elsewhere].sort(compareBytes)));
    const usable: KnownInode[] = [];
    for (const i of inodes) {
      const writing = i.paths.map((p) => ix.mayWrite(p)).find((r) => r !== null);
      if (writing) held.push(`not linked: ${writing}`);
      else if (!i.meta) held.push(`not linked: the owner and mode of ${paths(i)} are unknown (changed since the scan, or unreadable): refresh and plan again`);
      else usable.push(i as KnownInode);
    }
    // One link set per (owner, group, mode): linking across them would change what some path shows.
    const sets = new Map<string, KnownInode[]>();
    for (const i of usable) {
      const list = sets.get(metaKey(i.meta)) ?? [];
      list.push(i);
      sets.set(metaKey(i.meta), list);
    }
    if (sets.size > 1) {
      const kinds = [...sets.values()].map((l) => `${formatMeta(l[0]!.meta)} (${l.map(paths).sort(compareBytes).join(', ')})`).sort(compareBytes);
      held.push(`owner, group or mode differ between the copies — ${kinds.join('; ')}; only copies that agree are linked (linking would change what the others show; make them agree with chown/chmod to link them all)`);
    }
    // Each inode ranked once for the keeper choice, its path and the reason (rank reads every path of the inode).
    const ranks = new Map<Inode, Ranked>();
    const rankOf = (i: Inode): Ranked => {
      let r = ranks.get(i);
      if (r === undefined) ranks.set(i, (r = rank(i, seedingRoots)));
      return r;
    };
    const linkSets: { key: string; keeper: KnownInode; kPath: string; others: KnownInode[]; why: string }[] = [];
    for (const [key, set] of [...sets].sort((a, b) => compareBytes(a[0], b[0]))) {
      if (set.length < 2) continue;
      // chooseKeeper's order, on the ranks kept for this group.
      const keeper = set.map(rankOf).sort(byKeeperOrder)[0]!.i as KnownInode;
      // A consumer's file (outside every seeding root) keeps its modification time: never linked into a keeper of another.
      const others: KnownInode[] = [];
      for (const i of set) {
        if (i === keeper) continue;
        if (i.mtimeNs !== keeper.mtimeNs && rankOf(i).consumer) {
          held.push(`not linked: ${paths(i)} lies outside every seeding root and its modification time (${isoOf(i.mtimeNs)}) differs from the keeper's (${isoOf(keeper.mtimeNs)}); linking would change what that consumer sees`);
        } else others.push(i);
      }
      if (others.length > 0) {
        others.sort((a, b) => a.ino - b.ino);
        // keeperPath's answer: the first path of a rank does not depend on the seeding roots.
        linkSets.push({ key, keeper, kPath: rankOf(keeper).first, others, why: keeperWhy([keeper, ...others].map(rankOf)) });
      }
    }
    for (const l of linkSets) out.push(linkGroup(d, fsName, l.key, l.keeper, l.kPath, l.others, l.why, what, held));
    const acted = linkSets.length > 0;
    if (!acted && held.length > 0) {
      const sorted = [...inodes].sort((a, b) => compareBytes(keeperPath(a), keeperPath(b)));
      const first = sorted.length > 0 ? keeperPath(sorted[0]!) : [...elsewhere].sort(compareBytes)[0]!;
      out.push({
        key: `dedupe:${fsName}:${d.sha256}:${d.size}`,
        action: 'blocked',
        title: baseName(first),
        payloadHash: null,
        torrents: [],
        from: { fs: fsName, path: first },
        to: null,
        reasons: [`${what}, not deduplicated`, ...held],
        rule: null,
        bytesToCopy: 0,
        bytesToFree: 0,
        steps: [],
        fingerprint: { files: [], torrents: [] },
      });
    }
  }
  out.sort((a, b) => compareBytes(a.from!.fs, b.from!.fs) || compareBytes(a.from!.path, b.from!.path) || compareBytes(a.key, b.key));
  return out;
}

function linkGroup(
  d: DupeGroup,
  fsName: string,
  key: string,
  keeper: KnownInode,
  kPath: string,
  others: KnownInode[],
  why: string,
  what: string,
  held: readonly string[],
): Omit<PlanGroup, 'id'> {
  const file = (i: KnownInode, p: string): DedupeFile => ({ path: p, ino: i.ino, size: d.size, mtimeNs: i.mtimeNs, sha256: d.sha256, meta: i.meta });
  const keep = file(keeper, kPath);
  const steps: DedupeLinkStep[] = [];
  let freed = 0;
  for (const i of others) {
    for (const p of [...i.paths].sort(compareBytes)) steps.push({ kind: 'dedupe-link', fs: fsName, keeper: keep, duplicate: file(i, p) });
    // Bytes come free only when every link of the inode is one the catalog knows (and thus replaces).
    if (i.paths.length >= i.nlink) freed += d.size;
  }
  const unknownLinks = others.filter((i) => i.paths.length < i.nlink).length;
  const mtimes = new Set(others.map((i) => i.mtimeNs));
  mtimes.delete(keeper.mtimeNs);
  const reasons = [
    what,
    `keeping inode ${keeper.ino} at ${kPath} (${keeper.nlink} link${keeper.nlink === 1 ? '' : 's'}): ${why}; the other paths become hardlinks of it`,
    `metadata: the keeper's wins — ${formatMeta(keeper.meta)} (the same on every linked copy), modification time ${isoOf(keeper.mtimeNs)}${mtimes.size > 0 ? ' (the linked seeding copies show it from now on)' : ''}`,
  ];
  if (unknownLinks > 0) reasons.push(`${unknownLinks} inode(s) have links outside the scanned roots, so their bytes stay in use`);
  reasons.push(...held);
  const files = [keeper, ...others].flatMap((i) => i.paths.map((p) => ({ path: p, ino: i.ino, size: d.size, mtimeNs: i.mtimeNs, nlink: i.nlink })));
  files.sort((a, b) => compareBytes(a.path, b.path));
  return {
    key: `dedupe:${fsName}:${d.sha256}:${d.size}:${key}`,
    action: 'dedupe',
    title: baseName(kPath),
    payloadHash: null,
    torrents: [],
    from: { fs: fsName, path: kPath },
    to: { fs: fsName, path: kPath },
    reasons,
    rule: null,
    bytesToCopy: 0,
    bytesToFree: freed,
    steps,
    fingerprint: { files, torrents: [] },
  };
}
