// `hashall trash restore` and `trash purge` as runs: under the global lock, with their own run record (so `hashall runs` shows them), then released.
import { setDurability, type CatalogDb } from '../catalog/db.js';
import type { HashallConfig } from '../config/types.js';
import { Journal, type RunStatus } from './journal.js';
import { runUser, underRunLock } from './run-lock.js';

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
  return underRunLock(input, { takeOverStale: false }, async ({ catalog, runId, host, pidStart }) => {
    setDurability(catalog.db, 'full');
    const journal = new Journal(catalog.db, input.now, input.onBoundary);
    journal.startRun({ id: runId, startedAt: input.now(), user: runUser(), host, pid: process.pid, pidStart, command: input.command, planFile: null, planHash: null, configHash: input.config.configHash, catalogSerial: null });
    let body: TrashRunBody<T>;
    try {
      body = await fn({ catalog, runId, journal });
    } catch (err) {
      journal.finishRun(runId, 'failed', { bytesCopied: 0, bytesFreed: 0, error: (err as Error).message });
      throw err;
    }
    journal.finishRun(runId, body.status, { bytesCopied: 0, bytesFreed: body.bytesFreed ?? 0, error: body.error });
    return { runId, result: body.result };
  });
}
