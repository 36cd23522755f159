// Human text of `hashall doctor`: one line per check with its verdict, the fix under each that is not ok (pure).
import type { DoctorReport } from '../doctor/checks.js';
import { printable } from './escape.js';

const MARK = { ok: 'ok     ', warn: 'WARN   ', problem: 'PROBLEM', skipped: 'skipped' } as const;

export function renderDoctor(r: DoctorReport): string {
  const lines: string[] = [];
  for (const c of r.checks) {
    lines.push(`${MARK[c.status]}  ${printable(c.title)}: ${printable(c.detail)}`);
    if (c.fix && c.status !== 'ok') lines.push(`         fix: ${printable(c.fix)}`);
  }
  const problems = r.checks.filter((c) => c.status === 'problem').length;
  const warnings = r.checks.filter((c) => c.status === 'warn').length;
  lines.push('');
  lines.push(problems === 0 ? `healthy (${warnings} warning(s))` : `${problems} problem(s), ${warnings} warning(s)`);
  return lines.join('\n') + '\n';
}
