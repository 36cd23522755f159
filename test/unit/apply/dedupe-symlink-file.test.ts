// A dedupe file found to be a symbolic link when the group runs (replaced after planning): refused before any write, whichever path it is, even when both paths are hardlinks of one symlink.
import { afterEach, describe, expect, it } from 'vitest';
import { linkSync, lstatSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort, type FsPort } from '../../../src/apply/fs-port.js';
import { bytesFor, dedupeGroup, dedupePairOnStash, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { testDeps } from '../../support/apply-deps.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

/** The real port, with `change` made once, when the run first reads a path's identity (after the plan's freshness check, which reads with lstat). */
function changedAfterPreflight(change: () => void): FsPort {
  const real = realFsPort();
  let done = false;
  return {
    ...real,
    lstatId: async (p) => {
      if (!done) {
        done = true;
        change();
      }
      return real.lstatId(p);
    },
  };
}

describe('a dedupe file that is a symbolic link when its group runs', () => {
  it.each(['keeper', 'duplicate'] as const)('the %s replaced by a symlink to a true copy: refused, nothing written, the symlink and every byte kept', async (which) => {
    w = makeApplyFixture();
    const data = bytesFor('dup', 100_000);
    const { keeper, dup, group } = dedupePairOnStash(w, data);
    writeTree(w.stash, { 'seeding/c/copy.bin': data });
    const copy = path.join(w.stash, 'seeding/c/copy.bin');
    const victim = which === 'keeper' ? keeper : dup;
    const fs = changedAfterPreflight(() => {
      rmSync(victim);
      symlinkSync(copy, victim);
    });
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [group]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/symbolic link/);
    expect(lstatSync(victim).isSymbolicLink()).toBe(true);
    expect(readlinkSync(victim)).toBe(copy);
    const other = which === 'keeper' ? dup : keeper;
    expect(lstatSync(other).nlink).toBe(1);
    expect(hashTreeSync(path.join(w.stash, 'seeding/c'))).toEqual({ 'copy.bin': sha256(data) });
    expect(sha256(readFileSync(other))).toBe(sha256(data));
    expect(hashallLeftovers(w.stash)).toEqual([]);
  });

  it('keeper and duplicate both hardlinks of one symlink (one inode at both paths): refused, not taken for already linked', async () => {
    w = makeApplyFixture();
    const data = bytesFor('dup', 100_000);
    const { keeper, dup, group } = dedupePairOnStash(w, data);
    writeTree(w.stash, { 'seeding/c/copy.bin': data });
    const copy = path.join(w.stash, 'seeding/c/copy.bin');
    const fs = changedAfterPreflight(() => {
      rmSync(keeper);
      rmSync(dup);
      symlinkSync(copy, keeper);
      linkSync(keeper, dup); // link(2) does not follow: a second name of the symlink itself
    });
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [group]));
    expect(lstatSync(dup).ino).toBe(lstatSync(keeper).ino);
    expect(res.status).not.toBe('succeeded');
    expect(res.groups[0]!.status).not.toBe('done');
    expect(res.groups[0]!.error).toMatch(/symbolic link/);
    expect(lstatSync(keeper).isSymbolicLink() && lstatSync(dup).isSymbolicLink()).toBe(true);
    expect(hashTreeSync(path.join(w.stash, 'seeding/c'))).toEqual({ 'copy.bin': sha256(data) });
    expect(hashallLeftovers(w.stash)).toEqual([]);
  });

  it('a folder of duplicates that is a symlink: every group with a file there is refused by the scope check (the folder read for each, never taken as proven), the others linked', async () => {
    w = makeApplyFixture();
    const [a, b, c] = [bytesFor('a', 70_000), bytesFor('b', 80_000), bytesFor('c', 90_000)];
    const seeding = path.join(w.stash, 'seeding');
    writeTree(seeding, { 'm/a.bin': a, 'm/b.bin': b, 'm/c.bin': c, 'x/a.bin': a, 'real-y/b.bin': b, 'real-y/c.bin': c });
    const p = (r: string) => path.join(seeding, r);
    symlinkSync(p('real-y'), p('y'));
    const plan = makePlan(w, [
      dedupeGroup('g1', p('m/a.bin'), [p('x/a.bin')], sha256(a), a.length),
      dedupeGroup('g2', p('m/b.bin'), [p('y/b.bin')], sha256(b), b.length),
      dedupeGroup('g3', p('m/c.bin'), [p('y/c.bin')], sha256(c), c.length),
    ]);
    const res = await applyPlan(testDeps(w), plan);
    expect(res.groups.map((g) => g.status)).toEqual(['done', 'rolled-back', 'rolled-back']);
    for (const g of res.groups.slice(1)) expect(g.error).toMatch(/refusing dedupe-link step: .*\/y is a symbolic link \(on the way to/);
    expect(lstatSync(p('x/a.bin')).ino).toBe(lstatSync(p('m/a.bin')).ino);
    for (const f of ['b.bin', 'c.bin']) expect(lstatSync(p(`real-y/${f}`)).nlink).toBe(1);
    expect(hashTreeSync(p('real-y'))).toEqual({ 'b.bin': sha256(b), 'c.bin': sha256(c) });
    expect(hashallLeftovers(w.stash)).toEqual([]);
  });
});
