// The scanner's catalog side of the walk, one directory at a time: its rows read as packed text (SQLite formats a page of rows into one buffer: no JS object per row), found by name bytes, and compared with find's records in place.
import type { Statement } from 'better-sqlite3';
import type { FoundFile } from '../../fs/walk.js';
import type { CatalogDb } from '../db.js';
import type { RowMeta } from './decide.js';

/** Rows per page when reading the catalog side of a directory. */
const PAGE = 1000;
/** Directories whose rows stay loaded after the lookup moved on (a walk may come back to a parent's files). */
const RECENT_DIRS = 16;

/**
 * What the lookup reads of a row: flags 1 quick hash known, 2 full hash known, 4 deleted (see DIRECTORY_PAGE_SQL) —
 * the last key of files_fs_path_cover, verbatim (any other spelling reads the table).
 */
export const COVER_FLAGS = `(quick_hash IS NOT NULL) + 2 * (sha256 IS NOT NULL) + 4 * (status = 'deleted')`;
const FLAGS = COVER_FLAGS;

/**
 * A row's text before its path — `ino size mtime_ns nlink flags id ` — as the last key of files_fs_path_cover
 * (migration 022) spells it, verbatim: the page reads it from the index instead of formatting six integers per row.
 */
export const ROW_TEXT_KEY = `format('%d %d %s %d %d %d ', ino, size, mtime_ns, nlink, ${FLAGS}, id)`;

/**
 * One page of a filesystem's rows (parameters: fs_id, the first path — included or not — and, when bounded, the end),
 * in path order: every row as the text `ino size mtime_ns nlink flags id path` (the path last: it alone may hold spaces), NUL between rows (no path holds a
 * NUL), as one blob; with the page's last path and its row count. Every column is a key of the covering index
 * files_fs_path_cover — the row text before the path verbatim (ROW_TEXT_KEY) — so the page never reads the table.
 */
export const DIRECTORY_PAGE_SQL = (from: '>=' | '>', bounded: boolean): string =>
  `SELECT CAST(group_concat(r, char(0)) AS BLOB), max(p), count(*) FROM (
     SELECT path AS p, ${ROW_TEXT_KEY} || path AS r
     FROM files WHERE fs_id = ? AND path ${from} ?${bounded ? ' AND path < ?' : ''} ORDER BY path LIMIT ${PAGE})`;

const SPACE = 0x20;
const SLASH = 0x2f;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * The rows (any status) directly inside one directory: `buf` holds their packed text; row i's text starts at
 * rowAt[i] and its name is bytes [nameAt[i], endAt[i]). Names are found through an open-addressing table of their
 * FNV-1a hashes (`slots` holds row index + 1).
 */
class DirRows {
  constructor(
    readonly buf: Buffer,
    readonly rowAt: Int32Array,
    readonly nameAt: Int32Array,
    readonly endAt: Int32Array,
    readonly slots: Int32Array,
  ) {}

  /** Row index of the name in bytes [from, to) of `b`, or -1. */
  find(b: Uint8Array, from: number, to: number, hash: number): number {
    const { buf, nameAt, endAt, slots } = this;
    const mask = slots.length - 1;
    // Probing starts one slot before the hash's own, so the step runs on every lookup (a step first met after the
    // optimising compiler ran, on a collision, would send the function back to be compiled again).
    for (let s = (hash - 1) & mask; ; ) {
      s = (s + 1) & mask;
      const r = (slots[s] as number) - 1;
      if (r < 0) return -1;
      const at = nameAt[r] as number;
      if ((endAt[r] as number) - at !== to - from) continue;
      let i = 0;
      while (i < to - from && buf[at + i] === b[from + i]) i++;
      if (i === to - from) return r;
    }
  }
}

/** FNV-1a of bytes [from, to) of `b`. */
function fnv(b: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return h >>> 0;
}

/** Decimal digits of `buf` from `at` up to the next space, as a number (row ids, inodes, sizes: the catalog's integers). */
function numberAt(buf: Buffer, at: number): number {
  let v = 0;
  for (let c = buf[at] as number; c !== SPACE; c = buf[++at] as number) v = v * 10 + (c - ZERO);
  return v;
}

/** The scanner's catalog side of the walk: a file's row by its path, by its directory and name, or by find's record. */
export interface DirectoryRows {
  at(relPath: string): RowMeta | undefined;
  /** Faster when the caller passes the same `dir` string for consecutive files of one directory. */
  inDir(dir: string, name: string): RowMeta | undefined;
  /**
   * The id of the row of a file find recorded in `dir` (catalog path text, '' for the filesystem's top) when its
   * name, inode, size, mtime and link count are the row's exactly, else -1 (then look it up by name: another row, or
   * none). A name holding the bytes of U+FFFD is never matched here (its catalog text is escaped: path-encoding.ts).
   */
  matchFound(dir: string, f: FoundFile): number;
  /** The flags of the row matchFound returned last: 1 quick hash known, 2 full hash known, 4 deleted. */
  matchedFlags(): number;
}

/**
 * Catalog rows (any status) of the files directly inside one directory, looked up by path: one range query per page
 * of a directory instead of one query per file. The directory's rows are loaded when a file of another directory is
 * asked for, and the last RECENT_DIRS directories' rows are kept (find yields a directory's files around its
 * subdirectories' trees). A page that ends inside a subdirectory's rows resumes past that subdirectory's tree
 * (`path >= 'dir/sub0'`), so a directory costs its own rows plus at most a page per catalogued subdirectory, never a
 * scan of its whole subtree. Deleted rows are read too: a path that comes back reactivates its row, which keeps its id,
 * and the deletion pass must know it was seen. `root` is the path of the scanned root ('' for the filesystem's top):
 * when the catalog holds no row at or under it (a first scan), no directory is read at all.
 */
export function directoryRowsReader(catalog: CatalogDb, fsId: number, root: string): DirectoryRows {
  const anyRow = root === '' ? catalog.statement(`SELECT 1 FROM files WHERE fs_id = ? LIMIT 1`).get(fsId) : catalog.statement(`SELECT 1 FROM files WHERE fs_id = ? AND path >= ? AND path < ? LIMIT 1`).get(fsId, root, root + '0');
  const fromIncl = catalog.statement(DIRECTORY_PAGE_SQL('>=', true), 'raw');
  const fromExcl = catalog.statement(DIRECTORY_PAGE_SQL('>', true), 'raw');
  const topIncl = catalog.statement(DIRECTORY_PAGE_SQL('>=', false), 'raw');
  const topExcl = catalog.statement(DIRECTORY_PAGE_SQL('>', false), 'raw');
  type Page = [blob: Buffer | null, last: string | null, count: number];
  const empty = new DirRows(Buffer.alloc(0), new Int32Array(0), new Int32Array(0), new Int32Array(0), new Int32Array(1));
  let current: string | null = null;
  let rows = empty;
  const recent = new Map<string, DirRows>();

  const read = (dir: string): DirRows => {
    const prefix = dir === '' ? '' : dir + '/';
    const skip = Buffer.byteLength(prefix);
    const hi = dir === '' ? null : dir + '0';
    const pages: Buffer[] = [];
    let rowCount = 0;
    let lo = prefix;
    let inclusive = true;
    for (;;) {
      const stmt: Statement = hi === null ? (inclusive ? topIncl : topExcl) : inclusive ? fromIncl : fromExcl;
      const [blob, last, count] = (hi === null ? stmt.get(fsId, lo) : stmt.get(fsId, lo, hi)) as Page;
      if (blob !== null) pages.push(blob);
      rowCount += count;
      if (count < PAGE || last === null) break;
      // The page ended inside a subdirectory's rows: resume past that subdirectory ('/' + 1 is '0').
      const slash = last.indexOf('/', prefix.length);
      inclusive = slash >= 0;
      lo = inclusive ? last.slice(0, slash) + '0' : last;
    }
    const buf = pages.length === 1 ? (pages[0] as Buffer) : Buffer.concat(pages.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from([0]), p])));
    return index(buf, skip, rowCount);
  };

  /**
   * Index the `n` packed rows of `buf` (one pass over their bytes): rows of subdirectories (a '/' after the
   * directory's `skip` bytes) are left out.
   */
  const index = (buf: Buffer, skip: number, n: number): DirRows => {
    if (buf.length === 0) return empty;
    const rowAt = new Int32Array(n);
    const nameAt = new Int32Array(n);
    const endAt = new Int32Array(n);
    let size = 2;
    while (size < 2 * n) size *= 2;
    const slots = new Int32Array(size);
    const mask = size - 1;
    const out = new DirRows(buf, rowAt, nameAt, endAt, slots);
    let kept = 0;
    let at = 0;
    const last = buf.length;
    while (at < last) {
      // Past the six numbers and the directory's prefix: the name, up to the NUL that ends the row (or the blob).
      let p = at;
      for (let spaces = 0; spaces < 6; p++) if (buf[p] === SPACE) spaces++;
      const name = p + skip;
      let h = 0x811c9dc5;
      let i = name;
      let c = 0;
      for (; i < last; i++) {
        c = buf[i] as number;
        if (c === 0 || c === SLASH) break;
        h = Math.imul(h ^ c, 0x01000193);
      }
      if (c === SLASH) {
        // A row inside a subdirectory: skipped to its end.
        while (i < last && buf[i] !== 0) i++;
      } else {
        rowAt[kept] = at;
        nameAt[kept] = name;
        endAt[kept] = i;
        // The step runs at least once per row (see find()): a free slot from the hash's own on.
        let s = ((h >>> 0) - 1) & mask;
        do s = (s + 1) & mask;
        while (slots[s] !== 0);
        slots[s] = ++kept;
      }
      at = i + 1;
    }
    return out;
  };

  const load = (dir: string): void => {
    if (dir === current) return;
    current = dir;
    if (anyRow === undefined) return;
    const kept = recent.get(dir);
    if (kept !== undefined) {
      rows = kept;
      return;
    }
    if (recent.size >= RECENT_DIRS) recent.delete(recent.keys().next().value as string);
    rows = read(dir);
    recent.set(dir, rows);
  };

  /** The row's fields after its text's start: ino size mtime_ns nlink flags id. */
  const meta = (r: number): RowMeta => {
    const buf = rows.buf;
    let p = rows.rowAt[r] as number;
    const ino = numberAt(buf, p);
    p = buf.indexOf(SPACE, p) + 1;
    const size = numberAt(buf, p);
    p = buf.indexOf(SPACE, p) + 1;
    const mEnd = buf.indexOf(SPACE, p);
    const mtime = buf.toString('latin1', p, mEnd);
    p = mEnd + 1;
    const nlink = numberAt(buf, p);
    p = buf.indexOf(SPACE, p) + 1;
    const flags = (buf[p] as number) - ZERO;
    const id = numberAt(buf, p + 2);
    return { id, ino, size, mtime_ns: mtime, nlink, status: (flags & 4) !== 0 ? 'deleted' : 'active', hasQuick: (flags & 1) !== 0, hasSha: (flags & 2) !== 0 };
  };

  /** A plain-ASCII name's bytes, copied here for a lookup by text (any other name is encoded). */
  const scratch = new Uint8Array(1024);
  const findText = (name: string): number => {
    let h = 0x811c9dc5;
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c >= 0x80 || i === scratch.length) {
        const b = Buffer.from(name, 'utf8');
        return rows.find(b, 0, b.length, fnv(b, 0, b.length));
      }
      scratch[i] = c;
      h = Math.imul(h ^ c, 0x01000193);
    }
    return rows.find(scratch, 0, name.length, h >>> 0);
  };

  const inDir = (dir: string, name: string): RowMeta | undefined => {
    load(dir);
    if (rows === empty) return undefined;
    const r = findText(name);
    return r < 0 ? undefined : meta(r);
  };

  /** The flags of the row matchFound returned last. */
  let matched = 0;

  return {
    inDir,
    at: (relPath) => {
      // A first scan of the root: no row to find, and no directory or name text made per file.
      if (anyRow === undefined) return undefined;
      const slash = relPath.lastIndexOf('/');
      return slash < 0 ? inDir('', relPath) : inDir(relPath.slice(0, slash), relPath.slice(slash + 1));
    },
    matchFound: (dir, f) => {
      const b = f.b;
      // find's `seconds.nanoseconds0` is the catalog's decimal nanoseconds with a dot and a 0 only from 1 s on
      // (before, the seconds are signed or 0 and the text is another number's): such a record is compared as numbers.
      if (f.dot - f.sec < 1 || (b[f.sec] as number) <= ZERO || (b[f.sec] as number) > NINE || b[f.dot + 10] !== ZERO) return -1;
      load(dir);
      if (rows === empty) return -1;
      let h = 0x811c9dc5;
      for (let i = f.name; i < f.nameEnd; i++) {
        const c = b[i] as number;
        // U+FFFD (EF BF BD): the name's catalog text is escaped, so its bytes are not the row's.
        if (c === 0xef && b[i + 1] === 0xbf && b[i + 2] === 0xbd) return -1;
        h = Math.imul(h ^ c, 0x01000193);
      }
      const r = rows.find(b, f.name, f.nameEnd, h >>> 0);
      if (r < 0) return -1;
      // The row's `ino size mtime_ns nlink ` against find's `ino size seconds.nanoseconds0 nlink `, byte for byte.
      const buf = rows.buf;
      let p = rows.rowAt[r] as number;
      for (let i = f.meta; i < f.dot; i++, p++) if (buf[p] !== b[i]) return -1;
      for (let i = f.dot + 1; i < f.dot + 10; i++, p++) if (buf[p] !== b[i]) return -1;
      for (let i = f.dot + 11; i < f.metaEnd; i++, p++) if (buf[p] !== b[i]) return -1;
      if (buf[p] !== SPACE) return -1;
      matched = (buf[p + 1] as number) - ZERO;
      return numberAt(buf, p + 3);
    },
    matchedFlags: () => matched,
  };
}
