// Hand-edited plans: steps reaching outside the configured roots (other directories, `..`, symlinked parents) are refused before anything is touched.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, dedupeFile, fingerprint, hashTreeSync, makeApplyFixture, makePlan, moveGroup, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { copyFilesOf, type PlanGroup } from '../../../src/plan/types.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

function world() {
  w = makeApplyFixture();
  const src = path.join(w.stash, 'seeding', 'movies', 'S');
  writeTree(src, { 'a.bin': bytesFor('sa', 20_000), 'd/b.bin': bytesFor('sb', 3000) });
  return { src, before: hashTreeSync(src) };
}

async function refused(group: PlanGroup, pattern: RegExp): Promise<void> {
  const res = await applyPlan(testDeps(w), makePlan(w, [group]));
  expect(res.status).toBe('rolled-back');
  expect(res.groups[0]!.error).toMatch(pattern);
}

describe('plan steps outside the configured roots', () => {
  it('a copy target outside every seeding root is refused and nothing is written there', async () => {
    const { src, before } = world();
    const outside = path.join(w.pool, 'not-seeding', 'S'); // on the pool filesystem, but not in a seeding root
    await refused(moveGroup('g1', w, src, outside), /not inside/);
    expect(existsSync(outside)).toBe(false);
    expect(hashTreeSync(src)).toEqual(before);
  });

  it('a target spelled with `..` that leaves the seeding root is refused', async () => {
    const { src } = world();
    const sneaky = `${w.pool}/seeding/../elsewhere/S`;
    await refused(moveGroup('g1', w, src, sneaky), /normalized/);
    expect(existsSync(path.join(w.pool, 'elsewhere'))).toBe(false);
  });

  it('a file relpath with `..` that leaves the target is refused', async () => {
    const { src } = world();
    const dst = path.join(w.pool, 'seeding', 'movies', 'S');
    const g = moveGroup('g1', w, src, dst);
    const copy = g.steps[0]!;
    if (copy.kind !== 'copy') throw new Error('expected a copy step');
    writeTree(path.join(w.stash, 'seeding', 'x'), { 'evil.bin': bytesFor('evil', 10) });
    copyFilesOf(copy).push({ relpath: '../../x/evil.bin', size: 10, sha256: sha256(bytesFor('evil', 10)) });
    await refused(g, /escapes/);
    expect(existsSync(dst)).toBe(false);
  });

  it('a symlinked directory inside the target seeding root is never written through', async () => {
    const { src, before } = world();
    const elsewhere = path.join(w.pool, 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    mkdirSync(path.join(w.pool, 'seeding'), { recursive: true });
    symlinkSync(elsewhere, path.join(w.pool, 'seeding', 'movies'));
    await refused(moveGroup('g1', w, src, path.join(w.pool, 'seeding', 'movies', 'S')), /symbolic link/);
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(hashTreeSync(src)).toEqual(before);
  });

  it('a dedupe step naming a file outside the scanned roots leaves it alone', async () => {
    world();
    const data = bytesFor('dd', 5000);
    const keeper = path.join(w.stash, 'seeding', 'k.bin');
    const victim = path.join(w.stash, 'system', 'config.bin'); // same filesystem, not a seeding or library root
    writeTree(path.dirname(keeper), { 'k.bin': data });
    mkdirSync(path.dirname(victim), { recursive: true });
    writeFileSync(victim, data);
    const k = dedupeFile(keeper, sha256(data));
    const v = dedupeFile(victim, sha256(data));
    const g: PlanGroup = {
      id: 'g1',
      key: 'dedupe-test',
      action: 'dedupe',
      title: 'k.bin',
      payloadHash: null,
      torrents: [],
      from: { fs: 'stash', path: keeper },
      to: { fs: 'stash', path: keeper },
      reasons: ['test'],
      rule: null,
      bytesToCopy: 0,
      bytesToFree: 5000,
      steps: [{ kind: 'dedupe-link', fs: 'stash', keeper: k, duplicate: v }],
      fingerprint: { files: [k, v], torrents: [] },
    };
    await refused(g, /not inside/);
    expect(fingerprint(victim).ino).toBe(v.ino); // not replaced by a hardlink
  });

  it('a normal move inside the seeding roots still runs', async () => {
    const { src, before } = world();
    const dst = path.join(w.pool, 'seeding', 'movies', 'S');
    const res = await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(res.status).toBe('succeeded');
    expect(hashTreeSync(dst)).toEqual(before);
  });
});

describe('copy never makes a hitchhiker', () => {
  it('a target directory that already holds other files (another torrent) is refused, and nothing is added to it', async () => {
    const { src, before } = world();
    const dst = path.join(w.pool, 'seeding', 'movies', 'S');
    writeTree(dst, { 'Other.Torrent.mkv': bytesFor('other', 7000) });
    const res = await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/Other\.Torrent\.mkv/);
    expect(readdirSync(dst)).toEqual(['Other.Torrent.mkv']);
    expect(hashTreeSync(src)).toEqual(before);
  });

  it('a target holding some of the same files (an earlier partial copy with the same bytes) is completed', async () => {
    const { src, before } = world();
    const dst = path.join(w.pool, 'seeding', 'movies', 'S');
    writeTree(dst, { 'a.bin': bytesFor('sa', 20_000) });
    const res = await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(res.status).toBe('succeeded');
    expect(hashTreeSync(dst)).toEqual(before);
  });
});
