// CLI command `hashall plan`: refresh, read the catalog snapshot, build the plan, render it, optionally save it.
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { exitCodesHelp, type ExitStatus } from '../exit.js';
import { refresh, type RefreshOutput } from '../../reconcile/refresh.js';
import { openCatalog } from '../../catalog/db.js';
import { readSnapshot, type SnapshotReadStats } from '../../catalog/snapshot.js';
import { clientsFromConfig } from '../../clients/from-config.js';
import { closeAll } from '../../clients/client-set.js';
import type { HashallConfig } from '../../config/types.js';
import { buildPlan, hasChanges } from '../../plan/build.js';
import { snapshotPlanner } from '../../plan/needs.js';
import { writePlanFile } from '../../plan/plan-file-io.js';
import type { Plan } from '../../plan/types.js';
import { addPlanFormatOptions, planFormat, renderPlan, type PlanFormatOpts } from '../plan-format.js';
import { summaryLine } from '../../render/plan-text.js';
import { ExitCode } from '../../errors.js';
import { unresolvedRuns } from '../../apply/run-store.js';
import { classifyOrphans } from '../../reconcile/orphans.js';
import { notifyPlanFindings } from '../../notify/notify.js';
import { eventSink } from '../apply-support.js';
import { notifyDeps, withCatalogDb } from '../notify-support.js';

export interface PlanOpts extends ConfigOptionValues, PlanFormatOpts {
  out?: string;
  detailedExitcode?: boolean;
  refresh?: boolean;
  notify?: boolean;
}

/** Payloads re-read from file rows at which `plan` suggests a sync (below it, reading them costs well under a second). */
const SUMMARY_HINT_AT = 1000;

/** Refresh (unless told not to) and compute a plan; the shared front half of `plan` and `apply` without a file. */
export async function makePlan(config: HashallConfig, ctx: CliContext, opts: { refresh: boolean; out?: RefreshOutput }): Promise<Plan> {
  const out: RefreshOutput = opts.out ?? { info: (line) => void ctx.stderr.write(line + '\n'), progress: ctx.interactive };
  const catalog = openCatalog(config.catalog);
  try {
    if (opts.refresh) {
      const clients = clientsFromConfig(config, { now: ctx.now });
      // Ctrl-C / SIGTERM stop the scan between batches, so its session is marked interrupted, not left running.
      const ac = new AbortController();
      const onSignal = (): void => ac.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await refresh(catalog, config, clients, ctx, ac.signal, out);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await closeAll(clients);
      }
    }
    const now = ctx.now();
    const stats: SnapshotReadStats = { payloads: 0, computed: 0, loaded: 0 };
    const snapshot = readSnapshot(catalog, config, { planner: snapshotPlanner(config, now), stats });
    if (stats.computed >= SUMMARY_HINT_AT) {
      out.info(
        `note: the catalog changed since the last sync, so ${stats.computed} of ${stats.payloads} payloads were read file by file; ` +
          '`hashall sync` (or a plan with refresh) stores their summaries and makes the next plan fast',
      );
    }
    // Needs-attention and unfinished runs come first in the plan, and block the groups touching their paths.
    const orphans = config.orphans?.action === 'retire' ? classifyOrphans(catalog, config, now) : undefined;
    return buildPlan({ config, snapshot, now, createdAt: new Date(now).toISOString(), unresolvedRuns: unresolvedRuns(catalog.db), ...(orphans ? { orphans } : {}) });
  } finally {
    catalog.close();
  }
}

export function register(program: Command, ctx: CliContext, exit: ExitStatus): void {
  const cmd = program
    .command('plan')
    .description('refresh the catalog and client state, then show what apply would change and why')
    .option('-o, --out <file>', 'save the plan (versioned JSON) for `hashall apply FILE`')
    .option('--detailed-exitcode', 'exit 2 when the plan has actionable changes, 0 when it has none')
    .option('--no-refresh', 'plan from the catalog as it is (no scan, no client sync)')
    .option('--no-notify', 'do not tell the `notify:` targets about drift or newly blocked groups (e.g. a plan for a pull request)')
    .addHelpText('after', exitCodesHelp([ExitCode.Ok, ExitCode.ChangesPending, ExitCode.Error, ExitCode.InvalidConfig]));
  addPlanFormatOptions(cmd);
  addConfigOption(cmd);
  cmd.action(async (opts: PlanOpts) => {
    const format = planFormat(opts);
    const { config } = loadConfigForCommand(opts, ctx);
    const plan = await makePlan(config, ctx, { refresh: opts.refresh !== false });
    if (opts.out) {
      const file = path.resolve(ctx.cwd, opts.out);
      writePlanFile(file, plan);
      ctx.stderr.write(`plan saved to ${file}; apply it with: hashall apply ${opts.out}\n`);
    }
    ctx.stdout.write(renderPlan(plan, format, ctx.color));
    if (opts.notify !== false) {
      const deps = notifyDeps(ctx, eventSink(ctx, false));
      await withCatalogDb(config.catalog, (db) => notifyPlanFindings(config, db, plan, summaryLine(plan), { ...deps, drift: true }));
    }
    if (opts.detailedExitcode) exit.set(hasChanges(plan) ? ExitCode.ChangesPending : ExitCode.Ok);
  });
}
