// `hashall trash restore` and `trash purge` as runs: under the global lock, with their own run record (so `hashall runs` shows them), then released.
import os from 'node:os';
import { openCatalog, setDurability, type CatalogDb } from '../catalog/db.js';
import type { HashallConfig } from '../config/types.js';
import { acquireLock, processStartTime } from './lock.js';
import { Journal, newRunId, type RunStatus } from './journal.js';
import { runExists } from './run-store.js';

export interface TrashRunInput {
  config: HashallConfig;
  /** The command line as recorded (`hashall trash restore RUN`): it names the kind of run in `hashall runs`. */
  command: string;
  now: () => number;
  catalog?: CatalogDb;
  runId?: string;
  /** Test-only crash hook at each committed journal write (src/apply/crash-hook.ts). */
  onBoundary?: (what: string) => void;
}

export interface TrashRunBody<T> {
  result: T;
  status: RunStatus;
  error: string | null;
  bytesFreed?: number;
}

/** Lock (a live holder: exit 4; a stale one is left for `hashall recover`), record the run, do `fn`, finish the record, release. */
export async function runTrashCommand<T>(input: TrashRunInput, fn: (run: { catalog: CatalogDb; runId: string; journal: Journal }) => Promise<TrashRunBody<T>>): Promise<{ runId: string; result: T }> {
  const catalog = input.catalog ?? openCatalog(input.config.catalog);
  const runId = input.runId ?? newRunId(input.now(), (id) => runExists(catalog.db, id));
  const host = os.hostname();
  const pidStart = processStartTime(process.pid);
  try {
    const { held } = acquireLock(catalog.db, { runId, pid: process.pid, pidStart, host, command: input.command, startedAt: input.now() }, { takeOverStale: false });
    try {
      setDurability(catalog.db, 'full');
      const journal = new Journal(catalog.db, input.now, input.onBoundary);
      const user = (() => {
        try {
          return os.userInfo().username;
        } catch {
          return String(process.getuid?.() ?? 'unknown');
        }
      })();
      journal.startRun({ id: runId, startedAt: input.now(), user, host, pid: process.pid, pidStart, command: input.command, planFile: null, planHash: null, configHash: input.config.configHash, catalogSerial: null });
      let body: TrashRunBody<T>;
      try {
        body = await fn({ catalog, runId, journal });
      } catch (err) {
        journal.finishRun(runId, 'failed', { bytesCopied: 0, bytesFreed: 0, error: (err as Error).message });
        throw err;
      }
      journal.finishRun(runId, body.status, { bytesCopied: 0, bytesFreed: body.bytesFreed ?? 0, error: body.error });
      return { runId, result: body.result };
    } finally {
      held.release();
    }
  } finally {
    if (!input.catalog) catalog.close();
  }
}
