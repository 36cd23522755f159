// Repoint refuses a torrent that is not complete and settled when its step starts (checking, moving, downloading): its running state is unknown.
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import type { PlanGroup } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, makeApplyFixture, makePlan, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { fakeTorrent } from '../../support/fake-qbt.js';
import { useFakeClient } from '../../support/fake-client.js';

let w: ApplyFixture;
const fx = useFakeClient();
afterEach(() => {
  fx.fake.torrents.clear();
  w?.cleanup();
});

function repointGroup(hash: string, from: string, to: string): PlanGroup {
  return {
    id: 'g1',
    key: 'repoint-1',
    action: 'reuse',
    title: 'P',
    payloadHash: null,
    torrents: [{ hash, name: 'P', category: '', tracker: null }],
    from: { fs: 'stash', path: path.join(from, 'P') },
    to: { fs: 'pool', path: path.join(to, 'P') },
    reasons: ['test'],
    rule: null,
    bytesToCopy: 0,
    bytesToFree: 0,
    steps: [
      { kind: 'repoint', torrentHash: hash, torrentName: 'P', fromSavePath: from, toSavePath: to, expectedContentPath: path.join(to, 'P'), hostFrom: path.join(from, 'P'), hostTo: path.join(to, 'P'), bytes: 1000 },
    ],
    fingerprint: { files: [], torrents: [{ hash, phase: 'seeding', clientSavePath: from, clientContentPath: path.join(from, 'P') }] },
  };
}

describe('repoint of an unsettled torrent', () => {
  for (const state of ['checkingUP', 'moving', 'stalledDL']) {
    it(`a torrent that is ${state} when its step starts is not touched`, async () => {
      w = makeApplyFixture();
      const from = path.join(w.stash, 'seeding', 'movies');
      const to = path.join(w.pool, 'seeding', 'movies');
      writeTree(path.join(from, 'P'), { 'p.bin': bytesFor('p', 1000) });
      writeTree(path.join(to, 'P'), { 'p.bin': bytesFor('p', 1000) });
      const h = 'e'.repeat(40);
      fx.fake.torrents.set(h, fakeTorrent(h, { name: 'P', state, progress: state === 'stalledDL' ? 0.5 : 1, save_path: from, content_path: path.join(from, 'P') }));
      const before = fx.fake.requests.length;
      const g = repointGroup(h, from, to);
      g.fingerprint.torrents[0]!.phase = state === 'stalledDL' ? 'downloading' : state === 'moving' ? 'moving' : 'checking';
      const res = await applyPlan(testDeps(w, { client: fx.client, clientTimeoutMs: () => 3_000, guardTimeoutMs: 1_000 }), makePlan(w, [g]), { skipPreflight: true });
      expect(res.groups[0]!.status).toBe('rolled-back');
      expect(res.groups[0]!.error).toMatch(/stable state/);
      const mutations = fx.fake.requests.slice(before).filter((r) => /setLocation|pause|stop|recheck|resume|start/.test(r.path));
      expect(mutations).toEqual([]);
      expect(fx.fake.torrents.get(h)!.save_path).toBe(from);
    });
  }
});

describe('repoint whose client path and host path disagree', () => {
  it('a step that checks files at one place but points the client at another is refused before the client is touched', async () => {
    w = makeApplyFixture();
    const from = path.join(w.stash, 'seeding', 'movies');
    const to = path.join(w.pool, 'seeding', 'movies');
    const elsewhere = path.join(w.stash, 'seeding', 'other');
    writeTree(path.join(from, 'P'), { 'p.bin': bytesFor('p', 1000) });
    writeTree(path.join(to, 'P'), { 'p.bin': bytesFor('p', 1000) });
    const h = 'f'.repeat(40);
    fx.fake.torrents.set(h, fakeTorrent(h, { name: 'P', state: 'stalledUP', save_path: from, content_path: path.join(from, 'P') }));
    const g = repointGroup(h, from, to);
    const step = g.steps[0]!;
    if (step.kind !== 'repoint') throw new Error('expected a repoint step');
    step.toSavePath = elsewhere; // edited: the client would be sent where hashall verified nothing
    step.expectedContentPath = path.join(elsewhere, 'P');
    const before = fx.fake.requests.length;
    const res = await applyPlan(testDeps(w, { client: fx.client, clientTimeoutMs: () => 3_000, guardTimeoutMs: 1_000 }), makePlan(w, [g]));
    expect(res.groups[0]!.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/does not match/);
    expect(fx.fake.requests.slice(before).filter((r) => /setLocation|pause|stop|recheck|resume|start/.test(r.path))).toEqual([]);
    expect(fx.fake.torrents.get(h)!.save_path).toBe(from);
  });
});

describe('repoint whose save path is edited to an ancestor of the content', () => {
  // The content path alone is checked to lie under the save path: `/` or the pool's mount point would pass that.
  const cases: [string, (w: ApplyFixture) => string][] = [
    ['the root directory', () => '/'],
    ['the pool mount point', (x) => x.pool],
    ['the seeding root (one level above where the planner puts it)', (x) => path.join(x.pool, 'seeding')],
  ];
  for (const [what, savePath] of cases) {
    it(`a toSavePath of ${what} is refused before the client is touched`, async () => {
      w = makeApplyFixture();
      const from = path.join(w.stash, 'seeding', 'movies');
      const to = path.join(w.pool, 'seeding', 'movies');
      writeTree(path.join(from, 'P'), { 'p.bin': bytesFor('p', 1000) });
      writeTree(path.join(to, 'P'), { 'p.bin': bytesFor('p', 1000) });
      const h = 'a'.repeat(40);
      fx.fake.torrents.set(h, fakeTorrent(h, { name: 'P', state: 'stalledUP', save_path: from, content_path: path.join(from, 'P') }));
      const g = repointGroup(h, from, to);
      const step = g.steps[0]!;
      if (step.kind !== 'repoint') throw new Error('expected a repoint step');
      step.toSavePath = savePath(w); // edited: content path and host path still agree, the save path does not
      const before = fx.fake.requests.length;
      const res = await applyPlan(testDeps(w, { client: fx.client, clientTimeoutMs: () => 3_000, guardTimeoutMs: 1_000 }), makePlan(w, [g]));
      expect(res.groups[0]!.status).toBe('rolled-back');
      expect(res.groups[0]!.error).toMatch(/save path/);
      expect(fx.fake.requests.slice(before).filter((r) => /setLocation|pause|stop|recheck|resume|start/.test(r.path))).toEqual([]);
      expect(fx.fake.torrents.get(h)!.save_path).toBe(from);
    });
  }

  it('a repoint whose torrent has no fingerprint in the plan (its live state was never checked) is refused', async () => {
    w = makeApplyFixture();
    const from = path.join(w.stash, 'seeding', 'movies');
    const to = path.join(w.pool, 'seeding', 'movies');
    writeTree(path.join(from, 'P'), { 'p.bin': bytesFor('p', 1000) });
    writeTree(path.join(to, 'P'), { 'p.bin': bytesFor('p', 1000) });
    const h = 'b'.repeat(40);
    fx.fake.torrents.set(h, fakeTorrent(h, { name: 'P', state: 'stalledUP', save_path: from, content_path: path.join(from, 'P') }));
    const g = repointGroup(h, from, to);
    g.fingerprint.torrents = [];
    const res = await applyPlan(testDeps(w, { client: fx.client, clientTimeoutMs: () => 3_000, guardTimeoutMs: 1_000 }), makePlan(w, [g]));
    expect(res.groups[0]!.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/fingerprint/);
    expect(fx.fake.torrents.get(h)!.save_path).toBe(from);
  });
});
