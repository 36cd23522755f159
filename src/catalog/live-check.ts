// The live check of many catalog files at once: lstat on worker threads while the snapshot reader goes on, reporting only the files whose disk state is not their row's.
//
// What it answers is exactly what liveInode (consumers.ts) would, file by file: for each submitted file either nothing
// (same inode, size and mtime as its row, and no more links than its row counts: the live check can change no verdict)
// or the disk's inode, link count, size and mtime, or the errno code of a failed lstat. A submission whose answer does
// not come (a worker that died or hangs) is checked on the calling thread instead, so the answer never depends on
// the workers. The reader stays synchronous: it waits on a shared counter and takes answers with receiveMessageOnPort.
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { CatalogFile } from '../domain/snapshot.js';
import { fsPathArg } from '../fs/path-encoding.js';
import { liveInode, type LiveInode } from './consumers.js';

export type LiveAnswer = LiveInode | { code: string };

// A message carries a batch of submissions in four pieces, cheap to pass: `text` joins each file's path and mtime
// (nanoseconds, decimal) with NUL — no path can hold a NUL, and the worker checks the count — `nums` holds each file's
// inode, size and link count (transferred, not copied), `raw` lists [file index, bytes] for the paths whose name is not
// UTF-8 (checked by those exact bytes, never a string round trip). The answer per submission: [file index in the
// message, code] or [file index, ino, nlink, size, mtimeNs] for each file that differs, or null when the message could not be read
// (the calling thread then checks that submission itself).
const WORKER_SOURCE = String.raw`
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { port, signal } = workerData;
port.on('message', (job) => {
  const { ids, counts, nums, raw } = job;
  const parts = job.text.split('\0');
  let files = 0;
  for (let s = 0; s < counts.length; s++) files += counts[s];
  const out = [];
  if (parts.length !== 2 * files + 1 || nums.length !== 3 * files) {
    for (let s = 0; s < ids.length; s++) out.push(ids[s], null);
  } else {
    let k = 0;
    let r = 0;
    for (let s = 0; s < ids.length; s++) {
      const found = [];
      for (let end = k + counts[s]; k < end; k++) {
        let p = parts[2 * k];
        if (r < raw.length && raw[r] === k) {
          p = Buffer.from(raw[r + 1]);
          r += 2;
        }
        let st;
        try {
          st = fs.lstatSync(p, { bigint: true, throwIfNoEntry: false });
        } catch (e) {
          found.push(k, e.code || 'EIO');
          continue;
        }
        if (st === undefined) {
          found.push(k, 'ENOENT');
          continue;
        }
        const ino = Number(st.ino), nlink = Number(st.nlink), size = Number(st.size), mtimeNs = String(st.mtimeNs);
        if (ino === nums[3 * k] && size === nums[3 * k + 1] && mtimeNs === parts[2 * k + 1] && nlink <= nums[3 * k + 2]) continue;
        found.push(k, ino, nlink, size, mtimeNs);
      }
      out.push(ids[s], found);
    }
  }
  port.postMessage(out);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
});
`;

/** The submissions not yet sent, gathered into one message. */
interface Batch {
  ids: number[];
  counts: number[];
  /** Each file's path then mtime (a raw path's slot is empty): joined with NUL when sent. */
  text: string[];
  /** Inode, size, link count per file. */
  nums: Float64Array;
  /** File index in the batch, then the path's bytes, for paths that are not UTF-8 text. */
  raw: (number | Buffer)[];
  files: number;
}

/** Files per message to a worker (a payload is one submission; small ones travel together). `take` sends a batch holding its handle at once. */
const BATCH_FILES = 1024;
/** How long `take` waits without any answer before checking the submission, and every later one, itself. */
const STALL_MS = 30_000;

export interface LiveCheckPool {
  /** Queue files for checking; the handle names them for `take`. */
  submit(files: readonly CatalogFile[]): number;
  /** The answer for each file of the submission whose disk state differs from its row (by the very file objects submitted); waits for it. */
  take(handle: number, files: readonly CatalogFile[]): Map<CatalogFile, LiveAnswer>;
  /** Stop the workers (the pool is unusable after). */
  close(): void;
}

/** What liveInode finds for each file that differs from its row (the calling thread's own check; the workers give the same). */
export function liveDifferences(files: readonly CatalogFile[]): Map<CatalogFile, LiveAnswer> {
  const out = new Map<CatalogFile, LiveAnswer>();
  for (const f of files) {
    const r = liveInode(f);
    if ('code' in r || r.ino !== f.ino || r.size !== f.size || r.mtimeNs !== f.mtimeNs || r.nlink > f.nlink) out.set(f, r);
  }
  return out;
}

/** A pool of `workers` threads (at least one) for one snapshot read; close it when the read ends. `opts` are for tests: a worker's code and the stall time. */
export function liveCheckPool(workers: number, opts: { source?: string; stallMs?: number } = {}): LiveCheckPool {
  const stallMs = opts.stallMs ?? STALL_MS;
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const threads: { worker: Worker; port: MessagePort; queued: number }[] = [];
  for (let i = 0; i < Math.max(1, workers); i++) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(opts.source ?? WORKER_SOURCE, { eval: true, workerData: { port: port2, signal }, transferList: [port2] });
    worker.unref();
    // A worker that fails leaves its submissions unanswered: take() then checks them itself.
    worker.on('error', () => undefined);
    threads.push({ worker, port: port1, queued: 0 });
  }
  // Per submission: the differences found ([file index, code] or [file index, ino, nlink, size, mtimeNs], flat), or
  // null for a message the worker could not read.
  const answers = new Map<number, unknown[] | null>();
  // Per submission not yet answered: its first file's index in its message.
  const firstOf = new Map<number, number>();
  const newBatch = (): Batch => ({ ids: [], counts: [], text: [], nums: new Float64Array(3 * BATCH_FILES), raw: [], files: 0 });
  let batch = newBatch();
  let next = 0;
  // Set once the workers stopped answering: every later submission is checked on the calling thread at once.
  let stalled = false;
  const flush = (): void => {
    if (batch.ids.length === 0) return;
    const t = threads.reduce((a, b) => (b.queued < a.queued ? b : a));
    t.queued += batch.files;
    const nums = batch.files * 3 === batch.nums.length ? batch.nums : batch.nums.slice(0, batch.files * 3);
    // A NUL after the last file too: the worker finds 2 parts per file and one empty tail.
    batch.text.push('');
    t.port.postMessage({ ids: batch.ids, counts: batch.counts, text: batch.text.join('\0'), nums, raw: batch.raw }, [nums.buffer as ArrayBuffer]);
    batch = newBatch();
  };
  const drain = (): void => {
    for (const t of threads) {
      for (let m = receiveMessageOnPort(t.port); m !== undefined; m = receiveMessageOnPort(t.port)) {
        const out = m.message as unknown[];
        for (let i = 0; i < out.length; i += 2) answers.set(out[i] as number, out[i + 1] as unknown[] | null);
      }
    }
  };
  return {
    submit(files) {
      const n = files.length;
      const id = next++;
      const b = batch;
      const first = b.files;
      if (3 * (first + n) > b.nums.length) {
        const grown = new Float64Array(Math.max(2 * b.nums.length, 3 * (first + n)));
        grown.set(b.nums);
        b.nums = grown;
      }
      const { nums, text, raw } = b;
      for (let i = 0; i < n; i++) {
        const f = files[i]!;
        const k = first + i;
        const p = fsPathArg(f.path);
        if (typeof p === 'string') text.push(p, f.mtimeNs);
        else {
          text.push('', f.mtimeNs);
          raw.push(k, p);
        }
        nums[3 * k] = f.ino;
        nums[3 * k + 1] = f.size;
        nums[3 * k + 2] = f.nlink;
      }
      b.ids.push(id);
      b.counts.push(n);
      b.files += n;
      firstOf.set(id, first);
      if (b.files >= BATCH_FILES) flush();
      return id;
    },
    take(handle, files) {
      // Ids grow: the handle is in the batch not yet sent when it is at least the batch's first.
      if (batch.ids.length > 0 && handle >= batch.ids[0]!) flush();
      let waited = 0;
      for (;;) {
        const seen = Atomics.load(signal, 0);
        drain();
        const found = answers.get(handle);
        if (found !== undefined) {
          const first = firstOf.get(handle)!;
          answers.delete(handle);
          firstOf.delete(handle);
          if (found === null) return liveDifferences(files);
          const out = new Map<CatalogFile, LiveAnswer>();
          for (let i = 0; i < found.length; ) {
            const f = files[(found[i] as number) - first]!;
            if (typeof found[i + 1] === 'string') {
              out.set(f, { code: found[i + 1] as string });
              i += 2;
            } else {
              out.set(f, { ino: found[i + 1] as number, nlink: found[i + 2] as number, size: found[i + 3] as number, mtimeNs: found[i + 4] as string });
              i += 5;
            }
          }
          return out;
        }
        if (stalled || waited >= stallMs) {
          stalled = true;
          return liveDifferences(files);
        }
        const step = Math.min(1000, stallMs);
        const r = Atomics.wait(signal, 0, seen, step);
        waited = r === 'timed-out' ? waited + step : 0;
      }
    },
    close() {
      for (const t of threads) {
        t.port.close();
        void t.worker.terminate();
      }
    },
  };
}
