// Resolves a payload (single file or directory tree) from active catalog rows by canonical root path.
import type { CatalogFile, PayloadFile } from '../domain/snapshot.js';
import type { CatalogDb } from './db.js';
import { compareBytes } from '../domain/payload-hash.js';
import { absoluteCatalogPath, prefixRange } from './filesystems.js';

export interface FileRowOut {
  id: number;
  fs_id: number;
  path: string;
  ino: number;
  size: number;
  mtime_ns: string;
  nlink: number;
  sha256: string | null;
}

export interface ResolvedPayload {
  kind: 'file' | 'dir';
  /** Sorted by relpath bytes as SQLite orders TEXT (memcmp on UTF-8). */
  files: (PayloadFile & { id: number })[];
}

export function toCatalogFile(r: FileRowOut, mount: string): CatalogFile & { id: number } {
  return { id: r.id, fsId: r.fs_id, path: absoluteCatalogPath(mount, r.path), ino: r.ino, size: r.size, mtimeNs: r.mtime_ns, nlink: r.nlink, sha256: r.sha256 };
}

const COLS = `id, fs_id, path, ino, size, mtime_ns, nlink, sha256`;

/** Prepared lookups over `files`; one instance per read, never module state. */
export function payloadReader(catalog: CatalogDb) {
  const exact = catalog.db.prepare(`SELECT ${COLS} FROM files WHERE fs_id = ? AND path = ? AND status = 'active'`);
  const under = catalog.db.prepare(`SELECT ${COLS} FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ? ORDER BY path`);
  const all = catalog.db.prepare(`SELECT ${COLS} FROM files WHERE fs_id = ? AND status = 'active' ORDER BY path`);
  return {
    /**
     * The payload rooted at `rel` (relative to the filesystem's preferred mount `mount`): the active file at exactly
     * that path (single-file), else every active file below it (directory). Null when the catalog has neither.
     */
    resolve(fsId: number, mount: string, rel: string): ResolvedPayload | null {
      if (rel !== '') {
        const f = exact.get(fsId, rel) as FileRowOut | undefined;
        if (f) {
          const base = rel.split('/').pop() as string;
          return { kind: 'file', files: [{ ...toCatalogFile(f, mount), relpath: base }] };
        }
      }
      const range = prefixRange(rel);
      const rows = (range ? under.all(fsId, range.lo, range.hi) : all.all(fsId)) as FileRowOut[];
      if (rows.length === 0) return null;
      const cut = rel === '' ? 0 : rel.length + 1;
      return { kind: 'dir', files: rows.map((r) => ({ ...toCatalogFile(r, mount), relpath: r.path.slice(cut) })) };
    },
    /** Every active file at or below `rel` (occupancy of a target path). */
    atOrUnder(fsId: number, mount: string, rel: string): (CatalogFile & { id: number })[] {
      const out: (CatalogFile & { id: number })[] = [];
      if (rel !== '') {
        const f = exact.get(fsId, rel) as FileRowOut | undefined;
        if (f) out.push(toCatalogFile(f, mount));
      }
      const range = prefixRange(rel);
      for (const r of (range ? under.all(fsId, range.lo, range.hi) : all.all(fsId)) as FileRowOut[]) out.push(toCatalogFile(r, mount));
      return out;
    },
  };
}

/** A payload read in bulk for the snapshot: its files, the other active paths of their inodes, every copy of their content. */
export interface BulkPayload {
  kind: 'file' | 'dir';
  /** Sorted by relpath bytes, as `resolve` gives them. */
  files: PayloadFile[];
  /** Canonical paths of the OTHER active rows sharing a file's inode, by the file's canonical path (files with no other link are absent). */
  otherLinks: Map<string, string[]>;
  /** Row ids of `files`, index for index (internal to the reader). */
  ids: number[];
}

type FileRaw = [id: number, path: string, ino: number, size: number, mtimeNs: string, nlink: number, sha256: string | null];
type LinkRaw = [pid: number, path: string];
type CopyRaw = [pid: number, sha256: string, id: number, fsId: number, path: string, ino: number, size: number, mtimeNs: string, nlink: number];

/**
 * The other active rows of each payload file's inode (a WHERE on `p` is appended). INDEXED BY: the covering path
 * index also starts with fs_id, and without statistics SQLite picks it and scans the whole filesystem per payload;
 * CROSS JOIN keeps SQLite from starting at `o` (every row of the filesystem) instead of the payload rows.
 */
export const INODE_LINKS_SQL = `SELECT p.id, o.path FROM files p CROSS JOIN files o INDEXED BY files_fs_ino ON o.fs_id = p.fs_id AND o.ino = p.ino AND o.status = 'active' AND o.id <> p.id`;

/**
 * Every OTHER active row with the content of a payload file (a WHERE on `p` is appended); same fixed join order, by
 * sha256. `o.id <> p.id` is decided from the index (the rowid is in it), so the payload's own rows — already read —
 * are never fetched again.
 */
export const CONTENT_COPIES_SQL = `SELECT p.id, o.sha256, o.id, o.fs_id, o.path, o.ino, o.size, o.mtime_ns, o.nlink FROM files p
    CROSS JOIN files o INDEXED BY files_sha ON o.sha256 = p.sha256 AND o.id <> p.id AND o.status = 'active' JOIN filesystems fs ON fs.id = o.fs_id`;

/**
 * What the live-check workers read of a payload's rows (live-check.ts, checkPayloadRows): path below the root ('' for a
 * single file: the root itself), inode, size, mtime and links, in the order and with the paths payloadBulkReader.resolve
 * gives — `one` takes (fs_id, rel), `under` (rel, fs_id, lo, hi) of prefixRange(rel), `all` (fs_id) for a filesystem root.
 */
export const LIVE_ROWS_SQL = {
  one: `SELECT '', ino, size, mtime_ns, nlink FROM files WHERE fs_id = ? AND path = ? AND status = 'active'`,
  under: `SELECT substr(path, length(?) + 2), ino, size, mtime_ns, nlink FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ? ORDER BY path`,
  all: `SELECT path, ino, size, mtime_ns, nlink FROM files WHERE fs_id = ? AND status = 'active' ORDER BY path`,
  /**
   * `under`'s rows as one text (SQLite formats them: no JS array, number or string per row but the path and mtime the
   * check needs): each row `ino size nlink mtime_ns path` with the path absolute (the first parameter, the filesystem's
   * preferred mount and its '/' — '/' alone for the root mount — then the row's path; the path last: only it may hold
   * spaces), NUL between rows (no path holds a NUL), in path order; then the row count and the bytes. The other
   * parameters are `under`'s but the first (fs_id, lo, hi): every row in [lo, hi) starts with the payload's path and a
   * '/', so it is the same text as the root, '/' and the row's path below the root, without cutting each path.
   */
  packed: `SELECT group_concat(r, char(0)), count(*), total(s) FROM (
    SELECT ino || ' ' || size || ' ' || nlink || ' ' || mtime_ns || ' ' || ? || path AS r, size AS s
      FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ? ORDER BY path)`,
  /**
   * The copies CONTENT_COPIES_SQL finds for the rows in [lo, hi) of a filesystem (parameters fs_id, lo, hi), as one text:
   * each `fs_id ino path` (the path relative to its filesystem's preferred mount, last: only it may hold spaces), NUL
   * between them, in no particular order (a copy reached from two payload files comes twice).
   */
  probe: `SELECT group_concat(o.fs_id || ' ' || o.ino || ' ' || o.path, char(0)) FROM files p
    CROSS JOIN files o INDEXED BY files_sha ON o.sha256 = p.sha256 AND o.id <> p.id AND o.status = 'active' JOIN filesystems fs ON fs.id = o.fs_id
    WHERE p.fs_id = ? AND p.status = 'active' AND p.path >= ? AND p.path < ?`,
} as const;

/**
 * Prepared bulk lookups for readSnapshot (one instance per read, never module state): one query per payload for
 * its files, one for the other links of their inodes and one for the copies of their content — the per-file work
 * happens inside SQLite instead of one round trip per file.
 */
export function payloadBulkReader(catalog: CatalogDb) {
  const db = catalog.db;
  const F = `id, path, ino, size, mtime_ns, nlink, sha256`;
  const fileStmts = {
    one: db.prepare(`SELECT ${F} FROM files WHERE fs_id = ? AND path = ? AND status = 'active'`).raw(true),
    under: db.prepare(`SELECT ${F} FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ? ORDER BY path`).raw(true),
    all: db.prepare(`SELECT ${F} FROM files WHERE fs_id = ? AND status = 'active' ORDER BY path`).raw(true),
  };
  // The files below a directory root with their path relative to it (SQLite counts characters as `length` does, so
  // the cut is right for any name): each file's path is then its root's string + '/' + this short one, and no row's
  // whole relative path stays in memory behind both.
  const underRel = db
    .prepare(`SELECT id, substr(path, length(?) + 2), ino, size, mtime_ns, nlink, sha256 FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ? ORDER BY path`)
    .raw(true);
  const LINKS = INODE_LINKS_SQL;
  const linkStmts = {
    one: db.prepare(`${LINKS} WHERE p.fs_id = ? AND p.path = ? AND p.status = 'active'`).raw(true),
    under: db.prepare(`${LINKS} WHERE p.fs_id = ? AND p.status = 'active' AND p.path >= ? AND p.path < ?`).raw(true),
    all: db.prepare(`${LINKS} WHERE p.fs_id = ? AND p.status = 'active'`).raw(true),
  };
  const COPIES = CONTENT_COPIES_SQL;
  const ORDER = `ORDER BY o.sha256, o.fs_id, o.path`;
  const copyStmts = {
    one: db.prepare(`${COPIES} WHERE p.fs_id = ? AND p.path = ? AND p.status = 'active' ${ORDER}`).raw(true),
    under: db.prepare(`${COPIES} WHERE p.fs_id = ? AND p.status = 'active' AND p.path >= ? AND p.path < ? ${ORDER}`).raw(true),
    all: db.prepare(`${COPIES} WHERE p.fs_id = ? AND p.status = 'active' ${ORDER}`).raw(true),
  };
  const COPIED = `SELECT count(*) FROM files p WHERE p.sha256 IS NOT NULL AND EXISTS (SELECT 1 FROM files o INDEXED BY files_sha WHERE o.sha256 = p.sha256 AND o.id <> p.id AND o.status = 'active')`;
  const copiedStmts = {
    one: db.prepare(`${COPIED} AND p.fs_id = ? AND p.path = ? AND p.status = 'active'`).pluck(),
    under: db.prepare(`${COPIED} AND p.fs_id = ? AND p.status = 'active' AND p.path >= ? AND p.path < ?`).pluck(),
    all: db.prepare(`${COPIED} AND p.fs_id = ? AND p.status = 'active'`).pluck(),
  };
  type Stmts = typeof fileStmts | typeof copiedStmts;
  const query = (s: Stmts, fsId: number, rel: string, single: boolean): unknown[] => {
    if (single) return s.one.all(fsId, rel);
    const range = prefixRange(rel);
    return range ? s.under.all(fsId, range.lo, range.hi) : s.all.all(fsId);
  };
  return {
    /** Same answer as `payloadReader(...).resolve` (without ids), plus the other links of each file's inode (unless `links` is false: then none are read). */
    resolve(fsId: number, mount: string, rel: string, links = true): BulkPayload | null {
      let single = false;
      let rows: FileRaw[] = [];
      if (rel !== '') {
        rows = fileStmts.one.all(fsId, rel) as FileRaw[];
        single = rows.length > 0;
      }
      // Directory rows carry their path relative to the root (`underRel`), or to the mount when the root is the mount.
      const range = single ? null : prefixRange(rel);
      if (!single) rows = (range ? underRel.all(rel, fsId, range.lo, range.hi) : fileStmts.all.all(fsId)) as FileRaw[];
      if (rows.length === 0) return null;
      const root = absoluteCatalogPath(mount, rel);
      // absoluteCatalogPath(root, relpath), its separator joined once per payload rather than once per file.
      const prefix = root === '/' ? '/' : `${root}/`;
      const base = single ? (rel.split('/').pop() as string) : '';
      const files: PayloadFile[] = new Array(rows.length);
      const ids: number[] = new Array(rows.length);
      const byId = links ? new Map<number, string>() : null;
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        const path = single ? root : r[1] === '' ? root : prefix + r[1];
        const f: PayloadFile = { fsId, path, ino: r[2], size: r[3], mtimeNs: r[4], nlink: r[5], sha256: r[6], relpath: single ? base : r[1] };
        files[i] = f;
        ids[i] = r[0];
        byId?.set(r[0], path);
      }
      const otherLinks = new Map<string, string[]>();
      if (byId) for (const [pid, other] of query(linkStmts, fsId, rel, single) as LinkRaw[]) {
        const own = byId.get(pid);
        if (own === undefined) continue;
        const list = otherLinks.get(own);
        const abs = absoluteCatalogPath(mount, other);
        if (list) list.push(abs);
        else otherLinks.set(own, [abs]);
      }
      return { kind: single ? 'file' : 'dir', files, otherLinks, ids };
    },
    /** How many files of the payload (as `resolve` read it) hold content that some OTHER active row also holds. */
    copiedCount(fsId: number, rel: string, payload: BulkPayload): number {
      return (query(copiedStmts, fsId, rel, payload.kind === 'file') as number[])[0] ?? 0;
    },
    /**
     * Every active file holding the content of some file of `payload` (read by `resolve` from this reader), by
     * sha256, each list ordered by filesystem id then path; shas already in `known` are left out. The payload's own
     * files appear as the very objects of `payload.files` (a PayloadFile is a CatalogFile).
     */
    copies(payload: BulkPayload, fsId: number, rel: string, mountOf: (fsId: number) => string, known: (sha: string) => boolean): Map<string, CatalogFile[]> {
      const ownIds = new Set(payload.ids);
      const out = new Map<string, CatalogFile[]>();
      let lastId = -1;
      let lastSha = '';
      let skip = false;
      let list: CatalogFile[] | undefined;
      for (const r of query(copyStmts, fsId, rel, payload.kind === 'file') as CopyRaw[]) {
        const sha = r[1];
        // Rows come grouped by sha: ask `known` once per group.
        if (sha !== lastSha) {
          lastSha = sha;
          lastId = -1;
          skip = known(sha);
          list = undefined;
        }
        if (skip || r[2] === lastId) continue; // known already, or the same copy reached from two payload files of equal content
        lastId = r[2];
        if (r[3] === fsId && ownIds.has(r[2])) continue; // another file of this payload: added with the payload's files below
        const c: CatalogFile = { fsId: r[3], path: absoluteCatalogPath(mountOf(r[3]), r[4]), ino: r[5], size: r[6], mtimeNs: r[7], nlink: r[8], sha256: sha };
        if (list) list.push(c);
        else out.set(sha, (list = [c]));
      }
      // The payload's own files, each placed in (filesystem id, path bytes) order among the other copies of its content.
      for (const f of payload.files) {
        const sha = f.sha256;
        if (sha === null) continue;
        const have = out.get(sha);
        if (have === undefined) {
          if (!known(sha)) out.set(sha, [f]);
          continue;
        }
        if (have.includes(f)) continue;
        let at = 0;
        while (at < have.length && (have[at]!.fsId < fsId || (have[at]!.fsId === fsId && compareBytes(have[at]!.path, f.path) < 0))) at++;
        have.splice(at, 0, f);
      }
      return out;
    },
  };
}
