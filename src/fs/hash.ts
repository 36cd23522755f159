// File hashing in a worker_threads pool: full streaming SHA-256 with large reads, the sampled quick hash, and a same-size twin compared byte for byte (hashed once when equal).
import { Worker } from 'node:worker_threads';

/** Bytes per sampled block of the quick hash. */
export const QUICK_BLOCK = 65536;

/**
 * Quick hash (format v2; catalog migration 013 moved recorded v1 values to it):
 *   size <= 3 × 64 KiB: the hex SHA-256 of the whole content — the file's full SHA-256, so a small file is hashed
 *   once for both (v1 hashed it a second time behind a header);
 *   larger: as in v1, hex SHA-256 over the ASCII text `hashall-quick-v1\n<size in decimal>\n` and three 64 KiB
 *   blocks at offsets 0, floor((size - 64 KiB) / 2) and size - 64 KiB.
 * It only nominates candidates; decisions use the full SHA-256.
 *
 * The worker checks the opened file against the walk's device, inode, size and mtime when given, and again after
 * reading (size, mtime, byte count): another file at the path, or one that changed while being read, yields
 * `changed: true` and no hashes. A small file with the walk's record is checked once, after reading, against that
 * record (see hashSmallWalked).
 */
const WORKER_SOURCE = String.raw`
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const QUICK = ${QUICK_BLOCK};
const CHUNK = 4 * 1024 * 1024;
let buf = Buffer.allocUnsafe(CHUNK);
// The twin's bytes (see hashWithTwin), allocated on the first twin.
let twinBuf = null;
// One-shot SHA-256 (crypto.hash, Node 20.12+): no Hash object and stream set up per file — a small file costs ~4 µs
// less; the streaming API where it is missing. Same digest either way.
const sha256Hex = typeof crypto.hash === 'function' ? (b) => crypto.hash('sha256', b, 'hex') : (b) => crypto.createHash('sha256').update(b).digest('hex');
function readAt(fd, len, pos) {
  let got = 0;
  while (got < len) {
    const n = fs.readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
// An I/O error as a job's answer, with the bytes read before it.
function errnoAnswer(e, bytesRead) {
  return { error: { code: e.code || 'EIO', message: e.message }, bytesRead };
}
// Opens job.path for reading, never following a symlink at its end: { fd }, or { res } with the answer when it cannot be
// opened. O_NONBLOCK: a path replaced by a FIFO since the walk must not block the worker (no effect on regular files).
function openJob(job) {
  const p = typeof job.path === 'string' ? job.path : Buffer.from(job.path);
  try {
    return { fd: fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK) };
  } catch (e) {
    return { res: errnoAnswer(e, 0) };
  }
}
// Opens job.path and checks it against the walk (regular file, size, mtime, device, inode): { fd, st, size }, or
// { res } with the answer when it cannot be read as walked.
function openChecked(job) {
  const opened = openJob(job);
  if (opened.res) return opened;
  const fd = opened.fd;
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    let res = null;
    if (!st.isFile()) res = { error: { code: 'ENOTREG', message: 'not a regular file' }, bytesRead: 0 };
    else if (
      (job.size !== undefined && job.size !== Number(st.size)) ||
      (job.mtimeNs !== undefined && st.mtimeNs !== job.mtimeNs) ||
      (job.ino !== undefined && (st.ino !== job.ino || (job.dev !== undefined && st.dev !== job.dev)))
    ) {
      res = { changed: true, bytesRead: 0 };
    }
    if (res === null) return { fd, st, size: Number(st.size) };
    fs.closeSync(fd);
    return { res };
  } catch (e) {
    fs.closeSync(fd);
    return { res: errnoAnswer(e, 0) };
  }
}
// Whether the file behind fd still has the size and mtime it had when opened.
function unchangedSince(fd, st) {
  const after = fs.fstatSync(fd, { bigint: true });
  return after.size === st.size && after.mtimeNs === st.mtimeNs;
}
// The three sampled blocks of a file asked both hashes, taken from its full read (allocated on the first such file).
let sampleBuf = null;
// Copies the parts of data (the bytes at file offset pos) that fall in the quick hash's blocks into sampleBuf.
function sampleInto(data, pos, size) {
  const offs = [0, Math.floor((size - QUICK) / 2), size - QUICK];
  for (let i = 0; i < 3; i++) {
    const a = Math.max(offs[i], pos);
    const b = Math.min(offs[i] + QUICK, pos + data.length);
    if (a < b) data.copy(sampleBuf, i * QUICK + (a - offs[i]), a - pos, b - pos);
  }
}
// A twin's bytes read at the same offsets as the primary's: equal so far while tw.same holds.
function compareTwin(tw, data, pos) {
  if (!tw.same) return;
  if (twinBuf === null || twinBuf.length < data.length) twinBuf = Buffer.allocUnsafe(CHUNK);
  let got = 0;
  try {
    while (got < data.length) {
      const n = fs.readSync(tw.fd, twinBuf, got, data.length - got, pos + got);
      if (n === 0) break;
      got += n;
    }
  } catch {
    tw.same = false; // the twin is read again on its own, which reports the error
  }
  tw.bytesRead += got;
  if (got !== data.length || !twinBuf.subarray(0, got).equals(data)) tw.same = false;
}
// The hashes of an opened, checked file; with tw (an opened twin of the same size), every byte read is compared with
// the twin's at the same offset, so that equal files are hashed once.
function hashOpen(job, o, tw) {
  const fd = o.fd;
  const size = o.size;
  let quick = null, full = null, bytesRead = 0;
  // A small file is read and hashed once: its content's SHA-256 is both its quick hash and its full hash.
  const small = size <= 3 * QUICK;
  if (small && (job.quick || job.full)) {
    const n = readAt(fd, size, 0); bytesRead += n;
    // A file that grew or shrank since is caught here or by the fstat after reading.
    if (n !== size) return { changed: true, bytesRead };
    if (tw) compareTwin(tw, buf.subarray(0, n), 0);
    const digest = sha256Hex(buf.subarray(0, n));
    if (job.quick) quick = digest;
    if (job.full) full = digest;
  } else {
    // Asked both, the blocks come from the full read below (the same bytes, each read once).
    const sampled = job.quick && job.full;
    if (job.quick && !sampled) {
      const q = crypto.createHash('sha256');
      q.update('hashall-quick-v1\n' + size + '\n');
      for (const off of [0, Math.floor((size - QUICK) / 2), size - QUICK]) {
        const n = readAt(fd, QUICK, off); bytesRead += n;
        if (n !== QUICK) return { changed: true, bytesRead };
        q.update(buf.subarray(0, n));
      }
      quick = q.digest('hex');
    }
    if (job.full) {
      const h = crypto.createHash('sha256');
      if (sampled && sampleBuf === null) sampleBuf = Buffer.allocUnsafe(3 * QUICK);
      let pos = 0;
      for (;;) {
        const n = fs.readSync(fd, buf, 0, CHUNK, pos);
        if (n === 0) break;
        if (tw) compareTwin(tw, buf.subarray(0, n), pos);
        if (sampled && pos + n <= size) sampleInto(buf.subarray(0, n), pos, size);
        h.update(buf.subarray(0, n));
        pos += n;
      }
      bytesRead += pos;
      if (pos !== size) return { changed: true, bytesRead };
      full = h.digest('hex');
      if (sampled) {
        const q = crypto.createHash('sha256');
        q.update('hashall-quick-v1\n' + size + '\n');
        q.update(sampleBuf);
        quick = q.digest('hex');
      }
    } else if (tw) tw.same = false; // quick only: the sampled blocks say nothing of the rest
  }
  if (!unchangedSince(fd, o.st)) return { changed: true, bytesRead };
  return { quickHash: quick, sha256: full, bytesRead };
}
// A small file the walk saw (its size, mtime and inode given) is read before its one fstat: the bytes count only if
// that fstat, on the descriptor they were read from, shows a regular file with the walk's device, inode, size and
// mtime — the file the walk saw, unchanged since (an edit moves the mtime) — and exactly its size was read. One fstat
// instead of two (before and after reading) per file. A larger file is still checked before it is read, so that
// another file at the path is never read at length; at most 3 × 64 KiB are read here before the check.
function hashSmallWalked(job) {
  const opened = openJob(job);
  if (opened.res) return opened.res;
  const fd = opened.fd;
  try {
    let n = 0;
    let failed = null;
    try {
      n = readAt(fd, job.size, 0);
    } catch (e) {
      failed = e;
    }
    const st = fs.fstatSync(fd, { bigint: true });
    if (!st.isFile()) return { error: { code: 'ENOTREG', message: 'not a regular file' }, bytesRead: 0 };
    if (job.size !== Number(st.size) || st.mtimeNs !== job.mtimeNs || st.ino !== job.ino || (job.dev !== undefined && st.dev !== job.dev)) return { changed: true, bytesRead: n };
    if (failed !== null) return errnoAnswer(failed, n);
    if (n !== job.size) return { changed: true, bytesRead: n };
    const digest = sha256Hex(buf.subarray(0, n));
    return { quickHash: job.quick ? digest : null, sha256: job.full ? digest : null, bytesRead: n };
  } catch (e) {
    return errnoAnswer(e, 0);
  } finally {
    fs.closeSync(fd);
  }
}
function hashOne(job) {
  if ((job.quick || job.full) && job.size !== undefined && job.size <= 3 * QUICK && job.mtimeNs !== undefined && job.ino !== undefined) return hashSmallWalked(job);
  const o = openChecked(job);
  if (o.res) return o.res;
  try {
    return hashOpen(job, o, null);
  } catch (e) {
    return errnoAnswer(e, 0);
  } finally {
    fs.closeSync(o.fd);
  }
}
// A file and its twin (job.twin: another file of the same size, asked the same hashes): read side by side, the twin's
// bytes compared with the file's. When they are all equal (same length, both unchanged since opened) the twin's
// hashes are the file's — the same bytes hashed — at the cost of a compare instead of a second SHA-256; otherwise the
// twin is hashed on its own, as without a twin.
function hashWithTwin(job) {
  const t = job.twin;
  if (t.quick !== job.quick || t.full !== job.full) return Object.assign(hashOne(job), { twin: hashOne(t) });
  const o = openChecked(job);
  if (o.res) return Object.assign(o.res, { twin: hashOne(t) });
  let res;
  let twin = null;
  try {
    const to = openChecked(t);
    if (to.res) {
      twin = to.res;
      res = hashOpen(job, o, null);
    } else {
      const tw = { fd: to.fd, same: to.size === o.size, bytesRead: 0 };
      try {
        res = hashOpen(job, o, tw);
        if (tw.same && !res.changed && unchangedSince(to.fd, to.st)) twin = { quickHash: res.quickHash, sha256: res.sha256, bytesRead: tw.bytesRead };
      } finally {
        fs.closeSync(to.fd);
      }
    }
  } catch (e) {
    res = errnoAnswer(e, 0);
  } finally {
    fs.closeSync(o.fd);
  }
  return Object.assign(res, { twin: twin || hashOne(t) });
}
// A batch comes packed (see HashPool.post) and its answers go back packed (see unpack): per job a status byte (1: a
// quick hash, 2: a full hash, in this order in hex; 0: the answer is in extra), the bytes read, and the hex digests
// of all jobs concatenated — one string and two typed arrays instead of an object and two strings per file.
parentPort.on('message', (msg) => {
  const n = msg.flags.length;
  const paths = msg.paths.split('\0');
  const raw = msg.raw === null ? null : new Map(msg.raw);
  const twins = msg.twins === null ? null : new Map(msg.twins);
  const hex = [];
  const status = new Uint8Array(n);
  const bytes = new Float64Array(n);
  const extra = [];
  for (let i = 0; i < n; i++) {
    const f = msg.flags[i];
    const job = {
      path: raw !== null && raw.has(i) ? raw.get(i) : paths[i],
      quick: (f & 1) !== 0,
      full: (f & 2) !== 0,
      size: (f & 4) !== 0 ? msg.size[i] : undefined,
      mtimeNs: (f & 8) !== 0 ? msg.mtimeNs[i] : undefined,
      ino: (f & 16) !== 0 ? msg.ino[i] : undefined,
      dev: (f & 32) !== 0 ? msg.dev[i] : undefined,
      twin: twins !== null ? twins.get(i) : undefined,
    };
    const res = job.twin ? hashWithTwin(job) : hashOne(job);
    bytes[i] = res.bytesRead;
    if (res.error !== undefined || res.changed !== undefined || res.twin !== undefined) {
      extra.push([i, res]);
      continue;
    }
    if (res.quickHash) {
      status[i] |= 1;
      hex.push(res.quickHash);
    }
    if (res.sha256) {
      status[i] |= 2;
      hex.push(res.sha256);
    }
    if (status[i] === 0) extra.push([i, res]);
  }
  parentPort.postMessage({ id: msg.id, hex: hex.join(''), status, bytes, extra }, [status.buffer, bytes.buffer]);
});
`;

export interface HashJob {
  /** Absolute path (bytes for names that are not plain UTF-8). */
  path: string | Buffer;
  quick: boolean;
  full: boolean;
  /** Expected size and mtime (from the walk): a mismatch yields `changed`. */
  size?: number;
  mtimeNs?: bigint;
  /** Expected inode (and device, when known: from the walk): another file at the path since yields `changed`. */
  dev?: bigint;
  ino?: bigint;
  /**
   * Another file of the same size, asked the same hashes, that may hold the same bytes (a size two inodes share): read
   * alongside this one and compared byte for byte. All equal: its hashes are this file's (one SHA-256 for both); else
   * it is hashed on its own. Its answer is the result's `twin`.
   */
  twin?: Omit<HashJob, 'twin'>;
}

export interface HashResult {
  quickHash?: string | null;
  sha256?: string | null;
  bytesRead: number;
  /** The file changed between stat and read, or while being read. */
  changed?: boolean;
  error?: { code: string; message: string };
  /** The answer for the job's twin. */
  twin?: HashResult;
}

/** Bytes a job reads, as far as known before reading (`unknown` when a full read's size was not given). */
function readCost(job: Omit<HashJob, 'twin'>, unknown: number): number {
  return job.full ? (job.size ?? unknown) : 3 * QUICK_BLOCK;
}

/** A twin as the worker reads it (structured clone: bigints stay bigints). */
function twinMessage(job: Omit<HashJob, 'twin'>): object {
  return {
    path: job.path,
    quick: job.quick,
    full: job.full,
    size: job.size,
    mtimeNs: job.mtimeNs,
    ...(job.ino === undefined ? {} : { ino: job.ino, ...(job.dev === undefined ? {} : { dev: job.dev }) }),
  };
}

/** A batch as posted to a worker: each field per job, in order (see the worker's message handler). */
interface Packed {
  id: number;
  /** Path texts joined by NUL (no path holds one); '' where the path is raw bytes. */
  paths: string;
  /** Paths that are raw bytes, by job index; null when none. */
  raw: [number, Buffer][] | null;
  /** 1 quick, 2 full, 4 size given, 8 mtimeNs given, 16 ino given, 32 dev given. */
  flags: Uint8Array;
  size: Float64Array;
  mtimeNs: BigInt64Array;
  ino: BigUint64Array;
  dev: BigUint64Array;
  twins: [number, object][] | null;
}

function pack(id: number, jobs: HashJob[]): { msg: Packed; transfer: ArrayBuffer[] } {
  const n = jobs.length;
  const names: string[] = new Array<string>(n);
  const flags = new Uint8Array(n);
  const size = new Float64Array(n);
  const mtimeNs = new BigInt64Array(n);
  const ino = new BigUint64Array(n);
  const dev = new BigUint64Array(n);
  let raw: [number, Buffer][] | null = null;
  let twins: [number, object][] | null = null;
  for (let i = 0; i < n; i++) {
    const j = jobs[i] as HashJob;
    if (typeof j.path === 'string') names[i] = j.path;
    else {
      names[i] = '';
      (raw ??= []).push([i, j.path]);
    }
    let f = (j.quick ? 1 : 0) | (j.full ? 2 : 0);
    if (j.size !== undefined) {
      f |= 4;
      size[i] = j.size;
    }
    if (j.mtimeNs !== undefined) {
      f |= 8;
      mtimeNs[i] = j.mtimeNs;
    }
    if (j.ino !== undefined) {
      f |= 16;
      ino[i] = j.ino;
      if (j.dev !== undefined) {
        f |= 32;
        dev[i] = j.dev;
      }
    }
    flags[i] = f;
    if (j.twin) (twins ??= []).push([i, twinMessage(j.twin)]);
  }
  return {
    msg: { id, paths: names.join('\0'), raw, flags, size, mtimeNs, ino, dev, twins },
    transfer: [flags.buffer, size.buffer, mtimeNs.buffer, ino.buffer, dev.buffer],
  };
}

/** A worker's packed answers (see its message handler), one HashResult per job in order. */
interface PackedAnswers {
  hex: string;
  status: Uint8Array;
  bytes: Float64Array;
  extra: [number, HashResult][];
}

function unpack(a: PackedAnswers, n: number): HashResult[] {
  const out = new Array<HashResult>(n);
  for (const [i, r] of a.extra) out[i] = r;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const st = a.status[i] as number;
    if (st === 0) continue;
    let quickHash: string | null = null;
    let sha256: string | null = null;
    if ((st & 1) !== 0) {
      quickHash = a.hex.slice(at, at + 64);
      at += 64;
    }
    if ((st & 2) !== 0) {
      sha256 = a.hex.slice(at, at + 64);
      at += 64;
    }
    out[i] = { quickHash, sha256, bytesRead: a.bytes[i] as number };
  }
  return out;
}

interface Pending {
  job: HashJob;
  resolve: (r: HashResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Batches posted and not yet answered, oldest first (a worker answers in order), with the bytes each will read. */
  busy: { jobs: Pending[]; bytes: number }[];
  /** Files and bytes of those batches. */
  files: number;
  bytes: number;
}

/**
 * Work posted ahead to each worker: enough that it never waits for the calling thread, which may be busy for a
 * while (a catalog write of thousands of rows), yet little enough that the workers finish together at the end.
 */
const AHEAD_BYTES = 128 * 1024 * 1024;
const AHEAD_FILES = 4096;
/** Batches posted ahead (a batch is small only while the queue is short): bounds the messages. */
const AHEAD_BATCHES = 16;

/**
 * A fixed pool of hashing threads, started on the first job (a rescan that hashes nothing starts none); jobs are
 * batched (many small files per message). Always `close()` it.
 */
export class HashPool {
  private readonly slots: Slot[] = [];
  /** Jobs not yet posted, from `head` on. */
  private queue: Pending[] = [];
  private head = 0;
  /** A pump is queued for when the caller's synchronous run of submissions ends. */
  private pumpQueued = false;
  private nextId = 1;
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly workers: number;
  private readonly batchFiles: number;
  private readonly batchBytes: number;

  constructor(opts: { workers?: number; batchFiles?: number; batchBytes?: number } = {}) {
    this.workers = Math.max(1, opts.workers ?? 2);
    this.batchFiles = opts.batchFiles ?? 256;
    this.batchBytes = opts.batchBytes ?? 32 * 1024 * 1024;
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    const slot: Slot = { worker, busy: [], files: 0, bytes: 0 };
    worker.on('message', (msg: PackedAnswers) => {
      const done = slot.busy.shift() ?? { jobs: [], bytes: 0 };
      slot.files -= done.jobs.length;
      slot.bytes -= done.bytes;
      const results = unpack(msg, done.jobs.length);
      done.jobs.forEach((p, i) => p.resolve(results[i] ?? { bytesRead: 0, error: { code: 'EIO', message: 'no result from hash worker' } }));
      this.pump();
    });
    worker.on('error', (err) => {
      const done = slot.busy.splice(0).flatMap((b) => b.jobs);
      for (const p of done) p.reject(err);
      // Replace the dead worker so the remaining queue still drains.
      const idx = this.slots.indexOf(slot);
      if (idx >= 0 && !this.closed) {
        this.slots[idx] = this.spawn();
        this.pump();
      }
    });
    return slot;
  }

  /** Number of jobs queued or running. */
  get pending(): number {
    return this.queue.length - this.head + this.slots.reduce((n, s) => n + s.files, 0);
  }

  /**
   * Start the hashing threads now if they are not running (no job yet): a caller that will likely hash soon lets them
   * boot (~30–50 ms of a thread each) while it does other work, instead of on the first job.
   */
  warm(): void {
    if (!this.closed && this.slots.length === 0) for (let i = 0; i < this.workers; i++) this.slots.push(this.spawn());
  }

  hash(job: HashJob): Promise<HashResult> {
    if (this.closed) return Promise.reject(new Error('hash pool is closed'));
    this.warm();
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      // Jobs submitted in one synchronous run (a walked batch) go out together: one message per batch of files, not
      // one per file while the workers keep up (200k small files: 200k messages, most of the hashing threads' time).
      if (!this.pumpQueued) {
        this.pumpQueued = true;
        queueMicrotask(() => {
          this.pumpQueued = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    if (this.closed) return;
    // One batch at a time to the worker with the least work ahead, while one is below both limits: spreads the work evenly.
    while (this.head < this.queue.length) {
      let slot: Slot | undefined;
      for (const s of this.slots) if (s.bytes < AHEAD_BYTES && s.files < AHEAD_FILES && s.busy.length < AHEAD_BATCHES && (slot === undefined || s.bytes < slot.bytes)) slot = s;
      if (slot === undefined) break;
      const batch: Pending[] = [];
      let bytes = 0;
      while (this.head < this.queue.length && batch.length < this.batchFiles && (batch.length === 0 || bytes < this.batchBytes)) {
        const p = this.queue[this.head++] as Pending;
        batch.push(p);
        bytes += readCost(p.job, this.batchBytes) + (p.job.twin ? readCost(p.job.twin, this.batchBytes) : 0);
      }
      if (this.head > 4096 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      slot.busy.push({ jobs: batch, bytes });
      slot.files += batch.length;
      slot.bytes += bytes;
      const { msg, transfer } = pack(
        this.nextId++,
        batch.map((p) => p.job),
      );
      slot.worker.postMessage(msg, transfer);
    }
  }

  /** Ends the threads (jobs not started are rejected); resolves when they are gone. Calling it again waits for the same end. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closed = true;
    for (const p of this.queue.splice(0).slice(this.head)) p.reject(new Error('hash pool closed'));
    this.head = 0;
    this.closing = Promise.all(this.slots.map((s) => s.worker.terminate())).then(() => undefined);
    return this.closing;
  }
}
