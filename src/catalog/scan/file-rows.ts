// The scanner's SQL on the files table (the one owner of ingest's file-row statements): the per-directory lookup,
// recorded hashes, hardlink donors, the upsert, and the reads and writes of the deletion pass.
import type { Statement } from 'better-sqlite3';
import type { CatalogDb } from '../db.js';
import { prefixRange } from '../filesystems.js';
import type { RecordedHashes, RowMeta } from './decide.js';

/** Rows per page when reading the catalog side of a directory. */
const PAGE = 1000;
/** Directories whose rows stay loaded after the lookup moved on (a walk may come back to a parent's files). */
const RECENT_DIRS = 16;

/** A file as written by a scan: the walk's metadata and the hashes to record. */
export interface FileRowWrite {
  path: string;
  ino: bigint;
  size: number;
  mtimeNs: bigint;
  nlink: number;
  quick: string | null;
  sha: string | null;
  hashedAt: number | null;
}

/** Prepared once per scanned root; every statement is bound to one filesystem. */
export interface FileRowStatements {
  /** A row's recorded hashes (the lookup holds flags only). */
  hashesOf(id: number): RecordedHashes;
  /** Hashes of an active, hashed link of inode `ino` with this size and mtime, if the catalog has one. */
  linkHashes(ino: bigint, size: number, mtimeNs: bigint): RecordedHashes | undefined;
  /** Insert or update the row at `w.path` as active; a deleted row comes back with its id and a new first_seen. */
  upsert(w: FileRowWrite, now: number): void;
  /** Ids of the active rows at or under `rel` (streamed from the index: memory stays bounded). */
  activeIdsUnder(rel: string): IterableIterator<number>;
  /** Number of active rows at or under `rel` with ids up to `maxId` (answered from the covering index). */
  activeCountUnder(rel: string, maxId: number): number;
  pathOf(id: number): string;
  markDeleted(id: number): void;
}

export function fileRowStatements(catalog: CatalogDb, fsId: number): FileRowStatements {
  const db = catalog.db;
  const getHashes = db.prepare(`SELECT quick_hash, sha256, hashed_at FROM files WHERE id = ?`);
  const getByInode = db.prepare(
    `SELECT quick_hash, sha256, hashed_at FROM files INDEXED BY files_fs_ino WHERE fs_id = ? AND ino = ? AND size = ? AND mtime_ns = ? AND status = 'active' AND quick_hash IS NOT NULL ORDER BY sha256 IS NULL LIMIT 1`,
  );
  const upsert = db.prepare(
    `INSERT INTO files (fs_id, path, ino, size, mtime_ns, nlink, quick_hash, sha256, hashed_at, status, first_seen, last_seen)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)
     ON CONFLICT (fs_id, path) DO UPDATE SET ino = excluded.ino, size = excluded.size, mtime_ns = excluded.mtime_ns, nlink = excluded.nlink,
       quick_hash = excluded.quick_hash, sha256 = excluded.sha256, hashed_at = excluded.hashed_at, status = 'active',
       first_seen = CASE WHEN files.status = 'deleted' THEN excluded.first_seen ELSE files.first_seen END, last_seen = excluded.last_seen`,
  );
  const idsUnder = db.prepare(`SELECT id FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ?`).pluck();
  const idsAll = db.prepare(`SELECT id FROM files WHERE fs_id = ? AND status = 'active'`).pluck();
  const countUnder = db.prepare(`SELECT count(*) FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ? AND id <= ?`).pluck();
  const countAll = db.prepare(`SELECT count(*) FROM files WHERE fs_id = ? AND status = 'active' AND id <= ?`).pluck();
  const pathOf = db.prepare(`SELECT path FROM files WHERE id = ?`).pluck();
  const mark = db.prepare(`UPDATE files SET status = 'deleted' WHERE id = ?`);
  return {
    hashesOf: (id) => getHashes.get(id) as RecordedHashes,
    linkHashes: (ino, size, mtimeNs) => getByInode.get(fsId, ino, size, String(mtimeNs)) as RecordedHashes | undefined,
    upsert: (w, now) => {
      upsert.run(fsId, w.path, w.ino, w.size, String(w.mtimeNs), w.nlink, w.quick, w.sha, w.hashedAt, now, now);
    },
    activeIdsUnder: (rel) => {
      const range = prefixRange(rel);
      return (range ? idsUnder.iterate(fsId, range.lo, range.hi) : idsAll.iterate(fsId)) as IterableIterator<number>;
    },
    activeCountUnder: (rel, maxId) => {
      const range = prefixRange(rel);
      return (range ? countUnder.get(fsId, range.lo, range.hi, maxId) : countAll.get(fsId, maxId)) as number;
    },
    pathOf: (id) => pathOf.get(id) as string,
    markDeleted: (id) => {
      mark.run(id);
    },
  };
}

/** Highest row id of the files table: rows a scan inserts get ids above the mark taken when it starts. */
export function maxFileId(catalog: CatalogDb): number {
  return (catalog.db.prepare(`SELECT coalesce(max(id), 0) AS m FROM files`).get() as { m: number }).m;
}

/** Number of active rows of filesystem `fsId` at or under `rel` ('' = the whole filesystem). */
export function activeRowCounter(catalog: CatalogDb): (fsId: number, rel: string) => number {
  const count = catalog.db.prepare(`SELECT count(*) AS n FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ?`);
  const countAll = catalog.db.prepare(`SELECT count(*) AS n FROM files WHERE fs_id = ? AND status = 'active'`);
  return (fsId, rel) => {
    const range = prefixRange(rel);
    return range ? (count.get(fsId, range.lo, range.hi) as { n: number }).n : (countAll.get(fsId) as { n: number }).n;
  };
}

/** What the per-directory lookup reads of a row after its path (see DIRECTORY_ROW_COLUMNS). */
const ROW_FIELDS = `id, ino, size, mtime_ns, nlink, (quick_hash IS NOT NULL) + 2 * (sha256 IS NOT NULL) + 4 * (status = 'deleted')`;

/**
 * Columns of the per-directory lookup: path, id, ino, size, mtime_ns, nlink and flags (1 quick hash known, 2 full hash
 * known, 4 deleted). Every one is a key of the covering index files_fs_path_cover (migration 004) — the flags
 * expression verbatim — so the lookup never reads the table. Change both together. (The lookup reads the path as the
 * name below its directory: substr of the same column.)
 */
export const DIRECTORY_ROW_COLUMNS = `path, ${ROW_FIELDS}`;

/** The scanner's catalog side of the walk: a file's row by its path, or by its directory and name. */
export interface DirectoryRows {
  at(relPath: string): RowMeta | undefined;
  /** Faster when the caller passes the same `dir` string for consecutive files of one directory. */
  inDir(dir: string, name: string): RowMeta | undefined;
}

/**
 * Catalog rows (any status) of the files directly inside one directory, looked up by path: one range query per
 * directory instead of one query per file. The directory's rows are loaded (keyed by name) when a file of another
 * directory is asked for, and the last RECENT_DIRS directories' rows are kept (the Node walk yields a directory's
 * entries consecutively; find yields them around its subdirectories' trees).
 * Rows of subdirectories are skipped with one index seek per subdirectory (`path >= 'dir/sub0'`), so a directory
 * costs its own rows plus one seek per catalogued subdirectory, never a scan of its whole subtree.
 */
export function directoryRowsReader(catalog: CatalogDb, fsId: number): DirectoryRows {
  // Raw rows (arrays) are markedly cheaper than objects at hundreds of thousands of rows. Deleted rows are read too:
  // a path that comes back reactivates its row, which keeps its id, and the deletion pass must know it was seen.
  const cols = `substr(path, ?), ${ROW_FIELDS}`;
  const where = `fs_id = ?`;
  const prep = (cond: string): Statement => catalog.db.prepare(`SELECT ${cols} FROM files WHERE ${where} AND ${cond} ORDER BY path LIMIT ${PAGE}`).raw(true);
  const fromIncl = prep(`path >= ? AND path < ?`);
  const fromExcl = prep(`path > ? AND path < ?`);
  const topIncl = prep(`path >= ?`);
  const topExcl = prep(`path > ?`);
  type Raw = [name: string, id: number, ino: number, size: number, mtimeNs: string, nlink: number, flags: number];
  let current: string | null = null;
  let rows = new Map<string, Raw>();
  // find yields a directory's files around its subdirectories' trees: the last few directories stay loaded.
  const recent = new Map<string, Map<string, Raw>>();
  const load = (dir: string): void => {
    const kept = recent.get(dir);
    if (kept !== undefined) {
      rows = kept;
      return;
    }
    rows = new Map();
    if (recent.size >= RECENT_DIRS) recent.delete(recent.keys().next().value as string);
    recent.set(dir, rows);
    const prefix = dir === '' ? '' : dir + '/';
    // SQLite's substr counts characters (code points), JavaScript's length UTF-16 units.
    let skip = 1;
    for (const _ of prefix) skip++;
    const hi = dir === '' ? null : dir + '0';
    let lo = prefix;
    let inclusive = true;
    for (;;) {
      const stmt = hi === null ? (inclusive ? topIncl : topExcl) : inclusive ? fromIncl : fromExcl;
      const page = (hi === null ? stmt.all(skip, fsId, lo) : stmt.all(skip, fsId, lo, hi)) as Raw[];
      let next: string | null = null;
      for (const row of page) {
        const slash = row[0].indexOf('/');
        if (slash >= 0) {
          // A row inside a subdirectory: seek past that subdirectory ('/' + 1 is '0').
          next = prefix + row[0].slice(0, slash) + '0';
          inclusive = true;
          break;
        }
        rows.set(row[0], row);
      }
      if (next === null) {
        if (page.length < PAGE) return;
        next = prefix + (page[page.length - 1] as Raw)[0];
        inclusive = false;
      }
      lo = next;
    }
  };
  const inDir = (dir: string, name: string): RowMeta | undefined => {
    if (dir !== current) {
      load(dir);
      current = dir;
    }
    const r = rows.get(name);
    if (r === undefined) return undefined;
    return { id: r[1], ino: r[2], size: r[3], mtime_ns: r[4], nlink: r[5], status: (r[6] & 4) !== 0 ? 'deleted' : 'active', hasQuick: (r[6] & 1) !== 0, hasSha: (r[6] & 2) !== 0 };
  };
  return {
    inDir,
    at: (relPath) => {
      const slash = relPath.lastIndexOf('/');
      return slash < 0 ? inDir('', relPath) : inDir(relPath.slice(0, slash), relPath.slice(slash + 1));
    },
  };
}
