// The scanner's SQL on the files table (the one owner of ingest's file-row statements, beside the per-directory lookup
// in directory-rows.ts): recorded hashes, hardlink donors, the upsert, and the reads and writes of the deletion pass.
import type { CatalogDb } from '../db.js';
import { prefixRange } from '../filesystems.js';
import type { RecordedHashes } from './decide.js';

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

/** One scanned root's file-row calls, bound to one filesystem (the statements are kept by the connection: catalog.statement). */
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
  /** Marks the row deleted; its last_seen becomes `now`, when it was found gone (see pruneDeletedRows). */
  markDeleted(id: number, now: number): void;
}

export function fileRowStatements(catalog: CatalogDb, fsId: number): FileRowStatements {
  const getHashes = catalog.statement(`SELECT quick_hash, sha256, hashed_at FROM files WHERE id = ?`);
  const getByInode = catalog.statement(
    `SELECT quick_hash, sha256, hashed_at FROM files INDEXED BY files_fs_ino WHERE fs_id = ? AND ino = ? AND size = ? AND mtime_ns = ? AND status = 'active' AND quick_hash IS NOT NULL ORDER BY sha256 IS NULL LIMIT 1`,
  );
  const upsert = catalog.statement(
    `INSERT INTO files (fs_id, path, ino, size, mtime_ns, nlink, quick_hash, sha256, hashed_at, status, first_seen, last_seen)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)
     ON CONFLICT (fs_id, path) DO UPDATE SET ino = excluded.ino, size = excluded.size, mtime_ns = excluded.mtime_ns, nlink = excluded.nlink,
       quick_hash = excluded.quick_hash, sha256 = excluded.sha256, hashed_at = excluded.hashed_at, status = 'active',
       first_seen = CASE WHEN files.status = 'deleted' THEN excluded.first_seen ELSE files.first_seen END, last_seen = excluded.last_seen`,
  );
  const idsUnder = catalog.statement(`SELECT id FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ?`, 'pluck');
  const idsAll = catalog.statement(`SELECT id FROM files WHERE fs_id = ? AND status = 'active'`, 'pluck');
  const countUnder = catalog.statement(`SELECT count(*) FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ? AND id <= ?`, 'pluck');
  const countAll = catalog.statement(`SELECT count(*) FROM files WHERE fs_id = ? AND status = 'active' AND id <= ?`, 'pluck');
  const pathOf = catalog.statement(`SELECT path FROM files WHERE id = ?`, 'pluck');
  const mark = catalog.statement(`UPDATE files SET status = 'deleted', last_seen = ? WHERE id = ?`);
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
    markDeleted: (id, now) => {
      mark.run(now, id);
    },
  };
}

/** Highest row id of the files table: rows a scan inserts get ids above the mark taken when it starts. */
export function maxFileId(catalog: CatalogDb): number {
  return (catalog.statement(`SELECT coalesce(max(id), 0) AS m FROM files`).get() as { m: number }).m;
}

/** Number of active rows of filesystem `fsId` at or under `rel` ('' = the whole filesystem). */
export function activeRowCounter(catalog: CatalogDb): (fsId: number, rel: string) => number {
  const count = catalog.statement(`SELECT count(*) AS n FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ?`);
  const countAll = catalog.statement(`SELECT count(*) AS n FROM files WHERE fs_id = ? AND status = 'active'`);
  return (fsId, rel) => {
    const range = prefixRange(rel);
    return range ? (count.get(fsId, range.lo, range.hi) as { n: number }).n : (countAll.get(fsId) as { n: number }).n;
  };
}
