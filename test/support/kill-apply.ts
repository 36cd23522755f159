// A stash/pool world's plan saved, and apply of it run in a child process killed (SIGKILL) at a journal boundary of its move group (test support).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { readPlanFile } from '../../src/plan/plan-file-io.js';
import type { PlanGroup } from '../../src/plan/types.js';
import type { StashPoolWorld } from './stash-pool-world.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * `hashall plan --out` in `w`, then apply of that plan in a child (test/support/apply-child.ts) that kills itself with
 * SIGKILL at `boundary(group)` (HASHALL_TEST_CRASH_AT_BOUNDARY) of the plan's move group; asserts it was killed there.
 * Returns that group.
 */
export async function killApplyInMoveGroup(w: StashPoolWorld, boundary: (group: PlanGroup) => string): Promise<PlanGroup> {
  const file = path.join(w.tmp.path, 'plan.json');
  const r = await w.cli('plan', '--out', file);
  expect([0, 2], r.stdout + r.stderr).toContain(r.code);
  const group = readPlanFile(file).plan.groups.find((g) => g.action === 'move')!;
  const cfgJson = path.join(w.tmp.path, 'config.json');
  writeFileSync(cfgJson, JSON.stringify(loadConfig(w.configFile, { env: process.env, cwd: w.tmp.path }).config));
  const child = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgJson, file], {
    cwd: repo,
    env: { ...process.env, HASHALL_TEST_CRASH_AT_BOUNDARY: boundary(group) },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(child.signal, child.stderr).toBe('SIGKILL');
  return group;
}
