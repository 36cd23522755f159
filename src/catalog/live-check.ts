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

const WORKER_SOURCE = String.raw`
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { port, signal } = workerData;
port.on('message', (job) => {
  const out = [];
  for (let s = 0; s < job.subs.length; s++) {
    const sub = job.subs[s];
    const found = [];
    for (let i = 0; i < sub.paths.length; i++) {
      const p = sub.paths[i];
      let st;
      try {
        st = fs.lstatSync(typeof p === 'string' ? p : Buffer.from(p), { bigint: true });
      } catch (e) {
        found.push(i, { code: e.code || 'EIO' });
        continue;
      }
      const ino = Number(st.ino), nlink = Number(st.nlink), size = Number(st.size), mtimeNs = String(st.mtimeNs);
      if (ino === sub.ino[i] && size === sub.size[i] && mtimeNs === sub.mtime[i] && nlink <= sub.nlink[i]) continue;
      found.push(i, { ino, nlink, size, mtimeNs });
    }
    out.push(sub.id, found);
  }
  port.postMessage(out);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
});
`;

interface Submission {
  id: number;
  paths: (string | Buffer)[];
  ino: Float64Array;
  size: Float64Array;
  nlink: Float64Array;
  mtime: string[];
}

/** Files per message to a worker (a payload is one submission; small ones travel together). */
const BATCH_FILES = 4096;
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
  const answers = new Map<number, unknown[]>();
  let pending: Submission[] = [];
  let pendingFiles = 0;
  let next = 0;
  // Set once the workers stopped answering: every later submission is checked on the calling thread at once.
  let stalled = false;
  const flush = (): void => {
    if (pending.length === 0) return;
    const t = threads.reduce((a, b) => (b.queued < a.queued ? b : a));
    t.queued += pendingFiles;
    t.port.postMessage({ subs: pending });
    pending = [];
    pendingFiles = 0;
  };
  const drain = (): void => {
    for (const t of threads) {
      for (let m = receiveMessageOnPort(t.port); m !== undefined; m = receiveMessageOnPort(t.port)) {
        const out = m.message as unknown[];
        for (let i = 0; i < out.length; i += 2) answers.set(out[i] as number, out[i + 1] as unknown[]);
      }
    }
  };
  return {
    submit(files) {
      const n = files.length;
      const sub: Submission = { id: next++, paths: new Array(n), ino: new Float64Array(n), size: new Float64Array(n), nlink: new Float64Array(n), mtime: new Array(n) };
      for (let i = 0; i < n; i++) {
        const f = files[i]!;
        sub.paths[i] = fsPathArg(f.path);
        sub.ino[i] = f.ino;
        sub.size[i] = f.size;
        sub.nlink[i] = f.nlink;
        sub.mtime[i] = f.mtimeNs;
      }
      pending.push(sub);
      pendingFiles += n;
      if (pendingFiles >= BATCH_FILES) flush();
      return sub.id;
    },
    take(handle, files) {
      flush();
      let waited = 0;
      for (;;) {
        const seen = Atomics.load(signal, 0);
        drain();
        const found = answers.get(handle);
        if (found !== undefined) {
          answers.delete(handle);
          const out = new Map<CatalogFile, LiveAnswer>();
          for (let i = 0; i < found.length; i += 2) out.set(files[found[i] as number]!, found[i + 1] as LiveAnswer);
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
