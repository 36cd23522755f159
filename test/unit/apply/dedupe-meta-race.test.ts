// A dedupe pair whose owner, group or mode changes after its byte compare and before its swap: the link would make the duplicate's path show the keeper's new mode, so the mode is read again on both paths right before the swap.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, dedupeGroup, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { faultyFsPort } from '../../support/faulty-fs.js';

let w: ApplyFixture | null = null;
afterEach(() => {
  w?.cleanup();
  w = null;
});

describe('a dedupe pair chmod-ed between its compare and its swap', () => {
  for (const which of ['keeper', 'duplicate'] as const) {
    it(`the ${which} made private after the compare: refused naming the mode, nothing linked, its bytes and mode kept; the other pair links`, async () => {
      w = makeApplyFixture();
      const seeding = path.join(w.stash, 'seeding');
      const [a, b] = ['a', 'b'].map((n) => bytesFor(`meta-race-${n}`, 40_000));
      writeTree(seeding, { 'm/a.bin': a!, 'x/a.bin': a!, 'm/b.bin': b!, 'y/b.bin': b! });
      const p = (r: string) => path.join(seeding, r);
      const plan = makePlan(w, [dedupeGroup('g1', p('m/a.bin'), [p('x/a.bin')], sha256(a!), a!.length), dedupeGroup('g2', p('m/b.bin'), [p('y/b.bin')], sha256(b!), b!.length)]);
      const before = hashTreeSync(seeding);
      const target = which === 'keeper' ? p('m/a.bin') : p('x/a.bin');
      const mode = lstatSync(target).mode & 0o7777;
      // Right after the first pair's compare (its bytes equal, its files as planned), the owner makes one file private:
      // its mtime and size stay as planned, only the mode tells.
      const fs = faultyFsPort(realFsPort(), [{ op: 'sameBytes', nth: 1, after: () => chmodSync(target, 0o600) }]);
      const res = await applyPlan(testDeps(w, { fs }), plan);
      expect(fs.fired.length).toBe(1);
      expect(mode).not.toBe(0o600);
      expect(res.groups.map((g) => g.status)).toEqual(['rolled-back', 'done']);
      expect(res.groups[0]!.error).toMatch(/now has .*0?600/);
      expect(lstatSync(p('x/a.bin')).ino).not.toBe(lstatSync(p('m/a.bin')).ino);
      expect(lstatSync(target).mode & 0o7777).toBe(0o600);
      expect(lstatSync(which === 'keeper' ? p('x/a.bin') : p('m/a.bin')).mode & 0o7777).toBe(mode);
      expect(lstatSync(p('y/b.bin')).ino).toBe(lstatSync(p('m/b.bin')).ino);
      expect(hashTreeSync(seeding)).toEqual(before);
      expect(hashallLeftovers(w.stash)).toEqual([]);
    });
  }
});
