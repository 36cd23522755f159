// One iteration of `hashall reconcile`: recover → plan (refresh, read, build) → apply (apply.auto) or notify →
// notify the outcome; and what a failed iteration reports. The loop around it (interval, jitter, reload) is the CLI's.
import { copySignalHookFromEnv, crashHookFromEnv } from '../apply/crash-hook.js';
import type { Emit } from '../apply/events.js';
import { errorText, type RunResult } from '../apply/executor.js';
import { clientsFromConfig } from '../clients/from-config.js';
import { closeAll } from '../clients/client-set.js';
import type { HashallConfig } from '../config/types.js';
import { ExitCode, HashallError, LockHeldError } from '../errors.js';
import { actionableGroups, failureNotice, nothingToDoNotice } from '../notify/notice.js';
import { failureCleared, hostName, notify, notifyFailureOnce, notifyPlanFindings, type NotifyDeps } from '../notify/notify.js';
import { hasChanges } from '../plan/build.js';
import { summaryLine } from '../render/plan-text.js';
import { runApply, runRecover } from './apply.js';
import { notifyApplyEnd, notifyLockRefused, withCatalogDb } from './notify.js';
import { LockRefusedError } from '../apply/lock.js';
import { makePlan } from './plan.js';
import { makeResyncTorrents, makeRescanRoot } from './refresh.js';

/** How one iteration ended. */
export type IterationOutcome = 'applied' | 'nothing-to-do' | 'changes-pending' | 'failed' | 'needs-attention' | 'lock-held' | 'stopped';

export interface IterationEnd {
  outcome: IterationOutcome;
  exitCode: ExitCode;
}

/** Where an iteration reports: the command's event sink (human lines on stderr, or NDJSON on stdout). */
export interface IterationOutput {
  emit: Emit;
  info(line: string): void;
  warn(line: string): void;
  /** The error as an NDJSON event (NDJSON only). */
  error(err: unknown): void;
  /** What was planned, as an NDJSON event (NDJSON only). */
  json(e: { type: 'plan'; summary: string; groups: number } | { type: 'no-changes'; summary: string }): void;
  /** Clear a progress line left on the terminal. */
  end(): void;
  /** A run that did not succeed: its summary for a person (`signal` names the stop signal, when one arrived). */
  runNotSucceeded(result: RunResult, signal: string | null): void;
}

export interface IterationInput {
  config: HashallConfig;
  now: () => number;
  cwd: string;
  /** The process environment (test-only crash hooks read it). */
  env: Record<string, string | undefined>;
  out: IterationOutput;
  notify: NotifyDeps;
  /** Aborted on SIGINT/SIGTERM: no new phase starts, an apply in progress stops at its next safe point. */
  stop: AbortSignal;
}

/** recover → plan → apply (apply.auto) or notify → notify the outcome. */
export async function reconcileOnce(input: IterationInput): Promise<IterationEnd> {
  const { config, out, stop } = input;
  const deps = input.notify;
  const common = { config, now: input.now, emit: out.emit, rescanRoot: makeRescanRoot(config, input.now), log: out.warn };
  const recoverClients = clientsFromConfig(config, { now: input.now });
  try {
    await runRecover({ ...common, clients: recoverClients, command: 'hashall reconcile (recover)' });
  } finally {
    await closeAll(recoverClients);
  }
  if (stop.aborted) return { outcome: 'stopped', exitCode: ExitCode.Ok };
  const plan = await makePlan(config, { refresh: true, now: input.now, cwd: input.cwd, out: { info: out.info, warn: out.warn } });
  if (stop.aborted) return { outcome: 'stopped', exitCode: ExitCode.Ok };
  const summary = summaryLine(plan);
  const auto = config.apply?.auto ?? false;
  out.json(hasChanges(plan) ? { type: 'plan', summary, groups: actionableGroups(plan).length } : { type: 'no-changes', summary });
  if (!hasChanges(plan)) out.info(summary);
  await withCatalogDb(config, async (db) => {
    // Planned: a failure told before (a client that was down) is over; the next one is told again.
    failureCleared(config, db, input.now());
    return notifyPlanFindings(config, db, plan, summary, { ...deps, drift: !auto });
  });
  // A stop that cut the notices short: no further notice, no apply begun now.
  if (stop.aborted) return { outcome: 'stopped', exitCode: ExitCode.Ok };
  if (!hasChanges(plan)) {
    await notify(config, null, nothingToDoNotice(summary, { host: hostName(), at: input.now() }), deps);
    return { outcome: 'nothing-to-do', exitCode: ExitCode.Ok };
  }
  if (!auto) {
    out.info(`${summary} Not applied: hashall.yaml does not say apply: { auto: true } (the notify: targets were told).`);
    return { outcome: 'changes-pending', exitCode: ExitCode.Ok };
  }
  const clients = clientsFromConfig(config, { now: input.now });
  try {
    const { result } = await runApply({
      ...common,
      clients,
      plan,
      planFile: null,
      planHash: null, // the plan was not written: no bytes to check a hash against; the run record holds its groups
      command: 'hashall reconcile',
      emit: copySignalHookFromEnv(input.env, out.emit),
      resyncTorrents: makeResyncTorrents(config, clients, input.now),
      onBoundary: crashHookFromEnv(input.env),
      stop,
    });
    out.end();
    if (result.status !== 'succeeded') out.runNotSucceeded(result, stop.aborted ? String(stop.reason) : null);
    await notifyApplyEnd(config, deps, { result });
    const outcome: IterationOutcome = result.status === 'succeeded' ? 'applied' : result.status === 'needs-attention' ? 'needs-attention' : stop.aborted ? 'stopped' : 'failed';
    return { outcome, exitCode: result.status === 'succeeded' || outcome === 'stopped' ? ExitCode.Ok : ExitCode.Error };
  } finally {
    await closeAll(clients);
  }
}

/**
 * An iteration that threw: reported (warning, NDJSON error event) and notified once while the same failure lasts; the loop goes on. Another run holding
 * the lock is notified only once it refused LOCK_HELD_NOTIFY_AFTER runs in a row — iterations of this loop, of another
 * one, `reconcile --once` or `apply` from cron alike: the streak is kept on disk (src/apply/lock-streak.ts).
 */
export async function failedIteration(err: unknown, input: Pick<IterationInput, 'config' | 'now' | 'out' | 'notify' | 'stop'>): Promise<IterationEnd> {
  const { out } = input;
  out.end();
  if (input.stop.aborted) return { outcome: 'stopped', exitCode: ExitCode.Ok };
  const message = errorText(err);
  out.error(err);
  out.warn(`reconcile iteration failed: ${message}`);
  if (err instanceof LockHeldError) {
    if (err instanceof LockRefusedError) await notifyLockRefused(input.config, input.notify, err, 'reconcile');
    return { outcome: 'lock-held', exitCode: ExitCode.LockHeld };
  }
  // Told once while the same failure lasts (a daemon down over a weekend is one notice, not one per iteration).
  const notice = failureNotice('reconcile', message, { host: hostName(), at: input.now() });
  await withCatalogDb(input.config, (db) => notifyFailureOnce(input.config, db, notice, input.notify));
  return { outcome: 'failed', exitCode: err instanceof HashallError ? err.exitCode : ExitCode.Error };
}
