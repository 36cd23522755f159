// CLI command `hashall show FILE [--format text|json|markdown]`: renders a saved plan (JSON: its per-file lists read back from the catalog).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { readPlanFile } from '../../plan/plan-file-io.js';
import { readInput } from '../../fs/input-read.js';
import { addPlanFormatOptions, planFormat, type PlanFormatOpts } from '../plan-format.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { renderPlan } from '../../render/plan-view.js';
import { openCatalog } from '../../catalog/db.js';
import { expandPlan, hasCatalogRefs } from '../../apply/plan-expand.js';
import type { Plan } from '../../plan/types.js';
import path from 'node:path';

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('show')
    .summary('render a saved plan (text, JSON or markdown) without applying anything')
    .description(
      'render a saved plan (exit 1 if it cannot be read or has an unknown format version); JSON lists every file the plan copies and fingerprints: the lists a plan leaves to the catalog are read back from it, as apply reads them',
    )
    .argument('<file>', 'saved plan file');
  addConfigOption(cmd);
  addPlanFormatOptions(cmd).action((file: string, opts: PlanFormatOpts & ConfigOptionValues) => {
    const format = planFormat(opts);
    const { plan } = readPlanFile(path.resolve(ctx.cwd, file), undefined, (f, fd, st) => readInput(f, fd, st)!);
    // The text and markdown views list no file; JSON shows the plan as apply runs it.
    const shown = format === 'json' && hasCatalogRefs(plan) ? expanded(plan, opts, ctx) : plan;
    ctx.stdout.write(renderPlan(shown, format, ctx.color));
  });
}

/** The plan with its per-file lists read from the catalog; as saved (and why, on stderr) when they cannot be read any more. */
function expanded(plan: Plan, opts: ConfigOptionValues, ctx: CliContext): Plan {
  try {
    const { config } = loadConfigForCommand(opts, ctx);
    const catalog = openCatalog(config.catalog, { readonly: true });
    try {
      return expandPlan(catalog, plan);
    } finally {
      catalog.close();
    }
  } catch (err) {
    ctx.stderr.write(`hashall show: the files the plan leaves to the catalog are not listed (${(err as Error).message.replace(/\s*\n\s*-?\s*/g, ' ')})\n`);
    return plan;
  }
}
