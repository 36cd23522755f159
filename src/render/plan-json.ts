// The --json document of a plan: the plan data itself plus its one-line summary text (pure).
import type { Plan } from '../plan/types.js';
import { summaryLine } from './plan-text.js';

export interface PlanDocument extends Plan {
  summaryText: string;
}

export function planDocument(plan: Plan): PlanDocument {
  return { ...plan, summaryText: summaryLine(plan) };
}

export function renderPlanJson(plan: Plan): string {
  return JSON.stringify(planDocument(plan), null, 2) + '\n';
}
