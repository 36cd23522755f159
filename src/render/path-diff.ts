// Before → after path lines with the changed segments highlighted (diff of path segments; pure).
import { diffArrays } from 'diff/lib/diff/array.js'; // the one diff used: its module alone, not the package's ~20

export interface Style {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

export function makeStyle(color: boolean): Style {
  if (!color) {
    const id = (s: string) => s;
    return { red: id, green: id, yellow: id, bold: id, dim: id };
  }
  return { red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), bold: wrap(1, 22), dim: wrap(2, 22) };
}

/**
 * Two lines, `- before` and `+ after`. With color, the segments that differ are shown bold red (removed) and
 * bold green (added); without color both paths are printed as they are.
 */
export function pathChange(before: string, after: string, style: Style, color: boolean): [string, string] {
  if (!color) return [`- ${before}`, `+ ${after}`];
  const parts = diffArrays(before.split('/'), after.split('/'));
  const from: string[] = [];
  const to: string[] = [];
  for (const p of parts) {
    const segs = p.value as string[];
    if (p.added) to.push(...segs.map((s) => style.bold(style.green(s))));
    else if (p.removed) from.push(...segs.map((s) => style.bold(style.red(s))));
    else {
      from.push(...segs);
      to.push(...segs);
    }
  }
  return [`${style.red('-')} ${from.join('/')}`, `${style.green('+')} ${to.join('/')}`];
}
