// The files table's named queries outside the scan (the scanner's own are catalog/scan/file-rows.ts): files not hashed yet, an inode's recorded SHA-256 and paths, copies of a damaged inode's content, catalogued temp files of hashall, the dedupe bookkeeping's rows, the rows of a tree a retire took away, and those rows made active again by a trash restore.
import { prefixRange } from './filesystems.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';
import { COVER_FLAGS } from './scan/directory-rows.js';

/** The recorded SHA-256 of an active inode, or undefined (the statement compiled once). */
export function inodeShaReader(db: Db): (fsId: number, ino: number) => string | undefined {
  const shaOf = db.prepare(`SELECT sha256 FROM files INDEXED BY files_fs_ino WHERE fs_id = ? AND ino = ? AND status = 'active' AND sha256 IS NOT NULL LIMIT 1`).pluck();
  return (fsId, ino) => shaOf.get(fsId, ino) as string | undefined;
}

/**
 * The two ways to count active rows without a full hash. `byKeys`: the content index's NULL keys, each key's status
 * read from the table (one row read per key). `byCover`: one pass over files_fs_path_cover, whose flags key holds
 * whether the hash is known and whether the row is deleted (flags < 2: no full hash, active) — the expression is the
 * index's verbatim (COVER_FLAGS), so the table is never read.
 */
export const UNHASHED_COUNT_SQL = {
  nullKeys: `SELECT count(*) FROM files INDEXED BY files_sha WHERE sha256 IS NULL`,
  byKeys: `SELECT count(*) FROM files INDEXED BY files_sha WHERE sha256 IS NULL AND status = 'active'`,
  byCover: `SELECT count(*) FROM files INDEXED BY files_fs_path_cover WHERE ${COVER_FLAGS} < 2`,
} as const;

/**
 * Active catalog files whose full hash is unknown (not hashed yet, or unreadable). When the NULL keys are more than a
 * fifth of the rows (size-first hashing leaves most rows unhashed), a pass over the covering index costs less than a
 * table read per key (20k rows, 16k unhashed: 7 ms against 28 ms); otherwise each key's row is read.
 */
export function unhashedCount(db: Db): number {
  const nullKeys = db.prepare(UNHASHED_COUNT_SQL.nullKeys).pluck().get() as number;
  if (nullKeys === 0) return 0;
  const rows = db.prepare(`SELECT coalesce(max(id), 0) FROM files`).pluck().get() as number;
  return db.prepare(nullKeys * 5 > rows ? UNHASHED_COUNT_SQL.byCover : UNHASHED_COUNT_SQL.byKeys).pluck().get() as number;
}

/** How long the row of a file gone from disk is kept (status 'deleted'): a path that comes back within it gets its row back. */
export const DELETED_ROWS_KEPT_MS = 30 * 86_400_000;
/** The least time between two passes of pruneDeletedRows (each reads the whole table). */
const PRUNE_EVERY_MS = 86_400_000;

/**
 * Removes the rows deleted longer than DELETED_ROWS_KEPT_MS ago (a deleted row's last_seen is when a scan found it
 * gone), at most once a day (meta `deleted_rows_pruned_at`); returns how many. Nothing refers to a files row by id,
 * and only active rows count anywhere, so what the catalog says is unchanged: the serial is not bumped (a saved plan
 * stays current). Without it a catalog with churn grew with every file it ever saw.
 */
export function pruneDeletedRows(db: Db, now: number): number {
  const last = Number(db.prepare(`SELECT value FROM meta WHERE key = 'deleted_rows_pruned_at'`).pluck().get() ?? Number.NEGATIVE_INFINITY);
  if (now >= last && now - last < PRUNE_EVERY_MS) return 0;
  return db.transaction(() => {
    const removed = db.prepare(`DELETE FROM files WHERE status = 'deleted' AND last_seen < ?`).run(now - DELETED_ROWS_KEPT_MS).changes;
    db.prepare(`INSERT INTO meta (key, value) VALUES ('deleted_rows_pruned_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(String(now));
    return removed;
  })();
}

/** Active absolute paths of an inode, unsorted. */
export function activeInodePaths(db: Db, fsId: number, ino: number): string[] {
  return db.prepare(`SELECT abs_path FROM file_paths WHERE fs_id = ? AND ino = ? AND status = 'active'`).pluck().all(fsId, ino) as string[];
}

/** An active inode, other than (fsId, ino), recording the same content; `fs` is its filesystem's name or identity. */
export interface SameContentRow {
  fsId: number;
  fs: string;
  ino: number;
  size: number;
  mtimeNs: string;
  path: string;
}

/** Active paths of other inodes with this SHA-256 and size and no open integrity problem of their own, unsorted. */
export function sameContentPaths(db: Db, sha256: string | null, size: number, fsId: number, ino: number): SameContentRow[] {
  return db
    .prepare(
      `SELECT f.fs_id AS fsId, coalesce(fs.name, fs.uuid) AS fs, f.ino AS ino, f.size AS size, f.mtime_ns AS mtimeNs, f.abs_path AS path
       FROM file_paths f JOIN filesystems fs ON fs.id = f.fs_id
       WHERE f.sha256 = ? AND f.size = ? AND f.status = 'active' AND NOT (f.fs_id = ? AND f.ino = ?)
         AND NOT EXISTS (SELECT 1 FROM integrity_problems q WHERE q.fs_id = f.fs_id AND q.ino = f.ino AND q.resolved_at IS NULL)`,
    )
    .all(sha256, size, fsId, ino) as SameContentRow[];
}

/** A catalogued file named like one of hashall's temp files, with its filesystem's name and mount. */
export interface TempFileRow {
  path: string;
  ino: number;
  fs_name: string;
  preferred_mount: string;
}

/**
 * The sweep's query for `n` filesystem names. Its WHERE on `files` is the partial index's (migration 18), word for word:
 * SQLite uses a partial index only when the query's terms imply the index's.
 */
export const TEMP_FILES_SQL = (n: number): string =>
  `SELECT f.path, f.ino, fs.name AS fs_name, fs.preferred_mount
   FROM files f JOIN filesystems fs ON fs.id = f.fs_id
   WHERE f.status = 'active' AND (f.path GLOB '.hashall-*.part' OR f.path GLOB '*/.hashall-*.part')
     AND fs.name IN (${Array.from({ length: n }, () => '?').join(', ')})
   ORDER BY fs.name, f.path LIMIT ?`;

/** Active files named `.hashall-*.part` on the filesystems named, by filesystem and path, at most `maxRows`. */
export function catalogedTempFiles(db: Db, fsNames: string[], maxRows: number): TempFileRow[] {
  if (!fsNames.length) return [];
  return db.prepare(TEMP_FILES_SQL(fsNames.length)).all(...fsNames, maxRows) as TempFileRow[];
}

/**
 * Every active row named like libtorrent's part file (`.<hex>.parts`): filesystem id and catalog path. Its WHERE on
 * `files` is the partial index's (migration 20), word for word.
 */
export const PART_FILES_SQL = `SELECT fs_id, path FROM files
   WHERE status = 'active' AND (path GLOB '.[0-9a-f]*.parts' OR path GLOB '*/.[0-9a-f]*.parts')`;

export function catalogedPartFiles(db: Db): { fs_id: number; path: string }[] {
  return db.prepare(PART_FILES_SQL).all() as { fs_id: number; path: string }[];
}

/** An inode's stamp and recorded SHA-256 as a row of the file_paths view gives them, with the row's absolute path (what the readers that hash or verify an inode select). */
export interface FilePathRow {
  fs_id: number;
  ino: number;
  size: number;
  mtime_ns: string;
  sha256: string | null;
  abs_path: string;
}

/** The columns of an active file row the dedupe bookkeeping copies from a keeper to its linked duplicate (and the link count, compared before it is written). */
export interface LinkedFileRow {
  id: number;
  fs_id: number;
  ino: number;
  size: number;
  mtime_ns: string;
  nlink: number;
  quick_hash: string | null;
  sha256: string | null;
  hashed_at: number | null;
  verified_at: number | null;
}

/** The active row at a path relative to a filesystem's root, or undefined (the statement compiled once). */
export function activeFileAtReader(db: Db): (fsId: number, rel: string) => LinkedFileRow | undefined {
  const byPath = db.prepare(
    `SELECT id, fs_id, ino, size, mtime_ns, nlink, quick_hash, sha256, hashed_at, verified_at FROM files WHERE fs_id = ? AND path = ? AND status = 'active'`,
  );
  return (fsId, rel) => byPath.get(fsId, rel) as LinkedFileRow | undefined;
}

/**
 * The dedupe bookkeeping's writes (statements compiled once per call): see apply/dedupe-bookkeeping.ts. Each row is
 * written once per linked pair at most: a row written is a page of the table and of every index whose columns it
 * changes (the covering path index holds ino and nlink), and a batch of 2,000 pairs wrote each duplicate's row three
 * times (its old inode's link count, then its new inode, then its new inode's link count).
 */
export function dedupeLinkWrites(db: Db): {
  /** The other rows of the duplicate's former inode (not the duplicate's own row, `dupId`) lose one link. */
  dropLink(fsId: number, ino: number, dupId: number): void;
  /**
   * The duplicate's row takes its keeper's inode, metadata and hashes, and the link count `nlink` read after the swap
   * (only the columns whose values differ now are written). `dupRow`: the row as the caller read it in the same
   * transaction's lead-up, nothing written since (else it is read again here).
   */
  take(k: LinkedFileRow, dupId: number, nlink: number, now: number, dupRow?: LinkedFileRow): void;
  /** Every active row of the keeper's inode takes the link count read after the swap (rows already at it are not rewritten). */
  setLinks(nlink: number, fsId: number, ino: number): void;
} {
  // By (fs_id, ino): without the hint SQLite scans every row of the filesystem through the covering path index.
  const dropLink = db.prepare(`UPDATE files INDEXED BY files_fs_ino SET nlink = nlink - 1 WHERE fs_id = ? AND ino = ? AND id <> ? AND status = 'active' AND nlink > 1`);
  // Only the columns whose values differ: SQLite rewrites the entry of every index naming a column of the SET list,
  // equal value or not, and the content index is keyed by SHA-256 — each pair's equal hashes dirtied a random page of
  // it (~2k extra WAL pages per 2k linked files). One statement per set of columns, compiled when first needed.
  const columns = ['ino', 'size', 'mtime_ns', 'quick_hash', 'sha256', 'hashed_at', 'verified_at', 'nlink'] as const;
  const takes = new Map<number, Statement>();
  const current = db.prepare(`SELECT id, fs_id, ino, size, mtime_ns, nlink, quick_hash, sha256, hashed_at, verified_at FROM files WHERE id = ?`);
  const take = (k: LinkedFileRow, dupId: number, nlink: number, now: number, dupRow?: LinkedFileRow): void => {
    const dup = dupRow?.id === dupId ? dupRow : (current.get(dupId) as LinkedFileRow | undefined);
    if (!dup) return;
    const wanted = { ...k, nlink };
    let mask = 0;
    const values: unknown[] = [];
    columns.forEach((c, i) => {
      if (wanted[c] === dup[c]) return;
      mask |= 1 << i;
      values.push(wanted[c]);
    });
    let st = takes.get(mask);
    if (!st) {
      const set = columns.filter((_, i) => mask & (1 << i)).map((c) => `${c} = ?`);
      takes.set(mask, (st = db.prepare(`UPDATE files SET ${[...set, 'last_seen = ?'].join(', ')} WHERE id = ?`)));
    }
    st.run(...values, now, dup.id);
  };
  const links = db.prepare(`UPDATE files INDEXED BY files_fs_ino SET nlink = ? WHERE fs_id = ? AND ino = ? AND status = 'active' AND nlink <> ?`);
  return {
    dropLink: (fsId, ino, dupId) => void dropLink.run(fsId, ino, dupId),
    take,
    setLinks: (nlink, fsId, ino) => void links.run(nlink, fsId, ino, nlink),
  };
}

/**
 * Marks deleted the active rows at `rel` and under it on filesystem `fsId` — a tree hashall itself took away (a retire
 * staged it in the trash), recorded from what the executor did instead of a rescan, which cannot tell a root it
 * emptied from an unmounted one. Returns how many rows it marked. Never the whole filesystem (`rel` '').
 */
export function treeDeletionWriter(db: Db): (fsId: number, rel: string, now: number) => number {
  const at = db.prepare(`UPDATE files SET status = 'deleted', last_seen = ? WHERE fs_id = ? AND path = ? AND status = 'active'`);
  const under = db.prepare(`UPDATE files SET status = 'deleted', last_seen = ? WHERE fs_id = ? AND path >= ? AND path < ? AND status = 'active'`);
  return (fsId, rel, now) => {
    const range = prefixRange(rel);
    if (range === null) throw new Error('treeDeletionWriter: refusing to mark a whole filesystem deleted');
    return at.run(now, fsId, rel).changes + under.run(now, fsId, range.lo, range.hi).changes;
  };
}

/** The row a file had before hashall staged it in the trash (status 'deleted'): what `trash restore` may make active again. */
export interface StagedFileRow {
  id: number;
  sha256: string;
}

/**
 * `trash restore`'s reads and writes of the rows of what it put back (see apply/trash-restore.ts, which decides whether
 * a file is still the content its row recorded). `find`: the deleted row at `rel` recording exactly this inode, size and
 * mtime with a full SHA-256, whose inode has no open integrity problem (a damaged inode's recorded hash is not what it
 * holds). `revive`: that row active again with its recorded hashes — the next scan takes it as unchanged, so its SHA-256
 * is neither lost nor read again; false when the row is no longer that deleted row.
 */
export function stagedRowKeeper(db: Db): {
  find(fsId: number, rel: string, ino: number, size: number, mtimeNs: string): StagedFileRow | undefined;
  revive(id: number, ino: number, size: number, mtimeNs: string, now: number): boolean;
} {
  const find = db.prepare(
    `SELECT f.id, f.sha256 FROM files f WHERE f.fs_id = ? AND f.path = ? AND f.status = 'deleted' AND f.ino = ? AND f.size = ? AND f.mtime_ns = ? AND f.sha256 IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM integrity_problems q WHERE q.fs_id = f.fs_id AND q.ino = f.ino AND q.resolved_at IS NULL)`,
  );
  const revive = db.prepare(`UPDATE files SET status = 'active', first_seen = ?, last_seen = ? WHERE id = ? AND status = 'deleted' AND ino = ? AND size = ? AND mtime_ns = ? AND sha256 IS NOT NULL`);
  return {
    find: (fsId, rel, ino, size, mtimeNs) => find.get(fsId, rel, ino, size, mtimeNs) as StagedFileRow | undefined,
    revive: (id, ino, size, mtimeNs, now) => revive.run(now, now, id, ino, size, mtimeNs).changes === 1,
  };
}
