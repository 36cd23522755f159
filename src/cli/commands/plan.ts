// CLI command `hashall plan`: plan (src/reconcile/plan.ts: refresh, read, build), render it, optionally save it.
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { exitCodesHelp, type ExitStatus } from '../exit.js';
import { hasChanges } from '../../plan/build.js';
import { makePlan } from '../../reconcile/plan.js';
import { refreshOutput } from '../refresh-output.js';
import { checkPlanOut, writePlanFile, type FolderOpener } from '../../plan/plan-file-io.js';
import { openJudged } from '../../fs/judged-open.js';
import { inputOwners } from '../../fs/trusted-place.js';
import { addPlanFormatOptions, planFormat, type PlanFormatOpts } from '../plan-format.js';
import { planSavedLine, renderPlan } from '../../render/plan-view.js';
import { summaryLine } from '../../render/plan-text.js';
import { ExitCode } from '../../errors.js';
import { notifyPlanFindings } from '../../notify/notify.js';
import { eventSink } from '../event-sink.js';
import { notifyDeps } from '../notify-deps.js';
import { withCatalogDb } from '../../reconcile/notify.js';
import { raiseOptimizerBudget } from '../optimizer-budget.js';

export interface PlanOpts extends ConfigOptionValues, PlanFormatOpts {
  out?: string;
  detailedExitcode?: boolean;
  refresh?: boolean;
  notify?: boolean;
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
    // Planning at scale is SQLite reads, lstat (on a worker too) and one pass per group: the optimising compiler's
    // helper threads would take a core from the live check for little (see optimizer-budget.ts).
    raiseOptimizerBudget();
    const format = planFormat(opts);
    const { config } = loadConfigForCommand(opts, ctx);
    // A --out that cannot take the plan (a device, a symlink, a folder) is said before the refresh and the planning.
    const file = opts.out ? path.resolve(ctx.cwd, opts.out) : null;
    // Its folder is held from this check to the write: one swapped during the refresh cannot redirect it.
    const { owners, who } = inputOwners(ctx.env);
    const open: FolderOpener = (folder, flags) => openJudged(folder, flags, { owners, who });
    const out = file ? checkPlanOut(file, open) : null;
    let plan;
    try {
      plan = await makePlan(config, { refresh: opts.refresh !== false, now: ctx.now, cwd: ctx.cwd, out: refreshOutput(ctx) });
      if (file && out && opts.out) {
        writePlanFile(file, plan, out, open);
        ctx.stderr.write(planSavedLine(file, opts.out));
      }
    } finally {
      out?.close();
    }
    ctx.stdout.write(renderPlan(plan, format, ctx.color));
    if (opts.notify !== false) {
      const deps = notifyDeps(ctx, eventSink(ctx, false));
      await withCatalogDb(config, (db) => notifyPlanFindings(config, db, plan, summaryLine(plan), { ...deps, drift: true }));
    }
    if (opts.detailedExitcode) exit.set(hasChanges(plan) ? ExitCode.ChangesPending : ExitCode.Ok);
  });
}
