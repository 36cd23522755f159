// Streaming directory walk: lstat only, never follows symlinks, stays on one filesystem, reports unreadable entries.
// GNU find does the stat walk when it is there (find-walk.ts); this module's own walk is the fallback.
import { constants, lstatSync, readdirSync, type BigIntStats } from 'node:fs';
import { errnoCode } from '../errors.js';
import { findWalk, startFind, type FindProcess } from './find-walk.js';
import { mountParentKey, mountParents } from './mount-parents.js';
import { bytesToPathText } from './path-encoding.js';
import { FIELDS, lstatPacked, StatPool, type PackedStats } from './stat-pool.js';

export interface WalkFile {
  kind: 'file';
  /** Path relative to the walk root, as catalog path text (see path-encoding.ts). */
  rel: string;
  /** Absolute path to open the file with: a string when the path is plain UTF-8, else its raw bytes. */
  abs: string | Buffer;
  dev: bigint;
  ino: bigint;
  size: number;
  mtimeNs: bigint;
  nlink: number;
}
export type WalkEvent =
  | WalkFile
  /** A symbolic link (never followed); `abs` to read what it names with readlink(2). */
  | { kind: 'symlink'; rel: string; abs: string | Buffer }
  /** FIFOs, sockets, device nodes: not catalogued. */
  | { kind: 'special'; rel: string }
  /**
   * A directory that is another filesystem or another mount: not entered. Also a file of another filesystem, or any
   * entry that is a mount point: what it shows is the mounted inode, not the one under it.
   */
  | { kind: 'mount'; rel: string; abs: string }
  /** An entry that could not be read; `isDir` when a whole directory was left unread. */
  | { kind: 'problem'; rel: string; code: string; message: string; isDir: boolean }
  /**
   * Last event of a walk whose stat walker reported errors it may not all have been placed (find's exit status 1):
   * an entry the walk did not yield may still be there, so it is gone only if the caller finds it gone.
   */
  | { kind: 'incomplete'; message: string };

export interface WalkOptions {
  /**
   * Absolute mount points (from mountinfo): a directory that is one is never entered, and an entry of another kind
   * that is one (a file bind-mounted onto a file) is a `mount`, never a file of the walk.
   */
  mountPoints: Set<string>;
  /** Events per yielded batch (default 512). */
  batchSize?: number;
  signal?: AbortSignal;
  /**
   * Directories with at least this many entries are lstat'ed on worker threads (default 64; 0 = every directory),
   * several directories ahead of the caller; smaller ones on the calling thread. The result is the same.
   */
  offloadFrom?: number;
  /** Entries walked before any directory goes to the threads (default 20,000): a small tree never starts them. */
  offloadAfter?: number;
  /**
   * The GNU find program that does the stat walk (default `find`, looked up in PATH); null walks in Node. Without a
   * GNU find there (not installed, another find) the walk is done in Node. The options above are the Node walk's.
   */
  find?: string | null;
  /**
   * Offered each regular file found by find, by its directory's path below the root ('' for the root's own files;
   * one string object for consecutive files of a directory) and its record's bytes (valid only during the call):
   * returning true settles it (no event is yielded for it). Not called by the Node walk. It runs while a batch is being
   * assembled, before the events already collected are yielded.
   */
  settle?: (dir: string, found: FoundFile) => boolean;
  /**
   * The GNU find startWalk started on this root: the walk takes its output if it lists this directory with these
   * mount points, else stops it and starts its own. Stopped too when the walk is done in Node.
   */
  started?: FindProcess;
}

/**
 * Start the stat walk of `root` (an absolute, symlink-free directory) now — GNU find, its output read as it comes —
 * for a walkTree of the same root to take later (`started`), so find lists while the caller prepares. Null when
 * there is nothing to start (a Node walk, or `root` is not a directory). The caller stops it (`stop()`) if no walk
 * takes it.
 */
export function startWalk(root: string, opts: Pick<WalkOptions, 'mountPoints' | 'find'>): FindProcess | null {
  if (opts.find === null) return null;
  let st: BigIntStats;
  try {
    st = lstatSync(root, { bigint: true });
  } catch {
    return null;
  }
  return st.isDirectory() ? startFind(root, st, opts.find ?? 'find', opts.mountPoints) : null;
}

/**
 * One of find's records of a regular file, read in place: `b` holds `ino size seconds.nanoseconds0 nlink` at
 * [meta, metaEnd) — GNU find's %i %s %T@ %n: decimal, the time's seconds signed and floored, 9 digits of nanoseconds
 * added to them and a trailing 0 — with the seconds starting at `sec` and the dot at `dot`; the name's raw bytes at
 * [name, nameEnd). Its parsed size is `size`.
 */
export interface FoundFile {
  readonly b: Buffer;
  readonly meta: number;
  readonly sec: number;
  readonly dot: number;
  readonly metaEnd: number;
  readonly name: number;
  readonly nameEnd: number;
  readonly size: number;
}

/** Directories listed and being lstat'ed ahead of the one being yielded. */
const LOOKAHEAD = 4;

const SLASH = Buffer.from('/');
const REPLACEMENT = '\uFFFD';

/** A directory still to list: its absolute path (a string while every name on the way is plain UTF-8) and catalog path text. */
interface PendingDir {
  abs: string | Buffer;
  rel: string;
}

/**
 * Names of a directory. The common case reads them as UTF-8 strings (cheap); a name that is not plain UTF-8
 * decodes with U+FFFD, and then the directory is listed again as raw bytes so no name is ever altered.
 */
function listDir(abs: string | Buffer): { names: string[]; raw: null } | { names: null; raw: Buffer[] } {
  if (typeof abs === 'string') {
    const names = readdirSync(abs, 'utf8');
    if (!names.some((n) => n.includes(REPLACEMENT))) return { names, raw: null };
  }
  return { names: null, raw: readdirSync(abs, { encoding: 'buffer' }) };
}

/** A path as mountinfo spells it: a byte that is not UTF-8 is U+FFFD. */
function pathText(abs: string | Buffer): string {
  return typeof abs === 'string' ? abs : abs.toString('utf8');
}

function childAbs(dirAbs: string | Buffer, name: string | Buffer): string | Buffer {
  if (typeof dirAbs === 'string' && typeof name === 'string') return dirAbs === '/' ? '/' + name : dirAbs + '/' + name;
  const base = typeof dirAbs === 'string' ? Buffer.from(dirAbs === '/' ? '' : dirAbs, 'utf8') : dirAbs;
  return Buffer.concat([base, SLASH, typeof name === 'string' ? Buffer.from(name, 'utf8') : name]);
}

/** A directory listed and being lstat'ed: its entries' names, absolute paths and (soon) packed stats. */
interface Listed {
  dir: PendingDir;
  names: (string | Buffer)[];
  abs: (string | Buffer)[];
  stats: PackedStats | Promise<PackedStats>;
}

/**
 * Walk `root` (an absolute, symlink-free directory) depth-first and yield batches of events; a regular file as root
 * yields that one file, with rel ''.
 * The root's st_dev is the walk's filesystem: a subdirectory or file with another st_dev, or any entry listed as a
 * mount point, is reported as `mount` (a directory is not entered). Throws only if the root itself cannot be lstat'ed
 * or listed.
 * The entries of one directory are yielded consecutively (a directory is listed whole before the next one).
 */
export async function* walkTree(root: string, opts: WalkOptions): AsyncGenerator<WalkEvent[], void> {
  const batchSize = opts.batchSize ?? 512;
  const offloadFrom = opts.offloadFrom ?? 64;
  const offloadAfter = opts.offloadAfter ?? 20_000;
  let listed = 0;
  let rootStat: BigIntStats;
  try {
    rootStat = lstatSync(root, { bigint: true });
  } catch (err) {
    await opts.started?.stop();
    throw err;
  }
  if (!rootStat.isDirectory() || opts.find === null) await opts.started?.stop();
  if (rootStat.isFile()) {
    // A single-file root (a one-file payload refreshed after apply) is its own only entry.
    yield [{ kind: 'file', rel: '', abs: root, dev: rootStat.dev, ino: rootStat.ino, size: Number(rootStat.size), mtimeNs: rootStat.mtimeNs, nlink: Number(rootStat.nlink) }];
    return;
  }
  if (!rootStat.isDirectory()) throw Object.assign(new Error(`not a directory: ${root}`), { code: 'ENOTDIR' });
  if (opts.find !== null) {
    const byFind = yield* findWalk(root, rootStat, { ...opts, program: opts.find ?? 'find' }, opts.started);
    if (byFind !== null) return;
  }
  const rootDev = rootStat.dev;
  const parents = mountParents(root, opts.mountPoints);
  const pool = new StatPool();
  const stack: PendingDir[] = [{ abs: root, rel: '' }];
  const ahead: Listed[] = [];
  let batch: WalkEvent[] = [];
  let first = true;
  try {
    while (stack.length || ahead.length) {
      if (opts.signal?.aborted) return;
      // List the next directories and start their lstat, so the threads work while this one is yielded.
      while (ahead.length < LOOKAHEAD && stack.length) {
        const dir = stack.pop() as PendingDir;
        let listing: ReturnType<typeof listDir>;
        try {
          listing = listDir(dir.abs);
        } catch (err) {
          if (first) throw err;
          batch.push({ kind: 'problem', rel: dir.rel, code: errnoCode(err) ?? 'EIO', message: (err as Error).message, isDir: true });
          continue;
        }
        first = false;
        const names: (string | Buffer)[] = listing.names ?? listing.raw;
        const abs = names.map((name) => childAbs(dir.abs, name));
        const offload = names.length >= offloadFrom && names.length > 0 && listed >= offloadAfter;
        listed += names.length;
        const target = listing.names && typeof dir.abs === 'string' ? { dir: dir.abs, names: listing.names } : { paths: abs };
        ahead.push({ dir, names, abs, stats: offload ? pool.lstat(target) : lstatPacked(lstatSync, abs) });
      }
      const next = ahead.shift();
      if (next === undefined) continue;
      const { dir, names, abs } = next;
      const { state, vals, errs } = await next.stats;
      const errAt = errs.length ? new Map(errs.map(([i, code, message]) => [i, { code, message }])) : null;
      // Only in a directory that holds a mount point is an entry other than a directory looked up (see mountParents).
      const holdsMount = parents.size > 0 && parents.has(mountParentKey(dir.abs));
      for (let i = 0; i < names.length; i++) {
        // Plain UTF-8 names are their own catalog text; raw names go through the reversible escape.
        const name = names[i] as string | Buffer;
        const nameText = typeof name === 'string' ? name : bytesToPathText(name);
        const rel = dir.rel ? dir.rel + '/' + nameText : nameText;
        const entryAbs = abs[i] as string | Buffer;
        if (state[i] === 2) {
          const e = errAt?.get(i);
          batch.push({ kind: 'problem', rel, code: e?.code ?? 'EIO', message: e?.message ?? 'lstat failed', isDir: false });
          continue;
        }
        // Vanished between readdir and lstat: not a problem, simply not there.
        if (state[i] === 1) continue;
        const o = i * FIELDS;
        // One conversion of the mode instead of a BigInt operation per type test.
        const type = Number(vals[o]) & constants.S_IFMT;
        if (type !== constants.S_IFDIR && holdsMount && opts.mountPoints.has(pathText(entryAbs))) {
          // Bind-mounted onto a file of this filesystem: the same st_dev, but the inode is the mounted one (a second
          // path to it, one link) and the one under the mount is not seen — as under a mounted directory.
          batch.push({ kind: 'mount', rel, abs: pathText(entryAbs) });
        } else if (type === constants.S_IFREG) {
          // A file of another filesystem (bind-mounted into the tree) is a mount, never one of the root's files.
          if (vals[o + 1] !== rootDev) batch.push({ kind: 'mount', rel, abs: typeof entryAbs === 'string' ? entryAbs : entryAbs.toString('utf8') });
          else batch.push({ kind: 'file', rel, abs: entryAbs, dev: vals[o + 1] as bigint, ino: vals[o + 2] as bigint, size: Number(vals[o + 3]), mtimeNs: vals[o + 4] as bigint, nlink: Number(vals[o + 5]) });
        } else if (type === constants.S_IFDIR) {
          const absText = typeof entryAbs === 'string' ? entryAbs : entryAbs.toString('utf8');
          if (vals[o + 1] !== rootDev || opts.mountPoints.has(absText)) batch.push({ kind: 'mount', rel, abs: absText });
          else stack.push({ abs: entryAbs, rel });
        } else if (type === constants.S_IFLNK) {
          batch.push({ kind: 'symlink', rel, abs: entryAbs });
        } else {
          batch.push({ kind: 'special', rel });
        }
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
          if (opts.signal?.aborted) return;
        }
      }
    }
    if (batch.length) yield batch;
  } finally {
    await pool.close();
  }
}
