// Releases the inode a rename replaces on the thread pool: held by an O_PATH descriptor across the rename, its last reference (and the filesystem freeing its blocks) goes with a close off the main thread instead of inside the rename.
// Why: on ext4 a rename over a file whose last link it removes frees that inode inside the rename call, which under a
// busy journal waits for commits — most of a dedupe batch's wall time (2000 swaps: 2.2–4.1 s of renames at load ~7,
// 0.03 s with the inode held and closed on the pool). Nothing changes on disk: the same rename, the same freeing later.
import { close, constants, openSync, readFileSync } from 'node:fs';

/** Linux's O_PATH (Node does not export it): the descriptor only holds the inode — nothing is read, no device or FIFO is opened. */
const O_PATH = 0o10000000;

/** At most this many replaced inodes wait for their close at once, whatever the descriptor limit allows. */
export const MAX_HELD_INODES = 1024;

/** The bound when the descriptor limit cannot be read. */
export const FALLBACK_HELD_INODES = 64;

/**
 * How many replaced inodes may be held at once: a quarter of this process's descriptor limit (the soft RLIMIT_NOFILE
 * in /proc/self/limits; the rest stays for SQLite, compares, directory fsyncs), at most MAX_HELD_INODES, at least 16.
 * Why not a small fixed number: the closes free the inodes' blocks (ext4 with discard: ~0.1–1 ms each) more slowly
 * than a dedupe batch swaps, so with 64 the batch waited at the bound for a pool round trip per rename (2,000 swaps:
 * ~3,100 event-loop waits of the main thread, ~0.39 s under strace; ~390 waits, 0.04 s with room for a batch).
 */
export function heldInodeBound(limits?: string): number {
  let text = limits;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'latin1');
    } catch {
      return FALLBACK_HELD_INODES;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m) return FALLBACK_HELD_INODES;
  const soft = m[1] === 'unlimited' ? Infinity : Number(m[1]);
  return Math.max(16, Math.min(MAX_HELD_INODES, Math.floor(soft / 4)));
}

export interface InodeReleaser {
  /** Holds the inode `p` names now (nothing when there is none, or off Linux); call the returned function after the rename. */
  hold(p: string | Buffer): Promise<() => void>;
  /** Resolves once every held inode is released. */
  settled(): Promise<void>;
}

/**
 * `close` is node:fs close (a test may hold it back to prove the bound). Released descriptors are closed in bursts: each
 * one is queued and the queue is handed to the pool when the event loop next turns (or at once when the bound is
 * reached) — a close submitted on its own wakes a pool thread each time, ~15–20 µs of the main thread per rename
 * between synchronous calls, where a burst of them costs about one wake-up. At the bound, the next hold waits until
 * half of the held inodes are released (not one: that made every later rename wait for a close of its own).
 */
export function inodeReleaser(maxHeld = heldInodeBound(), closeFd: (fd: number, done: () => void) => void = close): InodeReleaser {
  const pending = new Set<Promise<void>>();
  let queued: number[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    const fds = queued;
    queued = [];
    for (const fd of fds) {
      const done: Promise<void> = new Promise<void>((resolve) => closeFd(fd, () => resolve())).then(() => void pending.delete(done));
      pending.add(done);
    }
  };
  return {
    async hold(p) {
      if (process.platform !== 'linux') return () => undefined;
      while (pending.size + queued.length >= maxHeld) {
        flush();
        while (pending.size > maxHeld >> 1) await Promise.race(pending);
      }
      let fd: number;
      try {
        // O_NOFOLLOW: a symlink is held itself (rename replaces the link, never its target).
        fd = openSync(p, O_PATH | constants.O_NOFOLLOW);
      } catch {
        return () => undefined; // nothing there (or not ours to hold): the rename frees nothing, or frees it itself
      }
      return () => {
        queued.push(fd);
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      };
    },
    settled: async () => {
      flush();
      while (pending.size > 0) await Promise.all(pending);
    },
  };
}
