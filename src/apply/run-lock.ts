// The frame of a mutating run: the catalog (opened here unless given), the run's id, the global lock (lock.ts) held while the run's body works, and who runs it.
import os from 'node:os';
import { openCatalog, type CatalogDb } from '../catalog/db.js';
import { acquireLock, processStartTime, type LockHolder } from './lock.js';
import { newRunId } from './journal.js';
import { runExists } from './run-store.js';

export interface RunLockInput {
  config: { catalog: string };
  /** The command line as recorded in the lock (and the run record). */
  command: string;
  now: () => number;
  /** Open already (the caller closes it); else opened here and closed when the body is done. */
  catalog?: CatalogDb;
  runId?: string;
}

export interface LockedRun {
  catalog: CatalogDb;
  runId: string;
  host: string;
  /** This process's start time, as the lock records it (a PID reused later is not this run). */
  pidStart: string | null;
  /** The holder of a stale lock taken over (only with takeOverStale), else null. */
  tookOver: LockHolder | null;
}

/** Run `body` under the global lock for a new run (or `input.runId`): a live holder throws LockHeldError (exit 4); the lock is released and a catalog opened here closed however the body ends. */
export async function underRunLock<T>(input: RunLockInput, opts: { takeOverStale: boolean }, body: (run: LockedRun) => Promise<T>): Promise<T> {
  const catalog = input.catalog ?? openCatalog(input.config.catalog);
  const runId = input.runId ?? newRunId(input.now(), (id) => runExists(catalog.db, id));
  const host = os.hostname();
  const pidStart = processStartTime(process.pid);
  try {
    const { tookOver, held } = acquireLock(catalog.db, { runId, pid: process.pid, pidStart, host, command: input.command, startedAt: input.now() }, opts);
    try {
      return await body({ catalog, runId, host, pidStart, tookOver });
    } finally {
      held.release();
    }
  } finally {
    if (!input.catalog) catalog.close();
  }
}

/** Who runs hashall, for run records and notes: the user name, else the uid. */
export function runUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
