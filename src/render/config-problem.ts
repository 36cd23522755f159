// Formats a config problem as `file:line:col: severity: message [key path]` plus an optional hint (pure).
import type { ConfigProblem } from '../errors.js';
import { printable } from './escape.js';

export function formatConfigProblem(p: ConfigProblem): string {
  const where = `${printable(p.file)}:${p.line}:${p.col}`;
  const key = p.path ? ` [${printable(p.path)}]` : '';
  const hint = p.hint ? `\n  hint: ${printable(p.hint)}` : '';
  return `${where}: ${p.severity}: ${printable(p.message)}${key}${hint}`;
}
