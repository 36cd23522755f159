// lstat of many paths off the main thread: worker threads that only call lstat (never follow a symlink) and answer
// with packed numbers; every decision about what an entry is stays with the caller (walk.ts).
import { lstatSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** Per path: state 0 = stat'ed, 1 = vanished (ENOENT), 2 = failed (see errs). Values: mode, dev, ino, size, mtimeNs, nlink. */
export interface PackedStats {
  state: Uint8Array;
  vals: BigInt64Array;
  errs: [index: number, code: string, message: string][];
}
export const FIELDS = 6;

/**
 * lstat every path (no symlink is followed) into packed arrays. Self-contained (no closure, no import): the worker
 * threads run this very function from its source text.
 */
export function lstatPacked(stat: typeof lstatSync, paths: (string | Uint8Array)[]): PackedStats {
  const n = paths.length;
  const state = new Uint8Array(n);
  const vals = new BigInt64Array(n * 6);
  const errs: [number, string, string][] = [];
  for (let i = 0; i < n; i++) {
    const p = paths[i] as string | Uint8Array;
    try {
      const st = stat(typeof p === 'string' ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength), { bigint: true, throwIfNoEntry: false });
      if (st === undefined) {
        state[i] = 1;
        continue;
      }
      const o = i * 6;
      vals[o] = st.mode;
      vals[o + 1] = st.dev;
      vals[o + 2] = st.ino;
      vals[o + 3] = st.size;
      vals[o + 4] = st.mtimeNs;
      vals[o + 5] = st.nlink;
    } catch (e) {
      state[i] = 2;
      errs.push([i, (e as NodeJS.ErrnoException).code ?? 'EIO', (e as Error).message]);
    }
  }
  return { state, vals, errs };
}

/**
 * Paths of a directory's entries sent as one string (names joined by NUL, which no name contains): one copy instead
 * of one structured-clone string per entry.
 */
export function expandJoined(dir: string, joined: string): string[] {
  const base = dir === '/' ? '' : dir;
  return joined === '' ? [] : joined.split('\0').map((n) => base + '/' + n);
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { lstatSync } = require('node:fs');
const lstatPacked = ${lstatPacked.toString()};
const expandJoined = ${expandJoined.toString()};
parentPort.on('message', (msg) => {
  const r = lstatPacked(lstatSync, msg.paths ?? expandJoined(msg.dir, msg.joined));
  parentPort.postMessage({ id: msg.id, state: r.state, vals: r.vals, errs: r.errs }, [r.state.buffer, r.vals.buffer]);
});
`;

/**
 * A small pool of lstat threads, started on first use and never keeping the process alive (unref'd). Requests are
 * answered in any order; each resolves its own promise. Always `close()` it.
 */
export class StatPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (r: PackedStats) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private turn = 0;
  private failed: Error | null = null;

  constructor(private readonly size = 2) {}

  /** lstat `names` inside directory `dir` (plain strings: sent joined) or the given absolute paths (raw bytes). */
  lstat(target: { dir: string; names: string[] } | { paths: (string | Buffer)[] }): Promise<PackedStats> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.workers.length === 0) for (let i = 0; i < this.size; i++) this.workers.push(this.spawn());
    const id = this.nextId++;
    const w = this.workers[this.turn++ % this.workers.length] as Worker;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage('paths' in target ? { id, paths: target.paths } : { id, dir: target.dir, joined: target.names.join('\0') });
    });
  }

  private spawn(): Worker {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    w.on('message', (m: { id: number } & PackedStats) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve({ state: m.state, vals: m.vals, errs: m.errs });
    });
    w.on('error', (err) => {
      // A dead lstat thread fails the walk (never a silent gap): every waiting request is rejected.
      this.failed = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
    return w;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}
