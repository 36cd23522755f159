// Interrupted runs are always recovered before anything else: a recovery killed -9 part-way (run left `interrupted`),
// and a run recorded under another host name (container renamed) once its lock was cleared with `unlock --force`.
import { singleClient } from '../../../src/clients/client-set.js';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyPlan } from '../../../src/apply/executor.js';
import { runRecover } from '../../../src/reconcile/apply.js';
import { getRun } from '../../../src/apply/run-store.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, fileList, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let w: ApplyFixture;
afterEach(() => w?.cleanup());

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('recovery that is itself interrupted', () => {
  it('is resumed by the next recovery: nothing this run created is left on the target', async () => {
    w = makeApplyFixture();
    const srcA = path.join(w.stash, 'seeding', 'movies', 'A');
    const srcB = path.join(w.stash, 'seeding', 'movies', 'B');
    writeTree(srcA, { 'a.bin': bytesFor('ra', 50_000) });
    writeTree(srcB, { 'b.bin': bytesFor('rb', 60_000) });
    const before = { a: hashTreeSync(srcA), b: hashTreeSync(srcB) };
    const dstA = path.join(w.pool, 'seeding', 'movies', 'A');
    const dstB = path.join(w.pool, 'seeding', 'movies', 'B');
    const filesB = fileList(srcB);
    const group = moveGroup('g1', w, srcA, dstA, [{ kind: 'copy', fromFs: 'stash', toFs: 'pool', fromRoot: srcB, toRoot: dstB, files: filesB, bytes: 60_000 }]);
    const plan = makePlan(w, [group]);

    // 1. An apply "dies" (its pid is gone) just as its second copy step starts: step 0 copied A to the pool.
    const crash = new Error('simulated crash');
    const deps = testDeps(w, {
      identity: { user: 'test', host: os.hostname(), pid: deadPid(), pidStart: null, command: 'crashed', planFile: null, planHash: null },
      // The journal write that marks step 1 running is the last thing this process does.
      onBoundary: (what) => {
        if (what === 'step-running g1#1') throw crash;
      },
    });
    await expect(applyPlan(deps, plan)).rejects.toBe(crash);
    expect(hashTreeSync(dstA)).toEqual(before.a);
    expect(existsSync(dstB)).toBe(false);
    const runId = deps.runId;

    // 2. The next apply's recovery is killed -9 right after its first journal write (step 1 undone, step 0 not yet).
    const cfgFile = path.join(w.root, 'config.json');
    const planFile = path.join(w.root, 'plan.json');
    writeFileSync(cfgFile, JSON.stringify(w.config));
    writeFileSync(planFile, JSON.stringify(plan));
    const child = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgFile, planFile], {
      cwd: repo,
      env: { ...process.env, HASHALL_TEST_CRASH_AT: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    expect(getRun(w.catalog.db, runId)!.groupRecords[0]!.steps[1]!.status).toBe('undone'); // the killed recovery undid step 1 ...
    expect(hashTreeSync(dstA)).toEqual(before.a); // ... but not step 0 yet

    // 3. The next recovery must finish the job.
    const rec = await runRecover({ config: w.config, clients: singleClient(null), now: () => Date.now(), emit: () => undefined, catalog: w.catalog, command: 'test recover' });
    expect(rec.map((r) => r.runId)).toContain(runId);
    expect(existsSync(dstA)).toBe(false);
    expect(hashTreeSync(srcA)).toEqual(before.a);
    expect(hashTreeSync(srcB)).toEqual(before.b);
    const run = getRun(w.catalog.db, runId)!;
    expect(run.status).toBe('recovered');
    expect(run.groupRecords[0]!.status).toBe('rolled-back');
  }, 120_000);
});

describe('an interrupted run recorded under another host name', () => {
  it('is recovered once its lock is gone (the lock proves it is not running), not silently left half done', async () => {
    w = makeApplyFixture();
    const srcA = path.join(w.stash, 'seeding', 'movies', 'A');
    const srcB = path.join(w.stash, 'seeding', 'movies', 'B');
    writeTree(srcA, { 'a.bin': bytesFor('ha', 40_000) });
    writeTree(srcB, { 'b.bin': bytesFor('hb', 30_000) });
    const dstA = path.join(w.pool, 'seeding', 'movies', 'A');
    const group = moveGroup('g1', w, srcA, dstA, [
      { kind: 'copy', fromFs: 'stash', toFs: 'pool', fromRoot: srcB, toRoot: path.join(w.pool, 'seeding', 'movies', 'B'), files: fileList(srcB), bytes: 30_000 },
    ]);
    const crash = new Error('simulated crash');
    const deps = testDeps(w, {
      // The container was re-created under a new host name since this run died.
      identity: { user: 'test', host: 'old-container-7f3a', pid: 12345, pidStart: null, command: 'crashed', planFile: null, planHash: null },
      onBoundary: (what) => {
        if (what === 'step-running g1#1') throw crash;
      },
    });
    await expect(applyPlan(deps, makePlan(w, [group]))).rejects.toBe(crash);
    expect(existsSync(dstA)).toBe(true);

    // No lock is held (cleared with `hashall unlock RUN --force`): the next recover must roll that group back.
    w.catalog.db.pragma('synchronous = NORMAL'); // a fresh process opens the catalog with NORMAL
    const syncAtBoundary: unknown[] = [];
    const rec = await runRecover({
      config: w.config,
      clients: singleClient(null),
      now: () => Date.now(),
      emit: () => undefined,
      catalog: w.catalog,
      command: 'test recover',
      onBoundary: () => syncAtBoundary.push(w.catalog.db.pragma('synchronous', { simple: true })),
    });
    expect(rec.map((r) => r.runId)).toContain(deps.runId);
    expect(existsSync(dstA)).toBe(false);
    expect(getRun(w.catalog.db, deps.runId)!.status).toBe('recovered');
    // Recovery's journal writes survive a power loss like the executor's (synchronous = FULL, 2).
    expect(syncAtBoundary.length).toBeGreaterThan(0);
    expect(new Set(syncAtBoundary)).toEqual(new Set([2]));
  });
});
