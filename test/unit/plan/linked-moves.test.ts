// Pure planner tests: torrents whose payloads share files by hardlink (or equal content where dedupe links it), moved in one plan, are one group copying each shared file once (linked-moves.ts).
import { describe, expect, it } from 'vitest';
import { payloadHashFrom } from '../../../src/plan/linked-moves.js';
import type { CopyStep, LinkViewStep, Plan, PlanGroup, RepointStep } from '../../../src/plan/types.js';
import type { InodeMeta } from '../../../src/domain/snapshot.js';
import { SnapshotBuilder, baseConfig, rule, planTrimmedAlike, GiB, MiB, STASH_SEED, POOL_SEED, MOVIES_LIB } from './fixtures.js';

const PACK = `${STASH_SEED}/tv/Show.S01`;
const EPISODE = `${STASH_SEED}/cross-seed/Show.S01E03.mkv`;
const EP = 2 * GiB;
const toPool = (minFree = 0) =>
  baseConfig({ placement: { default: 'stash', rules: [rule('cold', 'pool', { categories: ['tv', 'cross-seed'] })] }, safety: { ...baseConfig().safety, minFree } });

/** The plan of the builder's snapshot, checked equal to the plan of its reader-trimmed snapshot (fixtures.ts). */
const plan = planTrimmedAlike;

/** A season pack of three episodes, and the single episode cross-seed linked from its e3. */
function packAndEpisode(b: SnapshotBuilder, opts: { packPhase?: 'downloading' } = {}): SnapshotBuilder {
  b.payload(PACK, ['E01', 'E02', 'E03'].map((e) => ({ rel: `Show.S01${e}.mkv`, size: EP, content: `show-${e}` })));
  b.link(`${PACK}/Show.S01E03.mkv`, EPISODE);
  b.payload(EPISODE, [], { kind: 'file' });
  return b
    .torrent({ hash: 'aaaa000000000000000000000000000000000001', content: PACK, category: 'tv', ...(opts.packPhase ? { phase: opts.packPhase } : {}) })
    .torrent({ hash: 'bbbb000000000000000000000000000000000002', content: EPISODE, category: 'cross-seed' });
}

function acting(p: Plan): PlanGroup[] {
  return p.groups.filter((g) => g.action !== 'keep');
}

describe('buildPlan: torrents sharing files by hardlink, moved in one plan', () => {
  it('are one move group: the pack copied once, the episode linked from its copy, each torrent repointed', () => {
    const p = plan(packAndEpisode(new SnapshotBuilder(toPool())));
    const [g, ...rest] = acting(p);
    expect(rest).toEqual([]);
    expect(g).toMatchObject({ action: 'move', title: 'Show.S01', from: { fs: 'stash', path: PACK }, to: { fs: 'pool', path: `${POOL_SEED}/tv/Show.S01` } });
    expect(g!.torrents.map((t) => t.name)).toEqual(['Show.S01', 'Show.S01E03.mkv']);
    expect(g!.bytesToCopy).toBe(3 * EP);
    expect(p.summary).toMatchObject({ move: 1, blocked: 0, bytesToCopy: 3 * EP });
    expect(g!.steps.map((s) => s.kind)).toEqual(['copy', 'link-view', 'repoint', 'repoint']);
    expect(g!.steps[1] as LinkViewStep).toMatchObject({
      fs: 'pool',
      torrentHash: 'bbbb000000000000000000000000000000000002',
      root: `${POOL_SEED}/cross-seed/Show.S01E03.mkv`,
      links: [{ donor: `${POOL_SEED}/tv/Show.S01/Show.S01E03.mkv`, path: `${POOL_SEED}/cross-seed/Show.S01E03.mkv`, size: EP }],
    });
    const [packRepoint, episodeRepoint] = g!.steps.slice(2) as RepointStep[];
    expect(packRepoint).not.toHaveProperty('payloadHash');
    expect(episodeRepoint).toMatchObject({ hostFrom: EPISODE, hostTo: `${POOL_SEED}/cross-seed/Show.S01E03.mkv`, payloadHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(episodeRepoint!.payloadHash).not.toBe(g!.payloadHash);
    // Both payloads fingerprinted (apply refuses the group when either changed), both torrents.
    expect(g!.fingerprint.payloads).toEqual([{ fs: 'stash', root: PACK }, { fs: 'stash', root: EPISODE }]);
    expect(g!.fingerprint.torrents.map((t) => t.hash)).toEqual(['aaaa000000000000000000000000000000000001', 'bbbb000000000000000000000000000000000002']);
    expect(g!.reasons.join('\n')).toContain('also "Show.S01E03.mkv"');
    expect(g!.reasons.join('\n')).toContain('also "Show.S01E03.mkv": 1 of its files is a hardlink of a file of "Show.S01" on stash, which this group copies to pool once: linked from that copy, nothing else is copied');
  });

  it('reserves the shared bytes once against safety.minFree: room for the pack is room for both', () => {
    const b = packAndEpisode(new SnapshotBuilder(toPool(10 * MiB))).setFree('pool', 3 * EP + 10 * MiB);
    const p = plan(b);
    expect(acting(p).map((g) => [g.action, g.torrents.length])).toEqual([['move', 2]]);
  });

  it('a pack that stays (a library links it) leaves the episode to move alone, copying its file as before', () => {
    const b = new SnapshotBuilder(toPool());
    packAndEpisode(b).link(`${PACK}/Show.S01E01.mkv`, `${MOVIES_LIB}/Show/Show.S01E01.mkv`);
    const gs = acting(plan(b));
    expect(gs.map((g) => [g.action, g.title])).toEqual([
      ['stay', 'Show.S01'],
      ['move', 'Show.S01E03.mkv'],
    ]);
    expect(gs[1]!.steps.map((s) => s.kind)).toEqual(['copy', 'repoint']);
    expect(gs[1]!.steps[1]).not.toHaveProperty('payloadHash');
    expect(gs[1]!.bytesToCopy).toBe(EP);
  });

  it('a pack that cannot move (blocked) leaves the episode to move alone, copying its file as before', () => {
    const gs = acting(plan(packAndEpisode(new SnapshotBuilder(toPool()), { packPhase: 'downloading' })));
    expect(gs.map((g) => [g.action, g.title])).toEqual([
      ['blocked', 'Show.S01'],
      ['move', 'Show.S01E03.mkv'],
    ]);
    expect(gs[1]!.steps.map((s) => s.kind)).toEqual(['copy', 'repoint']);
  });

  it('a folder holding a linked episode and a file of its own copies only its own file and links the episode', () => {
    const b = new SnapshotBuilder(toPool());
    b.payload(PACK, ['E01', 'E02'].map((e) => ({ rel: `Show.S01${e}.mkv`, size: EP, content: `show-${e}` })));
    const extra = `${STASH_SEED}/cross-seed/Show.S01E02.Extras`;
    b.link(`${PACK}/Show.S01E02.mkv`, `${extra}/Show.S01E02.mkv`);
    b.payload(extra, [{ rel: 'sample.mkv', size: 5 * MiB, content: 'sample' }]);
    b.torrent({ hash: 'aaaa000000000000000000000000000000000001', content: PACK, category: 'tv' }).torrent({ hash: 'cccc000000000000000000000000000000000003', content: extra, category: 'cross-seed' });
    const [g, ...rest] = acting(plan(b));
    expect(rest).toEqual([]);
    expect(g!.bytesToCopy).toBe(2 * EP + 5 * MiB);
    expect(g!.steps.map((s) => s.kind)).toEqual(['copy', 'copy', 'link-view', 'repoint', 'repoint']);
    expect(g!.steps[1]).toMatchObject({ kind: 'copy', fromRoot: extra, toRoot: `${POOL_SEED}/cross-seed/Show.S01E02.Extras`, files: [{ relpath: 'sample.mkv', size: 5 * MiB }], bytes: 5 * MiB });
    expect(g!.steps[2]).toMatchObject({
      kind: 'link-view',
      root: `${POOL_SEED}/cross-seed/Show.S01E02.Extras`,
      links: [{ donor: `${POOL_SEED}/tv/Show.S01/Show.S01E02.mkv`, path: `${POOL_SEED}/cross-seed/Show.S01E02.Extras/Show.S01E02.mkv` }],
      expected: ['Show.S01E02.mkv', 'sample.mkv'],
    });
  });

  it('a folder linking files of two packs joins both into one group; each whole copy is checked against its own content', () => {
    const b = new SnapshotBuilder(toPool());
    const other = `${STASH_SEED}/tv/Other.S01`;
    b.payload(PACK, [{ rel: 'Show.S01E01.mkv', size: EP, content: 'show-E01' }]);
    b.payload(other, [{ rel: 'Other.S01E01.mkv', size: EP, content: 'other-E01' }]);
    const both = `${STASH_SEED}/cross-seed/Z.Pilots`;
    b.link(`${PACK}/Show.S01E01.mkv`, `${both}/Show.S01E01.mkv`);
    b.link(`${other}/Other.S01E01.mkv`, `${both}/Other.S01E01.mkv`);
    b.payload(both, []);
    b.torrent({ hash: 'aaaa000000000000000000000000000000000001', content: PACK, category: 'tv' })
      .torrent({ hash: 'dddd000000000000000000000000000000000004', content: other, category: 'tv' })
      .torrent({ hash: 'cccc000000000000000000000000000000000003', content: both, category: 'cross-seed' });
    const snapshot = b.build();
    const [g, ...rest] = acting(plan(b));
    expect(rest).toEqual([]);
    expect(g!.torrents.map((t) => t.name)).toEqual(['Other.S01', 'Show.S01', 'Z.Pilots']);
    expect(g!.bytesToCopy).toBe(2 * EP);
    expect(g!.steps.map((s) => s.kind)).toEqual(['copy', 'copy', 'link-view', 'repoint', 'repoint', 'repoint']);
    // Both packs are copied whole (left to the catalog); each copy is read back against its own payload's hash.
    for (const c of g!.steps.filter((s): s is CopyStep => s.kind === 'copy')) {
      expect(c.catalogFiles).toBe(1);
      expect(payloadHashFrom(g!, c.fromRoot)).toBe(snapshot.payloads[c.fromRoot]!.payloadHash);
    }
    expect((g!.steps[2] as LinkViewStep).links.map((l) => l.donor)).toEqual([`${POOL_SEED}/tv/Other.S01/Other.S01E01.mkv`, `${POOL_SEED}/tv/Show.S01/Show.S01E01.mkv`]);
  });
});

describe('buildPlan: torrents holding equal content on other inodes (a cross-seed downloaded twice), moved in one plan', () => {
  const TWICE = `${STASH_SEED}/cross-seed/Show.S01E03.REPACK`;
  const dedupePool = (over: { filesystems?: string[]; minSize?: number } = {}) => {
    const c = toPool();
    return { ...c, dedupe: { filesystems: over.filesystems ?? ['pool'], minSize: over.minSize ?? 0 } };
  };
  /**
   * The pack, and a folder downloaded on its own holding the same e3 (another inode: equal size and SHA-256) and an nfo
   * of its own; `meta`: the owner, group and mode of each e3 (default: both root:root 0644; null = unknown).
   */
  function packAndTwice(b: SnapshotBuilder, meta: { pack?: InodeMeta | null; twice?: InodeMeta | null } = {}): SnapshotBuilder {
    const opt = (m: InodeMeta | null | undefined) => (m === undefined ? {} : { meta: m });
    b.payload(PACK, ['E01', 'E02', 'E03'].map((e) => ({ rel: `Show.S01${e}.mkv`, size: EP, content: `show-${e}`, ...(e === 'E03' ? opt(meta.pack) : {}) })));
    b.payload(TWICE, [{ rel: 'Show.S01E03.mkv', size: EP, content: 'show-E03', ...opt(meta.twice) }, { rel: 'Show.S01E03.nfo', size: 1200, content: 'repack-nfo' }]);
    return b
      .torrent({ hash: 'aaaa000000000000000000000000000000000001', content: PACK, category: 'tv' })
      .torrent({ hash: 'eeee000000000000000000000000000000000005', content: TWICE, category: 'cross-seed' });
  }

  it('where the pool dedupes: one group, e3 copied once and linked from that copy, the rest copied; the second repoint proves its own content', () => {
    const b = packAndTwice(new SnapshotBuilder(dedupePool()));
    const snapshot = b.build();
    expect(snapshot.payloads[`${TWICE}`]!.files!.find((f) => f.relpath === 'Show.S01E03.mkv')!.ino).not.toBe(snapshot.payloads[PACK]!.files!.find((f) => f.relpath === 'Show.S01E03.mkv')!.ino);
    const p = plan(b);
    const [g, ...rest] = acting(p);
    expect(rest.map((r) => [r.action, r.title])).toEqual([]);
    expect(g!.torrents.map((t) => t.name)).toEqual(['Show.S01', 'Show.S01E03.REPACK']);
    expect(g!.bytesToCopy).toBe(3 * EP + 1200);
    expect(g!.steps.map((s) => s.kind)).toEqual(['copy', 'copy', 'link-view', 'repoint', 'repoint']);
    expect(g!.steps[1]).toMatchObject({ kind: 'copy', fromRoot: TWICE, toRoot: `${POOL_SEED}/cross-seed/Show.S01E03.REPACK`, files: [{ relpath: 'Show.S01E03.nfo', size: 1200 }], bytes: 1200 });
    expect(g!.steps[2]).toMatchObject({
      kind: 'link-view',
      root: `${POOL_SEED}/cross-seed/Show.S01E03.REPACK`,
      links: [{ donor: `${POOL_SEED}/tv/Show.S01/Show.S01E03.mkv`, path: `${POOL_SEED}/cross-seed/Show.S01E03.REPACK/Show.S01E03.mkv`, size: EP }],
    });
    // Apply links it only while the repack's own e3 still shows the copy's owner, group and mode.
    const own = snapshot.payloads[TWICE]!.files!.find((f) => f.relpath === 'Show.S01E03.mkv')!;
    expect((g!.steps[2] as LinkViewStep).links[0]!.metaOf).toEqual({ fs: 'stash', path: own.path, ino: own.ino });
    const second = g!.steps[4] as RepointStep;
    expect(second).toMatchObject({ hostFrom: TWICE, payloadHash: snapshot.payloads[TWICE]!.payloadHash });
    expect(payloadHashFrom(g!, TWICE)).toBe(snapshot.payloads[TWICE]!.payloadHash);
    expect(g!.fingerprint.payloads).toEqual([{ fs: 'stash', root: PACK }, { fs: 'stash', root: TWICE }]);
    expect(g!.reasons.join('\n')).toContain('1 of its files has the same content (size and SHA-256) as a file of "Show.S01" on another inode, and dedupe links equal content on pool');
    expect(p.summary).toMatchObject({ move: 1, bytesToCopy: 3 * EP + 1200 });
  });

  it('reserves the equal bytes once against safety.minFree: room for the pack and the nfo is room for both', () => {
    const c = dedupePool();
    const b = packAndTwice(new SnapshotBuilder({ ...c, safety: { ...c.safety, minFree: 10 * MiB } })).setFree('pool', 3 * EP + 1200 + 10 * MiB);
    expect(acting(plan(b)).map((g) => [g.action, g.torrents.length])).toEqual([['move', 2]]);
  });

  it('where the pool does not dedupe (not in dedupe.filesystems, or the file below dedupe.minSize): each copies its own, as before', () => {
    for (const cfg of [dedupePool({ filesystems: ['stash'] }), dedupePool({ minSize: EP + 1 })]) {
      // (With the stash deduped, its own dedupe group of the two stash copies is planned too: not a move's business.)
      const gs = acting(plan(packAndTwice(new SnapshotBuilder(cfg)))).filter((g) => g.action !== 'dedupe');
      expect(gs.map((g) => [g.action, g.title, g.bytesToCopy])).toEqual([
        ['move', 'Show.S01', 3 * EP],
        ['move', 'Show.S01E03.REPACK', EP + 1200],
      ]);
      expect(gs[1]!.steps.map((s) => s.kind)).toEqual(['copy', 'repoint']);
    }
  });

  it('where the two inodes differ in owner, group or mode: each keeps its own copy (dedupe would never link them)', () => {
    const a: InodeMeta = { uid: 1002, gid: 1002, mode: 0o600 };
    for (const twice of [{ uid: 1001, gid: 1002, mode: 0o600 }, { uid: 1002, gid: 1001, mode: 0o600 }, { uid: 1002, gid: 1002, mode: 0o640 }]) {
      const gs = acting(plan(packAndTwice(new SnapshotBuilder(dedupePool()), { pack: a, twice })));
      expect(gs.map((g) => [g.action, g.title, g.bytesToCopy])).toEqual([
        ['move', 'Show.S01', 3 * EP],
        ['move', 'Show.S01E03.REPACK', EP + 1200],
      ]);
      expect(gs[1]!.steps.map((s) => s.kind)).toEqual(['copy', 'repoint']);
    }
  });

  it('where the owner and mode of either inode are unknown (changed since the scan, unreadable, not read): each keeps its own copy', () => {
    for (const meta of [{ twice: null }, { pack: null }, { pack: null, twice: null }]) {
      const gs = acting(plan(packAndTwice(new SnapshotBuilder(dedupePool()), meta)));
      expect(gs.map((g) => [g.action, g.title, g.bytesToCopy])).toEqual([
        ['move', 'Show.S01', 3 * EP],
        ['move', 'Show.S01E03.REPACK', EP + 1200],
      ]);
    }
  });

  it('where both inodes have the same owner, group and mode (not root\'s): linked from the one copy, as dedupe would', () => {
    const m: InodeMeta = { uid: 1001, gid: 1001, mode: 0o640 };
    const gs = acting(plan(packAndTwice(new SnapshotBuilder(dedupePool()), { pack: m, twice: { ...m } })));
    expect(gs.map((g) => [g.action, g.torrents.length, g.bytesToCopy])).toEqual([['move', 2, 3 * EP + 1200]]);
  });

  it('a third copy links from the copy whose owner and mode it shares: one copy per (content, owner, group, mode)', () => {
    const third = `${STASH_SEED}/cross-seed/Show.S01E03.PROPER`;
    const other: InodeMeta = { uid: 1001, gid: 1001, mode: 0o640 };
    const b = packAndTwice(new SnapshotBuilder(dedupePool()), { twice: other });
    b.payload(third, [{ rel: 'Show.S01E03.mkv', size: EP, content: 'show-E03', meta: { ...other } }]);
    b.torrent({ hash: 'ffff000000000000000000000000000000000006', content: third, category: 'cross-seed' });
    const gs = acting(plan(b));
    expect(gs.map((g) => [g.action, g.torrents.map((t) => t.name), g.bytesToCopy])).toEqual([
      ['move', ['Show.S01'], 3 * EP],
      ['move', ['Show.S01E03.PROPER', 'Show.S01E03.REPACK'], EP + 1200],
    ]);
    const view = gs[1]!.steps.find((s): s is LinkViewStep => s.kind === 'link-view')!;
    expect(view.links.map((l) => [l.donor, l.path])).toEqual([[`${POOL_SEED}/cross-seed/Show.S01E03.PROPER/Show.S01E03.mkv`, `${POOL_SEED}/cross-seed/Show.S01E03.REPACK/Show.S01E03.mkv`]]);
  });

  it('a file whose content differs by a byte (same size, another SHA-256) is copied', () => {
    const b = new SnapshotBuilder(dedupePool());
    b.payload(PACK, [{ rel: 'Show.S01E03.mkv', size: EP, content: 'show-E03' }]);
    b.payload(TWICE, [{ rel: 'Show.S01E03.mkv', size: EP, content: 'show-E03-other' }]);
    b.torrent({ hash: 'aaaa000000000000000000000000000000000001', content: PACK, category: 'tv' }).torrent({ hash: 'eeee000000000000000000000000000000000005', content: TWICE, category: 'cross-seed' });
    expect(acting(plan(b)).map((g) => [g.action, g.bytesToCopy])).toEqual([
      ['move', EP],
      ['move', EP],
    ]);
  });
});
