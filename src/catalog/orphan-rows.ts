// The catalog reads behind orphan classification: roots, torrents, every active file under the seeding roots (streamed), inode links, content copies.
//
// Scale: the files under a torrent's payload root are counted with one aggregate per root (or taken from the payload
// summaries the last sync stored, while current), never read; the rest of each
// seeding root is read by covering-index range scans over the gaps (files_fs_path_cover: no table lookup per row);
// the link counts of a multiply-linked inode looked up per visited inode; the torrents' file lists only
// for torrents without a root folder; SHA-256 copies only for orphan inodes. Rows are streamed, never all held.
import type { HashallConfig } from '../config/types.js';
import type { CatalogFileMeta, SnapshotClientState, SnapshotRoot, SnapshotTorrent } from '../domain/snapshot.js';
import { isAtOrUnder, longestRootOf } from '../domain/path-string.js';
import { TRASH_SEGMENT } from '../domain/trash-dir.js';
import { compareBytes } from '../domain/payload-hash.js';
import type { CatalogDb } from './db.js';
import { inodeLinks, knownLinks } from './consumers.js';
import { inodeShaReader } from './files-table.js';
import { hostPathContext } from './host-paths.js';
import { absoluteCatalogPath } from './filesystems.js';
import { summaryState } from './payload-summary.js';
import { readSymlinkTargets } from './symlinks.js';
import { openMoveSources } from './relocations.js';
import { readClientStates, snapshotRoots } from './snapshot.js';
import { readActiveTorrents } from './torrent-row.js';

export interface OrphanContext {
  roots: SnapshotRoot[];
  torrents: SnapshotTorrent[];
  fileCount: (t: { client: string; hash: string }) => number;
  torrentFiles: (t: { client: string; hash: string }) => { name: string; size: number }[];
  lastSyncAt: number | null;
  clients: Record<string, SnapshotClientState>;
  fsName: (fsId: number) => string | null;
  /**
   * Files and bytes under each payload directory, by `fsId\0root`, from the payload summaries the last sync stored —
   * only while they describe the catalog as it is (its serial); empty otherwise (forEachSeedingFile then counts).
   */
  dirTotals: ReadonlyMap<string, { files: number; bytes: number }>;
  /** What each recorded symlink names (resolved path → the link; src/catalog/symlinks.ts). */
  symlinks: ReadonlyMap<string, string>;
  /** The sources of open moves, each waiting for its own retire (src/catalog/relocations.ts). */
  moveSources: string[];
}

/** Everything but the files: roots with their scans, active torrents, file-list counts, last sync, filesystem names. */
export function readOrphanContext(catalog: CatalogDb, config: HashallConfig, mountInfoFile?: string): OrphanContext {
  const db = catalog.db;
  const roots = snapshotRoots(catalog, config, hostPathContext(config, mountInfoFile));
  const instances = Object.keys(config.clients);
  const { torrents } = readActiveTorrents(catalog, instances);
  const count = db.prepare(`SELECT count(*) FROM torrent_files WHERE client = ? AND torrent_hash = ?`).pluck();
  const list = db.prepare(`SELECT name, size FROM torrent_files WHERE client = ? AND torrent_hash = ? ORDER BY idx`).raw(true);
  const names = new Map((db.prepare(`SELECT id, name FROM filesystems`).raw(true).all() as [number, string | null][]).map(([id, n]) => [id, n !== null && config.filesystems[n] ? n : null]));
  const clients = readClientStates(catalog, instances);
  const states = Object.values(clients);
  const lastSyncAt = states.length === 0 || states.some((c) => c.syncedAt === null) ? null : Math.min(...states.map((c) => c.syncedAt as number));
  return {
    roots,
    torrents,
    fileCount: (t) => count.get(t.client, t.hash) as number,
    torrentFiles: (t) => (list.all(t.client, t.hash) as [string, number][]).map(([name, size]) => ({ name, size })),
    lastSyncAt,
    clients,
    fsName: (id) => names.get(id) ?? null,
    dirTotals: storedDirTotals(catalog),
    symlinks: new Map(readSymlinkTargets(catalog).map((t) => [t.resolved, t.link])),
    moveSources: openMoveSources(db),
  };
}

/**
 * The stored payload summaries' totals of directory payloads, when current (see OrphanContext.dirTotals). A summary of
 * a directory root counts exactly the active rows of the range [root/, root0) a claimed subtree is counted over.
 */
function storedDirTotals(catalog: CatalogDb): Map<string, { files: number; bytes: number }> {
  const out = new Map<string, { files: number; bytes: number }>();
  if (!summaryState(catalog).current) return out;
  const rows = catalog.db.prepare(`SELECT fs_id, root, files, bytes FROM payload_summaries WHERE kind = 'dir'`).raw(true).all() as [number, string, number, number][];
  for (const [fsId, root, files, bytes] of rows) out.set(`${fsId}\0${root}`, { files, bytes });
  return out;
}

/**
 * Active-path counts of a multiply-linked inode of a filesystem — all of them, and those outside every seeding root —
 * looked up per inode when a visited file has more than one link (memoized by inodeLinks): the visited files are the
 * ones no torrent claims, so this reads the few inodes that matter instead of every multiply-linked row of the filesystem.
 */
function linkCounts(catalog: CatalogDb, seedingRoots: readonly string[], trashNames?: (fsId: number) => (ino: number) => number): (row: CatalogFileMeta) => { known: number; outside: number } {
  const paths = inodeLinks(catalog);
  return (row) => {
    const all = paths({ fsId: row.fsId, path: row.path, ino: row.ino, size: row.size, mtimeNs: row.mtimeNs, nlink: row.nlink, sha256: null });
    let outside = 0;
    for (const abs of all) if (!abs.includes(TRASH_SEGMENT) && !seedingRoots.some((r) => isAtOrUnder(abs, r))) outside += 1;
    // Names in hashall's trash (a retired copy's) are known links and no consumer: the consumer rule's count.
    return { known: knownLinks(all, row.nlink, trashNames && (() => trashNames(row.fsId)(row.ino))).known, outside };
  };
}

/** Sorted, outermost-only subtree prefixes (`R/`) of `claims` below `rel` (catalog-relative; '' = the whole filesystem). */
function claimIntervals(claims: readonly string[], mount: string, rel: string): string[] {
  const out: string[] = [];
  const base = rel === '' ? '' : `${rel}/`;
  const prefixes = claims
    .filter((c) => isAtOrUnder(c, mount) && c !== mount)
    .map((c) => `${mount === '/' ? c.slice(1) : c.slice(mount.length + 1)}/`)
    .filter((p) => p.startsWith(base) && p !== base)
    .sort(compareBytes);
  for (const p of prefixes) if (out.length === 0 || !p.startsWith(out[out.length - 1]!)) out.push(p);
  return out;
}

/** The smallest string above every string that starts with `prefix` (which ends in '/'). */
function prefixEnd(prefix: string): string {
  return `${prefix.slice(0, -1)}0`;
}

export interface SeedingFileVisitor {
  /** Every file outside the skipped subtrees, in path order per root, with its seeding root and links (nlink > 1). */
  file(row: CatalogFileMeta, root: string, links: { known: number; outside: number } | null): void;
  /** A skipped subtree (an absolute path given in `skip`) that holds `count` files of `bytes` in the catalog. */
  subtree(path: string, root: string, count: number, bytes: number): void;
}

/**
 * Walk every active catalog file under the (scanned) seeding roots, except those in the subtrees named by `skip`
 * (absolute paths — the torrents' payload roots, whose files are settled by their claim): each of those is counted
 * with one aggregate over its index range instead. The rest is read by range scans of the covering index over the
 * gaps between them, so the rows read are the ones no torrent explains.
 */
export function forEachSeedingFile(
  catalog: CatalogDb,
  roots: readonly SnapshotRoot[],
  skip: readonly string[],
  visitor: SeedingFileVisitor,
  dirTotals: OrphanContext['dirTotals'] = new Map(),
  trashNames?: (fsId: number) => (ino: number) => number,
): void {
  const db = catalog.db;
  const seeding = roots.filter((r) => r.kind === 'seeding');
  const allSeeding = seeding.map((r) => r.path);
  const mounts = new Map((db.prepare(`SELECT id, preferred_mount FROM filesystems`).raw(true).all() as [number, string][]).map(([id, m]) => [id, m]));
  const byFs = new Map<number, string[]>();
  for (const r of seeding) if (r.fsId !== null && r.lastScanAt !== null) byFs.set(r.fsId, [...(byFs.get(r.fsId) ?? []), r.path]);
  const cols = `path, ino, size, mtime_ns, nlink FROM files INDEXED BY files_fs_path_cover WHERE fs_id = ? AND status = 'active'`;
  const range = db.prepare(`SELECT ${cols} AND path >= ? AND path < ? ORDER BY path`).raw(true);
  const from = db.prepare(`SELECT ${cols} AND path >= ? ORDER BY path`).raw(true);
  const links = linkCounts(catalog, allSeeding, trashNames);
  const count = db.prepare(`SELECT count(*), coalesce(sum(size), 0) FROM files INDEXED BY files_fs_path_cover WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ?`).raw(true);
  for (const [fsId, fsRoots] of [...byFs].sort((a, b) => a[0] - b[0])) {
    const mount = mounts.get(fsId);
    if (mount === undefined) continue;
    const tops = [...new Set(fsRoots)].filter((r) => !fsRoots.some((o) => o !== r && isAtOrUnder(r, o))).sort(compareBytes);
    const nested = fsRoots.length > 1;
    let lastDir = '';
    let lastRoot = '';
    const rootOf = (abs: string, top: string): string => {
      if (!nested) return top;
      const dir = abs.slice(0, abs.lastIndexOf('/'));
      if (dir !== lastDir) {
        lastDir = dir;
        lastRoot = longestRootOf(abs, fsRoots) ?? top;
      }
      return lastRoot;
    };
    const visitRows = (rows: Iterable<[string, number, number, string, number]>, top: string): void => {
      for (const [p, ino, size, mtimeNs, nlink] of rows) {
        const abs = absoluteCatalogPath(mount, p);
        const row = { fsId, path: abs, ino, size, mtimeNs, nlink };
        visitor.file(row, rootOf(abs, top), nlink > 1 ? links(row) : null);
      }
    };
    for (const top of tops) {
      if (!isAtOrUnder(top, mount)) continue;
      const rel = top === mount ? '' : mount === '/' ? top.slice(1) : top.slice(mount.length + 1);
      const intervals = claimIntervals(skip, mount, rel);
      // Gaps between the skipped subtrees: [cursor, next prefix), then past the prefix's end.
      let cursor = rel === '' ? '' : `${rel}/`;
      const end = rel === '' ? null : `${rel}0`;
      for (const prefix of intervals) {
        visitRows(range.iterate(fsId, cursor, prefix) as Iterable<[string, number, number, string, number]>, top);
        const abs = absoluteCatalogPath(mount, prefix.slice(0, -1));
        const stored = dirTotals.get(`${fsId}\0${abs}`);
        const [n, bytes] = stored ? [stored.files, stored.bytes] : (count.get(fsId, prefix, prefixEnd(prefix)) as [number, number]);
        if (n > 0) visitor.subtree(abs, rootOf(abs, top), n, bytes);
        cursor = prefixEnd(prefix);
      }
      visitRows((end === null ? from.iterate(fsId, cursor) : range.iterate(fsId, cursor, end)) as Iterable<[string, number, number, string, number]>, top);
    }
  }
}

/**
 * What the catalog knows of an orphan inode's content: no full SHA-256 yet, a copy on another inode that is not one of
 * `orphanInodes` (`fsId:ino`) — a payload, a library file, any other active file — or no other copy. A content that
 * only orphan inodes hold is the only copy once, for the first of them asked; the others hold a copy of it (two orphan
 * trees of one content — a move's source and target after its torrent was removed — are one content to lose, not two).
 */
export function orphanContent(catalog: CatalogDb, orphanInodes: ReadonlySet<string>): (f: { fsId: number; ino: number }) => 'unhashed' | 'duplicated' | 'unique' {
  const shaOf = inodeShaReader(catalog.db);
  const copies = catalog.db.prepare(`SELECT fs_id, ino FROM files INDEXED BY files_sha WHERE sha256 = ? AND status = 'active'`).raw(true);
  const counted = new Set<string>();
  return (f) => {
    const sha = shaOf(f.fsId, f.ino);
    if (sha === undefined) return 'unhashed';
    for (const [fsId, ino] of copies.iterate(sha) as Iterable<[number, number]>) {
      if ((fsId === f.fsId && ino === f.ino) || orphanInodes.has(`${fsId}:${ino}`)) continue;
      return 'duplicated';
    }
    if (counted.has(sha)) return 'duplicated';
    counted.add(sha);
    return 'unique';
  };
}
