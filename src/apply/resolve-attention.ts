// Every apply and recover retries the needs-attention runs nobody acknowledged: a group already in its target state is finished (torrents hashall paused resumed), any other is rolled back again.
// Must never: leave a torrent hashall paused without resuming it or reporting it; touch a run a person acknowledged
// (`hashall runs ack`); act on anything but the run's journal (undo stays idempotent and removes only what it created).
import { instanceOf } from '../domain/instance.js';
import { resumeConfirmed } from '../clients/confirm.js';
import { recordGroupOutcome } from './bookkeeping.js';
import { defaultClientTimeoutMs, errorText, rollbackGroup, type StepRow } from './executor.js';
import { Journal } from './journal.js';
import type { RecoverDeps, RecoverOutcome } from './recover.js';
import { getRun, unackedAttentionRunIds } from './run-store.js';
import { handlerFor } from './steps/index.js';
import type { StepContext } from './steps/types.js';

export interface ResolveOutcome {
  runId: string;
  /** recovered: every group it left open is now finished or rolled back; needs-attention: some still is not. */
  status: 'recovered' | 'needs-attention';
  groups: { id: string; action: 'finished' | 'rolled-back' | 'still needs attention'; notes: string[] }[];
}

type Base = Omit<StepContext, 'saveUndo' | 'appendUndo' | 'stepIndex' | 'group' | 'note'>;

/** True when every step of the group reports its effect already in place (a copy re-hashes its target files). */
async function alreadyDone(base: Base, group: StepRow[], g: StepContext['group']): Promise<boolean> {
  for (const s of group) {
    try {
      const ctx: StepContext = { ...base, group: g, stepIndex: s.index, saveUndo: () => undefined, appendUndo: () => undefined, note: () => undefined };
      if ((await handlerFor(s.step).check(s.step, ctx)) !== 'done') return false;
    } catch {
      return false;
    }
  }
  return true;
}

export async function resolveAttention(deps: RecoverDeps): Promise<ResolveOutcome[]> {
  const journal = new Journal(deps.catalog.db, deps.now, deps.onBoundary);
  const ids = unackedAttentionRunIds(deps.catalog.db);
  const out: ResolveOutcome[] = [];
  for (const id of ids) {
    const run = getRun(deps.catalog.db, id)!;
    const base: Base = { fs: deps.fs, clients: deps.clients, config: deps.config, catalog: deps.catalog, runId: id, now: deps.now, emit: deps.emit, clientTimeoutMs: deps.clientTimeoutMs ?? defaultClientTimeoutMs };
    const outcome: ResolveOutcome = { runId: id, status: 'recovered', groups: [] };
    for (const g of run.groupRecords.filter((x) => x.status === 'needs-attention' || x.status === 'running')) {
      // A step whose undo failed is retried like one that failed: undo is idempotent.
      const rows: StepRow[] = g.steps.map((s) => ({ index: s.index, step: s.step, status: s.status === 'undo-failed' ? 'failed' : s.status, undo: s.undo }));
      const open = rows.filter((s) => s.status !== 'undone' && s.status !== 'planned');
      deps.emit({ type: 'recover', runId: deps.runId, interruptedRunId: id, message: `retrying group ${g.id} (${g.title}), which needed attention` });
      if (rows.every((s) => s.status !== 'undone') && (await alreadyDone(base, rows, g.group))) {
        const notes: string[] = [];
        try {
          for (const s of open) {
            if (s.step.kind !== 'repoint' || s.undo.wasRunning !== true) continue;
            const client = deps.clients.find(instanceOf(s.step));
            const t = await client?.getTorrent(s.step.torrentHash);
            if (client && t && !t.running) {
              await resumeConfirmed(client, s.step.torrentHash, { timeoutMs: 60_000 });
              notes.push(`${s.step.torrentName}: resumed (hashall had paused it in run ${id})`);
            }
          }
          notes.push(
            ...(await recordGroupOutcome(deps.catalog, g.group, {
              runId: id,
              now: deps.now(),
              changed: true,
              rescanRoot: deps.rescanRoot,
              markDone: () => journal.finishGroup(id, g.id, 'done', { notes: [`found complete and finished by ${deps.runId}`, ...notes] }),
            })),
          );
          outcome.groups.push({ id: g.id, action: 'finished', notes });
        } catch (err) {
          outcome.status = 'needs-attention';
          outcome.groups.push({ id: g.id, action: 'still needs attention', notes: [...notes, errorText(err)] });
        }
        continue;
      }
      const rb = await rollbackGroup(base, journal, id, g.group, rows);
      if (rb.ok) {
        journal.finishGroup(id, g.id, 'rolled-back', { error: `${g.error ?? 'failed'}; rolled back by ${deps.runId}`, notes: rb.notes });
        outcome.groups.push({ id: g.id, action: 'rolled-back', notes: rb.notes });
      } else {
        outcome.status = 'needs-attention';
        outcome.groups.push({ id: g.id, action: 'still needs attention', notes: [...rb.notes, ...rb.attention] });
      }
    }
    if (outcome.status === 'recovered') {
      journal.addRunNote(id, `needed attention; ${outcome.groups.map((x) => `group ${x.id} ${x.action}`).join(', ')} by ${deps.runId}`);
      journal.markRecovered(id, deps.runId, 'recovered');
    }
    out.push(outcome);
  }
  return out;
}

/** The same outcome in `hashall recover`'s terms (groups that could not be resolved become attention lines). */
export function asRecoverOutcome(r: ResolveOutcome): RecoverOutcome {
  return {
    runId: r.runId,
    status: r.status,
    groups: r.groups.flatMap((g) => (g.action === 'still needs attention' ? [] : [{ id: g.id, action: g.action, notes: g.notes }])),
    attention: r.groups.filter((g) => g.action === 'still needs attention').map((g) => `group ${g.id}: still needs attention: ${g.notes.join('; ')}`),
  };
}

/** One log line per retried run (apply and recover print it on stderr). */
export function describeResolve(r: ResolveOutcome): string {
  const head = r.status === 'recovered' ? `resolved needs-attention run ${r.runId}` : `run ${r.runId} still needs attention`;
  return head + r.groups.map((g) => `; group ${g.id} ${g.action}${g.notes.length ? ` (${g.notes.join('; ')})` : ''}`).join('');
}
