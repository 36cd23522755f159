// Every link across inodes a move makes, on real tmpfs — a partly-present donor, a reuse donor, a sibling's copy — is made only while the linked file's own source (metaOf) shows the donor's owner, group and mode: a chmod or chown between plan and apply rolls the group back with every byte kept.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import type { LinkViewStep, PlanGroup } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, fileList, fingerprint, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, moveGroup, payloadHashOf, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { partlyPresentMove } from '../../support/partly-present.js';

let w: ApplyFixture | null = null;
afterEach(() => {
  w?.cleanup();
  w = null;
});

/** The pool's seeding tree (null: none), hashed. */
const poolTree = () => (existsSync(path.join(w!.pool, 'seeding')) ? hashTreeSync(path.join(w!.pool, 'seeding')) : null);
const own = (p: string) => ({ fs: 'stash', path: p, ino: lstatSync(p).ino });

interface World {
  group: PlanGroup;
  /** The linked file's own source (metaOf), and the donor it is linked from (already there, or made by the group). */
  source: string;
  donor: string;
  /** Every stash tree whose bytes must be as before after a rollback (the pool's are compared whole). */
  kept: string[];
}

/** The episode folder's .mkv linked from the pack's copy already on the pool (hashDonor), as the planner now plans it. */
function partlyPresent(): World {
  w = makeApplyFixture();
  const m = partlyPresentMove(w);
  const view = m.group.steps[1] as LinkViewStep;
  const source = path.join(m.src, 'Show.S01E03.mkv');
  view.links[0]!.metaOf = own(source);
  return { group: m.group, source, donor: m.donor, kept: [m.src] };
}

/** A movie on the stash whose every file is already on the pool (left there, no torrent): a reuse, each link naming its own source. */
function reuse(): World {
  w = makeApplyFixture();
  const files = { 'foo.mkv': bytesFor('foo', 200_000), 'foo.nfo': bytesFor('nfo', 1200) };
  const src = path.join(w.stash, 'seeding/movies/Foo');
  const left = path.join(w.pool, 'seeding/left/Foo');
  writeTree(src, files);
  writeTree(left, files);
  const dst = path.join(w.pool, 'seeding/movies/Foo');
  const list = fileList(src);
  const links = list.map((f) => ({ donor: path.join(left, f.relpath), path: path.join(dst, f.relpath), size: f.size, sha256: f.sha256, metaOf: own(path.join(src, f.relpath)) }));
  const group: PlanGroup = {
    ...moveGroup('g1', w, src, dst),
    action: 'reuse',
    payloadHash: payloadHashOf(src),
    bytesToCopy: 0,
    steps: [{ kind: 'link-view', fs: 'pool', torrentHash: 'a'.repeat(40), root: dst, links, expected: list.map((f) => f.relpath) }],
  };
  group.fingerprint.files.push(...list.map((f) => fingerprint(path.join(left, f.relpath))));
  group.fingerprint.files.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { group, source: path.join(src, 'foo.mkv'), donor: path.join(left, 'foo.mkv'), kept: [src] };
}

/** Two siblings on separate inodes: A is copied, B's view linked from A's copy, naming B's own files. */
function siblings(): World {
  w = makeApplyFixture();
  const files = { 'foo.mkv': bytesFor('foo', 200_000), 'foo.nfo': bytesFor('nfo', 1200) };
  const a = path.join(w.stash, 'seeding/movies/Foo');
  const b = path.join(w.stash, 'seeding/xs/Foo');
  writeTree(a, files);
  writeTree(b, files);
  const aTo = path.join(w.pool, 'seeding/movies/Foo');
  const bTo = path.join(w.pool, 'seeding/xs/Foo');
  const list = fileList(b);
  const view: LinkViewStep = {
    kind: 'link-view',
    fs: 'pool',
    torrentHash: 'b'.repeat(40),
    root: bTo,
    links: list.map((f) => ({ donor: path.join(aTo, f.relpath), path: path.join(bTo, f.relpath), size: f.size, sha256: f.sha256, metaOf: own(path.join(b, f.relpath)) })),
    expected: list.map((f) => f.relpath),
  };
  const group = moveGroup('g1', w, a, aTo, [view]);
  group.fingerprint.files.push(...list.map((f) => fingerprint(path.join(b, f.relpath))));
  group.fingerprint.files.sort((x, y) => (x.path < y.path ? -1 : 1));
  return { group, source: path.join(b, 'foo.mkv'), donor: path.join(aTo, 'foo.mkv'), kept: [a, b] };
}

const kinds = [
  ['a partly-present donor (hashDonor)', partlyPresent],
  ['a reuse donor', reuse],
  ["a sibling's copy", siblings],
] as const;

describe.each(kinds)('a link from %s names its own source (metaOf)', (_what, make) => {
  it('the same owner, group and mode: linked', async () => {
    const x = make();
    const res = await applyPlan(testDeps(w!), makePlan(w!, [x.group]));
    expect(res.status, res.groups[0]?.error ?? '').toBe('succeeded');
  });

  for (const [what, change] of [
    ['made private (chmod 0600)', (p: string) => chmodSync(p, 0o600)],
    ['given to another owner (chown 1001)', (p: string) => chownSync(p, 1001, 0)],
  ] as const) {
    it(`its own source ${what} after the plan: rolled back, every byte as before, nothing left on the pool`, async () => {
      const x = make();
      const before = x.kept.map((d) => hashTreeSync(d));
      const poolBefore = poolTree();
      change(x.source);
      const res = await applyPlan(testDeps(w!), makePlan(w!, [x.group]));
      expect(res.groups.map((g) => g.status)).toEqual(['rolled-back']);
      expect(res.groups[0]!.error).toMatch(/would change owner, group or mode/);
      expect(x.kept.map((d) => hashTreeSync(d))).toEqual(before);
      expect(poolTree()).toEqual(poolBefore);
      expect(hashallLeftovers(w!.pool)).toEqual([]);
    });
  }
});
