// The streak of runs refused because the apply lock stayed held by one holder: a private file beside the catalog
// (`catalog.db.lock-streak`, 0600), counted by every refused run and removed by every run that takes the lock, so
// one-shot runs from cron or a systemd timer count into it like the loop's iterations (one rule, one place).
// Every change to it is made under its guard (`….lock-streak.guard`, a kernel lock: kernel-lock.ts), one process at a
// time, which also sweeps the temp files of writes killed before their rename.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { anchoredPath } from '../domain/anchored-path.js';
import type { Db } from '../catalog/db.js';
import { effectiveUser } from '../fs/trusted-place.js';
import { ensureLockFile, takeKernelLock } from './kernel-lock.js';
import type { LockHolder } from './lock.js';

/**
 * Runs refused in a row by one holder after which the `notify:` targets are told (once per streak, as `failed`). One or
 * two are expected beside a long manual apply (a cross-filesystem copy of terabytes takes hours; the loop's `--every`
 * is 6h by default, cron's is a day); a third means nothing was reconciled for two whole intervals or more by a run
 * that still holds the lock — hung (uninterruptible disk sleep), stopped, or stuck — which a person must look at. (A
 * lock whose process is gone holds nothing: it is taken over, never counted.)
 */
export const LOCK_HELD_NOTIFY_AFTER = 3;

const FORMAT_VERSION = 1;
/** Far more than a streak takes: a larger file is not hashall's. */
const MAX_BYTES = 64 * 1024;

/**
 * Who held the lock, as the lock record named it; all fields null for a process holding the lock file that recorded no
 * run (starting, ending, or not hashall at all — e.g. a tool that opened the lock file).
 */
export interface StreakHolder {
  runId: string | null;
  pid: number | null;
  host: string | null;
  command: string | null;
  startedAt: number | null;
}

export interface LockStreak {
  holder: StreakHolder;
  /** Runs refused in a row by this holder. */
  count: number;
  /** When the first and the latest of them were refused. */
  firstAt: number;
  lastAt: number;
  /** When the targets were told about this streak (null: not yet, or every attempt failed). */
  notifiedAt: number | null;
}

/** What one refusal did to the streak: counted (`streak`), or why it could not be (`error`). */
export interface LockRefusal {
  /** The streak file, and the lock file whose holder refused the run. */
  file: string;
  lockFile: string;
  streak: LockStreak | null;
  error: string | null;
}

/** The streak file of the catalog `db` has open: beside it, like its lock file. */
export function lockStreakFileOf(db: Db): string {
  return `${db.name}.lock-streak`;
}

function holderOf(h: LockHolder | null): StreakHolder {
  return h ? { runId: h.runId, pid: h.pid, host: h.host, command: h.command, startedAt: h.startedAt } : { runId: null, pid: null, host: null, command: null, startedAt: null };
}

/**
 * The same holder: the same run (a run id names one run of one process; a new run of the loop, cron or a person is a
 * new holder, and a lock that changes hands is not stuck). Every holder that recorded no run counts as one.
 */
export function sameHolder(a: StreakHolder, b: StreakHolder): boolean {
  return a.runId === b.runId;
}

/** The streak on disk, or null: none, or a file that is not one (not a regular file of this user or root, or not a streak) — counted afresh. */
export function readLockStreak(file: string): LockStreak | null {
  let fd: number;
  try {
    // O_NONBLOCK: a fifo planted in its place cannot hang the run; O_NOFOLLOW: nor a symlink lead elsewhere.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    const { euid } = effectiveUser();
    if (!st.isFile() || st.size > MAX_BYTES || (st.uid !== euid && st.uid !== 0)) return null;
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, st.size, 0);
    return parseStreak(buf.subarray(0, n).toString('utf8'));
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

function parseStreak(text: string): LockStreak | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  const o = v as Record<string, unknown> & { holder?: Record<string, unknown> };
  const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  const numOrNull = (x: unknown): boolean => x === null || num(x);
  const strOrNull = (x: unknown): boolean => x === null || typeof x === 'string';
  const h = o?.holder;
  if (typeof o !== 'object' || o === null || o.formatVersion !== FORMAT_VERSION || typeof h !== 'object' || h === null) return null;
  if (!strOrNull(h.runId) || !numOrNull(h.pid) || !strOrNull(h.host) || !strOrNull(h.command) || !numOrNull(h.startedAt)) return null;
  if (!num(o.count) || o.count < 1 || !num(o.firstAt) || !num(o.lastAt) || !numOrNull(o.notifiedAt)) return null;
  return {
    holder: { runId: h.runId as string | null, pid: h.pid as number | null, host: h.host as string | null, command: h.command as string | null, startedAt: h.startedAt as number | null },
    count: o.count,
    firstAt: o.firstAt,
    lastAt: o.lastAt,
    notifiedAt: o.notifiedAt as number | null,
  };
}

/** How long a change waits for another process's change of the streak (microseconds of work) before giving up. */
const GUARD_WAIT_MS = 2_000;

/**
 * Run `change` holding the streak's guard, so the read, the change and the rename of two runs refused at the same moment
 * come one after the other (neither counts from the value the other replaces). Throws when the guard cannot be had:
 * another process stuck in the middle of its change for GUARD_WAIT_MS, or a guard file that is not hashall's.
 */
function underGuard<T>(file: string, change: () => T): T {
  const guard = `${file}.guard`;
  ensureLockFile(guard);
  const held = takeKernelLock(guard, GUARD_WAIT_MS);
  if (held === null) throw new Error(`another hashall process has been counting in ${file} for over ${GUARD_WAIT_MS / 1000}s (it holds ${guard})`);
  try {
    return change();
  } finally {
    held.release();
  }
}

/** The temp file names of writeLockStreak beside `base` (the streak file's name): `<base>.<pid>-<8 hex>.tmp`. */
const TEMP_TAIL = /^\.[0-9]+-[0-9a-f]{8}\.tmp$/;

/**
 * Remove the temp files a streak write left when it was killed between its write and its rename. Called under the
 * guard, when no other write of the streak is under way, so every one found is stale. Only names of hashall's exact
 * pattern, and only regular files with one link, of this user or root: anything else looking like one (a symlink, a
 * folder, a second link of another file) stays, never followed. The folder is held open and its entries reached
 * through it (/proc/self/fd/N/name), so a folder renamed meanwhile cannot turn the removal elsewhere.
 */
function sweepStreakTemps(file: string): void {
  const base = path.basename(file);
  let fd: number;
  try {
    fd = openSync(path.dirname(file), constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return;
  }
  try {
    const at = anchoredPath(fd);
    const { euid } = effectiveUser();
    for (const name of readdirSync(at)) {
      if (!name.startsWith(base) || !TEMP_TAIL.test(name.slice(base.length))) continue;
      const st = lstatSync(anchoredPath(fd, name), { throwIfNoEntry: false });
      if (!st || !st.isFile() || st.nlink !== 1 || (st.uid !== euid && st.uid !== 0)) continue;
      try {
        unlinkSync(anchoredPath(fd, name));
      } catch {
        /* gone already, or not removable: the next sweep tries again */
      }
    }
  } catch {
    /* not listable: nothing swept, the streak itself is unaffected */
  } finally {
    closeSync(fd);
  }
}

/**
 * Replace the streak file with `streak`: written to a new private temp file (0600, never through a symlink), synced,
 * then renamed over it, so a reader sees the old streak or the new one, never half. Called under the guard.
 */
function writeLockStreak(file: string, streak: LockStreak): void {
  const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
  try {
    try {
      writeSync(fd, JSON.stringify({ formatVersion: FORMAT_VERSION, ...streak }) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* renamed already, or never made */
    }
    throw err;
  }
}

/**
 * Count one run refused by `holder` at `at` (null: a process holds the lock file without a record): one more for the
 * same holder, else a new streak of one. Never throws: a streak that cannot be written is said in `error`.
 */
export function countRefusal(files: { streak: string; lock: string }, holder: LockHolder | null, at: number): LockRefusal {
  const { streak: file, lock: lockFile } = files;
  try {
    const who = holderOf(holder);
    const streak = underGuard(file, (): LockStreak => {
      sweepStreakTemps(file);
      const prev = readLockStreak(file);
      const next: LockStreak =
        prev && sameHolder(prev.holder, who) ? { ...prev, count: prev.count + 1, lastAt: at } : { holder: who, count: 1, firstAt: at, lastAt: at, notifiedAt: null };
      writeLockStreak(file, next);
      return next;
    });
    return { file, lockFile, streak, error: null };
  } catch (err) {
    return { file, lockFile, streak: null, error: `the refusal could not be counted in ${file}: ${(err as Error).message}` };
  }
}

/**
 * Note that the targets were told about `streak`, when the file still holds that streak (another holder's, or a run
 * that took the lock meanwhile, keeps the file as it is).
 */
export function markStreakNotified(file: string, streak: LockStreak, at: number): void {
  underGuard(file, () => {
    const cur = readLockStreak(file);
    if (cur === null || !sameHolder(cur.holder, streak.holder) || cur.firstAt !== streak.firstAt) return;
    writeLockStreak(file, { ...cur, notifiedAt: at });
  });
}

/**
 * The streak ends: a run took the lock (and the temp files of killed streak writes are swept). Best effort (the lock is
 * already this run's; a file left behind only makes its holder's next refusal count on, and every new run is a new
 * holder): without the guard the file is still removed, and the sweep waits for the next time.
 */
export function resetLockStreak(file: string): void {
  const end = (): void => {
    try {
      unlinkSync(file);
    } catch {
      /* none (the usual case), or not removable: see above */
    }
  };
  try {
    underGuard(file, () => {
      sweepStreakTemps(file);
      end();
    });
  } catch {
    end();
  }
}

/**
 * What a person does about a holder that keeps refusing runs (the notice and doctor say the same): look at its process;
 * a stopped one goes on with SIGCONT, one in uninterruptible disk sleep only when its disk answers; ending it frees the
 * lock, and the next run rolls its open group back. `hashall unlock` does nothing for a live holder.
 */
export function stuckHolderAdvice(h: StreakHolder, lockFile: string): string {
  if (h.pid === null) return `\`fuser -v ${lockFile}\` names the process holding the lock file; the lock is freed when that process ends.`;
  const on = h.host === null ? '' : ` on ${h.host}`;
  return (
    `\`ps -o pid,stat,etime,args -p ${h.pid}\`${on} shows the holder: state T (stopped) goes on with \`kill -CONT ${h.pid}\`; ` +
    `state D (waiting on a disk) goes on once the disk answers (see \`dmesg\`). Ending it (\`kill ${h.pid}\`) frees the lock, and the next run ` +
    `rolls its open group back (\`hashall recover\` does it now). \`hashall unlock ${h.runId ?? 'RUN'}\` clears a lock only once its process is gone.`
  );
}
