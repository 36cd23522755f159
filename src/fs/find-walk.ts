// The stat walk done by GNU find: one find process lists and lstat's the tree (on another core) while this thread
// parses its NUL-terminated records into the walk's events; returns null when no GNU find answers (walk.ts falls back).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { readdirSync, type BigIntStats } from 'node:fs';
import type { Readable } from 'node:stream';
import { errnoCode } from '../errors.js';
import { mountParents } from './mount-parents.js';
import { bytesToPathText } from './path-encoding.js';
import type { FoundFile, WalkEvent, WalkOptions } from './walk.js';

/**
 * One record per entry: type letter, st_dev, st_ino, st_size, st_mtime as `seconds.nanoseconds0` (GNU find's %T@: 9
 * digits of nanoseconds and a trailing zero, the seconds signed, the nanoseconds added to them), st_nlink, then the
 * path below the root as raw bytes, NUL-terminated (a name holds no NUL). Only what the scan compares is asked for,
 * in the order a file's catalog row is compared with it (see FoundFile).
 */
const FORMAT = '%y %D %i %s %T@ %n %P\\0';
/** A path this long (bytes, with the NUL) cannot be passed to a system call: reported as the Node walk does. */
const PATH_MAX = 4096;
/** Stderr kept for messages. */
const STDERR_KEEP = 16 * 1024;
const BILLION = 1_000_000_000n;

const SLASH = 0x2f;
const SPACE = 0x20;

/** Escape fnmatch's special characters so `-path` matches `p` literally. */
function literalPattern(p: string): string {
  return p.replace(/[*?[\]\\]/g, (c) => '\\' + c);
}

/** find's arguments: stay on the root's filesystem, never follow a symlink, prune the other mount points inside. */
export function findArgs(root: string, prune: string[]): string[] {
  const print = ['-printf', FORMAT];
  if (prune.length === 0) return ['-P', root, '-xdev', '-ignore_readdir_race', ...print];
  const paths = prune.flatMap((p, i) => (i === 0 ? ['-path', literalPattern(p)] : ['-o', '-path', literalPattern(p)]));
  return ['-P', root, '-xdev', '-ignore_readdir_race', '(', ...paths, ')', '-prune', ...print, '-o', ...print];
}

/** find's output read ahead of the parser at most (bytes): reading stops above it and resumes below half of it. */
const READ_AHEAD = 8 * 1024 * 1024;

/**
 * The chunks of `stream`, read from now on as they arrive rather than when the consumer asks for the next one: a
 * writer (find) never waits on a full pipe while the consumer is busy or not iterating yet, as long as the event
 * loop runs — the generator lets it run after each chunk while more are waiting. At most `limit` bytes wait here
 * (then the stream is paused, and resumed once half of them are taken). Ends at the stream's end; throws its error.
 */
export function readAhead(stream: Readable, limit: number = READ_AHEAD): AsyncGenerator<Buffer, void> {
  const chunks: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let failed: Error | null = null;
  let wake: (() => void) | null = null;
  const wakeUp = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const onData = (c: Buffer): void => {
    chunks.push(c);
    queued += c.length;
    if (queued > limit) stream.pause();
    wakeUp();
  };
  const onEnd = (): void => {
    ended = true;
    wakeUp();
  };
  const onError = (err: Error): void => {
    failed = err;
    wakeUp();
  };
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('error', onError);
  async function* take(): AsyncGenerator<Buffer, void> {
    try {
      for (;;) {
        const c = chunks.shift();
        if (c !== undefined) {
          queued -= c.length;
          if (queued <= limit / 2 && stream.isPaused()) stream.resume();
          yield c;
          // What the writer wrote while that chunk was handled is read before the next one is.
          if (chunks.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
        if (failed !== null) throw failed;
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    }
  }
  return take();
}

/** A malformed record: find is not the GNU find this parser expects. */
class FormatError extends Error {}

/** Reads the fields of one record in place (`p` is the next byte to read); a file's record is offered to settle as is. */
class Fields implements FoundFile {
  p = 0;
  meta = 0;
  sec = 0;
  dot = 0;
  metaEnd = 0;
  name = 0;
  nameEnd = 0;
  size = 0;
  constructor(public b: Buffer) {}

  /** Decimal digits up to the next space; a value past 2^53 is exact as a BigInt. */
  uint(): number | bigint {
    const b = this.b;
    const start = this.p;
    let p = start;
    let v = 0;
    let c = b[p] as number;
    while (c !== SPACE) {
      if (c < 0x30 || c > 0x39) throw new FormatError('not a number');
      v = v * 10 + (c - 0x30);
      c = b[++p] as number;
    }
    if (p === start) throw new FormatError('empty number');
    this.p = p + 1;
    return p - start > 15 ? BigInt(b.toString('latin1', start, p)) : v;
  }

  /** Reads a time field `[-]seconds.nnnnnnnnn0`: its seconds begin at `sec`, its dot is at `dot` (see nanos()). */
  time(): void {
    const b = this.b;
    const start = this.p;
    let p = start;
    if (b[p] === 0x2d) p++;
    const digits = p;
    while ((b[p] as number) >= 0x30 && (b[p] as number) <= 0x39) p++;
    if (p === digits || b[p] !== 0x2e) throw new FormatError('bad time');
    const dot = p;
    for (let i = 1; i <= 10; i++) {
      const c = b[dot + i] as number;
      if (c < 0x30 || c > 0x39) throw new FormatError('bad time fraction');
    }
    if (b[dot + 11] !== SPACE) throw new FormatError('bad time fraction');
    this.p = dot + 12;
    this.sec = start;
    this.dot = dot;
  }

  /**
   * The time in nanoseconds, exactly (never through a float): the seconds are signed, the nanoseconds added. The
   * digits (checked by time()) are summed as integers, exact up to 15 digits of seconds; no text is made per file.
   */
  nanos(): bigint {
    const b = this.b;
    const dot = this.dot;
    let p = this.sec;
    const negative = b[p] === 0x2d;
    if (negative) p++;
    if (dot - p > 15) return BigInt(b.toString('latin1', this.sec, dot)) * BILLION + BigInt(b.toString('latin1', dot + 1, dot + 10));
    let sec = 0;
    for (; p < dot; p++) sec = sec * 10 + ((b[p] as number) - 0x30);
    let ns = 0;
    for (let i = dot + 1; i < dot + 10; i++) ns = ns * 10 + ((b[i] as number) - 0x30);
    return BigInt(negative ? -sec : sec) * BILLION + BigInt(ns);
  }
}

interface DirMark {
  rel: string;
  abs: string | Buffer;
}

/** Mount points below `root` that find prunes (a name it could not match is skipped by the parser instead). */
function prunedBelow(root: string, mountPoints: Set<string>): string[] {
  const inside = root === '/' ? '/' : root + '/';
  return [...mountPoints].filter((m) => m.startsWith(inside) && !m.includes('\uFFFD'));
}

/** A GNU find listing one root, its output read ahead (readAhead) from the moment it started until a walk parses it. */
export interface FindProcess {
  readonly root: string;
  /** The root's lstat when find was started: find's first record must be this directory. */
  readonly rootStat: BigIntStats;
  /** The mount points find was told to prune, as findArgs got them. */
  readonly prune: readonly string[];
  readonly output: AsyncGenerator<Buffer, void>;
  /** What find wrote on stderr so far (the first 16 KiB). */
  stderr(): string;
  /** Settles when find has exited and its pipes are closed (or could not be started: `spawnError`). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError: Error | null }>;
  /** Ends find if it still runs, and waits for it. */
  stop(): Promise<void>;
}

/**
 * Start `program` (a GNU find) on `root` (an absolute, symlink-free directory whose lstat is `rootStat`), pruning the
 * mount points below it. Null when it cannot even be spawned; a program that is not there reports its spawn error
 * through `exited`. Its output is read from now on, so it can start before its walk is ready to parse.
 */
export function startFind(root: string, rootStat: BigIntStats, program: string, mountPoints: Set<string>): FindProcess | null {
  const prune = prunedBelow(root, mountPoints);
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  delete env.POSIXLY_CORRECT;
  let child: ChildProcessByStdio<null, Readable, Readable>;
  try {
    child = spawn(program, findArgs(root, prune), { stdio: ['ignore', 'pipe', 'pipe'], env });
  } catch {
    return null;
  }
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (t: string) => {
    if (stderr.length < STDERR_KEEP) stderr += t;
  });
  let spawnError: Error | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError: Error | null }>((resolve) => {
    child.on('error', (err) => {
      spawnError = err;
      resolve({ code: null, signal: null, spawnError });
    });
    child.on('close', (code, signal) => resolve({ code, signal, spawnError }));
  });
  const output = readAhead(child.stdout);
  return {
    root,
    rootStat,
    prune,
    output,
    stderr: () => stderr,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      // Whatever it wrote is dropped (a paused pipe would otherwise never close).
      child.stdout.destroy();
      await exited;
    },
  };
}

/**
 * Walk `root` (an absolute, symlink-free directory whose lstat is `rootStat`) with GNU find, yielding the same events
 * as the Node walk: the find `started` for this root and these mount points if given (else one started now). Returns
 * null before yielding anything when `program` cannot be started or is not a GNU find (the caller walks in Node
 * instead). Problems: a directory find could not read is re-listed here, and reported with the error that gives (or
 * EWALK if it now lists fine); find's exit status 1 also ends the walk with an `incomplete` event. Any other failure
 * of find throws. find is stopped whenever the walk ends early.
 */
export async function* findWalk(root: string, rootStat: BigIntStats, opts: WalkOptions & { program: string }, started?: FindProcess): AsyncGenerator<WalkEvent[], null | undefined> {
  const batchSize = opts.batchSize ?? 512;
  const prune = prunedBelow(root, opts.mountPoints);
  let find: FindProcess | null | undefined = started;
  if (find !== undefined && (find.root !== root || find.rootStat.ino !== rootStat.ino || find.rootStat.dev !== rootStat.dev || find.prune.join('\0') !== prune.join('\0'))) {
    // Started for another root, another directory at this path, or other mounts: not this walk's.
    await find.stop();
    find = undefined;
  }
  find ??= startFind(root, rootStat, opts.program, opts.mountPoints);
  if (find === null) return null;
  const proc = find;

  const rootDev = rootStat.dev;
  const rootDevNum = Number(rootDev);
  const rootBytes = Buffer.from(root === '/' ? '' : root, 'utf8');
  const rootPrefix = root === '/' ? '/' : root + '/';
  const rootPrefixBytes = Buffer.byteLength(rootPrefix);
  let records = 0;
  const batch: WalkEvent[] = [];
  /** Below a mount or a path too long: records under this rel prefix are not the walk's. */
  let skip: string | null = null;
  /** The last directory entered: childless if the next record is not inside it (empty, or find could not read it). */
  let lastDir: DirMark | null = null;
  const childless: DirMark[] = [];
  let rest: Buffer | null = null;
  let yielded = false;
  let done = false;

  const settle = opts.settle;
  /** The directories holding a mount point (see mountParents): the common tree has none, and its entries pay nothing. */
  const parents = mountParents(root, opts.mountPoints);
  /**
   * Whether the last record's directory holds a mount point, and then its absolute path with a slash as mountinfo
   * spells it (see record): only there is an entry other than a directory looked up in the mount points.
   */
  let holdsMount = parents.has(rootPrefix);
  let dirMountText = rootPrefix;
  /**
   * One entry below the root, whose record is `f` (its path below the root is bytes [q, f.nameEnd) of f.b): `dir` is
   * its directory's path text ('' for the root's own entries; the same string for consecutive entries of one directory).
   */
  const entry = (f: Fields, q: number, dir: string, absLen: number, type: number, dev: number | bigint, ino: number | bigint, nlink: number, size: number | bigint): void => {
    if (lastDir !== null) {
      // find lists a directory's entries right after it: the next record is inside it, or it had none.
      if (dir !== lastDir.rel) childless.push(lastDir);
      lastDir = null;
    }
    // The name's text is made only for an entry the caller does not settle.
    let name: string | null = null;
    if (skip !== null) {
      name = text(f.b, f.name, f.nameEnd);
      if ((dir === '' ? name : dir + '/' + name).startsWith(skip)) return;
      skip = null;
    }
    // A file of another filesystem (a file bind-mounted into the tree) is a mount: never settled or catalogued as the root's.
    const otherDev = typeof dev === 'number' ? dev !== rootDevNum : dev !== rootDev;
    // So is any entry listed as a mount point: a file bind-mounted onto a file of this filesystem has its st_dev, but
    // shows the mounted inode (a second path to it, one link) and hides the one under it — as a mounted directory does.
    const listed = holdsMount && type !== 0x64 && opts.mountPoints.has(dirMountText + f.b.toString('utf8', f.name, f.nameEnd));
    if (type === 0x66 && settle !== undefined && absLen < PATH_MAX && !otherDev && !listed) {
      f.size = Number(size);
      if (settle(dir, f)) return;
    }
    name ??= text(f.b, f.name, f.nameEnd);
    // A path that is not plain UTF-8 is opened by its exact bytes.
    const relBytes = dir.includes('\uFFFD') || name.includes('\uFFFD') ? Buffer.from(f.b.subarray(q, f.nameEnd)) : null;
    // The directory's text with its slash is made once per directory: one concatenation per entry, not two.
    const rel = dir === '' ? name : dir === dirText ? dirSlash + name : dir + '/' + name;
    const abs: string | Buffer = relBytes === null ? rootPrefix + rel : Buffer.concat([rootBytes, Buffer.from('/'), relBytes]);
    if (absLen >= PATH_MAX) {
      batch.push({ kind: 'problem', rel, code: 'ENAMETOOLONG', message: `ENAMETOOLONG: name too long, lstat '${typeof abs === 'string' ? abs : abs.toString('utf8')}'`, isDir: false });
      skip = rel + '/';
      return;
    }
    if (listed) {
      batch.push({ kind: 'mount', rel, abs: typeof abs === 'string' ? abs : abs.toString('utf8') });
      return;
    }
    switch (type) {
      case 0x66: // f (not settled by the caller)
        if (otherDev) batch.push({ kind: 'mount', rel, abs: typeof abs === 'string' ? abs : abs.toString('utf8') });
        else batch.push({ kind: 'file', rel, abs, dev: rootDev, ino: BigInt(ino), size: Number(size), mtimeNs: f.nanos(), nlink });
        return;
      case 0x64: {
        // d
        const absText = typeof abs === 'string' ? abs : abs.toString('utf8');
        if (otherDev || opts.mountPoints.has(absText)) {
          batch.push({ kind: 'mount', rel, abs: absText });
          skip = rel + '/';
        } else lastDir = { rel, abs };
        return;
      }
      case 0x6c: // l
        batch.push({ kind: 'symlink', rel, abs });
        return;
      default:
        batch.push({ kind: 'special', rel });
    }
  };

  /** Path text of bytes [from, to) of `b`: latin1 when plain ASCII (the common case), else the catalog's text form. */
  const text = (b: Buffer, from: number, to: number): string => {
    for (let i = from; i < to; i++) if ((b[i] as number) >= 0x80) return bytesToPathText(b.subarray(from, to));
    return b.toString('latin1', from, to);
  };
  /** The directory part of the last record (its bytes and text): consecutive entries of one directory share it. */
  let dirBytes = Buffer.alloc(0);
  let dirText = '';
  let dirSlash = '/';

  /**
   * One record, bytes [p, end) of `f.b` (its NUL at `end`). A function of its own, called per record: the optimising
   * compiler compiles it once, where a loop over a chunk's records was compiled twice (on-stack replacement while the
   * first chunk ran, then again for the next chunks).
   */
  const record = (f: Fields, p: number, end: number): void => {
    const b = f.b;
    const type = b[p] as number;
    if (b[p + 1] !== SPACE) throw new FormatError('bad type');
    f.p = p + 2;
    const dev = f.uint();
    f.meta = f.p;
    const ino = f.uint();
    const size = f.uint();
    f.time();
    const nlink = f.uint();
    f.metaEnd = f.p - 1;
    const q = f.p;
    if (q > end) throw new FormatError('truncated record');
    const absLen = rootPrefixBytes + (end - q) + 1;
    if (records++ === 0) {
      // The root's own record: the tree find walks must be the directory this walk lstat'ed.
      if (end !== q || type !== 0x64) throw new FormatError('first record is not the root');
      if (BigInt(dev) !== rootDev || BigInt(ino) !== rootStat.ino) throw Object.assign(new Error(`scan root changed while the walk started: ${root}`), { code: 'ECHANGED' });
      lastDir = { rel: '', abs: root };
      return;
    }
    let slash = end - 1;
    while (slash >= q && b[slash] !== SLASH) slash--;
    const dirLen = slash >= q ? slash - q : 0;
    let same = dirLen === dirBytes.length;
    for (let i = dirLen - 1; same && i >= 0; i--) same = b[q + i] === dirBytes[i];
    if (!same) {
      dirBytes = Buffer.from(b.subarray(q, q + dirLen));
      dirText = text(b, q, q + dirLen);
      dirSlash = dirText + '/';
      if (parents.size > 0) {
        dirMountText = dirLen > 0 ? rootPrefix + b.toString('utf8', q, q + dirLen) + '/' : rootPrefix;
        holdsMount = parents.has(dirMountText);
      }
    }
    f.name = slash + 1;
    f.nameEnd = end;
    entry(f, q, dirText, absLen, type, dev, ino, Number(nlink), size);
  };

  /** Parse every whole record of `b`; returns the index of the first byte not consumed. */
  const parse = (b: Buffer): number => {
    let p = 0;
    const n = b.length;
    const f = new Fields(b);
    while (p < n) {
      const end = b.indexOf(0, p);
      if (end < 0) break;
      record(f, p, end);
      p = end + 1;
    }
    return p;
  };

  try {
    for await (const chunk of proc.output) {
      const b: Buffer = rest === null ? chunk : Buffer.concat([rest, chunk]);
      let used: number;
      try {
        used = parse(b);
      } catch (err) {
        if (err instanceof FormatError && records <= 1 && !yielded) return null;
        throw err;
      }
      rest = used < b.length ? b.subarray(used) : null;
      if (opts.signal?.aborted) return;
      while (batch.length >= batchSize) {
        yielded = true;
        yield batch.splice(0, batchSize);
        if (opts.signal?.aborted) return;
      }
    }
    const { code, signal, spawnError } = await proc.exited;
    const stderr = proc.stderr();
    if (spawnError !== null || records === 0) return null;
    if (rest !== null) throw new Error(`find ended inside a record under ${root}`);
    if (lastDir !== null) childless.push(lastDir);
    if (signal !== null || (code !== 0 && code !== 1)) throw new Error(`find failed under ${root} (${signal ?? `exit ${code}`}): ${stderr.trim()}`);
    if (code === 1 || stderr !== '') {
      // Which directories find could not read: a childless one that cannot be listed now (or lists entries find
      // did not print) is reported; its subtree is the caller's to keep.
      for (const d of childless) {
        let names: unknown[];
        try {
          names = readdirSync(d.abs);
        } catch (err) {
          if (d.rel === '') throw err;
          batch.push({ kind: 'problem', rel: d.rel, code: errnoCode(err) ?? 'EIO', message: (err as Error).message, isDir: true });
          continue;
        }
        if (names.length > 0) batch.push({ kind: 'problem', rel: d.rel, code: 'EWALK', message: `find could not read this directory: ${stderr.trim().split('\n')[0] ?? ''}`, isDir: true });
      }
      batch.push({ kind: 'incomplete', message: stderr.trim() || `find exited with status ${code}` });
    }
    if (batch.length) yield batch;
    done = true;
  } finally {
    if (!done) await proc.stop();
  }
  return undefined;
}
