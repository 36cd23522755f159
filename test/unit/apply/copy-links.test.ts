// A move copies a payload's files that share one inode once and links the rest (as cp -a and rsync -H do), on real tmpfs; every failure path leaves nothing behind.
import { afterEach, describe, expect, it } from 'vitest';
import { linkSync, lstatSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { faultyFsPort } from '../../support/faulty-fs.js';
import { bytesFor, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { testDeps } from '../../support/apply-deps.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

const inoOf = (p: string) => lstatSync(p).ino;

/** Album: a cover linked into both disc folders (and a third name), a track of its own, a booklet linked to the library. */
function album() {
  w = makeApplyFixture();
  const src = path.join(w.stash, 'seeding', 'music', 'Album');
  writeTree(src, { 'CD1/cover.jpg': bytesFor('cover', 2 << 20), 'CD1/01.flac': bytesFor('t1', 300_000), 'booklet.pdf': bytesFor('booklet', 50_000) });
  linkSync(path.join(src, 'CD1/cover.jpg'), path.join(src, 'CD2-cover.jpg'));
  writeTree(src, { 'CD2/02.flac': bytesFor('t2', 200_000) });
  linkSync(path.join(src, 'CD1/cover.jpg'), path.join(src, 'CD2/cover.jpg'));
  writeTree(w.stash, { 'library/music/.keep': Buffer.from('') });
  linkSync(path.join(src, 'booklet.pdf'), path.join(w.stash, 'library', 'music', 'booklet.pdf'));
  const dst = path.join(w.pool, 'seeding', 'music', 'Album');
  return { src, dst, before: hashTreeSync(src) };
}

describe('copy keeps the links inside a payload', () => {
  it('three names of one inode arrive as one inode; its bytes are copied once; the source and its outside link are untouched', async () => {
    const { src, dst, before } = album();
    const res = await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(res.status, JSON.stringify(res)).toBe('succeeded');
    expect(hashTreeSync(dst)).toEqual(before);
    expect(hashTreeSync(src)).toEqual(before);
    const covers = ['CD1/cover.jpg', 'CD2/cover.jpg', 'CD2-cover.jpg'].map((r) => inoOf(path.join(dst, r)));
    expect(new Set(covers).size).toBe(1);
    expect(lstatSync(path.join(dst, 'CD1/cover.jpg')).nlink).toBe(3);
    // Only links inside the payload are kept: the booklet's library link stays on stash.
    expect(lstatSync(path.join(dst, 'booklet.pdf')).nlink).toBe(1);
    expect(new Set(['CD1/01.flac', 'CD2/02.flac', 'booklet.pdf', 'CD1/cover.jpg'].map((r) => inoOf(path.join(dst, r)))).size).toBe(4);
    expect(res.bytesCopied).toBe((2 << 20) + 300_000 + 200_000 + 50_000);
    expect(hashallLeftovers(w.pool)).toEqual([]);
  });

  it('a failure after the linked names were made rolls everything back: nothing of the payload is left at the target', async () => {
    const { src, dst, before } = album();
    // The booklet's copy runs after the covers are copied and linked (files are copied in name order).
    const fs = faultyFsPort(realFsPort(), [{ op: 'copyFileVerified', nth: 1, pathIncludes: 'booklet.pdf', code: 'EIO' }]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(fs.fired).toHaveLength(1);
    expect(res.status).toBe('rolled-back');
    expect(readdirSync(w.pool)).toEqual([]);
    expect(hashTreeSync(src)).toEqual(before);
    expect(lstatSync(path.join(src, 'CD1/cover.jpg')).nlink).toBe(3);
  });

  it('names linked when planned but no longer when copied are copied each (never linked by a stale idea of the source)', async () => {
    const { src, dst } = album();
    // Once the apply runs (at its first copy), someone replaces one name by an identical independent file.
    const split = path.join(src, 'CD2/cover.jpg');
    const fs = faultyFsPort(realFsPort(), [{ op: 'copyFileVerified', nth: 1, before: () => { unlinkSync(split); writeFileSync(split, bytesFor('cover', 2 << 20)); } }]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(fs.fired).toHaveLength(1);
    expect(res.status, JSON.stringify(res)).toBe('succeeded');
    expect(hashTreeSync(dst)).toEqual(hashTreeSync(src));
    expect(inoOf(path.join(dst, 'CD1/cover.jpg'))).toBe(inoOf(path.join(dst, 'CD2-cover.jpg')));
    expect(inoOf(path.join(dst, 'CD2/cover.jpg'))).not.toBe(inoOf(path.join(dst, 'CD1/cover.jpg')));
  });

  it('links across the journaled batches of a large payload (the first name placed in an earlier batch)', async () => {
    w = makeApplyFixture();
    const src = path.join(w.stash, 'seeding', 'misc', 'Many');
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 300; i++) files[`f${String(i).padStart(3, '0')}.bin`] = bytesFor(`m${i}`, 100);
    writeTree(src, files);
    unlinkSync(path.join(src, 'f299.bin'));
    linkSync(path.join(src, 'f000.bin'), path.join(src, 'f299.bin'));
    const before = hashTreeSync(src);
    const dst = path.join(w.pool, 'seeding', 'misc', 'Many');
    const res = await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(res.status, JSON.stringify(res)).toBe('succeeded');
    expect(hashTreeSync(dst)).toEqual(before);
    expect(inoOf(path.join(dst, 'f299.bin'))).toBe(inoOf(path.join(dst, 'f000.bin')));
    expect(res.bytesCopied).toBe(299 * 100);
    expect(hashallLeftovers(w.pool)).toEqual([]);
  });
});
