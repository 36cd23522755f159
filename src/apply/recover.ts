// Crash recovery: find interrupted runs (pid gone, or no longer holding the lock) and roll back — or, when only bookkeeping remained, finish — their open group.
// Decision: a group whose every step is done (or a retire that had passed its proof and was deleting) is FINISHED
// (deletion completed, relocation + catalog recorded); any other open group is ROLLED BACK from its journaled undo data.
import type { ClientSet } from '../clients/client-set.js';
import { setDurability, type CatalogDb } from '../catalog/db.js';
import type { HashallConfig } from '../config/types.js';
import { recordGroupOutcome, type RescanRoot } from './bookkeeping.js';
import type { Emit } from './events.js';
import { defaultClientTimeoutMs, errorText, rollbackGroup, type StepRow } from './executor.js';
import type { FsPort } from './fs-port.js';
import { Journal } from './journal.js';
import { isProcessAlive, readLock } from './lock.js';
import { getRun, markRunInterrupted, runningRuns, unfinishedInterruptedRunIds } from './run-store.js';
import { handlerFor } from './steps/index.js';

export interface RecoverDeps {
  catalog: CatalogDb;
  config: HashallConfig;
  clients: ClientSet;
  fs: FsPort;
  now: () => number;
  emit: Emit;
  /** Id of the run (or recover command) doing the recovery, recorded on the interrupted run. */
  runId: string;
  host: string;
  rescanRoot?: RescanRoot;
  onBoundary?: (what: string) => void;
  clientTimeoutMs?: (bytes: number) => number;
}

export interface RecoverOutcome {
  runId: string;
  status: 'recovered' | 'needs-attention';
  groups: { id: string; action: 'rolled-back' | 'finished'; notes: string[] }[];
  attention: string[];
}

/**
 * Runs marked running that no process is carrying on, and runs left `interrupted` without an end time: a recovery
 * marks the run interrupted before it starts undoing, so one still interrupted was being recovered by a process that died —
 * (a run stopped by SIGINT/SIGTERM is also `interrupted`, but it rolled back itself and has an end time) —
 * recovering it again is safe (undo is idempotent; undone steps and finished groups are skipped).
 * Called under the global lock: every apply holds that lock (its kernel lock, src/apply/lock.ts) for its whole life, so a
 * run that does not hold it is not running anywhere. On this host the pid is checked as well (a run of an older hashall,
 * which took no kernel lock); a run of another host (a container re-created under a new host name after a crash) is
 * recovered too, never left half done.
 */
export function interruptedRuns(catalog: CatalogDb, host: string) {
  const holder = readLock(catalog.db);
  const stuck = unfinishedInterruptedRunIds(catalog.db);
  const runs = [...runningRuns(catalog.db), ...stuck.map((id) => getRun(catalog.db, id)!)];
  return runs.filter((r) => r.id !== holder?.runId && (r.host !== host || !isProcessAlive(r.pid, r.pidStart)));
}

export async function recoverInterrupted(deps: RecoverDeps): Promise<RecoverOutcome[]> {
  setDurability(deps.catalog.db, 'full'); // like the executor: every journal write is durable when it returns
  const journal = new Journal(deps.catalog.db, deps.now, deps.onBoundary);
  const out: RecoverOutcome[] = [];
  for (const r of interruptedRuns(deps.catalog, deps.host)) {
    markRunInterrupted(deps.catalog.db, r.id);
    const detail = getRun(deps.catalog.db, r.id)!;
    const outcome: RecoverOutcome = { runId: r.id, status: 'recovered', groups: [], attention: [] };
    const base = {
      fs: deps.fs,
      clients: deps.clients,
      config: deps.config,
      catalog: deps.catalog,
      runId: r.id,
      now: deps.now,
      emit: deps.emit,
      clientTimeoutMs: deps.clientTimeoutMs ?? defaultClientTimeoutMs,
    };
    // Several groups may have been in flight (apply overlaps groups that wait for the client): undo the latest first,
    // as apply undoes steps, so a directory an earlier group created is empty again when that group removes it.
    for (const g of detail.groupRecords.filter((x) => x.status === 'running').reverse()) {
      const rows: StepRow[] = g.steps.map((s) => ({ index: s.index, step: s.step, status: s.status, undo: s.undo }));
      const open = rows.filter((s) => s.status !== 'done' && s.status !== 'noop');
      const forwardable = open.every((s) => s.step.kind === 'retire' && (s.undo.phase === 'deleting' || s.undo.phase === 'deleted'));
      deps.emit({ type: 'recover', runId: deps.runId, interruptedRunId: r.id, message: `${forwardable ? 'finishing' : 'rolling back'} group ${g.id} (${g.title})` });
      if (forwardable) {
        const notes: string[] = [];
        try {
          for (const s of open) {
            notes.push(...(await handlerFor(s.step).undo(s.step, { ...base, group: g.group, stepIndex: s.index, note: (t) => notes.push(t) }, s.undo)));
            journal.stepFinished(r.id, g.id, s.index, 'done', { recoveredBy: deps.runId }, null);
          }
          const more = await recordGroupOutcome(deps.catalog, g.group, {
            runId: r.id,
            now: deps.now(),
            changed: true,
            rescanRoot: deps.rescanRoot,
            refreshFailed: (path, error) => deps.emit({ type: 'refresh-failed', runId: deps.runId, groupId: g.id, path, error }),
            markDone: () => journal.finishGroup(r.id, g.id, 'done', { notes: [`finished by recovery in ${deps.runId}`, ...notes] }),
          });
          outcome.groups.push({ id: g.id, action: 'finished', notes: [...notes, ...more] });
        } catch (err) {
          const msg = `group ${g.id} (${g.title}): finishing after the crash failed: ${errorText(err)}`;
          outcome.attention.push(msg);
          journal.addAttention(r.id, [msg]);
          journal.finishGroup(r.id, g.id, 'needs-attention', { error: errorText(err) });
          outcome.status = 'needs-attention';
        }
        continue;
      }
      const rb = await rollbackGroup(base, journal, r.id, g.group, rows);
      if (rb.ok) {
        journal.finishGroup(r.id, g.id, 'rolled-back', { error: `interrupted; rolled back by ${deps.runId}`, notes: rb.notes });
        outcome.groups.push({ id: g.id, action: 'rolled-back', notes: rb.notes });
      } else {
        outcome.attention.push(...rb.attention);
        journal.addAttention(r.id, rb.attention);
        journal.finishGroup(r.id, g.id, 'needs-attention', { error: 'interrupted; rollback failed' });
        outcome.status = 'needs-attention';
      }
    }
    journal.addRunNote(r.id, `interrupted (process ${r.pid} on ${r.host} gone); ${outcome.status} by ${deps.runId}`);
    journal.markRecovered(r.id, deps.runId, outcome.status);
    out.push(outcome);
  }
  return out;
}
