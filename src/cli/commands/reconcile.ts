// CLI command `hashall reconcile --every 6h`: the loop for containers without cron — each iteration (src/reconcile/loop.ts:
// recover, plan, apply (apply.auto) or notify), then sleep with jitter; a clean stop on SIGINT/SIGTERM between and within
// steps; never two runs at once (the lock).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { exitCodesHelp, type ExitStatus } from '../exit.js';
import { ExitCode, HashallError } from '../../errors.js';
import { formatConfigProblem } from '../../render/config-problem.js';
import { parseDuration } from '../../config/units.js';
import { failedIteration, reconcileOnce, type IterationEnd, type IterationOutput } from '../../reconcile/loop.js';
import { eventSink } from '../event-sink.js';
import { applySummary } from '../../render/apply-summary.js';
import { notifyDeps } from '../notify-deps.js';
import { stopOnSignals } from '../stop-signals.js';
import { sleepUnlessStopped } from '../../reconcile/sleep.js';

/** A duration option written as a plain number: seconds. */
const PLAIN_NUMBER = /^\s*[0-9]+(\.[0-9]+)?\s*$/;

/** The shortest wait between iterations of a loop without --once or --iterations. */
const MIN_UNBOUNDED_EVERY_MS = 60_000;
/** The most iterations of a bounded loop quicker than that (tests, a manual retry); more would hammer like an endless one. */
const MAX_QUICK_ITERATIONS = 100;

interface ReconcileOptions extends ConfigOptionValues {
  every: string;
  jitter?: string;
  once?: boolean;
  iterations?: string;
  log: string;
}

function durationOption(value: string, flag: string): number {
  // A plain number is seconds, as the hint says (and as in hashall.yaml).
  const ms = parseDuration(PLAIN_NUMBER.test(value) ? Number(value) : value, 's');
  if (ms === null) throw new HashallError(`${flag} ${value}: not a duration`, { hint: 'write e.g. 6h, 30m, 1h30m, or a number of seconds' });
  return ms;
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
        'is notified too. A failed iteration (client down, lock held by another run) is reported and the loop goes on;\n' +
        'the same failure is notified once while it lasts, not at every iteration.\n' +
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
    if (opts.once && opts.iterations !== undefined) {
      throw new HashallError(`--once and --iterations ${opts.iterations} are two bounds for one loop: give one`, { hint: '--once is --iterations 1' });
    }
    const iterations = opts.once ? 1 : opts.iterations === undefined ? null : Number(opts.iterations);
    if (iterations !== null && (!Number.isSafeInteger(iterations) || iterations < 1)) {
      throw new HashallError(`--iterations ${opts.iterations}: not a positive whole number`, { hint: 'e.g. --iterations 3, or --once' });
    }
    // An endless loop re-plans (scan + every client's sync) each time: a typo such as `--every 6` (a plain number is
    // seconds) must not turn it into a loop that hammers the clients and the disks.
    if (iterations === null && every < MIN_UNBOUNDED_EVERY_MS) {
      throw new HashallError(`--every ${opts.every}: an endless loop waits at least 1m between iterations`, {
        hint: `${PLAIN_NUMBER.test(opts.every) ? 'a plain number is seconds: write the unit (e.g. 6h); ' : ''}bound a quicker loop with --once or --iterations N`,
      });
    }
    if (iterations !== null && iterations > MAX_QUICK_ITERATIONS && every < MIN_UNBOUNDED_EVERY_MS) {
      throw new HashallError(`--every ${opts.every} with --iterations ${opts.iterations}: a loop quicker than 1m runs at most ${MAX_QUICK_ITERATIONS} iterations`, {
        hint: `wait 1m or more between iterations (e.g. --every 6h), or run at most ${MAX_QUICK_ITERATIONS}`,
      });
    }
    const json = opts.log === 'ndjson';
    const sink = eventSink(ctx, json);
    // A config error at start is fatal (exit 3); later, a broken edit fails that iteration and the last good config notifies.
    let config = loadConfigForCommand(opts, ctx).config;
    const stop = stopOnSignals(sink.warn);
    let last: IterationEnd = { outcome: 'nothing-to-do', exitCode: ExitCode.Ok };
    const out: IterationOutput = { ...sink, runNotSucceeded: (result, signal) => void ctx.stderr.write(applySummary(result, signal)) };
    const io = () => ({ now: ctx.now, out, notify: notifyDeps(ctx, sink, stop.signal), stop: stop.signal });
    try {
      for (let i = 1; iterations === null || i <= iterations; i++) {
        sink.json({ type: 'reconcile', phase: 'start', iteration: i });
        if (!json) ctx.stderr.write(`hashall reconcile: iteration ${i} at ${new Date(ctx.now()).toISOString()}\n`);
        try {
          const loaded = loadConfigForCommand(opts, ctx);
          for (const w of loaded.warnings) sink.json({ type: 'warning', message: formatConfigProblem(w) });
          config = loaded.config;
          last = await reconcileOnce({ ...io(), config, cwd: ctx.cwd, env: ctx.env });
        } catch (err) {
          last = await failedIteration(err, { ...io(), config });
        }
        sink.end();
        sink.json({ type: 'reconcile', phase: 'done', iteration: i, outcome: last.outcome });
        if (!json) ctx.stderr.write(`hashall reconcile: iteration ${i}: ${last.outcome}\n`);
        if (stop.signal.aborted || (iterations !== null && i >= iterations)) break;
        const wait = Math.round(every + Math.random() * jitter);
        sink.json({ type: 'reconcile', phase: 'sleep', iteration: i, sleepMs: wait });
        if (!json) ctx.stderr.write(`hashall reconcile: next iteration at ${new Date(ctx.now() + wait).toISOString()}\n`);
        await sleepUnlessStopped(wait, stop.signal);
        if (stop.signal.aborted) break;
      }
    } finally {
      stop.dispose();
      sink.end();
    }
    exit.set(stop.exitCode() ?? last.exitCode);
  });
}
