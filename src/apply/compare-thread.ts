// The byte compare of two small files (the dedupe check before a link) on a worker thread, so the main thread goes on swapping, journaling and recording while the next pairs are compared.
// The compare itself is compareSmall, one function run by the worker from its source text: both files opened without
// following a symlink or waiting on a FIFO, read at most `size` bytes each with synchronous reads (no thread-pool
// round trip per read), stopped at the first difference, and both descriptors' status read after the compare — the
// caller (fs-port.ts sameBytes) turns that into the same answer as before: the two FsStats, or null.
import { Worker } from 'node:worker_threads';

/** What compareSmall answers for equal files: each file's status on its descriptor after the compare (dev, ino, size, mtimeNs, mode, uid, gid, nlink). */
export type PackedStat = [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];

/** The node:fs calls compareSmall makes (the worker passes node:fs itself). */
export interface CompareFs {
  openSync(p: string | Uint8Array, flags: number): number;
  readSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  fstatSync(fd: number, opts: { bigint: true }): { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; mode: bigint; uid: bigint; gid: bigint; nlink: bigint };
  closeSync(fd: number): void;
}

/**
 * Whether `a` and `b` hold exactly `size` bytes each, the same bytes, and are the inodes `inoA` and `inoB` (read on the
 * descriptors compared, after the compare: a file swapped in for the compare and back is not the one compared; a file
 * that grew or shrank during it differs). Returns both statuses when all of that holds, else null; an open or read
 * error other than "not a file that can be read at an offset" (a FIFO swapped in) is thrown. `buffers(n)` lends two
 * buffers of at least n bytes (kept from one compare to the next). Self-contained (no closure, no import): the worker
 * runs this very function from its source text.
 */
export function compareSmall(
  fs: CompareFs,
  flags: number,
  a: string | Uint8Array,
  b: string | Uint8Array,
  inoA: number,
  inoB: number,
  size: number,
  buffers: (n: number) => [Uint8Array, Uint8Array],
): [PackedStat, PackedStat] | null {
  const fa = fs.openSync(a, flags);
  try {
    const fb = fs.openSync(b, flags);
    try {
      const [ba, bb] = buffers(size + 1);
      const len = Math.min(ba.length, bb.length);
      // Read up to that size (no read just to meet the end); the end is proven on the descriptors below.
      let pos = 0;
      try {
        while (pos < size) {
          const ra = fs.readSync(fa, ba, 0, len, pos);
          const rb = fs.readSync(fb, bb, 0, len, pos);
          if (ra !== rb) return null;
          if (ra === 0) break; // both ended early (shrunk): the sizes below differ from the bytes compared
          if (Buffer.compare(ba.subarray(0, ra), bb.subarray(0, rb)) !== 0) return null;
          pos += ra;
        }
      } catch (err) {
        // A path swapped for a FIFO (opened without waiting) cannot be read at an offset: not the file planned.
        const code = (err as { code?: unknown }).code;
        if (code === 'ESPIPE' || code === 'EAGAIN') return null;
        throw err;
      }
      const sa = fs.fstatSync(fa, { bigint: true });
      const sb = fs.fstatSync(fb, { bigint: true });
      if (sa.size !== BigInt(pos) || sb.size !== BigInt(pos)) return null;
      if (sa.ino !== BigInt(inoA) || sb.ino !== BigInt(inoB)) return null;
      const pack = (s: typeof sa): PackedStat => [s.dev, s.ino, s.size, s.mtimeNs, s.mode, s.uid, s.gid, s.nlink];
      return [pack(sa), pack(sb)];
    } finally {
      fs.closeSync(fb);
    }
  } finally {
    fs.closeSync(fa);
  }
}

/** One compare asked of the thread: [id, a, b, inoA, inoB, size]. */
type Job = [number, string | Uint8Array, string | Uint8Array, number, number, number];
/** Its answer: [id, 0, stats | null] or [id, 1, message, code, errno, syscall]. The thread answers a message's jobs in one message. */
type Answer = [number, 0, [PackedStat, PackedStat] | null] | [number, 1, string, string | undefined, number | undefined, string | undefined];

/**
 * At most this many compares go to the thread in one message (and come back in one). Each message costs the main thread
 * ~20 µs to send and as much to receive, and wakes the thread: a dedupe batch asked its compares group by group, one
 * message each way per pair (~4,000 for the bench's 2,000 pairs). A message of 32 small compares is answered within a
 * few ms, while the main thread still checks and journals the groups after them.
 */
export const COMPARES_PER_MESSAGE = 32;
/** ...and at most about this many bytes of compares (sum of their sizes): a message's answers wait for its last compare. */
const BYTES_PER_MESSAGE = 4 << 20;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const compareSmall = ${compareSmall.toString()};
let pair = null;
const buffers = (n) => {
  if (!pair || pair[0].length < n) pair = [Buffer.allocUnsafe(n), Buffer.allocUnsafe(n)];
  return pair;
};
parentPort.on('message', (jobs) => {
  const answers = [];
  for (const [id, a, b, inoA, inoB, size] of jobs) {
    try {
      answers.push([id, 0, compareSmall(fs, workerData.flags, a, b, inoA, inoB, size, buffers)]);
    } catch (err) {
      answers.push([id, 1, String(err && err.message), err && err.code, err && err.errno, err && err.syscall]);
    }
  }
  parentPort.postMessage(answers);
});
`;

/**
 * A compare thread: started on first use (or by start), ended by stop, and holding the process open only while a
 * compare is pending. Compares go to it COMPARES_PER_MESSAGE (or BYTES_PER_MESSAGE) to a message, the rest asked in the same turn of the event
 * loop in one more message once that turn ends (setImmediate: before the loop waits for anything, so a caller awaiting
 * a compare never waits on one still queued here); they are answered in order, a message's all at once.
 */
export interface CompareThread {
  /** Start the thread now (its start-up, ~50–200 ms of another core, then overlaps what the caller does before its first compare). */
  start(): void;
  compare(a: string | Uint8Array, b: string | Uint8Array, inoA: number, inoB: number, size: number): Promise<[PackedStat, PackedStat] | null>;
  /** End the thread, if one runs (resolves once it has exited): a compare still waiting fails; one asked later starts a new thread. */
  stop(): Promise<void>;
}

export function compareThread(flags: number): CompareThread {
  let worker: Worker | null = null;
  const pending = new Map<number, { resolve: (r: [PackedStat, PackedStat] | null) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let queue: Job[] = [];
  let queuedBytes = 0;
  let flushLater: NodeJS.Immediate | null = null;
  const flush = (): void => {
    if (flushLater) clearImmediate(flushLater);
    flushLater = null;
    const jobs = queue;
    queue = [];
    queuedBytes = 0;
    if (jobs.length) worker?.postMessage(jobs);
  };
  const fail = (err: Error): void => {
    // A dead compare thread fails every compare waiting on it (never an answer it did not give); the next one asked starts a new thread.
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    queue = [];
    queuedBytes = 0;
    worker = null;
  };
  const spawn = (): Worker => {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { flags } });
    w.on('message', (answers: Answer[]) => {
      for (const m of answers) {
        const p = pending.get(m[0]);
        if (!p) continue;
        pending.delete(m[0]);
        if (m[1] === 0) p.resolve(m[2]);
        else p.reject(Object.assign(new Error(m[2]), { code: m[3], errno: m[4], syscall: m[5] }));
      }
      if (pending.size === 0) w.unref();
    });
    w.on('error', (err) => fail(err));
    w.on('exit', (code) => {
      if (worker === w) fail(new Error(`the compare thread ended (exit code ${code})`));
    });
    // Held only while a compare is pending. After the listeners: attaching a 'message' listener refs the thread again
    // (an unref before it left a thread started ahead, and never asked, holding the process open after its run).
    w.unref();
    return w;
  };
  return {
    start() {
      worker ??= spawn();
    },
    async stop() {
      const w = worker;
      if (!w) return;
      if (flushLater) clearImmediate(flushLater);
      flushLater = null;
      fail(new Error('the compare thread was stopped'));
      await w.terminate();
    },
    compare(a, b, inoA, inoB, size) {
      worker ??= spawn();
      const w = worker;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        if (pending.size === 0) w.ref();
        pending.set(id, { resolve, reject });
        queue.push([id, a, b, inoA, inoB, size]);
        queuedBytes += size;
        if (queue.length >= COMPARES_PER_MESSAGE || queuedBytes >= BYTES_PER_MESSAGE) flush();
        else flushLater ??= setImmediate(flush);
      });
    },
  };
}
