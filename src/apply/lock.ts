// The global apply lock: one row in the catalog (taken inside BEGIN IMMEDIATE) naming run id, pid, host, command, start time.
import { readFileSync } from 'node:fs';
import type { Db } from '../catalog/db.js';
import { HashallError, LockHeldError } from '../errors.js';

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

/** Stale = held by a process on this host that no longer exists. A lock from another host is never stale to us. */
export function isStale(holder: LockHolder, host: string): boolean {
  return holder.host === host && !isProcessAlive(holder.pid, holder.pidStart);
}

export function describeHolder(h: LockHolder): string {
  return `run ${h.runId} (pid ${h.pid} on ${h.host}, \`${h.command}\`, since ${new Date(h.startedAt).toISOString()})`;
}

/**
 * Take the lock for `me`. A live holder → LockHeldError (exit 4). A stale holder (dead pid on this host) is taken
 * over only when `takeOverStale` is set (apply/recover do, and then recover that run first); it is returned so the
 * caller can report and recover it.
 */
export function acquireLock(db: Db, me: LockHolder, opts: { takeOverStale: boolean }): { tookOver: LockHolder | null } {
  const txn = db.transaction((): { tookOver: LockHolder | null } => {
    const cur = readLock(db);
    let tookOver: LockHolder | null = null;
    if (cur) {
      if (cur.runId === me.runId && cur.pid === me.pid) return { tookOver: null };
      const stale = isStale(cur, me.host);
      if (!stale || !opts.takeOverStale) {
        throw new LockHeldError(`another hashall run holds the lock: ${describeHolder(cur)}${stale ? ' — STALE: that process is gone' : ''}`, {
          hint: stale
            ? `run \`hashall recover\` to roll back its interrupted group, or \`hashall unlock ${cur.runId}\` to clear the lock`
            : cur.host === me.host
              ? 'wait for it to finish'
              : `it runs on another host; if that host is gone, \`hashall unlock ${cur.runId} --force\``,
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
  return txn.immediate();
}

export function releaseLock(db: Db, runId: string): void {
  db.prepare(`DELETE FROM apply_lock WHERE id = 1 AND run_id = ?`).run(runId);
}

/** `hashall unlock RUN_ID`: clear the lock only if that run holds it and (its pid is dead on this host, or force). */
export function unlockRun(db: Db, runId: string, opts: { host: string; force: boolean }): LockHolder {
  const txn = db.transaction((): LockHolder => {
    const cur = readLock(db);
    if (!cur) throw new HashallError('no hashall run holds the lock', { hint: 'nothing to unlock' });
    if (cur.runId !== runId) {
      throw new HashallError(`the lock is held by ${describeHolder(cur)}, not by run ${runId}`, { hint: `check the run id with \`hashall runs\`` });
    }
    if (!opts.force && !isStale(cur, opts.host)) {
      throw new LockHeldError(`refusing to unlock ${describeHolder(cur)}: ${cur.host === opts.host ? 'that process is still running' : 'it runs on another host, whose processes hashall cannot check'}`, {
        hint: cur.host === opts.host ? 'wait for it to finish' : 'if that host is really gone, add --force',
      });
    }
    db.prepare(`DELETE FROM apply_lock WHERE id = 1`).run();
    return cur;
  });
  return txn.immediate();
}
