// Streaming directory walk: lstat only, never follows symlinks, stays on one filesystem, reports unreadable entries.
import { lstatSync, readdirSync, type BigIntStats } from 'node:fs';
import { errnoCode } from '../errors.js';
import { bytesToPathText } from './path-encoding.js';

export interface WalkFile {
  kind: 'file';
  /** Path relative to the walk root, as catalog path text (see path-encoding.ts). */
  rel: string;
  /** Absolute path bytes (open the file with these). */
  abs: Buffer;
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

/**
 * Walk `root` (an absolute, symlink-free directory) depth-first and yield batches of events.
 * The root's st_dev is the walk's filesystem: a subdirectory with another st_dev, or any directory listed as a
 * mount point, is reported as `mount` and not entered. Throws only if the root itself cannot be lstat'ed or listed.
 */
export async function* walkTree(root: string, opts: WalkOptions): AsyncGenerator<WalkEvent[]> {
  const batchSize = opts.batchSize ?? 512;
  const rootStat = lstatSync(root, { bigint: true });
  if (!rootStat.isDirectory()) throw Object.assign(new Error(`not a directory: ${root}`), { code: 'ENOTDIR' });
  const rootDev = rootStat.dev;
  const rootBytes = Buffer.from(root === '/' ? '' : root, 'utf8');
  // Stack of [absolute dir bytes, relative dir bytes ('' for the root)].
  const stack: [Buffer, Buffer][] = [[rootBytes.length ? rootBytes : Buffer.from('/'), Buffer.alloc(0)]];
  let batch: WalkEvent[] = [];
  let first = true;
  while (stack.length) {
    if (opts.signal?.aborted) return;
    const [dirAbs, dirRel] = stack.pop() as [Buffer, Buffer];
    let names: Buffer[];
    try {
      names = readdirSync(dirAbs, { encoding: 'buffer' });
    } catch (err) {
      if (first) throw err;
      batch.push({ kind: 'problem', rel: bytesToPathText(dirRel), code: errnoCode(err) ?? 'EIO', message: (err as Error).message, isDir: true });
      continue;
    }
    first = false;
    const base = dirAbs.length === 1 && dirAbs[0] === 0x2f ? Buffer.alloc(0) : dirAbs;
    for (const name of names) {
      const abs = Buffer.concat([base, SLASH, name]);
      const relBytes = dirRel.length ? Buffer.concat([dirRel, SLASH, name]) : name;
      let st: BigIntStats;
      try {
        st = lstatSync(abs, { bigint: true });
      } catch (err) {
        const code = errnoCode(err) ?? 'EIO';
        // Vanished between readdir and lstat: not a problem, simply not there.
        if (code !== 'ENOENT') batch.push({ kind: 'problem', rel: bytesToPathText(relBytes), code, message: (err as Error).message, isDir: false });
        continue;
      }
      if (st.isFile()) {
        batch.push({ kind: 'file', rel: bytesToPathText(relBytes), abs, ino: st.ino, size: Number(st.size), mtimeNs: st.mtimeNs, nlink: Number(st.nlink) });
      } else if (st.isDirectory()) {
        const absText = abs.toString('utf8');
        if (st.dev !== rootDev || opts.mountPoints.has(absText)) batch.push({ kind: 'mount', rel: bytesToPathText(relBytes), abs: absText });
        else stack.push([abs, relBytes]);
      } else if (st.isSymbolicLink()) {
        batch.push({ kind: 'symlink', rel: bytesToPathText(relBytes) });
      } else {
        batch.push({ kind: 'special', rel: bytesToPathText(relBytes) });
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
