// The global apply lock: a kernel lock on a private file beside the catalog, held by the running process for its whole run
// (the kernel frees it when that process ends, however it ends, whatever the host name or PID namespace), and one row
// in the catalog naming run id, pid, host, command and start time: who holds it (for messages), and which run to recover.
import { lstatSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Db } from '../catalog/db.js';
import { HashallError, LockHeldError } from '../errors.js';
import { ensureLockFile, takeKernelLock } from './kernel-lock.js';
import { countRefusal, LOCK_HELD_NOTIFY_AFTER, lockStreakFileOf, resetLockStreak, stuckHolderAdvice, type LockRefusal } from './lock-streak.js';

export interface LockHolder {
  runId: string;
  pid: number;
  /** Process start time (clock ticks since boot, from /proc/PID/stat) so a reused pid is not mistaken for the holder. */
  pidStart: string | null;
  host: string;
  command: string;
  startedAt: number;
}

/** Start time of a process from /proc/PID/stat (field 22), null when unknown or the process is gone. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); field 22 is rest[19].
    if (rest[0] === 'Z' || rest[0] === 'X') return null;
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

/** True when `pid` is a live (non-zombie) process that started at `pidStart` (when known). */
export function isProcessAlive(pid: number, pidStart: string | null): boolean {
  const start = processStartTime(pid);
  if (start === null) {
    try {
      process.kill(pid, 0);
    } catch (err) {
      return (err as { code?: string }).code === 'EPERM';
    }
    // /proc unreadable but the signal worked: treat as alive (unknown ⇒ not stale).
    return !isZombieOrGone(pid);
  }
  return pidStart === null || start === pidStart;
}

function isZombieOrGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}

interface LockRow {
  run_id: string;
  pid: number;
  pid_start: string | null;
  host: string;
  command: string;
  started_at: number;
}

function toHolder(r: LockRow): LockHolder {
  return { runId: r.run_id, pid: r.pid, pidStart: r.pid_start, host: r.host, command: r.command, startedAt: r.started_at };
}

export function readLock(db: Db): LockHolder | null {
  const r = db.prepare(`SELECT * FROM apply_lock WHERE id = 1`).get() as LockRow | undefined;
  return r ? toHolder(r) : null;
}

/**
 * The lock file of the catalog `db` has open: beside it, named after it. Its lock is SQLite's own (POSIX fcntl record
 * locks on a second, empty database file, taken by `BEGIN EXCLUSIVE` and kept for the run): Node has no flock/fcntl,
 * better-sqlite3 is already built, and an fcntl lock belongs to the process — not inherited by children, dropped by the
 * kernel when the process dies. The catalog itself cannot hold it: an exclusive transaction there would stop every
 * other reader and writer for the whole run.
 */
export function lockFileOf(db: Db): string {
  return `${db.name}.lock`;
}

/** How long taking the lock waits out another process's momentary look at it (doctor, unlock) before calling it held. */
const KERNEL_LOCK_WAIT_MS = 1_000;

/** Whether a process holds the lock file now: a read of it fails only while one does (a missing file: nobody). */
export function probeKernelLock(file: string): 'held' | 'free' | { unknown: string } {
  if (lstatSync(file, { throwIfNoEntry: false }) === undefined) return 'free';
  let conn: Db | null = null;
  try {
    conn = new Database(file, { readonly: true, fileMustExist: true, timeout: 0 });
    conn.prepare(`SELECT count(*) FROM sqlite_master`).get();
    return 'free';
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return 'held';
    return { unknown: `the lock file ${file} cannot be read: ${(err as Error).message}` };
  } finally {
    conn?.close();
  }
}

/**
 * Whether the lock's holder is alive, and how that is known: its process holds the lock file (proven, on any host that
 * shares this kernel), or — for a holder that took no kernel lock, an older hashall still running through an upgrade —
 * its pid is running on this host with its recorded start time. `gone` only when neither holds; `unknown` when the lock
 * file could not be read (doctor run as another user) and the pid proves nothing.
 */
export type Liveness = { state: 'live'; proof: 'kernel' | 'pid'; why: string } | { state: 'gone'; why: string } | { state: 'unknown'; why: string };

export function holderLiveness(db: Db, holder: LockHolder, host: string): Liveness {
  const kernel = probeKernelLock(lockFileOf(db));
  if (kernel === 'held') return { state: 'live', proof: 'kernel', why: 'its process holds the lock file' };
  return livenessWithoutKernel(holder, host, kernel === 'free' ? null : kernel.unknown);
}

/** The judgement once the lock file is known not to be held by the holder (`unknownWhy`: or could not be read). */
function livenessWithoutKernel(holder: LockHolder, host: string, unknownWhy: string | null): Liveness {
  if (holder.host === host && isProcessAlive(holder.pid, holder.pidStart)) return { state: 'live', proof: 'pid', why: `pid ${holder.pid} is running on this host` };
  if (unknownWhy !== null) return { state: 'unknown', why: unknownWhy };
  return { state: 'gone', why: 'no process holds the lock file' };
}

export function describeHolder(h: LockHolder): string {
  return `run ${h.runId} (pid ${h.pid} on ${h.host}, \`${h.command}\`, since ${new Date(h.startedAt).toISOString()})`;
}

/**
 * A run refused because a live holder has the lock (exit 4), with what that refusal made of the streak of runs refused
 * by the same holder (src/apply/lock-streak.ts): the caller tells the `notify:` targets once it is long enough.
 */
export class LockRefusedError extends LockHeldError {
  constructor(
    message: string,
    opts: { hint?: string },
    readonly holder: LockHolder | null,
    readonly refusal: LockRefusal,
  ) {
    super(message, opts);
  }
}

/** The refusal of a run by a live `holder` at `at`, counted in the streak; its error names the holder (and a streak it could not count). */
function refused(db: Db, holder: LockHolder | null, at: number, message: string, hint: string): LockRefusedError {
  const refusal = countRefusal({ streak: lockStreakFileOf(db), lock: lockFileOf(db) }, holder, at);
  const n = refusal.streak?.count ?? 0;
  // Past a few refusals waiting is no longer the advice (cron mails this line to whoever reads them).
  const said = n >= LOCK_HELD_NOTIFY_AFTER ? `${n} runs in a row were refused by it: ${stuckHolderAdvice(refusal.streak!.holder, refusal.lockFile)}` : hint;
  return new LockRefusedError(message, { hint: refusal.error ? `${said} (${refusal.error})` : said }, holder, refusal);
}

/** The lock as this run holds it: `release` deletes its record, then lets the kernel lock go (safe to call twice). */
export interface HeldLock {
  readonly runId: string;
  release(): void;
}

/**
 * Take the lock for `me`: the kernel lock first (held by another process → LockRefusedError, exit 4, the refusal counted
 * in the streak; taken → the streak is over), then the record. A
 * record left by a holder that is gone (it did not hold the kernel lock we now hold, whatever its host) is taken over
 * only when `takeOverStale` is set (apply/recover do, and then recover that run first); it is returned so the caller
 * can report and recover it. A record of a live pid on this host (an older hashall without the kernel lock) is held.
 * Release the returned lock when the run ends.
 */
export function acquireLock(db: Db, me: LockHolder, opts: { takeOverStale: boolean }): { tookOver: LockHolder | null; held: HeldLock } {
  const file = lockFileOf(db);
  ensureLockFile(file);
  const kernel = takeKernelLock(file, KERNEL_LOCK_WAIT_MS);
  if (kernel === null) {
    const cur = readLock(db);
    throw refused(
      db,
      cur,
      me.startedAt,
      cur ? `another hashall run holds the lock: ${describeHolder(cur)}` : `another hashall process holds the lock (${file}) and has not recorded itself yet, or its record was cleared`,
      'wait for it to finish: its process holds the lock file, which the kernel frees when that process ends, however it ends',
    );
  }
  try {
    const txn = db.transaction((): { tookOver: LockHolder | null } => {
      const cur = readLock(db);
      let tookOver: LockHolder | null = null;
      if (cur) {
        const life = livenessWithoutKernel(cur, me.host, null);
        const stale = life.state === 'gone';
        // A live pid (an older hashall without the kernel lock) refuses this run like a kernel holder: counted.
        if (!stale) throw refused(db, cur, me.startedAt, `another hashall run holds the lock: ${describeHolder(cur)}`, `${life.why}: wait for it to finish`);
        if (!opts.takeOverStale) {
          throw new LockHeldError(`another hashall run holds the lock: ${describeHolder(cur)} — STALE: that process is gone`, {
            hint: `run \`hashall recover\` to roll back its interrupted group, or \`hashall unlock ${cur.runId}\` to clear the lock`,
          });
        }
        tookOver = cur;
        db.prepare(`DELETE FROM apply_lock WHERE id = 1`).run();
      }
      db.prepare(`INSERT INTO apply_lock (id, run_id, pid, pid_start, host, command, started_at) VALUES (1, ?, ?, ?, ?, ?, ?)`).run(
        me.runId,
        me.pid,
        me.pidStart,
        me.host,
        me.command,
        me.startedAt,
      );
      return { tookOver };
    });
    const { tookOver } = txn.immediate();
    // This run has the lock: whatever streak of refused runs there was is over.
    resetLockStreak(lockStreakFileOf(db));
    let released = false;
    const held: HeldLock = {
      runId: me.runId,
      release: () => {
        if (released) return;
        released = true;
        try {
          db.prepare(`DELETE FROM apply_lock WHERE id = 1 AND run_id = ?`).run(me.runId);
        } finally {
          // Even when the record could not be deleted (it is then a stale one, taken over by the next run).
          kernel.release();
        }
      },
    };
    return { tookOver, held };
  } catch (err) {
    kernel.release();
    throw err;
  }
}

/**
 * `hashall unlock RUN_ID`: clear the record only if that run holds it and its process is gone; `force` clears it when
 * that cannot be told (the lock file unreadable) or only the pid says alive (it may be reused). Never for a holder of the
 * kernel lock: it is alive, and clearing its record would not let any other run in — it would only hide who runs.
 */
export function unlockRun(db: Db, runId: string, opts: { host: string; force: boolean }): LockHolder {
  const txn = db.transaction((): LockHolder => {
    const cur = readLock(db);
    if (!cur) throw new HashallError('no hashall run holds the lock', { hint: 'nothing to unlock' });
    if (cur.runId !== runId) {
      throw new HashallError(`the lock is held by ${describeHolder(cur)}, not by run ${runId}`, { hint: `check the run id with \`hashall runs\`` });
    }
    const life = holderLiveness(db, cur, opts.host);
    if (life.state === 'live' && life.proof === 'kernel') {
      throw new LockHeldError(`refusing to unlock ${describeHolder(cur)}: that process is still running (${life.why})`, {
        hint: 'wait for it to finish, or stop that process: the lock is freed when it ends, on whatever host',
      });
    }
    if (!opts.force && life.state !== 'gone') {
      throw new LockHeldError(`refusing to unlock ${describeHolder(cur)}: ${life.state === 'live' ? `that process is still running (${life.why})` : `hashall cannot tell whether it is running: ${life.why}`}`, {
        hint: life.state === 'live' ? 'wait for it to finish (if that pid is another program now, add --force)' : 'run it as the user hashall runs as; if that run is really gone, add --force',
      });
    }
    db.prepare(`DELETE FROM apply_lock WHERE id = 1`).run();
    return cur;
  });
  return txn.immediate();
}
