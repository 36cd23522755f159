// A target directory swapped for a symlink while a group copies: nothing is written outside the roots, the group rolls back, the message says it looks like an attack.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { faultyFsPort } from '../../support/faulty-fs.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

describe('a directory swapped for a symlink during a copy', () => {
  it('the next write is refused: nothing lands outside, the group is rolled back, the message says it looks like an attack', async () => {
    w = makeApplyFixture();
    const src = path.join(w.stash, 'seeding', 'movies', 'S');
    writeTree(src, { 'a.bin': bytesFor('a', 20_000), 'd/b.bin': bytesFor('b', 30_000), 'd/c.bin': bytesFor('c', 40_000) });
    const before = hashTreeSync(src);
    const dst = path.join(w.pool, 'seeding', 'movies', 'S');
    // Outside every root, on another filesystem (the disk holding the test's temp dir): where the attacker aims.
    const outside = path.join(w.root, 'outside');
    mkdirSync(outside);
    const hidden = path.join(w.pool, 'hidden-d');
    // Files are copied to temp names in name order (a.bin, d/b.bin, d/c.bin), then linked into place in that order.
    // Right after d/b.bin is linked, a local user who can write in S moves d away and puts a symlink to `outside` there.
    const fs = faultyFsPort(realFsPort(), [
      {
        op: 'link',
        nth: 2,
        after: () => {
          renameSync(path.join(dst, 'd'), hidden);
          symlinkSync(outside, path.join(dst, 'd'));
        },
      },
    ]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(fs.fired.length).toBe(1);
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/looks like an attack/);
    expect(res.groups[0]!.error).toMatch(/d was replaced by a symbolic link/);
    expect(readdirSync(outside)).toEqual([]); // nothing written through the symlink
    expect(existsSync(path.join(dst, 'a.bin'))).toBe(false); // what hashall wrote where it checked is undone
    expect(lstatSync(path.join(dst, 'd')).isSymbolicLink()).toBe(true); // the attacker's link is not hashall's to remove
    expect(hashTreeSync(src)).toEqual(before); // the source is untouched
  });
});
