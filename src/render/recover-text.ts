// The `hashall recover` view as text: each interrupted run, what happened to its groups, what needs attention (pure).
import type { RecoverOutcome } from '../apply/recover.js';
import { printable } from './escape.js';

export function renderRecover(out: readonly RecoverOutcome[]): string {
  if (!out.length) return 'nothing to recover: no interrupted run on this host\n';
  const lines: string[] = [];
  for (const r of out) {
    lines.push(`run ${r.runId}: ${r.status}\n`);
    for (const g of r.groups) lines.push(`  group ${printable(g.id)}: ${printable(g.action)}\n`);
    for (const a of r.attention) lines.push(`  NEEDS ATTENTION: ${printable(a)}\n`);
  }
  return lines.join('');
}
