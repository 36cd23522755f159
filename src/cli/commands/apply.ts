// CLI command `hashall apply [PLANFILE]`: applies a saved plan, or plans afresh and asks; lock, recovery, preflight, journal, report.
import { catalogErrorOf } from '../../catalog/sqlite-errors.js';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { exitCodesHelp, type ExitStatus } from '../exit.js';
import { ExitCode, HashallError } from '../../errors.js';
import { formatConfigProblem } from '../../render/config-problem.js';
import { crashHookFromEnv } from '../../apply/crash-hook.js';
import { runApply, runRecover } from '../../reconcile/apply.js';
import { readPlanFile } from '../../plan/plan-file-io.js';
import { openInput } from '../../fs/judged-open.js';
import { readInput } from '../../fs/input-read.js';
import { untrustedInput } from '../../fs/trusted-place.js';
import type { Plan } from '../../plan/types.js';
import type { HashallConfig } from '../../config/types.js';
import { makeResyncTorrents, makeRescanRoot } from '../../reconcile/refresh.js';
import { refreshOutput } from '../refresh-output.js';
import { eventSink, type EventSink } from '../event-sink.js';
import { applySummary } from '../../render/apply-summary.js';
import { clientSet, closeAll, type ClientSet } from '../../clients/client-set.js';
import { stopOnSignals } from '../stop-signals.js';
import { raiseOptimizerBudget } from '../optimizer-budget.js';
import { notifyDeps } from '../notify-deps.js';
import { notifyApplyEnd, withCatalogDb } from '../../reconcile/notify.js';
import { openCatalog, setDurability, withWalCheckpointEvery, type CatalogDb } from '../../catalog/db.js';
import { failureCleared, notify, notifyPlanFindings, hostName, type NotifyDeps } from '../../notify/notify.js';
import { nothingToDoNotice } from '../../notify/notice.js';

const ACTIONABLE = new Set(['move', 'reuse', 'dedupe', 'retire']);
/** WAL pages between automatic checkpoints while `apply` without a plan file holds its catalog open (64 MiB of 4 KiB pages). */
const COMMAND_WAL_PAGES = 16_384;

interface ApplyOptions extends ConfigOptionValues {
  autoApprove?: boolean;
  json?: boolean;
}

export function register(program: Command, ctx: CliContext, exit: ExitStatus): void {
  const cmd = program
    .command('apply')
    .description('apply a saved plan (or plan now and ask): copy, link, repoint and retire with a journal, verification and rollback')
    .argument('[planfile]', 'a plan saved with `hashall plan --out FILE`; without it hashall plans now and asks for confirmation')
    .option('--auto-approve', 'apply a fresh plan without asking (cron/CI); required when there is no terminal')
    .option('--json', 'NDJSON progress events on stdout')
    .addHelpText(
      'after',
      exitCodesHelp([[ExitCode.Ok, 'applied (or nothing to do)'], [ExitCode.Error, 'error or a group failed'], ExitCode.InvalidConfig, ExitCode.LockHeld, ExitCode.StalePlan, ExitCode.Cancelled, ExitCode.Interrupted, ExitCode.Terminated]),
    );
  addConfigOption(cmd);
  cmd.action(async (planfile: string | undefined, opts: ApplyOptions) => {
    // With --json every error is also an NDJSON event (the top-level catch prints it on stderr as well).
    const sink = eventSink(ctx, Boolean(opts.json));
    try {
      await applyAction(planfile, opts, ctx, sink, exit);
    } catch (err) {
      // A full catalog disk or a damaged catalog is said as such in the NDJSON stream too.
      const shown = catalogErrorOf(err) ?? err;
      sink.end();
      sink.error(shown);
      throw shown;
    }
  });
}

async function applyAction(planfile: string | undefined, opts: ApplyOptions, ctx: CliContext, sink: EventSink, exit: ExitStatus): Promise<void> {
  // With --json the plan made now is never printed (only its summary event): a "yes" at the prompt would approve
  // changes nobody was shown. Said before anything is read or written.
  if (!planfile && opts.json && !opts.autoApprove && ctx.prompt) {
    throw new HashallError('apply --json never shows the plan it would ask you to confirm', {
      hint: 'review it first: `hashall plan --out FILE`, then `hashall apply FILE --json`; or pass --auto-approve (cron/CI)',
    });
  }
  const { config, warnings } = loadConfigForCommand(opts, ctx);
  for (const w of warnings) sink.json({ type: 'warning', message: formatConfigProblem(w) });
  const deps = notifyDeps(ctx, sink);
  try {
    await applyWithConfig(planfile, config, opts, ctx, sink, deps, exit);
  } catch (err) {
    // A failed notification never fails the apply; a failed apply is notified (a run's own result already was).
    sink.end();
    await notifyApplyEnd(config, deps, { error: err, what: 'apply' });
    throw err;
  }
}

async function applyWithConfig(planfile: string | undefined, config: HashallConfig, opts: ApplyOptions, ctx: CliContext, sink: EventSink, deps: NotifyDeps, exit: ExitStatus): Promise<void> {
  if (planfile) {
    const file = path.resolve(ctx.cwd, planfile);
    // Like hashall.yaml, a plan steers what root moves, links and removes: one another user could have written is refused.
    const { plan, hash } = readPlanFile(file, {
      open: (f, flags) => openInput(f, flags, ctx.env),
      judge: (f, st, fd) => untrustedInput(f, st, ctx.env, fd),
      read: (f, fd, st) => readInput(f, fd, st)!,
      refuse: (found) => {
        const subject = found.where === 'file' ? `plan file ${found.at}` : found.where === 'link' ? `symlink ${found.at} on the way to plan file ${file}` : `folder ${found.at} holding the plan file`;
        throw new HashallError(`${subject} ${found.problem}: whoever can change it decides what hashall moves, links and removes`, {
          hint: `${found.fix}, or save plans where only ${found.who} can write (\`hashall plan --out FILE\`); nothing was read from it`,
        });
      },
    });
    await applyNow({ plan, hash, file, command: `hashall apply ${planfile}`, catalog: undefined }, config, opts, ctx, sink, deps, exit);
    return;
  }
  if (!opts.autoApprove && !ctx.prompt) {
    throw new HashallError('refusing to apply without confirmation: there is no terminal to ask', {
      hint: 'pass --auto-approve (cron/CI), or save a plan with `hashall plan --out FILE` and apply that file',
    });
  }
  // Planning here is `plan`'s work (refresh and plan, see plan.ts): the same optimiser budget from the start.
  raiseOptimizerBudget();
  // One catalog connection for the recovery, the scan, the plan and the run (each connection opened costs the checks
  // of openCatalog, and each closed a checkpoint of the WAL); its WAL is checkpointed past COMMAND_WAL_PAGES only, so
  // the scan's pages are copied back once, with the run's, when it closes — not at the run's first commit.
  const catalog = openCatalog(config.catalog);
  try {
    await withWalCheckpointEvery(catalog.db, COMMAND_WAL_PAGES, async () => {
      const plan = await freshPlan(config, ctx, opts, sink, deps, catalog);
      if (!plan) return;
      // No plan hash: the plan was never written, so there are no bytes anyone could check a hash against (it cost
      // 44–118 ms to serialize 1,912 dedupe groups only to hash them); the run record holds each group's plan as run.
      await applyNow({ plan, hash: null, file: null, command: 'hashall apply', catalog }, config, opts, ctx, sink, deps, exit);
    });
  } finally {
    catalog.close();
  }
}

/** Run `planned.plan` (read from `planned.file`, or made now on `planned.catalog`, which stays open), then report and notify. */
async function applyNow(
  planned: { plan: Plan; hash: string | null; file: string | null; command: string; catalog: CatalogDb | undefined },
  config: HashallConfig,
  opts: ApplyOptions,
  ctx: CliContext,
  sink: EventSink,
  deps: NotifyDeps,
  exit: ExitStatus,
): Promise<void> {
  const { plan, file } = planned;
  // Applying is system calls and SQLite: the optimising compiler's work would be spent on another core for nothing.
  raiseOptimizerBudget();
  const clients = await configuredClients(config, ctx.now);
  const stop = stopOnSignals(sink.warn); // with --json also a warning event
  try {
    const { result } = await runApply({
      config,
      clients,
      plan,
      planFile: file,
      planHash: planned.hash,
      command: planned.command,
      now: ctx.now,
      emit: sink.emit,
      ...(planned.catalog ? { catalog: planned.catalog } : {}),
      rescanRoot: makeRescanRoot(config, ctx.now),
      resyncTorrents: makeResyncTorrents(config, clients, ctx.now),
      onBoundary: crashHookFromEnv(ctx.env),
      log: sink.warn,
      stop: stop.signal,
    });
    sink.end();
    if (!opts.json) ctx.stdout.write(applySummary(result, stop.received(), { plan, retire: config.safety.retire, now: ctx.now() }));
    // A stop (now or during the rollback) ends a notification still waiting on its receiver; one begun after it gets a short try.
    await notifyApplyEnd(config, { ...deps, stop: stop.signal }, { result });
    exit.set(stop.exitCode() ?? (result.status === 'succeeded' ? ExitCode.Ok : ExitCode.Error));
  } finally {
    stop.dispose();
    sink.end();
    await closeAll(clients);
  }
}

/** The configured clients; their modules load only when hashall.yaml configures one (a dedupe-only apply needs none). */
async function configuredClients(config: HashallConfig, now: () => number): Promise<ClientSet> {
  if (Object.keys(config.clients).length === 0) return clientSet([]);
  return (await import('../../clients/from-config.js')).clientsFromConfig(config, { now });
}

/**
 * Apply without a plan file: finish or roll back an interrupted run first (its half state must not be planned
 * from), then plan afresh, show it, and ask. Returns null when there is nothing to do or the user declined.
 */
async function freshPlan(config: HashallConfig, ctx: CliContext, opts: ApplyOptions, sink: EventSink, deps: NotifyDeps, catalog: CatalogDb): Promise<Plan | null> {
  // The planner and the plan's text load only here: applying a saved plan needs neither.
  const [{ makePlan }, { hasChanges }, { renderPlanText, summaryLine }] = await Promise.all([import('../../reconcile/plan.js'), import('../../plan/build.js'), import('../../render/plan-text.js')]);
  const clients = await configuredClients(config, ctx.now);
  try {
    await runRecover({ config, clients, catalog, command: 'hashall apply (recover)', now: ctx.now, emit: sink.emit, rescanRoot: makeRescanRoot(config, ctx.now), log: sink.warn });
    sink.end();
  } finally {
    await closeAll(clients);
  }
  // Recovery's journal writes were durable one by one; the scan's commits are the catalog's ordinary ones.
  setDurability(catalog.db, 'normal');
  // With --json the plan is not printed (stderr carries only warnings and errors): `hashall plan --json` shows it.
  const plan = await makePlan(config, { refresh: true, now: ctx.now, cwd: ctx.cwd, out: opts.json ? { info: sink.info, warn: sink.warn } : refreshOutput(ctx), catalog });
  if (!opts.json) ctx.stdout.write(renderPlanText(plan, { color: ctx.color }));
  // Newly blocked groups are news whether or not anything runs (the changes themselves are reported by the run).
  await withCatalogDb(
    config,
    (db) => {
      // Planned: a failure told before (a client that was down) is over; the next one is told again.
      failureCleared(config, db, ctx.now());
      return notifyPlanFindings(config, db, plan, summaryLine(plan), { ...deps, drift: false });
    },
    catalog,
  );
  if (!hasChanges(plan)) {
    // Scripts reading NDJSON still get one line saying why nothing ran.
    sink.json({ type: 'no-changes', summary: summaryLine(plan) });
    await notify(config, null, nothingToDoNotice(summaryLine(plan), { host: hostName(), at: ctx.now() }), deps);
    return null;
  }
  sink.json({ type: 'plan', summary: summaryLine(plan), groups: plan.groups.filter((g) => ACTIONABLE.has(g.action)).length });
  if (opts.autoApprove) return plan;
  const answer = await ctx.prompt!('\nApply these changes? Only "yes" is accepted: ');
  if (answer === null) throw new HashallError('apply cancelled by Ctrl-C; nothing was changed', { exitCode: ExitCode.Interrupted });
  if (answer.trim() !== 'yes') {
    throw new HashallError('apply cancelled; nothing was changed', { exitCode: ExitCode.Cancelled, hint: 'only "yes" applies the plan' });
  }
  return plan;
}
