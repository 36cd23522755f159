// CLI command `hashall show FILE [--json]`: renders a saved plan as text or as the JSON document.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { readPlanFile } from '../../plan/plan-file-io.js';
import { renderPlanText } from '../../render/plan-text.js';
import { renderPlanJson } from '../../render/plan-json.js';
import path from 'node:path';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('show')
    .description('Render a plan saved with `hashall plan --out FILE` (exit 1 if it cannot be read or has an unknown format version)')
    .argument('<file>', 'saved plan file')
    .option('--json', 'print the plan as one JSON document instead of text')
    .action((file: string, opts: { json?: boolean }) => {
      const plan = readPlanFile(path.resolve(ctx.cwd, file));
      ctx.stdout.write(opts.json ? renderPlanJson(plan) : renderPlanText(plan, { color: ctx.color }));
    });
}
