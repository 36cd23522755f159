// A catalog refresh that fails after a verified group is an apply event (human line and NDJSON), not only a run note.
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { formatEvent } from '../../../src/render/apply-text.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, makeApplyFixture, makePlan, moveGroup, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

describe('catalog refresh after a group', () => {
  it('a failed refresh leaves the verified move done and emits refresh-failed, which the human view prints', async () => {
    w = makeApplyFixture();
    const src = path.join(w.stash, 'seeding', 'movies', 'A');
    writeTree(src, { 'a.mkv': bytesFor('a', 5000) });
    const to = path.join(w.pool, 'seeding', 'movies', 'A');
    const deps = testDeps(w, { rescanRoot: async () => Promise.reject(new Error('scan root is unreadable')) });
    const res = await applyPlan(deps, makePlan(w, [moveGroup('g1', w, src, to)]));
    expect(res.status).toBe('succeeded');
    const ev = deps.events.find((e) => e.type === 'refresh-failed');
    expect(ev).toMatchObject({ type: 'refresh-failed', groupId: 'g1', path: to, error: 'scan root is unreadable' });
    expect(formatEvent(ev!)).toMatch(/catalog not refreshed for .*pool\/seeding\/movies\/A: scan root is unreadable — run `hashall scan`/);
    expect(JSON.parse(JSON.stringify(ev))).toMatchObject({ type: 'refresh-failed', path: to });
  });
});
