// Plan summary: counts per action and bytes to copy / to free per filesystem (pure).
import type { PlanGroup, PlanSummary } from './types.js';

export function summarize(groups: readonly PlanGroup[]): PlanSummary {
  const s: PlanSummary = { move: 0, reuse: 0, dedupe: 0, retire: 0, keep: 0, stay: 0, pending: 0, blocked: 0, bytesToCopy: 0, bytesToFree: {} };
  for (const g of groups) {
    if (g.action === 'repair') s.repair = (s.repair ?? 0) + 1;
    else s[g.action] += 1;
    s.bytesToCopy += g.bytesToCopy;
    if (g.bytesToFree > 0) {
      const fs = g.from?.fs ?? '?';
      s.bytesToFree[fs] = (s.bytesToFree[fs] ?? 0) + g.bytesToFree;
    }
  }
  const sorted: Record<string, number> = {};
  for (const k of Object.keys(s.bytesToFree).sort()) sorted[k] = s.bytesToFree[k]!;
  s.bytesToFree = sorted;
  return s;
}
