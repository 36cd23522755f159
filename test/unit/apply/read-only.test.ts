// A read-only target filesystem (EROFS) fails only the groups writing to it, cleanly, saying it is read-only; other groups go on.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import type { PlanGroup } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, dedupeFile, hashTreeSync, makeApplyFixture, makePlan, moveGroup, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';

let w: ApplyFixture;
afterEach(() => {
  if (w) execFileSync('mount', ['-o', 'remount,rw', w.pool]);
  w?.cleanup();
});

function dedupeGroup(id: string, keeper: string, dup: string, data: Buffer): PlanGroup {
  const k = dedupeFile(keeper, sha256(data));
  const d = dedupeFile(dup, sha256(data));
  return {
    id,
    key: `dedupe-${id}`,
    action: 'dedupe',
    title: path.basename(keeper),
    payloadHash: null,
    torrents: [],
    from: { fs: 'stash', path: keeper },
    to: { fs: 'stash', path: keeper },
    reasons: ['test'],
    rule: null,
    bytesToCopy: 0,
    bytesToFree: data.length,
    steps: [{ kind: 'dedupe-link', fs: 'stash', keeper: k, duplicate: d }],
    fingerprint: { files: [k, d], torrents: [] },
  };
}

describe('a read-only pool', () => {
  it('the pool group is rolled back before changing anything, says the filesystem is read-only, and the stash group after it runs', async () => {
    w = makeApplyFixture();
    const src = path.join(w.stash, 'seeding', 'movies', 'S');
    writeTree(src, { 'a.bin': bytesFor('a', 20_000), 'd/b.bin': bytesFor('b', 3000) });
    const before = hashTreeSync(src);
    const poolBefore = hashTreeSync(w.pool);
    const data = bytesFor('dd', 5000);
    const keeper = path.join(w.stash, 'seeding', 'k', 'k.bin');
    const dup = path.join(w.stash, 'seeding', 'd', 'd.bin');
    writeTree(path.dirname(keeper), { 'k.bin': data });
    writeTree(path.dirname(dup), { 'd.bin': data });
    const plan = makePlan(w, [moveGroup('g1', w, src, path.join(w.pool, 'seeding', 'movies', 'S')), dedupeGroup('g2', keeper, dup, data)]);
    execFileSync('mount', ['-o', 'remount,ro', w.pool]);
    const res = await applyPlan(testDeps(w), plan);
    expect(res.attention).toEqual([]);
    expect(res.groups.map((g) => g.status)).toEqual(['rolled-back', 'done']);
    expect(res.status).toBe('partial');
    expect(res.groups[0]!.error).toMatch(/read-only/);
    expect(res.groups[0]!.error).toMatch(/pool/);
    expect(lstatSync(dup).ino).toBe(lstatSync(keeper).ino);
    expect(hashTreeSync(src)).toEqual(before);
    expect(hashTreeSync(w.pool)).toEqual(poolBefore);
    expect(readdirSync(w.pool)).toEqual([]);
  });
});
