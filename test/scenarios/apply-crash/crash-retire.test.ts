// kill -9 of apply at every journal boundary of a retire group, then recover: the kept copy is intact, the source is back or gone, and nothing is left in the trash.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyPlan } from '../../../src/apply/executor.js';
import { runApply, runRecover } from '../../../src/apply/run-apply.js';
import type { PlanGroup } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, hashTreeSync, makeApplyWorld, makePlan, moveGroup, payloadHashOf, writeTree, type ApplyWorld } from '../../support/apply-world.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function retireGroup(src: string, dst: string, hash: string, relId: number): PlanGroup {
  return {
    id: 'r1',
    key: 'retire-1',
    action: 'retire',
    title: 'K',
    payloadHash: hash,
    torrents: [],
    from: { fs: 'stash', path: src },
    to: null,
    reasons: ['test retire'],
    rule: null,
    bytesToCopy: 0,
    bytesToFree: 0,
    steps: [{ kind: 'retire', fs: 'stash', root: src, payloadHash: hash, keptRoot: dst, keptFs: 'pool', relocationId: relId, bytes: 0 }],
    fingerprint: { files: [], torrents: [] },
  };
}

/** What the trash holds below its run directories (empty when every run's entries are gone). */
function trashLeft(w: ApplyWorld): string[] {
  const root = path.join(w.stash, '.hashall-trash');
  return existsSync(root) ? readdirSync(root) : [];
}

describe('kill -9 at every boundary of a retire', () => {
  it('each crash is rolled back or finished by recovery; the kept copy is never touched and the trash ends empty', async () => {
    let finishedNormally = false;
    let crashes = 0;
    for (let n = 1; n <= 30 && !finishedNormally; n++) {
      const w = makeApplyWorld();
      try {
        const src = path.join(w.stash, 'seeding', 'movies', 'K');
        writeTree(src, { 'a.bin': bytesFor('ka', 300_000), 'd/b.bin': bytesFor('kb', 7000), 'd/e/c.bin': bytesFor('kc', 10) });
        const before = hashTreeSync(src);
        const dst = path.join(w.pool, 'seeding', 'movies', 'K');
        expect((await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]))).status).toBe('succeeded');
        const relId = (w.catalog.db.prepare(`SELECT id FROM relocations`).get() as { id: number }).id;
        const hash = payloadHashOf(src);
        const cfgFile = path.join(w.root, 'config.json');
        const planFile = path.join(w.root, 'plan.json');
        writeFileSync(cfgFile, JSON.stringify(w.config));
        writeFileSync(planFile, JSON.stringify(makePlan(w, [retireGroup(src, dst, hash, relId)])));
        const child = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgFile, planFile], {
          cwd: repo,
          env: { ...process.env, HASHALL_TEST_CRASH_AT: String(n) },
          encoding: 'utf8',
          timeout: 60_000,
        });
        if (child.signal !== 'SIGKILL') {
          expect(child.status, child.stderr).toBe(0);
          expect(JSON.parse(child.stdout).status).toBe('succeeded');
          finishedNormally = true;
          expect(existsSync(src)).toBe(false);
          expect(hashTreeSync(dst)).toEqual(before);
          expect(trashLeft(w)).toEqual([]);
          continue;
        }
        crashes++;
        const common = { config: w.config, client: null, now: () => Date.now(), emit: () => undefined, catalog: w.catalog };
        const rec = await runRecover({ ...common, command: 'test recover' });
        expect(rec.map((r) => r.status), `crash at ${n}: ${JSON.stringify(rec)}`).toEqual(rec.length ? ['recovered'] : []);
        expect(hashTreeSync(dst)).toEqual(before); // the kept copy is never touched
        if (existsSync(src)) expect(hashTreeSync(src)).toEqual(before); // rolled back whole, or finished: never half a tree
        expect(trashLeft(w)).toEqual([]);
        if (existsSync(src)) {
          const out = await runApply({ ...common, plan: makePlan(w, [retireGroup(src, dst, hash, relId)]), planFile: null, planHash: null, command: 'test rerun' });
          expect(out.result.status).toBe('succeeded');
          expect(existsSync(src)).toBe(false);
          expect(trashLeft(w)).toEqual([]);
        }
        expect(hashTreeSync(dst)).toEqual(before);
      } finally {
        w.cleanup();
      }
    }
    expect(finishedNormally).toBe(true);
    expect(crashes).toBeGreaterThan(4);
  }, 600_000); // one child process per boundary; bounded by the loop count and this limit
});
