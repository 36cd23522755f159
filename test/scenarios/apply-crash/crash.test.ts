// kill -9 of apply at every journal boundary of a move (copy) group, then recover/rerun: converges, nothing lost, no leftovers.
import { applyChildCrashingAt } from '../../support/kill-apply.js';
import { singleClient } from '../../../src/clients/client-set.js';
import { describe, expect, it } from 'vitest';
import { existsSync, linkSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { runApply, runRecover } from '../../../src/reconcile/apply.js';
import { readLock } from '../../../src/apply/lock.js';
import { getRun } from '../../../src/apply/run-store.js';
import { bytesFor, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeTree } from '../../support/apply-fixture.js';

describe('kill -9 at every step boundary', () => {
  it('each crash is rolled back (or finished) by the next run, which then converges', async () => {
    let finishedNormally = false;
    let crashes = 0;
    for (let n = 1; n <= 40 && !finishedNormally; n++) {
      const w = makeApplyFixture();
      try {
        const src = path.join(w.stash, 'seeding', 'movies', 'Movie.K');
        writeTree(src, { 'a.bin': bytesFor('ka', 1 << 20), 'd/b.bin': bytesFor('kb', 70_000), 'd/e/c.bin': bytesFor('kc', 10) });
        // A second name of b.bin inside the payload: copied once, then linked (undo and recovery remove both names).
        linkSync(path.join(src, 'd/b.bin'), path.join(src, 'd/e/b-link.bin'));
        const before = hashTreeSync(src);
        const dst = path.join(w.pool, 'seeding', 'movies', 'Movie.K');
        const child = applyChildCrashingAt(w, [moveGroup('g1', w, src, dst)], n);
        if (child.signal !== 'SIGKILL') {
          expect(child.status, child.stderr).toBe(0);
          expect(JSON.parse(child.stdout).status).toBe('succeeded');
          finishedNormally = true;
          expect(hashTreeSync(dst)).toEqual(before);
          continue;
        }
        crashes++;
        // The killed run left its lock and a journal.
        expect(readLock(w.catalog.db)).not.toBeNull();
        expect(hashTreeSync(src)).toEqual(before); // the source is never touched by a move
        const common = { config: w.config, clients: singleClient(null), now: () => Date.now(), emit: () => undefined, catalog: w.catalog };
        let recoveredRun: string | null = null;
        if (n % 2 === 1) {
          const rec = await runRecover({ ...common, command: 'test recover' });
          expect(rec.length).toBeLessThanOrEqual(1);
          recoveredRun = rec[0]?.runId ?? null;
          if (rec[0]) expect(rec[0].status).toBe('recovered');
          expect(readLock(w.catalog.db)).toBeNull();
          // Rolled back: nothing of ours left on the target; finished: the full copy is there.
          const poolFiles = existsSync(dst) ? hashTreeSync(dst) : {};
          expect([{}, before]).toContainEqual(poolFiles);
          expect(hashallLeftovers(w.pool)).toEqual([]);
        }
        // The rerun (a fresh plan if the catalog moved on) recovers anything left and converges.
        const fresh = makePlan(w, [moveGroup('g1', w, src, dst)]);
        const rerun = () => runApply({ ...common, plan: makePlan(w, [moveGroup('g1', w, src, dst)]), planFile: null, planHash: null, command: 'test rerun' });
        let out;
        try {
          out = await runApply({ ...common, plan: fresh, planFile: null, planHash: null, command: 'test rerun' });
        } catch (err) {
          // Recovery FINISHED the group (bumping the serial), so the plan made before it is stale: re-plan, as a user would.
          expect((err as { exitCode?: number }).exitCode).toBe(5);
          const rec = getRun(w.catalog.db, (w.catalog.db.prepare(`SELECT id FROM runs WHERE status = 'recovered'`).get() as { id: string }).id)!;
          expect(rec.groupRecords[0]!.status).toBe('done');
          out = await rerun();
        }
        expect(out.result.status).toBe('succeeded');
        if (n % 2 === 0) recoveredRun = out.recovered[0]?.runId ?? null;
        expect(hashTreeSync(dst)).toEqual(before);
        expect(hashTreeSync(src)).toEqual(before);
        expect(hashallLeftovers(w.pool)).toEqual([]);
        expect(lstatSync(path.join(dst, 'd/e/b-link.bin')).ino).toBe(lstatSync(path.join(dst, 'd/b.bin')).ino);
        if (recoveredRun) expect(['recovered']).toContain(getRun(w.catalog.db, recoveredRun)!.status);
        expect((w.catalog.db.prepare(`SELECT COUNT(*) AS n FROM relocations`).get() as { n: number }).n).toBe(1);
      } finally {
        w.cleanup();
      }
    }
    expect(finishedNormally).toBe(true);
    expect(crashes).toBeGreaterThan(8);
  }, 600_000); // one child process per boundary; bounded by the loop count and this limit
});
