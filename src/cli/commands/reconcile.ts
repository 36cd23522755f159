// CLI command `hashall reconcile --every 6h`: the loop for containers without cron — recover, plan, apply (apply.auto) or
// notify, sleep with jitter; a clean stop on SIGINT/SIGTERM between and within steps; never two runs at once (the lock).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { exitCodesHelp, type ExitStatus } from '../exit.js';
import { ExitCode, HashallError, LockHeldError } from '../../errors.js';
import { formatConfigProblem } from '../format-problem.js';
import { copySignalHookFromEnv, crashHookFromEnv } from '../../apply/crash-hook.js';
import { runApply, runRecover } from '../../reconcile/apply.js';
import { errorText } from '../../apply/executor.js';
import { hasChanges } from '../../plan/build.js';
import { planHash, serializePlan } from '../../plan/plan-file.js';
import { summaryLine } from '../../render/plan-text.js';
import type { HashallConfig } from '../../config/types.js';
import { parseDuration } from '../../config/units.js';
import { clientsFromConfig } from '../../clients/from-config.js';
import { closeAll } from '../../clients/client-set.js';
import { actionableGroups, nothingToDoNotice, failureNotice } from '../../notify/notice.js';
import { hostName, notify, notifyPlanFindings } from '../../notify/notify.js';
import { makePlan } from './plan.js';
import { applySummary, eventSink, makeRecordTorrents, makeRecordTree, type EventSink } from '../apply-support.js';
import { notifyApplyEnd, notifyDeps, withCatalogDb } from '../notify-support.js';
import { stopOnSignals } from '../stop-signals.js';

interface ReconcileOptions extends ConfigOptionValues {
  every: string;
  jitter?: string;
  once?: boolean;
  iterations?: string;
  log: string;
}

/** How one iteration ended. */
export type IterationOutcome = 'applied' | 'nothing-to-do' | 'changes-pending' | 'failed' | 'needs-attention' | 'lock-held' | 'stopped';

function durationOption(value: string, flag: string): number {
  const ms = parseDuration(value, 's');
  if (ms === null) throw new HashallError(`${flag} ${value}: not a duration`, { hint: 'write e.g. 6h, 30m, 1h30m, or a number of seconds' });
  return ms;
}

/** Wait `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export function register(program: Command, ctx: CliContext, exit: ExitStatus): void {
  const cmd = program
    .command('reconcile')
    .description('run unattended: recover, plan, apply (when hashall.yaml says apply: { auto: true }) or notify, then sleep and repeat')
    .option('--every <duration>', 'time between iterations, e.g. 6h, 30m', '6h')
    .option('--jitter <duration>', 'a random extra wait of up to this much after each interval (default: a tenth of --every)')
    .option('--once', 'one iteration, then exit with its outcome (cron, tests)')
    .option('--iterations <n>', 'stop after this many iterations')
    .option('--log <format>', 'text (human lines on stderr) or ndjson (one JSON event per line on stdout)', 'text')
    .addHelpText(
      'after',
      '\nEach iteration reloads hashall.yaml, recovers an interrupted run, plans afresh (scan + sync), then applies when\n' +
        '`apply: { auto: true }`, otherwise notifies the `notify:` targets about drift and newly blocked groups; the outcome\n' +
        'is notified too. A failed iteration (client down, lock held by another run) is reported and the loop goes on.\n' +
        'SIGINT/SIGTERM stop it cleanly: during an apply the group in progress is rolled back first; while sleeping at once.' +
        exitCodesHelp([
          [ExitCode.Ok, 'bounded runs: the last iteration succeeded'],
          [ExitCode.Error, 'it failed'],
          [ExitCode.InvalidConfig, 'invalid config at start'],
          [ExitCode.LockHeld, 'lock held (last iteration)'],
          ExitCode.Interrupted,
          ExitCode.Terminated,
        ]),
    );
  addConfigOption(cmd);
  cmd.action(async (opts: ReconcileOptions) => {
    if (opts.log !== 'text' && opts.log !== 'ndjson') throw new HashallError(`--log ${opts.log}: unknown format`, { hint: 'use --log text or --log ndjson' });
    const every = durationOption(opts.every, '--every');
    const jitter = opts.jitter === undefined ? every / 10 : durationOption(opts.jitter, '--jitter');
    const iterations = opts.once ? 1 : opts.iterations === undefined ? null : Number(opts.iterations);
    if (iterations !== null && (!Number.isInteger(iterations) || iterations < 1)) {
      throw new HashallError(`--iterations ${opts.iterations}: not a positive whole number`, { hint: 'e.g. --iterations 3, or --once' });
    }
    const json = opts.log === 'ndjson';
    const sink = eventSink(ctx, json);
    // A config error at start is fatal (exit 3); later, a broken edit fails that iteration and the last good config notifies.
    let config = loadConfigForCommand(opts, ctx).config;
    const stop = stopOnSignals(sink.warn);
    let last: { outcome: IterationOutcome; exitCode: ExitCode } = { outcome: 'nothing-to-do', exitCode: ExitCode.Ok };
    try {
      for (let i = 1; iterations === null || i <= iterations; i++) {
        sink.json({ type: 'reconcile', phase: 'start', iteration: i });
        if (!json) ctx.stderr.write(`hashall reconcile: iteration ${i} at ${new Date(ctx.now()).toISOString()}\n`);
        try {
          const loaded = loadConfigForCommand(opts, ctx);
          for (const w of loaded.warnings) sink.json({ type: 'warning', message: formatConfigProblem(w) });
          config = loaded.config;
          last = await iteration(config, ctx, sink, stop.signal);
        } catch (err) {
          last = await failedIteration(err, config, ctx, sink, stop.signal);
        }
        sink.end();
        sink.json({ type: 'reconcile', phase: 'done', iteration: i, outcome: last.outcome });
        if (!json) ctx.stderr.write(`hashall reconcile: iteration ${i}: ${last.outcome}\n`);
        if (stop.signal.aborted || (iterations !== null && i >= iterations)) break;
        const wait = Math.round(every + Math.random() * jitter);
        sink.json({ type: 'reconcile', phase: 'sleep', iteration: i, sleepMs: wait });
        if (!json) ctx.stderr.write(`hashall reconcile: next iteration at ${new Date(ctx.now() + wait).toISOString()}\n`);
        await sleep(wait, stop.signal);
        if (stop.signal.aborted) break;
      }
    } finally {
      stop.dispose();
      sink.end();
    }
    exit.set(stop.exitCode() ?? last.exitCode);
  });
}

/** recover → plan → apply (apply.auto) or notify → notify the outcome. */
async function iteration(config: HashallConfig, ctx: CliContext, sink: EventSink, stop: AbortSignal): Promise<{ outcome: IterationOutcome; exitCode: ExitCode }> {
  const deps = notifyDeps(ctx, sink);
  const common = { config, now: ctx.now, emit: sink.emit, recordTree: makeRecordTree(config, ctx), log: sink.warn };
  const recoverClients = clientsFromConfig(config, { now: ctx.now });
  try {
    await runRecover({ ...common, clients: recoverClients, command: 'hashall reconcile (recover)' });
  } finally {
    await closeAll(recoverClients);
  }
  if (stop.aborted) return { outcome: 'stopped', exitCode: ExitCode.Ok };
  const plan = await makePlan(config, ctx, { refresh: true, out: { info: sink.info, progress: false } });
  if (stop.aborted) return { outcome: 'stopped', exitCode: ExitCode.Ok };
  const summary = summaryLine(plan);
  const auto = config.apply?.auto ?? false;
  sink.json(hasChanges(plan) ? { type: 'plan', summary, groups: actionableGroups(plan).length } : { type: 'no-changes', summary });
  if (!hasChanges(plan)) sink.info(summary);
  await withCatalogDb(config.catalog, (db) => notifyPlanFindings(config, db, plan, summary, { ...deps, drift: !auto }));
  if (!hasChanges(plan)) {
    await notify(config, null, nothingToDoNotice(summary, { host: hostName(), at: ctx.now() }), deps);
    return { outcome: 'nothing-to-do', exitCode: ExitCode.Ok };
  }
  if (!auto) {
    sink.info(`${summary} Not applied: hashall.yaml does not say apply: { auto: true } (the notify: targets were told).`);
    return { outcome: 'changes-pending', exitCode: ExitCode.Ok };
  }
  const clients = clientsFromConfig(config, { now: ctx.now });
  try {
    const { result } = await runApply({
      ...common,
      clients,
      plan,
      planFile: null,
      planHash: planHash(serializePlan(plan)),
      command: 'hashall reconcile',
      emit: copySignalHookFromEnv(ctx.env, sink.emit),
      recordTorrents: makeRecordTorrents(config, clients, ctx),
      onBoundary: crashHookFromEnv(ctx.env),
      stop,
    });
    sink.end();
    if (result.status !== 'succeeded') ctx.stderr.write(applySummary(result, stop.aborted ? String(stop.reason) : null));
    await notifyApplyEnd(config, deps, { result });
    const outcome: IterationOutcome = result.status === 'succeeded' ? 'applied' : result.status === 'needs-attention' ? 'needs-attention' : stop.aborted ? 'stopped' : 'failed';
    return { outcome, exitCode: result.status === 'succeeded' || outcome === 'stopped' ? ExitCode.Ok : ExitCode.Error };
  } finally {
    await closeAll(clients);
  }
}

/** An iteration that threw: reported (warning, NDJSON error event) and notified; the loop goes on. */
async function failedIteration(err: unknown, config: HashallConfig, ctx: CliContext, sink: EventSink, stop: AbortSignal): Promise<{ outcome: IterationOutcome; exitCode: ExitCode }> {
  sink.end();
  if (stop.aborted) return { outcome: 'stopped', exitCode: ExitCode.Ok };
  const message = errorText(err);
  sink.error(err);
  sink.warn(`reconcile iteration failed: ${message}`);
  if (err instanceof LockHeldError) return { outcome: 'lock-held', exitCode: ExitCode.LockHeld };
  await notify(config, null, failureNotice('reconcile', message, { host: hostName(), at: ctx.now() }), notifyDeps(ctx, sink));
  return { outcome: 'failed', exitCode: err instanceof HashallError ? err.exitCode : ExitCode.Error };
}
