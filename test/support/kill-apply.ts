// apply run in a child process that kills itself (SIGKILL) at a journal boundary: of an apply fixture's plan at the Nth boundary, or of a stash/pool world's saved plan at a boundary of its move group (test support).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { readPlanFile } from '../../src/plan/plan-file-io.js';
import type { PlanGroup } from '../../src/plan/types.js';
import { makePlan, type ApplyFixture } from './apply-fixture.js';
import type { StashPoolWorld } from './stash-pool-world.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The fixture's config and a plan of `groups` saved in `w.root`, then applied in a child (test/support/apply-child.ts)
 * that kills itself with SIGKILL at its `n`th journal boundary (HASHALL_TEST_CRASH_AT): the child's result — signal
 * SIGKILL when it was killed, else it ran to its end (fewer than `n` boundaries).
 */
export function applyChildCrashingAt(w: ApplyFixture, groups: PlanGroup[], n: number): SpawnSyncReturns<string> {
  const cfgFile = path.join(w.root, 'config.json');
  const planFile = path.join(w.root, 'plan.json');
  writeFileSync(cfgFile, JSON.stringify(w.config));
  writeFileSync(planFile, JSON.stringify(makePlan(w, groups)));
  return spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgFile, planFile], {
    cwd: repo,
    env: { ...process.env, HASHALL_TEST_CRASH_AT: String(n) },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

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
