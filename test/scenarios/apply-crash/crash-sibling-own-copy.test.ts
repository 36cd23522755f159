// kill -9 of apply at every journal boundary of a move whose sibling (same payload, other inodes) gets its own copy of a file that shows another mode, the rest linked from the first copy; then recover/rerun: converges, each file keeps its own mode, nothing lost or left over.
import { applyChildCrashingAt } from '../../support/kill-apply.js';
import { singleClient } from '../../../src/clients/client-set.js';
import { describe, expect, it } from 'vitest';
import { chmodSync, existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { runApply, runRecover } from '../../../src/reconcile/apply.js';
import { readLock } from '../../../src/apply/lock.js';
import type { LinkViewStep, PlanGroup } from '../../../src/plan/types.js';
import { bytesFor, fileList, fingerprint, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';

/** Siblings A and B on separate inodes; B's .nfo is 0600 (A's 0644): B's view links the video from A's copy and copies its own .nfo, as the planner plans it. */
function siblings(w: ApplyFixture): { a: string; b: string; aTo: string; bTo: string; group: PlanGroup } {
  const files = { 'foo.mkv': bytesFor('foo', 300_000), 'foo.nfo': bytesFor('nfo', 1200) };
  const a = path.join(w.stash, 'seeding/movies/Foo');
  const b = path.join(w.stash, 'seeding/xs/Foo');
  writeTree(a, files);
  writeTree(b, files);
  chmodSync(path.join(b, 'foo.nfo'), 0o600);
  const aTo = path.join(w.pool, 'seeding/movies/Foo');
  const bTo = path.join(w.pool, 'seeding/xs/Foo');
  const list = fileList(b);
  const mkv = list.find((f) => f.relpath === 'foo.mkv')!;
  const nfo = list.find((f) => f.relpath === 'foo.nfo')!;
  const own = (p: string) => ({ fs: 'stash', path: p, ino: lstatSync(p).ino });
  const view: LinkViewStep = {
    kind: 'link-view',
    fs: 'pool',
    torrentHash: 'b'.repeat(40),
    root: bTo,
    links: [{ donor: path.join(aTo, 'foo.mkv'), path: path.join(bTo, 'foo.mkv'), size: mkv.size, sha256: mkv.sha256, metaOf: own(path.join(b, 'foo.mkv')) }],
    expected: list.map((f) => f.relpath),
  };
  const ownCopy = { kind: 'copy' as const, fromFs: 'stash', toFs: 'pool', fromRoot: b, toRoot: bTo, files: [nfo], bytes: nfo.size };
  const group = moveGroup('g1', w, a, aTo, [ownCopy, view]);
  group.fingerprint.files.push(...list.map((f) => fingerprint(path.join(b, f.relpath))));
  group.fingerprint.files.sort((x, y) => (x.path < y.path ? -1 : 1));
  return { a, b, aTo, bTo, group };
}

const mode = (p: string) => lstatSync(p).mode & 0o7777;

describe("kill -9 at every step boundary of a move whose sibling gets its own copy of a file", () => {
  it('each crash is rolled back by recover (or the next run); the run then converges: the video one inode, each .nfo its own with its own mode', async () => {
    let finishedNormally = false;
    let crashes = 0;
    for (let n = 1; n <= 60 && !finishedNormally; n++) {
      const w = makeApplyFixture();
      try {
        const { a, b, aTo, bTo, group } = siblings(w);
        const beforeA = hashTreeSync(a);
        const beforeB = hashTreeSync(b);
        const converged = () => {
          expect(hashTreeSync(aTo)).toEqual(beforeA);
          expect(hashTreeSync(bTo)).toEqual(beforeB);
          expect(lstatSync(path.join(bTo, 'foo.mkv')).ino).toBe(lstatSync(path.join(aTo, 'foo.mkv')).ino);
          expect(lstatSync(path.join(bTo, 'foo.nfo')).ino).not.toBe(lstatSync(path.join(aTo, 'foo.nfo')).ino);
          expect(mode(path.join(bTo, 'foo.nfo'))).toBe(0o600);
          expect(mode(path.join(aTo, 'foo.nfo'))).toBe(mode(path.join(a, 'foo.nfo')));
        };
        const child = applyChildCrashingAt(w, [group], n);
        if (child.signal !== 'SIGKILL') {
          expect(child.status, child.stderr).toBe(0);
          expect(JSON.parse(child.stdout).status).toBe('succeeded');
          finishedNormally = true;
          converged();
          continue;
        }
        crashes++;
        expect(readLock(w.catalog.db)).not.toBeNull();
        expect(hashTreeSync(a)).toEqual(beforeA);
        expect(hashTreeSync(b)).toEqual(beforeB);
        const common = { config: w.config, clients: singleClient(null), now: () => Date.now(), emit: () => undefined, catalog: w.catalog };
        const rec = await runRecover({ ...common, command: 'test recover' });
        expect(rec.length).toBeLessThanOrEqual(1);
        if (rec[0]) expect(rec[0].status).toBe('recovered');
        expect(readLock(w.catalog.db)).toBeNull();
        // Rolled back: nothing of the group on the pool; or finished whole.
        const done = existsSync(aTo) || existsSync(bTo);
        if (done) converged();
        expect(hashallLeftovers(w.pool)).toEqual([]);
        expect(hashTreeSync(a)).toEqual(beforeA);
        expect(hashTreeSync(b)).toEqual(beforeB);
        expect(mode(path.join(b, 'foo.nfo'))).toBe(0o600);
        if (!done) {
          const out = await runApply({ ...common, plan: makePlan(w, [group]), planFile: null, planHash: null, command: 'test rerun' });
          expect(out.result.status, out.result.groups[0]?.error ?? '').toBe('succeeded');
          converged();
        }
        expect(hashallLeftovers(w.pool)).toEqual([]);
      } finally {
        w.cleanup();
      }
    }
    expect(finishedNormally).toBe(true);
    expect(crashes).toBeGreaterThan(5);
  }, 900_000);
});
