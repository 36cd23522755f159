// applyPlan on real tmpfs filesystems: a move linking the part of its payload already on the target from its donor re-reads the donor's bytes first; a donor whose bytes rotted (same size and mtime) is never linked.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, type ApplyFixture } from '../../support/apply-fixture.js';
import { testDeps } from '../../support/apply-deps.js';
import { rot } from '../../support/bit-rot.js';
import { partlyPresentMove } from '../../support/partly-present.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

describe('a move whose payload is partly on the target already', () => {
  it('copies only the missing file and links the present one from its donor: one inode with it on the pool', async () => {
    w = makeApplyFixture();
    const { src, dst, donor, group } = partlyPresentMove(w);
    const before = hashTreeSync(src);
    const res = await applyPlan(testDeps(w), makePlan(w, [group]));
    expect(res.status, res.groups[0]?.error ?? '').toBe('succeeded');
    expect(hashTreeSync(dst)).toEqual(before);
    expect(lstatSync(path.join(dst, 'Show.S01E03.mkv')).ino).toBe(lstatSync(donor).ino);
    expect(res.bytesCopied).toBe(4000);
    expect(hashallLeftovers(w.pool)).toEqual([]);
  });

  it('a donor whose bytes rotted since the scan (same size and mtime) is never linked: the group rolls back, nothing left on the pool', async () => {
    w = makeApplyFixture();
    const { src, dst, donor, group } = partlyPresentMove(w);
    const before = hashTreeSync(src);
    const ino = lstatSync(donor).ino;
    rot(donor, 1234);
    const res = await applyPlan(testDeps(w), makePlan(w, [group]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/does not hold the content the plan links/);
    expect(existsSync(dst)).toBe(false);
    expect(lstatSync(donor)).toMatchObject({ ino, nlink: 1 });
    expect(hashTreeSync(src)).toEqual(before);
    expect(hashallLeftovers(w.pool)).toEqual([]);
  });
});
