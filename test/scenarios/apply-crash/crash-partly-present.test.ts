// kill -9 of apply at every journal boundary of a move linking the part of its payload already on the pool from its donor (copy the rest, link the episode), then recover/rerun: converges, the donor never touched, nothing left over.
import { applyChildCrashingAt } from '../../support/kill-apply.js';
import { singleClient } from '../../../src/clients/client-set.js';
import { describe, expect, it } from 'vitest';
import { existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { runApply, runRecover } from '../../../src/reconcile/apply.js';
import { readLock } from '../../../src/apply/lock.js';
import { hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan } from '../../support/apply-fixture.js';
import { partlyPresentMove } from '../../support/partly-present.js';

describe('kill -9 at every step boundary of a move linking a present file', () => {
  it('each crash is rolled back by recover (or the next run), which then converges to one inode shared with the donor', async () => {
    let finishedNormally = false;
    let crashes = 0;
    for (let n = 1; n <= 40 && !finishedNormally; n++) {
      const w = makeApplyFixture();
      try {
        const { src, dst, donor, group } = partlyPresentMove(w);
        const before = hashTreeSync(src);
        const pack = hashTreeSync(path.dirname(donor));
        const donorIno = lstatSync(donor).ino;
        const child = applyChildCrashingAt(w, [group], n);
        if (child.signal !== 'SIGKILL') {
          expect(child.status, child.stderr).toBe(0);
          expect(JSON.parse(child.stdout).status).toBe('succeeded');
          finishedNormally = true;
          expect(hashTreeSync(dst)).toEqual(before);
          expect(lstatSync(path.join(dst, 'Show.S01E03.mkv')).ino).toBe(donorIno);
          continue;
        }
        crashes++;
        expect(readLock(w.catalog.db)).not.toBeNull();
        expect(hashTreeSync(src)).toEqual(before);
        const common = { config: w.config, clients: singleClient(null), now: () => Date.now(), emit: () => undefined, catalog: w.catalog };
        const rec = await runRecover({ ...common, command: 'test recover' });
        expect(rec.length).toBeLessThanOrEqual(1);
        if (rec[0]) expect(rec[0].status).toBe('recovered');
        expect(readLock(w.catalog.db)).toBeNull();
        // Rolled back: nothing of ours on the pool — no copy, no link (the donor back to its one name); or finished.
        if (existsSync(dst)) expect(hashTreeSync(dst)).toEqual(before);
        else expect(lstatSync(donor).nlink).toBe(1);
        expect(hashTreeSync(path.dirname(donor))).toEqual(pack);
        expect(lstatSync(donor).ino).toBe(donorIno);
        expect(hashallLeftovers(w.pool)).toEqual([]);
        // The rerun (made now, as a fresh plan would be) converges.
        if (!existsSync(dst)) {
          const out = await runApply({ ...common, plan: makePlan(w, [group]), planFile: null, planHash: null, command: 'test rerun' });
          expect(out.result.status).toBe('succeeded');
        }
        expect(hashTreeSync(dst)).toEqual(before);
        expect(lstatSync(path.join(dst, 'Show.S01E03.mkv')).ino).toBe(donorIno);
        expect(hashTreeSync(src)).toEqual(before);
        expect(hashallLeftovers(w.pool)).toEqual([]);
      } finally {
        w.cleanup();
      }
    }
    expect(finishedNormally).toBe(true);
    expect(crashes).toBeGreaterThan(5);
  }, 600_000);
});
