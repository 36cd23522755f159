// CLI command `hashall show FILE [--format text|json|markdown]`: renders a saved plan.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { readPlanFile } from '../../plan/plan-file-io.js';
import { addPlanFormatOptions, planFormat, type PlanFormatOpts } from '../plan-format.js';
import { renderPlan } from '../../render/plan-view.js';
import path from 'node:path';

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('show')
    .description('Render a plan saved with `hashall plan --out FILE` (exit 1 if it cannot be read or has an unknown format version)')
    .argument('<file>', 'saved plan file');
  addPlanFormatOptions(cmd).action((file: string, opts: PlanFormatOpts) => {
    const format = planFormat(opts);
    const { plan } = readPlanFile(path.resolve(ctx.cwd, file));
    ctx.stdout.write(renderPlan(plan, format, ctx.color));
  });
}
