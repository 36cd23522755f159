// Streaming directory walk: lstat only, never follows symlinks, stays on one filesystem, reports unreadable entries.
import { constants, lstatSync, readdirSync, type BigIntStats } from 'node:fs';
import { errnoCode } from '../errors.js';
import { bytesToPathText } from './path-encoding.js';

export interface WalkFile {
  kind: 'file';
  /** Path relative to the walk root, as catalog path text (see path-encoding.ts). */
  rel: string;
  /** Absolute path to open the file with: a string when the path is plain UTF-8, else its raw bytes. */
  abs: string | Buffer;
  ino: bigint;
  size: number;
  mtimeNs: bigint;
  nlink: number;
}
export type WalkEvent =
  | WalkFile
  | { kind: 'symlink'; rel: string }
  /** FIFOs, sockets, device nodes: not catalogued. */
  | { kind: 'special'; rel: string }
  /** A directory that is another filesystem or another mount: not entered. */
  | { kind: 'mount'; rel: string; abs: string }
  /** An entry that could not be read; `isDir` when a whole directory was left unread. */
  | { kind: 'problem'; rel: string; code: string; message: string; isDir: boolean };

export interface WalkOptions {
  /** Absolute mount points (from mountinfo); directories that are mount points are never entered. */
  mountPoints: Set<string>;
  /** Events per yielded batch (default 512). */
  batchSize?: number;
  signal?: AbortSignal;
}

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

function childAbs(dirAbs: string | Buffer, name: string | Buffer): string | Buffer {
  if (typeof dirAbs === 'string' && typeof name === 'string') return dirAbs === '/' ? '/' + name : dirAbs + '/' + name;
  const base = typeof dirAbs === 'string' ? Buffer.from(dirAbs === '/' ? '' : dirAbs, 'utf8') : dirAbs;
  return Buffer.concat([base, SLASH, typeof name === 'string' ? Buffer.from(name, 'utf8') : name]);
}

/**
 * Walk `root` (an absolute, symlink-free directory) depth-first and yield batches of events; a regular file as root
 * yields that one file, with rel ''.
 * The root's st_dev is the walk's filesystem: a subdirectory with another st_dev, or any directory listed as a
 * mount point, is reported as `mount` and not entered. Throws only if the root itself cannot be lstat'ed or listed.
 * The entries of one directory are yielded consecutively (a directory is listed whole before the next one).
 */
export async function* walkTree(root: string, opts: WalkOptions): AsyncGenerator<WalkEvent[]> {
  const batchSize = opts.batchSize ?? 512;
  const rootStat = lstatSync(root, { bigint: true });
  if (rootStat.isFile()) {
    // A single-file root (a one-file payload refreshed after apply) is its own only entry.
    yield [{ kind: 'file', rel: '', abs: root, ino: rootStat.ino, size: Number(rootStat.size), mtimeNs: rootStat.mtimeNs, nlink: Number(rootStat.nlink) }];
    return;
  }
  if (!rootStat.isDirectory()) throw Object.assign(new Error(`not a directory: ${root}`), { code: 'ENOTDIR' });
  const rootDev = rootStat.dev;
  const stack: PendingDir[] = [{ abs: root, rel: '' }];
  let batch: WalkEvent[] = [];
  let first = true;
  while (stack.length) {
    if (opts.signal?.aborted) return;
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
    const count = listing.names ? listing.names.length : listing.raw.length;
    for (let i = 0; i < count; i++) {
      // Plain UTF-8 names are their own catalog text; raw names go through the reversible escape.
      const name: string | Buffer = listing.names ? (listing.names[i] as string) : (listing.raw[i] as Buffer);
      const nameText = typeof name === 'string' ? name : bytesToPathText(name);
      const rel = dir.rel ? dir.rel + '/' + nameText : nameText;
      const abs = childAbs(dir.abs, name);
      let st: BigIntStats | undefined;
      try {
        st = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
      } catch (err) {
        batch.push({ kind: 'problem', rel, code: errnoCode(err) ?? 'EIO', message: (err as Error).message, isDir: false });
        continue;
      }
      // Vanished between readdir and lstat: not a problem, simply not there.
      if (st === undefined) continue;
      // One conversion of the mode instead of a BigInt operation per isFile()/isDirectory()/… test.
      const type = Number(st.mode) & constants.S_IFMT;
      if (type === constants.S_IFREG) {
        batch.push({ kind: 'file', rel, abs, ino: st.ino, size: Number(st.size), mtimeNs: st.mtimeNs, nlink: Number(st.nlink) });
      } else if (type === constants.S_IFDIR) {
        const absText = typeof abs === 'string' ? abs : abs.toString('utf8');
        if (st.dev !== rootDev || opts.mountPoints.has(absText)) batch.push({ kind: 'mount', rel, abs: absText });
        else stack.push({ abs, rel });
      } else if (type === constants.S_IFLNK) {
        batch.push({ kind: 'symlink', rel });
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
}
