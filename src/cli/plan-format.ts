// The `--format text|json|markdown` option of `plan` and `show` (`--json` is `--format json`); the views are render/plan-view.ts.
import { Option, type Command } from 'commander';
import { HashallError } from '../errors.js';
import { PLAN_FORMATS, type PlanFormat } from '../render/plan-view.js';

export interface PlanFormatOpts {
  json?: boolean;
  format?: PlanFormat;
}

export function addPlanFormatOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print the plan as one JSON document on stdout (the same as --format json)')
    .addOption(new Option('--format <format>', 'text (default), json, or markdown (a pull-request comment: summary table, blocked reasons first, one collapsible section per group)').choices(PLAN_FORMATS));
}

/** The chosen format; `--json` together with another `--format` is a usage error (exit 1). */
export function planFormat(opts: PlanFormatOpts): PlanFormat {
  if (opts.json && opts.format && opts.format !== 'json') {
    throw new HashallError(`--json and --format ${opts.format} ask for two different outputs`, { hint: 'give one of them' });
  }
  return opts.json ? 'json' : (opts.format ?? 'text');
}
