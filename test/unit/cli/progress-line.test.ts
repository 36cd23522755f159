// Progress lines on a terminal: one drawer (cli/progress-line.ts) throttles and erases them; no command writes a terminal escape of its own.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { progressLine } from '../../../src/cli/progress-line.js';
import { CLEAR_LINE } from '../../../src/render/view-output.js';

function terminal(interactive = true) {
  let t = 1_000;
  const written: string[] = [];
  return { ctx: { stderr: { write: (s: string) => written.push(s) }, now: () => t, interactive }, written, advance: (ms: number) => void (t += ms) };
}

describe('progress line', () => {
  it('draws at once, then at most every 200 ms, with the time since it started; clear erases it', () => {
    const { ctx, written, advance } = terminal();
    const line = progressLine(ctx, (n: number, ms: number) => `${n} after ${ms} ms`);
    advance(50);
    line?.draw(1);
    advance(199);
    line?.draw(2);
    advance(1);
    line?.draw(3);
    line?.clear();
    expect(written).toEqual([`${CLEAR_LINE}1 after 50 ms`, `${CLEAR_LINE}3 after 250 ms`, CLEAR_LINE]);
  });

  it('is nothing without a terminal', () => {
    const { ctx, written } = terminal(false);
    expect(progressLine(ctx, () => 'x')).toBeUndefined();
    expect(written).toEqual([]);
  });

  it('no file in src/cli writes a terminal escape sequence itself (render/view-output.ts holds them)', () => {
    const root = path.resolve(import.meta.dirname, '../../../src/cli');
    const raw = readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith('.ts'))
      .map((d) => path.relative(root, path.join(d.parentPath, d.name)))
      .filter((f) => /\\x1b|\\u001b|\\u\{1b\}|\\033|\x1b/i.test(readFileSync(path.join(root, f), 'utf8')));
    expect(raw).toEqual([]);
  });
});
