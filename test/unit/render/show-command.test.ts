// `hashall show FILE [--json]` end to end in-process, on real plan files in a temp directory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../support/cli.js';
import { serializePlan } from '../../../src/plan/plan-file.js';
import { renderPlanText } from '../../../src/render/plan-text.js';
import { showcasePlan } from './showcase.js';

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
    writeFileSync(file, serializePlan({ ...showcasePlan(), formatVersion: 9 as 1 }));
    const r = await runCli(['show', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`plan file ${file} has formatVersion 9; this hashall reads plan format version 1 only`);
    expect(r.stderr).toContain('hint: create the plan again');
    const missing = await runCli(['show', path.join(dir, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read plan file .*nope\.json: ENOENT/);
  });
});
