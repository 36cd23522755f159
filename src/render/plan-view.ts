// The plan view of `plan` and `show`: one Plan in the form chosen once — text (terminal), JSON (one document) or markdown (a pull-request comment) (pure).
import type { Plan } from '../plan/types.js';
import { renderPlanJson } from './plan-json.js';
import { renderPlanMarkdown } from './plan-markdown.js';
import { renderPlanText } from './plan-text.js';

export const PLAN_FORMATS = ['text', 'json', 'markdown'] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

export function renderPlan(plan: Plan, format: PlanFormat, color: boolean): string {
  if (format === 'json') return renderPlanJson(plan);
  if (format === 'markdown') return renderPlanMarkdown(plan);
  return renderPlanText(plan, { color });
}

/** After `plan --out FILE` (stderr): where the plan went and how to apply it. */
export function planSavedLine(file: string, asGiven: string): string {
  return `plan saved to ${file}; apply it with: hashall apply ${asGiven}\n`;
}
