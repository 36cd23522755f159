// safety.verify on real tmpfs: the copy is read back before it gets its final name — `full` re-hashes it, `sample` compares blocks.
import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { faultyFsPort } from '../../support/faulty-fs.js';
import { bytesFor, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { testDeps } from '../../support/apply-deps.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

/** The disk handing back other bytes than were written: one byte of the fresh copy changes right after the copy. */
function flipAfterCopy(offset: number) {
  return faultyFsPort(realFsPort(), [
    {
      op: 'copyFileVerified',
      nth: 1,
      pathIncludes: 'a.mkv',
      after: (args) => {
        const fd = openSync(String(args[1]), 'r+');
        writeSync(fd, Buffer.from([0xff]), 0, 1, offset);
        closeSync(fd);
      },
    },
  ]);
}

function world(verify: 'full' | 'sample') {
  w = makeApplyFixture();
  w.config.safety.verify = verify;
  const src = path.join(w.stash, 'seeding', 'movies', 'Movie.B');
  writeTree(src, { 'a.mkv': bytesFor('a', 3 << 20), 'b.nfo': bytesFor('b', 100) });
  return { src, dst: path.join(w.pool, 'seeding', 'movies', 'Movie.B'), before: hashTreeSync(src) };
}

describe('safety.verify: the copy is read back', () => {
  it('full: a byte the target changed anywhere in the copy is caught; the group rolls back, no copy is left, the source is intact', async () => {
    const { src, dst, before } = world('full');
    const fs = flipAfterCopy(1_500_000); // between the sampled blocks: only a full read-back sees it
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/reads back as sha256 .* the target filesystem returned other bytes/);
    expect(existsSync(dst)).toBe(false);
    expect(hashallLeftovers(w.pool)).toEqual([]);
    expect(hashTreeSync(src)).toEqual(before);
  });

  it('full: a clean copy reads back once per file and lands', async () => {
    const { src, dst, before } = world('full');
    const fs = faultyFsPort(realFsPort(), []);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(res.status).toBe('succeeded');
    expect(fs.calls.hashFile).toBe(2);
    expect(fs.calls.sampleHash ?? 0).toBe(0);
    expect(hashTreeSync(dst)).toEqual(before);
  });

  it('sample: a changed sampled block is caught and rolled back; the read-back reads blocks, not whole files', async () => {
    const { src, dst, before } = world('sample');
    const fs = flipAfterCopy(10); // inside the first 64 KiB block
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/reads back with other sampled blocks/);
    expect(existsSync(dst)).toBe(false);
    expect(hashTreeSync(src)).toEqual(before);
    expect(fs.calls.hashFile ?? 0).toBe(0);

    const clean = faultyFsPort(realFsPort(), []);
    const ok = await applyPlan(testDeps(w, { fs: clean }), makePlan(w, [moveGroup('g2', w, src, dst)]));
    expect(ok.status).toBe('succeeded');
    expect(clean.calls.sampleHash).toBe(4); // source and copy of each of the two files
    expect(hashTreeSync(dst)).toEqual(before);
  });
});
