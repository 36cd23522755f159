// Pure planner tests: a move whose payload is partly on the target filesystem already links the present files from their donors and copies only the rest (torrent-groups.ts).
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/plan/build.js';
import type { CopyStep, LinkViewStep, Plan, PlanGroup } from '../../../src/plan/types.js';
import { SnapshotBuilder, baseConfig, rule, trimmedLikeReader, sha, GiB, MiB, STASH_SEED, POOL_SEED } from './fixtures.js';

const PACK = `${POOL_SEED}/tv/Show.S01`;
const EPISODE = `${STASH_SEED}/tv/Show.S01E03`;
const EP = 2 * GiB;
const NFO = 4000;
const toPool = (minFree = 0) => baseConfig({ placement: { default: 'stash', rules: [rule('cold', 'pool', { categories: ['tv'] })] }, safety: { ...baseConfig().safety, minFree } });

function plan(b: SnapshotBuilder, integrity: string[] = []): Plan {
  const snapshot = { ...b.build(), integrityProblems: integrity.map((path) => ({ path, kind: 'corrupted' as const })) };
  const full = buildPlan({ config: b.config, snapshot, now: b.now, createdAt: new Date(b.now).toISOString() });
  expect(buildPlan({ config: b.config, snapshot: { ...trimmedLikeReader(b.config, snapshot, b.now), integrityProblems: snapshot.integrityProblems }, now: b.now, createdAt: new Date(b.now).toISOString() })).toEqual(full);
  return full;
}

/** The pack already moved to the pool (an earlier plan); the episode folder (the episode + an .nfo of its own) still on the stash. */
function packOnPool(b: SnapshotBuilder): SnapshotBuilder {
  b.payload(PACK, ['E01', 'E02', 'E03'].map((e) => ({ rel: `Show.S01${e}.mkv`, size: EP, content: `show-${e}` })));
  b.payload(EPISODE, [
    { rel: 'Show.S01E03.mkv', size: EP, content: 'show-E03' },
    { rel: 'Show.S01E03.nfo', size: NFO, content: 'nfo-E03' },
  ]);
  return b
    .torrent({ hash: 'aaaa000000000000000000000000000000000001', content: PACK, category: 'tv' })
    .torrent({ hash: 'bbbb000000000000000000000000000000000002', content: EPISODE, category: 'tv' });
}

function acting(p: Plan): PlanGroup[] {
  return p.groups.filter((g) => g.action !== 'keep');
}

describe('buildPlan: a move whose payload is partly on the target already', () => {
  it('links the present file from its donor (hashed by apply first), copies only the rest, reserves the copied bytes only', () => {
    const b = packOnPool(new SnapshotBuilder(toPool()));
    const p = plan(b);
    const own = b.build().payloads[EPISODE]!.files!.find((f) => f.relpath === 'Show.S01E03.mkv')!;
    const [g, ...rest] = acting(p);
    expect(rest).toEqual([]);
    expect(g).toMatchObject({ action: 'move', title: 'Show.S01E03', to: { fs: 'pool', path: `${POOL_SEED}/tv/Show.S01E03` }, bytesToCopy: NFO });
    expect(p.summary.bytesToCopy).toBe(NFO);
    expect(g!.steps.map((s) => s.kind)).toEqual(['copy', 'link-view', 'repoint']);
    expect(g!.steps[0] as CopyStep).toEqual({
      kind: 'copy',
      fromFs: 'stash',
      toFs: 'pool',
      fromRoot: EPISODE,
      toRoot: `${POOL_SEED}/tv/Show.S01E03`,
      files: [{ relpath: 'Show.S01E03.nfo', size: NFO, sha256: sha('nfo-E03') }],
      bytes: NFO,
    });
    expect(g!.steps[1] as LinkViewStep).toEqual({
      kind: 'link-view',
      fs: 'pool',
      torrentHash: 'bbbb000000000000000000000000000000000002',
      root: `${POOL_SEED}/tv/Show.S01E03`,
      // Its own source named: apply links it only while that file still shows the donor's owner, group and mode.
      links: [{ donor: `${PACK}/Show.S01E03.mkv`, path: `${POOL_SEED}/tv/Show.S01E03/Show.S01E03.mkv`, size: EP, sha256: sha('show-E03'), hashDonor: true, metaOf: { fs: 'stash', path: `${EPISODE}/Show.S01E03.mkv`, ino: own.ino } }],
      expected: ['Show.S01E03.mkv', 'Show.S01E03.nfo'],
    });
    // The donor is fingerprinted (apply refuses the group when it changed since planning), with the source payload.
    expect(g!.fingerprint.files.map((f) => f.path)).toEqual([`${PACK}/Show.S01E03.mkv`]);
    expect(g!.fingerprint.payloads).toEqual([{ fs: 'stash', root: EPISODE }]);
    expect(g!.reasons[1]).toBe(`1 of its 2 files is already on pool (${PACK}/Show.S01E03.mkv): linked from there once apply re-hashed it, the other 1 copied (3.9 KiB), verified by SHA-256`);
  });

  it('is not blocked for space it does not need: room for the .nfo is enough', () => {
    const b = packOnPool(new SnapshotBuilder(toPool(10 * MiB))).setFree('pool', 10 * MiB + NFO);
    expect(acting(plan(b)).map((g) => [g.action, g.bytesToCopy])).toEqual([['move', NFO]]);
    const tight = packOnPool(new SnapshotBuilder(toPool(10 * MiB))).setFree('pool', 10 * MiB + NFO - 1);
    expect(acting(plan(tight)).map((g) => g.action)).toEqual(['blocked']);
  });

  it('takes the bytewise-lowest of several donors; a file no torrent uses is a donor too (linking moves neither)', () => {
    const b = packOnPool(new SnapshotBuilder(toPool()));
    b.file(`${POOL_SEED}/left/Show.S01E03.mkv`, EP, 'show-E03');
    const g = acting(plan(b))[0]!;
    expect(g.action).toBe('move');
    expect((g.steps[1] as LinkViewStep).links.map((l) => l.donor)).toEqual([`${POOL_SEED}/left/Show.S01E03.mkv`]);
    expect(g.steps.flatMap((s) => ('torrentHash' in s ? [s.torrentHash] : []))).not.toContain('aaaa000000000000000000000000000000000001');
  });

  it('never a donor with an open integrity problem: the file is copied from the source instead', () => {
    const g = acting(plan(packOnPool(new SnapshotBuilder(toPool())), [`${PACK}/Show.S01E03.mkv`]))[0]!;
    expect(g.action).toBe('move');
    expect(g.steps.map((s) => s.kind)).toEqual(['copy', 'repoint']);
    expect(g.bytesToCopy).toBe(EP + NFO);
  });

  it('never a donor a client may still write (an unfinished download): copies instead', () => {
    const b = new SnapshotBuilder(toPool());
    b.payload(PACK, [{ rel: 'Show.S01E03.mkv', size: EP, content: 'show-E03' }, { rel: 'Show.S01E04.mkv', size: EP, content: 'show-E04' }]);
    b.payload(EPISODE, [
      { rel: 'Show.S01E03.mkv', size: EP, content: 'show-E03' },
      { rel: 'Show.S01E03.nfo', size: NFO, content: 'nfo-E03' },
    ]);
    b.torrent({ hash: 'aaaa000000000000000000000000000000000001', content: PACK, category: 'tv', phase: 'downloading', progress: 0.5 });
    b.torrent({ hash: 'bbbb000000000000000000000000000000000002', content: EPISODE, category: 'tv' });
    const g = plan(b).groups.find((x) => x.title === 'Show.S01E03')!;
    expect(g.action).toBe('move');
    expect(g.steps.map((s) => s.kind)).toEqual(['copy', 'repoint']);
  });

  it('a promote stays reuse-only: a partly present payload is still blocked, never partly copied back', () => {
    const b = new SnapshotBuilder(baseConfig({ placement: { default: 'stash', rules: [] } }));
    const cold = `${POOL_SEED}/tv/Show.S01E03`;
    b.file(`${STASH_SEED}/tv/Show.S01/Show.S01E03.mkv`, EP, 'show-E03');
    b.payload(cold, [
      { rel: 'Show.S01E03.mkv', size: EP, content: 'show-E03' },
      { rel: 'Show.S01E03.nfo', size: NFO, content: 'nfo-E03' },
    ]);
    b.torrent({ hash: 'bbbb000000000000000000000000000000000002', content: cold, category: 'tv' });
    const g = acting(plan(b))[0]!;
    expect(g.action).toBe('blocked');
    expect(g.reasons[0]).toMatch(/no blind copy/);
  });
});
