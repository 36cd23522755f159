// kill -9 of apply during a copy of many small files (journaled per batch): at every journal boundary and between
// disk mutations inside a batch; recover + rerun converge, every byte re-hashed, nothing lost, no leftovers.
import { singleClient } from '../../../src/clients/client-set.js';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runApply, runRecover } from '../../../src/reconcile/apply.js';
import { readLock } from '../../../src/apply/lock.js';
import { COPY_BATCH_FILES } from '../../../src/apply/steps/copy.js';
import { bytesFor, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeTree } from '../../support/apply-fixture.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FILES = COPY_BATCH_FILES + 40; // two batches, the second one partial

/** One apply child killed at `env`'s crash point, then recover (odd runs) and a rerun; returns whether the child was killed. */
async function crashAndConverge(env: Record<string, string>, recoverFirst: boolean): Promise<boolean> {
  const w = makeApplyFixture();
  try {
    const src = path.join(w.stash, 'seeding', 'many', 'Many.Files');
    const tree: Record<string, Buffer> = {};
    for (let i = 0; i < FILES; i++) tree[`d${i % 37}/sub${i % 3}/f${i}.bin`] = bytesFor(`many-${i}`, 64 + (i % 5) * 100);
    writeTree(src, tree);
    const before = hashTreeSync(src);
    const dst = path.join(w.pool, 'seeding', 'many', 'Many.Files');
    const cfgFile = path.join(w.root, 'config.json');
    const planFile = path.join(w.root, 'plan.json');
    writeFileSync(cfgFile, JSON.stringify(w.config));
    writeFileSync(planFile, JSON.stringify(makePlan(w, [moveGroup('g1', w, src, dst)])));
    const child = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgFile, planFile], {
      cwd: repo,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (child.signal !== 'SIGKILL') {
      expect(child.status, child.stderr).toBe(0);
      expect(JSON.parse(child.stdout).status).toBe('succeeded');
      expect(hashTreeSync(dst)).toEqual(before);
      return false;
    }
    expect(readLock(w.catalog.db)).not.toBeNull();
    expect(hashTreeSync(src)).toEqual(before);
    const common = { config: w.config, clients: singleClient(null), now: () => Date.now(), emit: () => undefined, catalog: w.catalog };
    if (recoverFirst) {
      const rec = await runRecover({ ...common, command: 'test recover' });
      if (rec[0]) expect(rec[0].status).toBe('recovered');
      // Rolled back (nothing of ours left) or finished (the full copy): never a part, never a stray temp file.
      expect([{}, before]).toContainEqual(existsSync(dst) ? hashTreeSync(dst) : {});
      expect(hashallLeftovers(w.pool)).toEqual([]);
    }
    const rerun = () => runApply({ ...common, plan: makePlan(w, [moveGroup('g1', w, src, dst)]), planFile: null, planHash: null, command: 'test rerun' });
    let out;
    try {
      out = await rerun();
    } catch (err) {
      // A finished recovery moved the catalog on: the rerun re-plans, as a user would.
      expect((err as { exitCode?: number }).exitCode).toBe(5);
      out = await rerun();
    }
    expect(out.result.status).toBe('succeeded');
    expect(hashTreeSync(dst)).toEqual(before);
    expect(hashTreeSync(src)).toEqual(before);
    expect(hashallLeftovers(w.pool)).toEqual([]);
    return true;
  } finally {
    w.cleanup();
  }
}

describe(`kill -9 during a copy of ${FILES} small files`, () => {
  it('at every journal boundary: each crash is rolled back or finished, then the rerun converges', async () => {
    let crashes = 0;
    let finished = false;
    for (let n = 1; n <= 40 && !finished; n++) {
      if (await crashAndConverge({ HASHALL_TEST_CRASH_AT: String(n) }, n % 2 === 1)) crashes++;
      else finished = true;
    }
    expect(finished).toBe(true);
    expect(crashes).toBeGreaterThan(8);
  }, 900_000);

  it('between disk mutations inside a batch (after mkdir, mid-copy, between link and unlink, before the inodes are journaled)', async () => {
    // Mutations, in order (counted with the real FsPort): batch 1 — 96 mkdirs (1–96), 256 copies to temp names
    // (97–352; their inodes are journaled after the last), a link and an unlink per file (353–864); batch 2 — 15
    // mkdirs (865–879), 40 copies (880–919), links and unlinks (920–999); then one syncfs of the pool makes all 296
    // files and their folders durable (1000: more than SYNCFS_MIN_FILES files).
    const B = COPY_BATCH_FILES;
    const points = [1, 96, 200, 96 + B, 97 + B, 98 + B, 700, 96 + 3 * B + 15 + 10, 999, 1000];
    for (const [k, at] of points.entries()) expect(await crashAndConverge({ HASHALL_TEST_CRASH_FS_AT: String(at) }, k % 2 === 0), `crash after mutation ${at}`).toBe(true);
  }, 900_000);
});
