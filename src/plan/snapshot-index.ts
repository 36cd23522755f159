// Indexes of a CatalogSnapshot the planner needs: filesystems by id/name, roots, warm filesystems, freshness (pure).
import type { HashallConfig } from '../config/types.js';
import type { CatalogFile, CatalogSnapshot, SnapshotFilesystem, SnapshotRoot } from '../domain/snapshot.js';
import { formatDuration } from '../domain/format-bytes.js';
import { dirName, isAtOrUnder, joinPath, longestRootOf, plainlyNormal } from '../domain/path-string.js';
import { contentRelOf } from '../domain/listing.js';
import { hostSpelling } from '../domain/path-map.js';
import { clientWriteGuard, type WriteGuard } from './in-progress.js';
import { mapsOf } from './client-spelling.js';

/** What the planner decides from: the config, the snapshot and the clock, with the snapshot's indexes built once. */
export interface SnapshotIndex {
  config: HashallConfig;
  snapshot: CatalogSnapshot;
  now: number;
  fsById: Map<number, SnapshotFilesystem>;
  fsByName: Map<string, SnapshotFilesystem>;
  rootsByPath: Map<string, SnapshotRoot>;
  /** Filesystems (config names) that hold a library root: moving content there is a promote (reuse-only). */
  warm: Set<string>;
  /** Problems with library roots (never scanned, too old); they make every consumer verdict untrustworthy. */
  libraryProblems: string[];
  /** Every torrent's host content path (or mapped client spelling when sync found none), sorted, for hitchhiker checks. */
  contentPaths: string[];
  /** The same paths as a set: whether a path is one of them, without a binary search (foreignTorrentAt asks of every folder above a target). */
  contentPathSet: ReadonlySet<string>;
  /**
   * Of those, the save folders of torrents without a root folder (content path = save path: their files lie in it beside
   * other content), with each such torrent's file list (null: not loaded) — and the content paths no such torrent
   * alone explains. A folder of the first kind holds only its torrents' listed files, not everything below it.
   */
  rootlessAt: ReadonlyMap<string, (readonly { name: string }[] | null)[]>;
  rootedContentSet: ReadonlySet<string>;
  /** snapshot.copiesBySha256. */
  copies: ReadonlyMap<string, CatalogFile[]>;
  /** Why a client may still write a path (then no content decision may use it), or null (src/plan/in-progress.ts). */
  mayWrite: WriteGuard;
  /** A recorded symlink at or below each path that holds one (the link itself and every folder above it): a payload made of links. */
  linkAt: ReadonlyMap<string, string>;
}

/** Build the indexes (pure; once per plan). */
export function indexSnapshot(config: HashallConfig, snapshot: CatalogSnapshot, now: number): SnapshotIndex {
  const fsById = new Map<number, SnapshotFilesystem>();
  const fsByName = new Map<string, SnapshotFilesystem>();
  for (const f of snapshot.filesystems) {
    fsById.set(f.id, f);
    if (f.name !== null) fsByName.set(f.name, f);
  }
  const rootsByPath = new Map<string, SnapshotRoot>();
  for (const r of snapshot.roots) rootsByPath.set(r.path, r);
  // A torrent sync could not place (its data is missing, say) still owns the directory its client path names:
  // use the path-mapped spelling of its content path, so no other payload is routed there.
  const spelled = (t: CatalogSnapshot['torrents'][number]): string | null => {
    const maps = mapsOf(config, t.client);
    return t.hostContentPath ?? hostSpelling(maps, t.clientContentPath);
  };
  const contentPathSet = new Set<string>();
  const rootlessAt = new Map<string, (readonly { name: string }[] | null)[]>();
  const rootedContentSet = new Set<string>();
  for (const t of snapshot.torrents) {
    const p = spelled(t);
    if (p === null) continue;
    contentPathSet.add(p);
    if (contentRelOf(t) === '') rootlessAt.set(p, [...(rootlessAt.get(p) ?? []), t.files]);
    else rootedContentSet.add(p);
  }
  const contentPaths = [...contentPathSet].sort();
  const copies = snapshot.copiesBySha256;
  const ix: SnapshotIndex = {
    config,
    snapshot,
    now,
    fsById,
    fsByName,
    rootsByPath,
    warm: new Set(),
    libraryProblems: [],
    contentPaths,
    contentPathSet,
    rootlessAt,
    rootedContentSet,
    copies,
    mayWrite: clientWriteGuard(config, snapshot),
    linkAt: linkPlaces(snapshot),
  };
  const mounts = snapshot.filesystems.map((f) => f.mountPoint);
  // The snapshot reader resolves each configured library to its canonical root (one root per entry); the raw
  // spelling (an undeclared bind mount, say) is not a second library. A snapshot missing some is topped up with
  // the raw spellings, which then count as never scanned.
  const libRoots = snapshot.roots.filter((r) => r.kind === 'library').map((r) => r.path);
  const libraries = new Set(libRoots.length >= config.libraries.length ? libRoots : [...config.libraries, ...libRoots]);
  for (const lib of [...libraries].sort()) {
    const root = rootsByPath.get(lib);
    let fs = root?.fsId != null ? fsById.get(root.fsId) : undefined;
    if (!fs) {
      const mp = longestRootOf(lib, mounts);
      fs = snapshot.filesystems.find((f) => f.mountPoint === mp);
    }
    if (fs?.name) ix.warm.add(fs.name);
    const problem = scanProblem(ix, root, lib, 'library root');
    if (problem) ix.libraryProblems.push(problem);
  }
  return ix;
}

/** Why a root cannot be trusted (never scanned, scanned too long ago), or null when it is fresh. */
export function scanProblem(ix: SnapshotIndex, root: SnapshotRoot | undefined, path: string, what: string): string | null {
  if (!root || root.lastScanAt === null) return `${what} ${path} has never been scanned (run \`hashall scan\`)`;
  const maxMs = ix.config.safety.maxScanAgeHours * 3_600_000;
  const age = ix.now - root.lastScanAt;
  if (age > maxMs) {
    return `${what} ${path} was last scanned ${formatDuration(age)} ago, longer than safety.maxScanAgeHours (${ix.config.safety.maxScanAgeHours}h)`;
  }
  return null;
}

/** The snapshot root record covering `path` (the longest root at or above it), if any. */
export function rootCovering(ix: SnapshotIndex, path: string): SnapshotRoot | undefined {
  return rootCoveringOf(ix.snapshot.roots, path);
}

function rootCoveringOf(roots: readonly SnapshotRoot[], path: string): SnapshotRoot | undefined {
  let best: SnapshotRoot | undefined;
  for (const r of roots) if (isAtOrUnder(path, r.path) && (!best || r.path.length > best.path.length)) best = r;
  return best;
}

/**
 * True when `path` lies strictly inside a configured seeding or library root: the only places apply links from or into
 * (src/apply/scope.ts refuses a dedupe file or view donor anywhere else). A file the catalog holds from elsewhere — an
 * ad-hoc `hashall scan /etc` — is never a donor, a keeper or a duplicate.
 */
export function insideRoots(ix: SnapshotIndex, path: string): boolean {
  return insideRootsOf(ix.snapshot.roots, path);
}

/** insideRoots over the snapshot's `roots`. */
export function insideRootsOf(roots: readonly SnapshotRoot[], path: string): boolean {
  const root = rootCoveringOf(roots, path);
  return root !== undefined && root.path !== path;
}

/**
 * insideRootsOf(roots, path) for many paths, without normalizing each: when the roots and the path are plain (see
 * plainlyNormal in path-string.ts), the path lies strictly inside a root exactly when it starts with that root and a slash, and the longest
 * root covering it is then itself only when it is a root. Any other path, or any root that is not plain, is asked of
 * insideRootsOf itself.
 */
export function insideRootsTest(roots: readonly SnapshotRoot[]): (path: string) => boolean {
  if (!roots.every((r) => plainlyNormal(r.path))) return (p) => insideRootsOf(roots, p);
  const rootPaths = new Set(roots.map((r) => r.path));
  const prefixes = [...new Set(roots.map((r) => (r.path === '/' ? '/' : `${r.path}/`)))];
  return (p) => {
    if (p === '/' || !plainlyNormal(p)) return insideRootsOf(roots, p);
    for (const pre of prefixes) if (p.startsWith(pre)) return !rootPaths.has(p);
    return false;
  };
}

/**
 * True when some torrent's content path is `root`, lies under it or holds it, and that torrent's payload is not
 * known to be `payloadHash`: putting our content there would make two different payloads share a directory.
 */
export function foreignTorrentAt(ix: SnapshotIndex, root: string, payloadHash: string): boolean {
  const foreign = (p: string): boolean => ix.snapshot.payloads[p]?.payloadHash !== payloadHash;
  const paths = ix.contentPaths;
  for (let p = root; p !== '' && p !== '/'; p = dirName(p)) {
    if (!ix.contentPathSet.has(p) || !foreign(p)) continue;
    // A save folder above the target that holds only rootless torrents' files: foreign only where one of them lies.
    if (p !== root && !ix.rootedContentSet.has(p) && (ix.rootlessAt.get(p) ?? []).every((files) => files !== null && files.every((f) => !isAtOrUnder(joinPath(p, f.name), root)))) continue;
    return true;
  }
  const prefix = `${root}/`;
  for (let i = lowerBound(paths, prefix); i < paths.length && paths[i]!.startsWith(prefix); i++) if (foreign(paths[i]!)) return true;
  return false;
}

function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Every recorded link and each folder above it, to the first link found there (see SnapshotIndex.linkAt). */
function linkPlaces(snapshot: CatalogSnapshot): Map<string, string> {
  const out = new Map<string, string>();
  for (const { link } of snapshot.symlinks ?? []) {
    for (let p = link; p.length > 1 && !out.has(p); p = dirName(p)) out.set(p, link);
  }
  return out;
}
