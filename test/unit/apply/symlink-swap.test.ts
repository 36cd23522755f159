// A directory swapped for a symlink while a group copies or a dedupe batch links: nothing is written through it, the group rolls back, the message says it looks like an attack.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, symlinkSync } from 'node:fs';
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

describe('a folder of duplicates swapped for a symlink to a root-only folder between its proof and the link', () => {
  it('the temp link and the swap go to the folder proven, never through the symlink; its groups roll back as an attack, no byte lost', async () => {
    w = makeApplyFixture();
    const seeding = path.join(w.stash, 'seeding');
    const [a, b, c] = ['a', 'b', 'c'].map((n) => bytesFor(`swap-window-${n}`, 30_000));
    writeTree(seeding, { 'm/a.bin': a!, 'x/a.bin': a!, 'm/b.bin': b!, 'y/b.bin': b!, 'm/c.bin': c!, 'y/c.bin': c! });
    // Root's own folder, beside the roots: a local user may not list or write it, but can aim a symlink at it. It holds
    // files named like the duplicates (what a rename through the symlink would replace).
    const vault = path.join(w.stash, 'vault');
    writeTree(vault, { 'b.bin': bytesFor('root-secret-b', 5_000), 'c.bin': bytesFor('root-secret-c', 6_000) });
    chmodSync(vault, 0o700);
    const before = hashTreeSync(seeding);
    const vaultBefore = hashTreeSync(vault);
    const p = (r: string) => path.join(seeding, r);
    const plan = makePlan(w, [
      dedupeGroup('g1', p('m/a.bin'), [p('x/a.bin')], sha256(a!), a!.length),
      dedupeGroup('g2', p('m/b.bin'), [p('y/b.bin')], sha256(b!), b!.length),
      dedupeGroup('g3', p('m/c.bin'), [p('y/c.bin')], sha256(c!), c!.length),
    ]);
    // Right before the first link into y (every check and the folder's proof passed), a local user who can write in
    // the seeding tree moves y away and puts a symlink to root's folder in its place; after each link into y the root
    // folder is looked at (what a link through the symlink would have put there is seen before any undo removes it).
    const moved = path.join(seeding, 'moved-y');
    const seen: string[][] = [];
    const look = () => void seen.push(readdirSync(vault).sort());
    const fs = faultyFsPort(realFsPort(), [
      {
        op: 'link',
        nth: 2,
        before: () => {
          renameSync(p('y'), moved);
          symlinkSync(vault, p('y'));
        },
      },
      { op: 'link', nth: 2, after: look },
      { op: 'link', nth: 3, after: look },
    ]);
    const res = await applyPlan(testDeps(w, { fs }), plan);
    // Root's folder never held anything of hashall's (right after the first link into y: before, a temp link of the
    // keeper appeared there), and holds its own files unchanged.
    expect(seen[0]).toEqual(['b.bin', 'c.bin']);
    expect(fs.fired.length).toBe(3);
    expect(seen).toEqual([
      ['b.bin', 'c.bin'],
      ['b.bin', 'c.bin'],
    ]);
    expect(res.groups.map((g) => g.status)).toEqual(['done', 'rolled-back', 'rolled-back']);
    for (const g of res.groups.slice(1)) expect(g.error).toMatch(/looks like an attack/);
    expect(hashTreeSync(vault)).toEqual(vaultBefore);
    // The moved folder: its own two files, nothing swapped in it (the proof before each swap saw the move), no temp link.
    expect(readdirSync(moved).sort()).toEqual(['b.bin', 'c.bin']);
    expect(lstatSync(path.join(moved, 'b.bin')).nlink).toBe(1);
    expect(lstatSync(path.join(moved, 'c.bin')).nlink).toBe(1);
    expect(hashTreeSync(moved)).toEqual({ 'b.bin': before['y/b.bin'], 'c.bin': before['y/c.bin'] });
    expect(lstatSync(p('x/a.bin')).ino).toBe(lstatSync(p('m/a.bin')).ino);
    expect(hashTreeSync(p('m'))).toEqual({ 'a.bin': before['m/a.bin'], 'b.bin': before['m/b.bin'], 'c.bin': before['m/c.bin'] });
    expect(hashallLeftovers(w.stash)).toEqual([]);
  });
});
