// `hashall show FILE [--json]` end to end in-process, on real plan files in a temp directory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../support/cli.js';
import { serializePlan } from '../../../src/plan/plan-file.js';
import { renderPlanText } from '../../../src/render/plan-text.js';
import { showcasePlan } from './showcase.js';
import type { Plan } from '../../../src/plan/types.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hashall-show-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hashall show', () => {
  it('renders a saved plan as text and as JSON', async () => {
    const plan = showcasePlan();
    const file = path.join(dir, 'plan.json');
    writeFileSync(file, serializePlan(plan));
    const text = await runCli(['show', file]);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toBe(renderPlanText(plan, { color: false }));
    const json = await runCli(['show', 'plan.json', '--json'], { cwd: dir });
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.groups).toEqual(plan.groups);
    expect(doc.summaryText).toMatch(/^Plan: 1 to move/);
  });

  it('exits 1 with a clear error for an unknown format version or a missing file', async () => {
    const file = path.join(dir, 'future.json');
    writeFileSync(file, serializePlan({ ...showcasePlan(), formatVersion: 9 as 2 }));
    const r = await runCli(['show', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`plan file ${file} has formatVersion 9; this hashall reads plan format versions 1 and 2 only`);
    expect(r.stderr).toContain('hint: create the plan again');
    const missing = await runCli(['show', path.join(dir, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read plan file .*nope\.json: it does not exist/);
  });

  it('a crafted name (newline, ESC sequences, a bidi override) cannot forge or hide a line of the review; --json stays exact', async () => {
    // A name that tries to end its line, erase it, and print a harmless-looking line of its own.
    const evil = 'Foo.2020\n  · stay Harmless  on stash  (g9)\x1b[2K\x1b[1A\u202e';
    const plan = JSON.parse(serializePlan(showcasePlan()).replaceAll('Foo.2020.1080p.BluRay', JSON.stringify(evil).slice(1, -1))) as Plan;
    const file = path.join(dir, 'evil.json');
    writeFileSync(file, serializePlan(plan));
    const text = await runCli(['show', file]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f\u202e]/);
    const shown = text.stdout.split('\n').filter((l) => l.includes('Harmless'));
    expect(shown.length).toBeGreaterThan(2);
    for (const l of shown) expect(l).toContain('Foo.2020\\n  · stay Harmless  on stash  (g9)\\x1b[2K\\x1b[1A\\u202e');
    expect(shown).toContain('      - /stash/media/torrents/seeding/movies/Foo.2020\\n  · stay Harmless  on stash  (g9)\\x1b[2K\\x1b[1A\\u202e');
    expect(text.stdout.split('\n').some((l) => l.startsWith('  · stay Harmless'))).toBe(false);
    expect(text.stdout).toContain('Foo.2020\\n  · stay Harmless  on stash  (g9)\\x1b[2K\\x1b[1A\\u202e  default/1a2b3c4d  movies');
    const json = await runCli(['show', file, '--json']);
    expect((JSON.parse(json.stdout) as Plan).groups.flatMap((g) => g.torrents.map((t) => t.name))).toContain(evil);
  });
});
