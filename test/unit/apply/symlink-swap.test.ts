// A directory swapped for a symlink while a group copies or a dedupe batch links: nothing is written through it, the group rolls back, the message says it looks like an attack.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, dedupeGroup, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, moveGroup, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
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

describe('a folder of duplicates swapped for a symlink in the middle of a dedupe batch', () => {
  it("after the batch's scope checks: no link is made through it, its groups roll back as an attack, the others link, no byte lost", async () => {
    w = makeApplyFixture();
    const seeding = path.join(w.stash, 'seeding');
    const [a, b, c] = ['a', 'b', 'c'].map((n) => bytesFor(`swap-batch-${n}`, 30_000));
    writeTree(seeding, { 'm/a.bin': a!, 'x/a.bin': a!, 'm/b.bin': b!, 'y/b.bin': b!, 'm/c.bin': c!, 'y/c.bin': c! });
    const before = hashTreeSync(seeding);
    const p = (r: string) => path.join(seeding, r);
    const plan = makePlan(w, [
      dedupeGroup('g1', p('m/a.bin'), [p('x/a.bin')], sha256(a!), a!.length),
      dedupeGroup('g2', p('m/b.bin'), [p('y/b.bin')], sha256(b!), b!.length),
      dedupeGroup('g3', p('m/c.bin'), [p('y/c.bin')], sha256(c!), c!.length),
    ]);
    // Every group's scope was checked (y found a real folder); right after the first compare, a local user moves y
    // away (same filesystem, so the files it holds are the very inodes planned) and puts a symlink to it in its place.
    const moved = path.join(w.stash, 'moved-y');
    const fs = faultyFsPort(realFsPort(), [
      {
        op: 'sameBytes',
        nth: 1,
        after: () => {
          renameSync(p('y'), moved);
          symlinkSync(moved, p('y'));
        },
      },
    ]);
    const res = await applyPlan(testDeps(w, { fs }), plan);
    expect(fs.fired.length).toBe(1);
    expect(res.groups.map((g) => g.status)).toEqual(['done', 'rolled-back', 'rolled-back']);
    for (const g of res.groups.slice(1)) expect(g.error).toMatch(/looks like an attack/);
    expect(lstatSync(p('x/a.bin')).ino).toBe(lstatSync(p('m/a.bin')).ino);
    // Nothing made through the symlink: the moved folder holds its own two files, unlinked, and no temp link.
    expect(readdirSync(moved).sort()).toEqual(['b.bin', 'c.bin']);
    expect(lstatSync(path.join(moved, 'b.bin')).ino).not.toBe(lstatSync(p('m/b.bin')).ino);
    expect(lstatSync(path.join(moved, 'c.bin')).nlink).toBe(1);
    expect(lstatSync(p('y')).isSymbolicLink()).toBe(true); // the attacker's link is not hashall's to remove
    expect(hashTreeSync(moved)).toEqual({ 'b.bin': before['y/b.bin'], 'c.bin': before['y/c.bin'] });
    expect(hashTreeSync(p('m'))).toEqual({ 'a.bin': before['m/a.bin'], 'b.bin': before['m/b.bin'], 'c.bin': before['m/c.bin'] });
    expect(hashTreeSync(p('x'))).toEqual({ 'a.bin': before['x/a.bin'] });
    expect(hashallLeftovers(w.stash)).toEqual([]);
  });
});
