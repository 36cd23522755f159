// Formats a config problem as `file:line:col: severity: message [key path]` plus an optional hint (pure).
import type { ConfigProblem } from '../errors.js';

export function formatConfigProblem(p: ConfigProblem): string {
  const where = `${p.file}:${p.line}:${p.col}`;
  const key = p.path ? ` [${p.path}]` : '';
  const hint = p.hint ? `\n  hint: ${p.hint}` : '';
  return `${where}: ${p.severity}: ${p.message}${key}${hint}`;
}
