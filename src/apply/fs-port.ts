// The FsPort: every disk mutation the executor performs (verified copy, link, rename, unlink, mkdir through a held folder, ...) and its real implementation.
import { closeSync, constants, fchmodSync, fchownSync, fdatasync as fdatasyncCb, fstatSync, fsync as fsyncCb, futimesSync, linkSync, lstatSync, openSync, promises as fsp, read as fsReadCb, readdirSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { FsError, InterruptedError, errnoCode } from '../errors.js';
import { bytesToPathText, fsPathArg } from '../fs/path-encoding.js';
import { compareThread, type CompareThread, type PackedStat } from './compare-thread.js';
import { inodeReleaser, type InodeReleaser } from './inode-release.js';
import { holdPrivateDir, listTree, makeChildDirSync, mkdirUnder, openTrustedDir, removeTree, renameAt, rmdirAt, type HeldDir, type RemoveOptions, type TreeOptions, type TreeResult } from '../fs/no-follow-tree.js';
import { fsBinding } from '../catalog/live-check.js';
import { syncFilesystemOf } from '../fs/sync-filesystem.js';

/** lstat result with exact identity fields (ino/dev as numbers, mtime in ns as a decimal string). */
export interface FsStat {
  dev: number;
  ino: number;
  size: number;
  mtimeNs: string;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  kind: 'file' | 'dir' | 'symlink' | 'other';
}

/**
 * A regular file's identity and last change: device, inode, size, mtime and ctime in ns (decimal strings). Any write,
 * truncation, utimes, chmod, chown or link count change moves ctime, which no user can set back.
 */
export interface FileStamp {
  dev: number;
  ino: number;
  size: number;
  mtimeNs: string;
  ctimeNs: string;
}

/** A file's full SHA-256 and its stamp, both from one descriptor. */
export interface StampedHash {
  sha256: string;
  stamp: FileStamp;
}

/** What {@link FsPort.lstatId} reads: the identity fields of an FsStat. */
export type FsIdentity = Pick<FsStat, 'dev' | 'ino' | 'nlink' | 'kind'>;

/** Owner, group and permission bits (mode & 0o7777) a directory hashall creates is given. */
export interface DirOwner {
  uid: number;
  gid: number;
  mode: number;
}

/** Two files found byte-for-byte equal: each one's status, read (fstat) on its descriptor once the compare ended. */
export interface SameFiles {
  a: FsStat;
  b: FsStat;
}

export interface CopyResult {
  sha256: string;
  bytes: number;
  /** Device and inode of the created temp file (so undo can prove a path is ours before removing it). */
  ino: number;
  dev: number;
  /** Its mtime once written (the source's, set on it), read on the descriptor written. */
  mtimeNs: bigint;
}

/**
 * Every path argument is a catalog path text (src/fs/path-encoding.ts): a name that is not valid UTF-8 arrives escaped
 * and is turned back into its exact bytes at the system call; names read back (readdir) are escaped the same way.
 */
export interface CopyOptions {
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
  syncDir?: boolean;
  syncData?: boolean;
  /**
   * The bytes the caller expects the source to hold: a source of another size when opened is refused before anything
   * is written (a file grown since it was checked — a sparse 10 GiB, say — would fill the target). Every copy reads at
   * most the size the opened file had (a file growing during the copy is caught by the caller's compare).
   */
  size?: number;
}

export interface FsPort {
  /**
   * Copy `src` to `tmpPath` (created with O_EXCL — never overwrites), preserving mode, owner (when allowed) and
   * mtime, hashing SHA-256 of the bytes read while copying; fsync the file and (unless `syncDir` is false: the caller
   * fsyncs the directory once for many files) its directory. Removes its own
   * partial temp file on failure. An aborted `signal` ends the copy between chunks with InterruptedError.
   */
  copyFileVerified(src: string, tmpPath: string, opts?: CopyOptions): Promise<CopyResult>;
  /**
   * Full SHA-256 of a file's content (never through a symlink). With `expect`, every descriptor it reads must be that
   * (dev, ino), a regular file — else it throws (ESTALE): a name swapped since it was listed is not hashed in its place.
   */
  hashFile(p: string, expect?: { dev: number; ino: number }): Promise<string>;
  /**
   * {@link FsPort.hashFile}, and the file's stamp read on the descriptor read, before and after the read: they must be
   * equal, else it throws (ECHANGED) — so the stamp is that of the very bytes hashed, and a later equal stamp means the
   * file was not changed since (the retire records it for the trash purge, src/apply/trash-record.ts). `onProgress` is
   * told the bytes read so far after each chunk (the purge's progress line).
   */
  hashFileStamped(p: string, expect?: { dev: number; ino: number }, onProgress?: (bytes: number) => void): Promise<StampedHash>;
  /**
   * Whether two files hold exactly the same bytes (compared chunk by chunk, never through a symlink; stops at the first
   * difference): their status read on the descriptors compared, after the compare, or null when they differ. With
   * `inodes`, also null unless the files opened are those inodes (a file swapped in for the compare and back is not the
   * one compared). With `size` (what the caller expects both to hold), the compare reads that many bytes without first
   * reading `a`'s size; either way both are null unless exactly as long as the bytes compared (read after the compare).
   */
  sameBytes(a: string, b: string, inodes?: { a: number; b: number; size?: number }): Promise<SameFiles | null>;
  /**
   * SHA-256 over the size and three 64 KiB blocks (start, middle, end; the whole file when it is smaller): the read-back
   * of `safety.verify: sample`. Never through a symlink.
   */
  sampleHash(p: string): Promise<string>;
  link(existing: string, newPath: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(p: string): Promise<void>;
  rmdir(p: string): Promise<void>;
  /**
   * Remove the tree `rel` under a held directory without following symlinks or crossing devices, checking each
   * directory's (dev, ino) and, with `opts.expect`/`opts.allow`, that it is exactly what hashall recorded (see
   * src/fs/no-follow-tree.ts). Used only for hashall's trash.
   */
  rmTree(base: HeldDir, rel: string, opts?: RemoveOptions): Promise<TreeResult>;
  /** Rename child `name` of held `from` to child `toName` of held `to` (no name above them is read again; the names themselves are never followed). */
  renameAt(from: HeldDir, name: string | Buffer, to: HeldDir, toName: string | Buffer): Promise<void>;
  /** Remove the empty directory `name` of a held directory. */
  rmdirAt(dir: HeldDir, name: string | Buffer): Promise<void>;
  /** List the tree `rel` under a held directory by the same rules as {@link FsPort.rmTree}. */
  listTree(base: HeldDir, rel: string, opts?: TreeOptions): Promise<TreeResult>;
  /** Hold a directory open by the path given (a configured root); its `path` is an anchored spelling for other calls. */
  holdDir(p: string): Promise<HeldDir>;
  /** Hold (with `create`, make 0700) hashall's private directory `name` in `dir`; refuses a symlink, a foreign owner, group/other write, another device. */
  holdPrivateDir(dir: string, name: string, opts: { create: boolean }): Promise<HeldDir | null>;
  /** mkdir -p of `rel` under a held directory, never following a component; returns the levels created (relative, outermost first). */
  mkdirUnder(base: HeldDir, rel: string): Promise<string[]>;
  /**
   * Make folder `name` in the held folder `parent` and hold it (the caller closes it): mkdir through the held parent,
   * never a name resolved through a symlink; opened again through the parent, O_NOFOLLOW, on its device (see
   * no-follow-tree.ts makeChildDirSync). With `owner` it is made private (0700) and given that owner (chown skipped when
   * not permitted), group and mode on its descriptor before it is exposed; without, 0777 less the umask. EEXIST (its
   * code kept) when anything is there. What a step writes into goes through TargetHold.mkdirs (folder-hold.ts).
   */
  mkdirAt(parent: HeldDir, name: string, owner: DirOwner | null): Promise<HeldDir>;
  /** lstat; null when the path does not exist. */
  lstat(p: string): Promise<FsStat | null>;
  /**
   * lstat for a path's identity only (kind, device, inode, link count; no exact mtime): what the folder-chain,
   * symlink and link read-back checks compare, at about half lstat's cost. null when the path does not exist.
   */
  lstatId(p: string): Promise<FsIdentity | null>;
  /** Free bytes available to this process on the filesystem holding `p`. */
  statfs(p: string): Promise<{ freeBytes: number }>;
  readdir(p: string): Promise<string[]>;
  fsyncDir(dir: string): Promise<void>;
  /**
   * Make a file's data durable (fdatasync), opened without following a symlink; with `expect`, only that very inode
   * (anything else at the path is an error: the file hashall wrote is no longer there).
   */
  fsyncFile(p: string, expect?: { ino: number; dev: number }): Promise<void>;
  /**
   * Make everything written so far to the filesystem holding `p` (that very inode, opened without following a
   * symlink) durable with one syncfs: 'synced'; 'unsupported' or 'failed' — the caller then syncs its files and
   * folders one by one (see sync-filesystem.ts).
   */
  syncFilesystem(p: string, expect: { ino: number; dev: number }): Promise<'synced' | 'unsupported' | 'failed'>;
}

const CHUNK = 4 << 20;
const MIN_CHUNK = 64 << 10;

const HINTS: Record<string, string> = {
  ENOSPC: 'the target filesystem is full; free space or lower the payload size',
  EXDEV: 'the two paths are on different filesystems (or different bind mounts); hardlinks and renames cannot cross them',
  EROFS: 'nothing could be written there; remount it read-write (mount -o remount,rw) and apply again',
  EACCES: 'hashall has no permission there; check ownership and mode of the directory',
  EPERM: 'hashall has no permission there; check ownership and mode of the directory',
};

function fsError(op: string, p: string, err: unknown): FsError {
  const code = errnoCode(err);
  const hint = code ? HINTS[code] : undefined;
  const what = code === 'EROFS' ? `the filesystem holding it is mounted read-only (${(err as Error).message})` : (err as Error).message;
  return new FsError(`${op} ${p}: ${what}`, { code, path: p, cause: err, hint });
}

async function wrap<T>(op: string, p: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof FsError || err instanceof InterruptedError) throw err;
    throw fsError(op, p, err);
  }
}

function toStat(s: Pick<import('node:fs').BigIntStats, 'dev' | 'ino' | 'size' | 'mtimeNs' | 'mode' | 'uid' | 'gid' | 'nlink'>): FsStat {
  const type = Number(s.mode) & constants.S_IFMT;
  return {
    dev: Number(s.dev),
    ino: Number(s.ino),
    size: Number(s.size),
    mtimeNs: s.mtimeNs.toString(),
    mode: Number(s.mode),
    uid: Number(s.uid),
    gid: Number(s.gid),
    nlink: Number(s.nlink),
    kind: type === constants.S_IFREG ? 'file' : type === constants.S_IFDIR ? 'dir' : type === constants.S_IFLNK ? 'symlink' : 'other',
  };
}

/** The status lstat reads, as FsStat; undefined when the path does not exist (other errors: lstatSync's, thrown). */
export type StatReader = (p: string | Buffer) => FsStat | undefined;

/** lstatSync with bigint (every value exact), as an FsStat. */
export const bigintStat: StatReader = (p) => {
  const s = lstatSync(p, { bigint: true, throwIfNoEntry: false });
  return s === undefined ? undefined : toStat(s);
};

/**
 * apply's lstat: the same FsStat as {@link bigintStat}, at about half its cost, from the fs binding's stat numbers
 * (fsBinding, as the live check's exactLstat reads them: fs.lstatSync with bigint builds 14 BigInts and 4 Dates per call,
 * and a dedupe apply makes ~15 lstats per pair). Whatever it cannot answer exactly goes to {@link bigintStat}: a value
 * that is not a safe integer (an inode past 2^53 is never rounded here), an mtime at or before the epoch, a name that
 * is not text (a Buffer) or holds a NUL. Errors are the binding's, which are fs.lstatSync's. Before it is used, it must
 * answer as bigintStat does for `reference` (an existing file), a name below it (ENOTDIR) and a missing sibling:
 * otherwise (another Node, another layout, the permission model) bigintStat is used.
 */
export function exactStatReader(binding: unknown, reference: string, slow: StatReader = bigintStat): StatReader {
  type Raw = (p: string, bigint: false, req: undefined, throwIfNoEntry: false) => ArrayLike<number> | undefined;
  const b = binding as { lstat?: Raw } | null;
  if (b === null || typeof b !== 'object' || typeof b.lstat !== 'function') return slow;
  const raw = b.lstat;
  const fast: StatReader = (p) => {
    if (typeof p !== 'string' || p.includes('\0')) return slow(p);
    const s = raw.call(b, p, false, undefined, false);
    if (s === undefined) return undefined;
    // The binding's array: dev, mode, nlink, uid, gid, rdev, blksize, ino, size, blocks, atime s/ns, mtime s/ns, ...
    const dev = s[0]!, mode = s[1]!, nlink = s[2]!, uid = s[3]!, gid = s[4]!, ino = s[7]!, size = s[8]!, sec = s[12]!, nsec = s[13]!;
    if (
      !Number.isSafeInteger(dev) || !Number.isSafeInteger(mode) || !Number.isSafeInteger(nlink) || !Number.isSafeInteger(uid) || !Number.isSafeInteger(gid) ||
      !Number.isSafeInteger(ino) || !Number.isSafeInteger(size) || !Number.isSafeInteger(sec) || sec < 1 || !Number.isInteger(nsec) || nsec < 0 || nsec >= 1e9
    ) {
      return slow(p);
    }
    const type = mode & constants.S_IFMT;
    return {
      dev,
      ino,
      size,
      mtimeNs: String(sec) + String(1e9 + nsec).slice(1),
      mode,
      uid,
      gid,
      nlink,
      kind: type === constants.S_IFREG ? 'file' : type === constants.S_IFDIR ? 'dir' : type === constants.S_IFLNK ? 'symlink' : 'other',
    };
  };
  const same = (p: string): boolean => {
    const ask = (f: StatReader): string => {
      try {
        return JSON.stringify(f(p) ?? null);
      } catch (e) {
        return `code ${String((e as { code?: unknown } | null)?.code)}`;
      }
    };
    return ask(fast) === ask(slow);
  };
  try {
    if (!same(reference) || !same(reference + '/x') || !same(reference + '.hashall-no-such-file')) return slow;
  } catch {
    return slow;
  }
  return fast;
}


async function writeAll(fh: fsp.FileHandle, buf: Buffer, pos: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, pos + off);
    off += bytesWritten;
  }
}

/**
 * fsync of a directory: opened and closed synchronously (microseconds, no data read), the fsync alone on the thread
 * pool — one round trip instead of three (a dedupe batch fsyncs hundreds of folders at once).
 */
function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(fsPathArg(dir), constants.O_RDONLY | constants.O_DIRECTORY);
  return new Promise<void>((resolve, reject) => {
    fsyncCb(fd, (err) => {
      try {
        closeSync(fd);
      } catch (closeErr) {
        reject(err ?? closeErr);
        return;
      }
      if (err) reject(err);
      else resolve();
    });
  });
}

/**
 * How apply opens a file to read it, in folders other users (and containers) may write: never through a symlink, and
 * never waiting in open() for a writer when the path was swapped for a FIFO — that would hang the apply with the global
 * lock held, and a synchronous open blocks even the signal handlers. O_NONBLOCK changes nothing for a regular file.
 */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** A copy reads only a regular file (never a FIFO or a device, which would feed it bytes no plan hashed). */
function requireRegular(st: { isFile(): boolean }, src: string): void {
  if (!st.isFile()) {
    throw new FsError(`source ${src} is not a regular file (something replaced it since it was catalogued); nothing was copied`, {
      path: src,
      hint: 'find out who changes files there; then `hashall scan` and `hashall plan` again',
    });
  }
}

function requireSize(st: { size: bigint }, src: string, size: number | undefined): void {
  if (size === undefined || st.size === BigInt(size)) return;
  throw new FsError(`source ${src} holds ${st.size} bytes, not the ${size} it held when checked (it changed since); nothing was copied`, {
    path: src,
    hint: 'wait until the file is no longer written to, then `hashall scan` and `hashall plan` again',
  });
}

/**
 * fdatasync of a file: opened (O_NOFOLLOW), its inode checked and closed synchronously (microseconds), the fdatasync
 * alone on the thread pool — one round trip instead of four (an adoption's copies hand hundreds of files to it at once).
 */
async function fsyncFile(p: string, expect?: { ino: number; dev: number }): Promise<void> {
  const fd = openSync(fsPathArg(p), READ_FLAGS);
  let synced: Promise<void>;
  try {
    if (expect) {
      const st = fstatSync(fd);
      if (st.ino !== expect.ino || st.dev !== expect.dev) {
        throw new FsError(`${p} is not the file hashall wrote there (inode ${st.ino}, expected ${expect.ino})`, { path: p, hint: 'something replaced it; the group is rolled back' });
      }
    }
    synced = new Promise<void>((resolve, reject) => fdatasyncCb(fd, (err) => (err ? reject(err) : resolve())));
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  try {
    await synced;
  } finally {
    closeSync(fd);
  }
}

/**
 * Files up to this size are copied (when their data is not fsynced in the same call) and hashed with synchronous calls:
 * a small file's dozen thread-pool round trips cost far more than its bytes on a busy machine (a first adoption copies
 * thousands of them, one group after another).
 */
const SYNC_COPY_MAX = 1 << 20;

/**
 * Read a whole open file (until end of file, whatever size it had) with synchronous reads. A file that fits `scratch`
 * (ReadBuffers.small) is read into it and the answer is a view of it: used before the caller's next await (another
 * read reuses it).
 */
function readAllSync(fd: number, sizeHint: number, scratch: Buffer): Buffer {
  let pos = 0;
  if (sizeHint < scratch.length) {
    for (;;) {
      const n = readSync(fd, scratch, pos, scratch.length - pos, pos);
      if (n === 0) return scratch.subarray(0, pos);
      pos += n;
      if (pos === scratch.length) break;
    }
  }
  // Larger than the scratch (or it grew past it while read): chunks of its own, from what was read so far.
  const chunks: Buffer[] = pos > 0 ? [Buffer.from(scratch.subarray(0, pos))] : [];
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.max(MIN_CHUNK, sizeHint + 1 - pos));
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    chunks.push(buf.subarray(0, n));
    pos += n;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Pairs of read buffers a port keeps for its next large reads (ReadBuffers). */
const KEPT_PAIRS = 4;

/**
 * The read buffers a port keeps: on this VM a fresh buffer costs a page fault per 4 KiB (~4 µs) before its first byte
 * is read — more than reading a small file, and ~1,000 faults for a 4 MiB buffer (100 reads of 2 MiB files: 195–578 ms
 * with fresh buffers, 148–164 ms with kept ones).
 * - `small`: the synchronous reads of one file up to SYNC_COPY_MAX and its end (readAllSync), shared by every small
 *   copy and hash: its bytes are used before the reader's next await.
 * - pairs for the pipelined reads of larger files, two of min(4 MiB, size) at least 64 KiB (a file that grew is read
 *   in more chunks; two 4 MiB buffers for every small file made V8 collect garbage every few files, issue 17 item
 *   10), lent and taken back. A pair is given back only by a read that ended well — every read and write into it
 *   awaited —, never from an error path where one may still be in flight; at most KEPT_PAIRS are kept, the largest.
 */
class ReadBuffers {
  readonly small = Buffer.allocUnsafe(SYNC_COPY_MAX + 1);
  private readonly free: [Buffer, Buffer][] = [];

  take(size: number): [Buffer, Buffer] {
    const n = Math.min(CHUNK, Math.max(MIN_CHUNK, size + 1));
    const at = this.free.findIndex((pair) => pair[0].length >= n);
    return at >= 0 ? this.free.splice(at, 1)[0]! : [Buffer.allocUnsafe(n), Buffer.allocUnsafe(n)];
  }

  giveBack(pair: [Buffer, Buffer]): void {
    this.free.push(pair);
    if (this.free.length > KEPT_PAIRS) {
      this.free.sort((a, b) => b[0].length - a[0].length);
      this.free.length = KEPT_PAIRS;
    }
  }
}

/**
 * The mode a copy is given: the source's permission bits, and its setuid/setgid bits only when the copy kept the
 * source's owner and group. A copy chown could not give away (hashall not run as root, a filesystem that refuses it)
 * belongs to hashall's user: with those bits another user's program would run as hashall's user or group — so they
 * are dropped, as `cp -p` drops them.
 */
function copiedMode(mode: number | bigint, ownerKept: boolean): number {
  return Number(mode) & (ownerKept ? 0o7777 : 0o1777);
}

/** copyVerified for a small file whose data is not fsynced here (SYNC_COPY_MAX): the same steps, synchronous. */
async function copySmallSync(rfd: number, st: import('node:fs').BigIntStats, src: string, tmpPath: string, bufs: ReadBuffers, onProgress?: (bytes: number) => void, signal?: AbortSignal, syncDir = true): Promise<CopyResult> {
  if (signal?.aborted) throw new InterruptedError(`copy of ${src} stopped (${String(signal.reason ?? 'interrupted')}); its temporary file is removed`);
  // `data` may be a view of the port's small buffer: written and hashed before the first await.
  const data = readAllSync(rfd, Number(st.size), bufs.small);
  let wfd: number | null = null;
  let created = false;
  try {
    wfd = openSync(fsPathArg(tmpPath), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    created = true;
    for (let off = 0; off < data.length; ) off += writeSync(wfd, data, off, data.length - off, off);
    // Owner first: chown clears the setuid and setgid bits, which the mode then sets again (when the owner was kept).
    let ownerKept = true;
    try {
      fchownSync(wfd, Number(st.uid), Number(st.gid));
    } catch (err) {
      if (errnoCode(err) !== 'EPERM') throw err;
      ownerKept = false;
    }
    fchmodSync(wfd, copiedMode(st.mode, ownerKept));
    futimesSync(wfd, Number(st.atimeNs / 1000n) / 1e6, Number(st.mtimeNs / 1000n) / 1e6);
    const out = fstatSync(wfd, { bigint: true });
    closeSync(wfd);
    wfd = null;
    const sha256 = createHash('sha256').update(data).digest('hex');
    const bytes = data.length;
    onProgress?.(bytes);
    if (syncDir) await fsyncDir(path.dirname(tmpPath));
    return { sha256, bytes, ino: Number(out.ino), dev: Number(out.dev), mtimeNs: out.mtimeNs };
  } catch (err) {
    if (wfd !== null) closeSync(wfd);
    if (created) await fsp.unlink(fsPathArg(tmpPath)).catch(() => undefined);
    throw err;
  }
}

/** Pipelined copy: the next read is in flight while the current chunk is hashed and written. */
async function copyVerified(src: string, tmpPath: string, buffers: ReadBuffers, o: CopyOptions): Promise<CopyResult> {
  const { onProgress, signal, syncDir = true, syncData = true } = o;
  if (!syncData) {
    const rfd = openSync(fsPathArg(src), READ_FLAGS);
    try {
      const st = fstatSync(rfd, { bigint: true });
      requireRegular(st, src);
      requireSize(st, src, o.size);
      if (st.size <= SYNC_COPY_MAX) return await copySmallSync(rfd, st, src, tmpPath, buffers, onProgress, signal, syncDir);
    } finally {
      closeSync(rfd);
    }
  }
  const rfh = await fsp.open(fsPathArg(src), READ_FLAGS);
  let wfh: fsp.FileHandle | null = null;
  let created = false;
  try {
    const st = await rfh.stat({ bigint: true });
    requireRegular(st, src);
    requireSize(st, src, o.size);
    const end = Number(st.size);
    wfh = await fsp.open(fsPathArg(tmpPath), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    created = true;
    const hash = createHash('sha256');
    const bufs = buffers.take(Number(st.size));
    const chunkLen = bufs[0].length;
    let i = 0;
    let pos = 0;
    // Never past the size the opened file had: what grows meanwhile is not copied (the caller's compare catches it).
    let pendingRead = rfh.read(bufs[0], 0, Math.min(chunkLen, end), 0);
    let pendingWrite: Promise<void> = Promise.resolve();
    for (;;) {
      const { bytesRead } = await pendingRead;
      if (bytesRead === 0) break;
      const chunk = bufs[i]!.subarray(0, bytesRead);
      await pendingWrite; // frees the other buffer
      if (signal?.aborted) {
        throw new InterruptedError(`copy of ${src} stopped (${String(signal.reason ?? 'interrupted')}); its temporary file is removed`);
      }
      i ^= 1;
      pendingRead = rfh.read(bufs[i]!, 0, Math.min(chunkLen, end - pos - bytesRead), pos + bytesRead);
      hash.update(chunk);
      pendingWrite = writeAll(wfh, chunk, pos);
      pos += bytesRead;
      onProgress?.(pos);
    }
    await pendingWrite;
    // Every read and write of the copy awaited: nothing touches the buffers any more.
    buffers.giveBack(bufs);
    // Owner first: chown clears the setuid and setgid bits, which the mode then sets again (when the owner was kept).
    let ownerKept = true;
    try {
      await wfh.chown(Number(st.uid), Number(st.gid));
    } catch (err) {
      if (errnoCode(err) !== 'EPERM') throw err;
      ownerKept = false;
    }
    await wfh.chmod(copiedMode(st.mode, ownerKept));
    const mtime = Number(st.mtimeNs / 1000n) / 1e6;
    const atime = Number(st.atimeNs / 1000n) / 1e6;
    await wfh.utimes(atime, mtime);
    if (syncData) await wfh.sync();
    const out = await wfh.stat({ bigint: true });
    await wfh.close();
    wfh = null;
    if (syncDir) await fsyncDir(path.dirname(tmpPath));
    return { sha256: hash.digest('hex'), bytes: pos, ino: Number(out.ino), dev: Number(out.dev), mtimeNs: out.mtimeNs };
  } catch (err) {
    if (wfh) await wfh.close().catch(() => undefined);
    if (created) await fsp.unlink(fsPathArg(tmpPath)).catch(() => undefined);
    throw err;
  } finally {
    await rfh.close();
  }
}

const SAMPLE_BLOCK = 65536;

async function sampleHash(p: string, buffers: ReadBuffers): Promise<string> {
  const fh = await fsp.open(fsPathArg(p), READ_FLAGS);
  try {
    const { size } = await fh.stat();
    const hash = createHash('sha256').update(`hashall-sample-v1\n${size}\n`);
    const offsets = size <= 3 * SAMPLE_BLOCK ? [0] : [0, Math.floor((size - SAMPLE_BLOCK) / 2), size - SAMPLE_BLOCK];
    const len = size <= 3 * SAMPLE_BLOCK ? size : SAMPLE_BLOCK;
    // One buffer of a kept pair, at least `len` long (reads are bounded by `len`, not by the buffer).
    const pair = buffers.take(len);
    const buf = pair[0];
    for (const off of offsets) {
      let got = 0;
      while (got < len) {
        const { bytesRead } = await fh.read(buf, got, len - got, off + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      hash.update(buf.subarray(0, got));
    }
    // Every read awaited, one at a time: nothing touches the buffers any more.
    buffers.giveBack(pair);
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}

/** A descriptor's status must be `expect` (dev, ino) and a regular file, when given. */
function proveDescriptor(p: string, st: { dev: number; ino: number; isFile(): boolean }, expect: { dev: number; ino: number } | undefined): void {
  if (expect === undefined) return;
  if (!st.isFile() || st.dev !== expect.dev || st.ino !== expect.ino) {
    throw new FsError(`${p} is not the file listed there a moment before (device ${st.dev} inode ${st.ino}, listed ${expect.dev}/${expect.ino}): it was replaced meanwhile`, { code: 'ESTALE', path: p });
  }
}

async function hashFile(p: string, buffers: ReadBuffers, expect?: { dev: number; ino: number }): Promise<string> {
  const fd = openSync(fsPathArg(p), READ_FLAGS);
  try {
    const st = fstatSync(fd);
    proveDescriptor(p, st, expect);
    const size = st.size;
    if (size <= SYNC_COPY_MAX) return createHash('sha256').update(readAllSync(fd, size, buffers.small)).digest('hex');
  } finally {
    closeSync(fd);
  }
  const fh = await fsp.open(fsPathArg(p), READ_FLAGS);
  try {
    const st = await fh.stat();
    proveDescriptor(p, st, expect);
    return await hashHandle(fh, st.size, buffers);
  } finally {
    await fh.close();
  }
}

/** SHA-256 of everything an open file holds, read to its end (`size`: the length expected, for the buffers). */
async function hashHandle(fh: fsp.FileHandle, size: number, buffers: ReadBuffers, onProgress?: (bytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  const bufs = buffers.take(size);
  const chunkLen = bufs[0].length;
  let i = 0;
  let pos = 0;
  let pending = fh.read(bufs[0], 0, chunkLen, 0);
  for (;;) {
    const { bytesRead } = await pending;
    if (bytesRead === 0) break;
    const cur = bufs[i]!;
    i ^= 1;
    pending = fh.read(bufs[i]!, 0, chunkLen, pos + bytesRead);
    hash.update(cur.subarray(0, bytesRead));
    pos += bytesRead;
    onProgress?.(pos);
  }
  // The last read (end of file) awaited: nothing touches the buffers any more.
  buffers.giveBack(bufs);
  return hash.digest('hex');
}

function stampOf(st: import('node:fs').BigIntStats): FileStamp {
  return { dev: Number(st.dev), ino: Number(st.ino), size: Number(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) };
}

async function hashFileStamped(p: string, buffers: ReadBuffers, expect?: { dev: number; ino: number }, onProgress?: (bytes: number) => void): Promise<StampedHash> {
  const fh = await fsp.open(fsPathArg(p), READ_FLAGS);
  try {
    const st = await fh.stat({ bigint: true });
    const before = stampOf(st);
    proveDescriptor(p, { dev: before.dev, ino: before.ino, isFile: () => st.isFile() }, expect);
    if (!st.isFile()) throw new FsError(`${p} is not a regular file`, { path: p });
    const sha256 = await hashHandle(fh, before.size, buffers, onProgress);
    // A change during the read (or between it and this fstat) moves ctime: the stamp would not be that of the bytes hashed.
    const after = stampOf(await fh.stat({ bigint: true }));
    if (after.size !== before.size || after.mtimeNs !== before.mtimeNs || after.ctimeNs !== before.ctimeNs) {
      throw new FsError(`${p} changed while it was read (size ${before.size} → ${after.size}, ctime ${before.ctimeNs} → ${after.ctimeNs}); its hash proves nothing`, { code: 'ECHANGED', path: p });
    }
    return { sha256, stamp: after };
  } finally {
    await fh.close();
  }
}

/** Files up to this size, when the caller knows it, are compared on the compare thread with synchronous reads (compare-thread.ts). */
const SYNC_COMPARE_MAX = 4 << 20;

/** A status compareSmall packed, read as toStat reads a BigIntStats. */
function fromPacked([dev, ino, size, mtimeNs, mode, uid, gid, nlink]: PackedStat): FsStat {
  return toStat({ dev, ino, size, mtimeNs, mode, uid, gid, nlink });
}

async function sameBytes(a: string, b: string, inodes: { a: number; b: number; size?: number } | undefined, compares: CompareThread, buffers: ReadBuffers): Promise<SameFiles | null> {
  // The length the caller expects (a dedupe step knows it): a small file is compared on the compare thread, while the
  // main thread goes on (the checks that read the result are the caller's, as for any compare).
  if (inodes?.size !== undefined && inodes.size <= SYNC_COMPARE_MAX) {
    const same = await compares.compare(fsPathArg(a), fsPathArg(b), inodes.a, inodes.b, inodes.size);
    return same && { a: fromPacked(same[0]), b: fromPacked(same[1]) };
  }
  const fa = openSync(fsPathArg(a), READ_FLAGS);
  try {
    const fb = openSync(fsPathArg(b), READ_FLAGS);
    try {
      // Both inodes are checked on their descriptors once the compare ended (a descriptor's inode never changes). The
      // length to compare is the caller's, else `a`'s when opened.
      let size = inodes?.size;
      if (size === undefined) {
        const sa = fstatSync(fa);
        if (inodes && sa.ino !== inodes.a) return null;
        size = sa.size;
      }
      const pair = buffers.take(size);
      const [ba, bb] = pair;
      // Given back unless a read failed (the other read of that turn may still be in flight).
      let reading = false;
      try {
        // Read through the thread pool, both at once, so a long compare never blocks signal handling.
        const read = (fd: number, buf: Buffer, pos: number): Promise<number> => new Promise((resolve, reject) => fsRead(fd, buf, pos, resolve, reject));
        // Read up to that size (no read just to meet the end); the end is proven on the descriptors instead, below.
        let pos = 0;
        try {
          while (pos < size) {
            reading = true;
            const [ra, rb] = await Promise.all([read(fa, ba, pos), read(fb, bb, pos)]);
            reading = false;
            if (ra !== rb) return null;
            if (ra === 0) break; // both ended early (shrunk): the sizes below differ from the bytes compared
            if (!ba.subarray(0, ra).equals(bb.subarray(0, rb))) return null;
            pos += ra;
          }
        } catch (err) {
          // A path swapped for a FIFO (opened without waiting, see READ_FLAGS) cannot be read at an offset: not the file planned.
          if (errnoCode(err) === 'ESPIPE' || errnoCode(err) === 'EAGAIN') return null;
          throw err;
        }
        // What the held descriptors show now (a change during the compare shows in size or mtime): both exactly as long
        // as the bytes compared equal, so no byte of either was left unread (a file that grew or shrank differs).
        const same = { a: toStat(fstatSync(fa, { bigint: true })), b: toStat(fstatSync(fb, { bigint: true })) };
        if (same.a.size !== pos || same.b.size !== pos) return null;
        return inodes && (same.a.ino !== inodes.a || same.b.ino !== inodes.b) ? null : same;
      } finally {
        if (!reading) buffers.giveBack(pair);
      }
    } finally {
      closeSync(fb);
    }
  } finally {
    closeSync(fa);
  }
}

function fsRead(fd: number, buf: Buffer, pos: number, resolve: (n: number) => void, reject: (e: unknown) => void): void {
  fsReadCb(fd, buf, 0, buf.length, pos, (err, n) => (err ? reject(err) : resolve(n)));
}

/** The real FsPort, and the end of what it started: close() ends its compare thread (the port still works after: a compare starts a new one). */
export type OwnedFsPort = FsPort & { close(): Promise<void> };

/**
 * `replaced` holds the inode each rename replaces and releases it on the thread pool (inode-release.ts). The port's
 * own compare thread (compare-thread.ts) starts at its first small compare, or with `compares` now (an apply whose plan
 * links duplicates: it starts while the plan is checked); whoever made the port ends it with close().
 */
export function realFsPort(replaced: InodeReleaser = inodeReleaser(), opts?: { compares?: boolean }): OwnedFsPort {
  const compares = compareThread(READ_FLAGS);
  // The port's lstat reader (exactStatReader), made and self-checked at its first lstat.
  let statReader: StatReader | null = null;
  const exactStat = (p: string | Buffer): FsStat | undefined => (statReader ??= exactStatReader(fsBinding(), process.execPath))(p);
  if (opts?.compares) compares.start();
  const buffers = new ReadBuffers();
  return {
    close: () => compares.stop(),
    copyFileVerified: (src, tmpPath, opts) => wrap('copy', `${src} -> ${tmpPath}`, () => copyVerified(src, tmpPath, buffers, opts ?? {})),
    hashFile: (p, expect) => wrap('hash', p, () => hashFile(p, buffers, expect)),
    hashFileStamped: (p, expect, onProgress) => wrap('hash', p, () => hashFileStamped(p, buffers, expect, onProgress)),
    sameBytes: (a, b, inodes) => wrap('compare', `${a} with ${b}`, () => sameBytes(a, b, inodes, compares, buffers)),
    sampleHash: (p) => wrap('hash', p, () => sampleHash(p, buffers)),
    // Metadata calls are synchronous: microseconds each, where a round trip through libuv's thread pool costs far more
    // on a busy machine (a dedupe batch makes thousands of them).
    link: (existing, newPath) => wrap('link', `${existing} -> ${newPath}`, async () => linkSync(fsPathArg(existing), fsPathArg(newPath))),
    rename: (from, to) =>
      wrap('rename', `${from} -> ${to}`, async () => {
        const release = await replaced.hold(fsPathArg(to));
        try {
          renameSync(fsPathArg(from), fsPathArg(to));
        } finally {
          release();
        }
      }),
    unlink: (p) => wrap('unlink', p, async () => unlinkSync(fsPathArg(p))),
    rmdir: (p) => wrap('rmdir', p, () => fsp.rmdir(fsPathArg(p))),
    rmTree: (base, rel, opts) => wrap('remove', `${base.label}/${rel}`, () => removeTree(base, rel, opts)),
    listTree: (base, rel, opts) => wrap('list', `${base.label}/${rel}`, () => listTree(base, rel, opts)),
    renameAt: (from, name, to, toName) => wrap('rename', `${from.label}/${String(name)}`, () => renameAt(from, name, to, toName)),
    rmdirAt: (dir, name) => wrap('rmdir', `${dir.label}/${String(name)}`, () => rmdirAt(dir, name)),
    holdDir: (p) => wrap('open', p, () => openTrustedDir(p)),
    holdPrivateDir: (dir, name, opts) => wrap('open', path.join(dir, name), () => holdPrivateDir(dir, name, opts)),
    mkdirUnder: (base, rel) => wrap('mkdir', `${base.label}/${rel}`, () => mkdirUnder(base, rel)),
    // Synchronous (metadata calls, as above): a copy's folders are made behind the fsyncs of the copies before it,
    // queued on the thread pool.
    mkdirAt: (parent, name, owner) => wrap('mkdir', `${parent.label}/${name}`, async () => makeChildDirSync(parent, name, owner)),
    lstat: async (p) => {
      try {
        return exactStat(fsPathArg(p)) ?? null;
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return null;
        throw fsError('lstat', p, err);
      }
    },
    // The same read as lstat (exactStat: no Stats object, no Dates), its identity fields.
    lstatId: async (p) => {
      let s: FsStat | undefined;
      try {
        s = exactStat(fsPathArg(p));
      } catch (err) {
        throw fsError('lstat', p, err);
      }
      return s ? { dev: s.dev, ino: s.ino, nlink: s.nlink, kind: s.kind } : null;
    },
    statfs: (p) =>
      wrap('statfs', p, async () => {
        const s = await fsp.statfs(fsPathArg(p));
        return { freeBytes: s.bavail * s.bsize };
      }),
    // Names as the catalog spells them: raw bytes, escaped where they are not UTF-8 (never decoded lossily). Synchronous
    // as the other metadata calls: a step's folder check lists a payload's folder, where a thread-pool round trip waited
    // behind the fsyncs of the groups in flight (an adoption's 400 listings: ~7-10 ms each).
    readdir: (p) => wrap('readdir', p, async () => readdirSync(fsPathArg(p), { encoding: 'buffer' }).map(bytesToPathText)),
    fsyncDir: (dir) => wrap('fsync', dir, () => fsyncDir(dir)),
    fsyncFile: (p, expect) => wrap('fsync', p, () => fsyncFile(p, expect)),
    syncFilesystem: (p, expect) => wrap('fsync', p, () => syncFilesystemOf(p, expect)),
  };
}
