// Rendered plan text: file snapshots (plain and colored), summary line forms, byte formatting.
import { describe, expect, it } from 'vitest';
import { renderPlanText, summaryLine } from '../../../src/render/plan-text.js';
import { renderPlanJson } from '../../../src/render/plan-json.js';
import { formatBytes } from '../../../src/render/format-bytes.js';
import { pathChange, makeStyle } from '../../../src/render/path-diff.js';
import type { Plan } from '../../../src/plan/types.js';
import { showcasePlan } from './showcase.js';

describe('renderPlanText', () => {
  it('renders every action of the showcase plan (plain)', async () => {
    const plan = showcasePlan();
    expect(plan.groups.map((g) => g.action).sort()).toEqual(['blocked', 'dedupe', 'keep', 'keep', 'move', 'pending', 'retire', 'reuse', 'stay']);
    await expect(renderPlanText(plan, { color: false })).toMatchFileSnapshot('__snapshots__/showcase.txt');
  });

  it('renders colors only when asked', async () => {
    const plan = showcasePlan();
    const colored = renderPlanText(plan, { color: true });
    expect(colored).toContain('\x1b[');
    expect(renderPlanText(plan, { color: false })).not.toContain('\x1b[');
    await expect(colored).toMatchFileSnapshot('__snapshots__/showcase.ansi.txt');
  });

  it('the summary line counts actions and bytes; the text and the JSON carry the same summary', () => {
    const plan = showcasePlan();
    const line = summaryLine(plan);
    expect(line).toBe('Plan: 1 to move, 1 to reuse, 1 to dedupe, 1 to retire, 1 blocked. Copies 9.0 GiB, frees 3.0 GiB on stash.');
    expect(renderPlanText(plan, { color: false }).trimEnd().endsWith(line)).toBe(true);
    expect(JSON.parse(renderPlanJson(plan)).summaryText).toBe(line);
  });

  it('"No changes." when nothing is actionable', () => {
    const plan = showcasePlan();
    const quiet: Plan = { ...plan, groups: plan.groups.filter((g) => g.action === 'keep'), summary: { ...plan.summary, move: 0, reuse: 0, dedupe: 0, retire: 0, stay: 0, pending: 0, blocked: 0, bytesToCopy: 0, bytesToFree: {} } };
    expect(summaryLine(quiet)).toBe('No changes. 2 in place, 0 held by external consumers, 0 pending, 0 blocked.');
    expect(renderPlanText(quiet, { color: false })).toBe('No changes. 2 in place, 0 held by external consumers, 0 pending, 0 blocked.\n');
  });

  it('highlights only the changed path segments', () => {
    const [a, b] = pathChange('/stash/media/torrents/seeding/movies/Foo', '/pool/media/torrents/seeding/movies/Foo', makeStyle(true), true);
    expect(a).toContain('\x1b[1m\x1b[31mstash');
    expect(b).toContain('\x1b[1m\x1b[32mpool');
    expect(b).toContain('/media/torrents/seeding/movies/Foo');
    expect(b).not.toContain('\x1b[32mmedia');
    expect(pathChange('/a/b', '/c/b', makeStyle(false), false)).toEqual(['- /a/b', '+ /c/b']);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [1024 * 1024 - 1, '1.0 MiB'],
    [9.4 * 1024 ** 3, '9.4 GiB'],
    [12.1 * 1024 ** 4, '12.1 TiB'],
  ])('%d → %s', (n, s) => {
    expect(formatBytes(n)).toBe(s);
  });
});
