// The `--format text|json|markdown` option of `plan` and `show` (`--json` is `--format json`), and the view it picks.
import { Option, type Command } from 'commander';
import { HashallError } from '../errors.js';
import type { Plan } from '../plan/types.js';
import { renderPlanJson } from '../render/plan-json.js';
import { renderPlanMarkdown } from '../render/plan-markdown.js';
import { renderPlanText } from '../render/plan-text.js';

export const PLAN_FORMATS = ['text', 'json', 'markdown'] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

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

export function renderPlan(plan: Plan, format: PlanFormat, color: boolean): string {
  if (format === 'json') return renderPlanJson(plan);
  if (format === 'markdown') return renderPlanMarkdown(plan);
  return renderPlanText(plan, { color });
}
