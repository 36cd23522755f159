// Test support: the lock record a killed run leaves behind (its row in the catalog, no process holding the lock file).
import type { Db } from '../../src/catalog/db.js';
import type { LockHolder } from '../../src/apply/lock.js';

/** Write `holder` as the apply lock's record without taking the kernel lock, as an apply killed with SIGKILL leaves it. */
export function plantLockRecord(db: Db, holder: LockHolder): void {
  db.prepare(`INSERT OR REPLACE INTO apply_lock (id, run_id, pid, pid_start, host, command, started_at) VALUES (1, ?, ?, ?, ?, ?, ?)`).run(
    holder.runId,
    holder.pid,
    holder.pidStart,
    holder.host,
    holder.command,
    holder.startedAt,
  );
}
