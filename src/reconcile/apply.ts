// Apply: the whole `hashall apply` sequence around the executor — lock, recover interrupted runs, retry what needs
// attention, purge old trash, apply, re-read repointed torrents, release; and `hashall recover` alone.
import type { CatalogDb } from '../catalog/db.js';
import type { ClientSet } from '../clients/client-set.js';
import type { HashallConfig } from '../config/types.js';
import { HashallError, StalePlanError } from '../errors.js';
import type { Plan } from '../plan/types.js';
import type { RescanRoot } from '../apply/bookkeeping.js';
import type { Emit } from '../apply/events.js';
import { batchable } from '../apply/dedupe-batch.js';
import { applyPlan, type RunResult } from '../apply/executor.js';
import { realFsPort, type FsPort } from '../apply/fs-port.js';
import { describeHolder } from '../apply/lock.js';
import { runUser, underRunLock } from '../apply/run-lock.js';
import { recoverInterrupted, type RecoverOutcome } from '../apply/recover.js';
import { asRecoverOutcome, describeResolve, resolveAttention, type ResolveOutcome } from '../apply/resolve-attention.js';
import { purgeTrash, type PurgeOutcome } from '../apply/trash.js';
import { lastRunOfPlan } from '../apply/run-store.js';

export interface RunApplyInput {
  config: HashallConfig;
  /** Every configured instance's client. */
  clients: ClientSet;
  plan: Plan;
  planFile: string | null;
  planHash: string | null;
  command: string;
  now: () => number;
  emit: Emit;
  fs?: FsPort;
  catalog?: CatalogDb;
  rescanRoot?: RescanRoot;
  /** Re-read the client's torrents into the catalog after groups repointed some (their rows would be stale). */
  resyncTorrents?: (catalog: CatalogDb) => Promise<void>;
  onBoundary?: (what: string) => void;
  clientTimeoutMs?: (bytes: number) => number;
  runId?: string;
  /** Aborted on SIGINT/SIGTERM: stop at the next safe point (see ApplyDeps.stop). */
  stop?: AbortSignal;
  /** Told about a stale lock taken over and about recovered runs (human text, stderr). */
  log?: (line: string) => void;
}

export interface RunApplyOutput {
  result: RunResult;
  recovered: RecoverOutcome[];
  /** Old trash judged (and removed when its window was over) before the groups ran. */
  trash: PurgeOutcome[];
  /** Needs-attention runs retried before the groups ran (finished, rolled back, or still needing a person). */
  resolved: ResolveOutcome[];
}

export async function runApply(input: RunApplyInput): Promise<RunApplyOutput> {
  // A plan that links duplicates compares them on the compare thread: started now, it is up by the first compare; the
  // port made here is closed (its thread ended) when the run is over.
  const own = input.fs ? null : realFsPort(undefined, { compares: input.plan.groups.some(batchable) });
  const fs = input.fs ?? own!;
  const log = input.log ?? (() => undefined);
  try {
    return await underRunLock(input, { takeOverStale: true }, async ({ catalog, runId, host, pidStart, tookOver }) => {
      if (tookOver) log(`stale lock of ${describeHolder(tookOver)}: that process is gone; recovering its run first`);
      const common = { catalog, config: input.config, clients: input.clients, fs, now: input.now, emit: input.emit, rescanRoot: input.rescanRoot, clientTimeoutMs: input.clientTimeoutMs };
      const recovered = await recoverInterrupted({ ...common, runId, host, onBoundary: input.onBoundary });
      for (const r of recovered) log(`recovered interrupted run ${r.runId}: ${r.status}${r.groups.map((g) => `; group ${g.id} ${g.action}`).join('')}`);
      if (recovered.some((r) => r.status === 'needs-attention')) {
        throw new HashallError(`an interrupted run could not be recovered automatically: ${recovered.flatMap((r) => r.attention).join('; ')}`, {
          hint: 'do what the run record says (`hashall runs show ID`), then apply again',
        });
      }
      // Torrents a failed run paused (a stalled client, say) are hashall's to resume: retry what needs attention.
      const resolved = await resolveAttention({ ...common, runId, host, onBoundary: input.onBoundary });
      for (const r of resolved) log(describeResolve(r));
      let trash: PurgeOutcome[] = [];
      const result = await alreadyApplied(catalog, input.planHash, runId, () => applyPlan(
        {
          ...common,
          runId,
          identity: { user: runUser(), host, pid: process.pid, pidStart, command: input.command, planFile: input.planFile, planHash: input.planHash },
          onBoundary: input.onBoundary,
          stop: input.stop,
          // After recovery (never race it), under the lock, once this run's record exists to note what is removed.
          beforeGroups: async () => {
            trash = await purgeTrash({ catalog, config: input.config, fs, now: input.now, emit: input.emit, runId });
          },
        },
        input.plan,
      ));
      // By id (a plan of thousands of groups: a search of the plan per result was quadratic).
      const repointing = new Set(input.plan.groups.filter((pg) => pg.steps.some((s) => s.kind === 'repoint')).map((pg) => pg.id));
      const repointed = result.groups.some((g) => g.status === 'done' && repointing.has(g.id));
      if (repointed && input.resyncTorrents) {
        // Like the file refresh: the change is done and verified; a failed re-read is shown, never undone.
        try {
          await input.resyncTorrents(catalog);
        } catch (err) {
          input.emit({ type: 'refresh-failed', runId, groupId: null, path: 'the torrent client', error: (err as Error).message });
        }
      }
      return { result, recovered, trash, resolved };
    });
  } finally {
    await own?.close();
  }
}

/**
 * Runs `apply`; a saved plan refused as stale that an earlier run applied (the same file, by the SHA-256 of its bytes:
 * applied twice, from cron or by hand) says which run that was — its catalog changes are why it is stale now.
 */
async function alreadyApplied<T>(catalog: CatalogDb, planHash: string | null, runId: string, apply: () => Promise<T>): Promise<T> {
  try {
    return await apply();
  } catch (err) {
    const earlier = err instanceof StalePlanError && planHash !== null ? lastRunOfPlan(catalog.db, planHash, runId) : null;
    if (!earlier) throw err;
    const ended = earlier.endedAt === null ? '' : `, ended ${new Date(earlier.endedAt).toISOString().replace(/\.\d+Z$/, 'Z')}`;
    throw new StalePlanError(`${(err as StalePlanError).message}\n  (this plan file was applied already: run ${earlier.id}, ${earlier.status}${ended})`, {
      hint: `\`hashall runs show ${earlier.id}\` says what it did; \`hashall plan\` shows what is left to do now`,
    });
  }
}

/** `hashall recover` on its own: lock, recover, purge old trash (noted on the runs that left it), release. */
export async function runRecover(input: Omit<RunApplyInput, 'plan' | 'planFile' | 'planHash'>): Promise<RecoverOutcome[]> {
  return underRunLock(input, { takeOverStale: true }, async ({ catalog, runId, host, tookOver }) => {
    if (tookOver) input.log?.(`stale lock of ${describeHolder(tookOver)} cleared`);
    const fs = input.fs ?? realFsPort();
    // Both work under this recover run's lock, with the same world.
    const world = {
      catalog,
      config: input.config,
      clients: input.clients,
      fs,
      now: input.now,
      emit: input.emit,
      runId,
      host,
      rescanRoot: input.rescanRoot,
      onBoundary: input.onBoundary,
      clientTimeoutMs: input.clientTimeoutMs,
    };
    const recovered = await recoverInterrupted(world);
    const resolved = await resolveAttention(world);
    for (const r of resolved) input.log?.(describeResolve(r));
    await purgeTrash({ catalog, config: input.config, fs, now: input.now, emit: input.emit, runId });
    return [...recovered, ...resolved.map(asRecoverOutcome)];
  });
}
