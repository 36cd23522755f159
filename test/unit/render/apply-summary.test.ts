// apply's closing summary says when the sources of moved groups retire and how much that frees (instead of a bare "0 B freed").
import { afterEach, describe, expect, it } from 'vitest';
import type { RunResult } from '../../../src/apply/executor.js';
import type { Plan } from '../../../src/plan/types.js';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { applySummary } from '../../../src/render/apply-summary.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, makeApplyFixture, makePlan, moveGroup, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

describe('apply summary', () => {
  it('after a move: nothing freed yet, the source (how much, on which filesystem) retires after the observation window (when)', async () => {
    w = makeApplyFixture();
    const src = path.join(w.stash, 'seeding', 'movies', 'M');
    writeTree(src, { 'm.mkv': bytesFor('m', 3 << 20), 'm.nfo': bytesFor('n', 100) });
    const plan = makePlan(w, [moveGroup('g1', w, src, path.join(w.pool, 'seeding', 'movies', 'M'))]);
    const res = await applyPlan(testDeps(w), plan);
    expect(res.status).toBe('succeeded');
    const now = Date.UTC(2026, 10, 30, 12, 0, 30);
    const text = applySummary(res, null, { plan, retire: { mode: 'staged', observeHours: 72 }, now });
    expect(text).toBe(
      `Apply succeeded: 1/1 group(s) done, 3.0 MiB copied, 0 B freed (run ${res.runId}).\n` +
        '  Nothing is freed yet: the sources of 1 moved group(s) (up to 3.0 MiB on stash) stay until their torrents have seeded from the new place for 72h; ' +
        'an apply after 2026-12-03T12:00Z retires them (`hashall plan` lists them as pending until then).\n',
    );
    expect(applySummary(res, null, { plan, retire: { mode: 'never', observeHours: 72 }, now })).toContain(
      '  Nothing is freed: safety.retire.mode is never, so the sources of 1 moved group(s) (up to 3.0 MiB on stash) stay until you remove them.',
    );
  });

  it('after a retire: the bytes it "freed" are staged in the trash — when the purge gives the space back, and how to restore them', () => {
    // An orphan retired on the real CLI printed only "976.6 KiB freed" while `df` showed nothing freed: the bytes wait
    // in .hashall-trash until the purge after observeHours.
    const runId = '20261130T120000Z-abcd';
    const res: RunResult = {
      runId, status: 'succeeded', bytesCopied: 0, bytesFreed: 3 << 20, attention: [], guardProblems: [], notes: [],
      groups: [
        { id: 'g1', title: 'Gone.Movie', action: 'retire', status: 'done', error: null, bytesCopied: 0, bytesFreed: 2 << 20 },
        { id: 'g2', title: 'trailer.mkv', action: 'dedupe', status: 'done', error: null, bytesCopied: 0, bytesFreed: 1 << 20 },
      ],
    };
    const plan = { groups: [] } as unknown as Plan;
    const now = Date.UTC(2026, 10, 30, 12, 0, 30);
    expect(applySummary(res, null, { plan, retire: { mode: 'staged', observeHours: 72 }, now })).toBe(
      `Apply succeeded: 2/2 group(s) done, 0 B copied, 3.0 MiB freed (run ${runId}).\n` +
        '  2.0 MiB of it is staged in .hashall-trash (`hashall trash` lists it): the disk space comes back when the trash is purged, ' +
        `by an apply after 2026-12-03T12:00Z or \`hashall trash purge\`; until then \`hashall trash restore ${runId}\` puts it back.\n`,
    );
    // Nothing retired: no such line.
    const dedupeOnly = { ...res, bytesFreed: 1 << 20, groups: [res.groups[1]!] };
    expect(applySummary(dedupeOnly, null, { plan, retire: { mode: 'staged', observeHours: 72 }, now })).not.toContain('trash');
  });
});
