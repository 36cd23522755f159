// Pure planner tests: every link across inodes a move makes (reuse donors, partly-present donors, siblings on other inodes) needs the same known owner, group and mode on both inodes (torrent-groups.ts).
import { describe, expect, it } from 'vitest';
import type { CopyStep, LinkViewStep, Plan, PlanGroup } from '../../../src/plan/types.js';
import type { InodeMeta } from '../../../src/domain/snapshot.js';
import { SnapshotBuilder, baseConfig, rule, planTrimmedAlike, movieFiles, sha, GiB, STASH_SEED, POOL_SEED } from './fixtures.js';

const MOVIE = `${STASH_SEED}/movies/Foo`;
const ON_POOL = `${POOL_SEED}/left/Foo`;
const toPool = () => baseConfig({ placement: { default: 'stash', rules: [rule('cold', 'pool', { categories: ['movies', 'cross-seed', 'tv'] })] } });
const OTHER: InodeMeta = { uid: 1001, gid: 1001, mode: 0o600 };
const VIDEO = 4 * GiB;

/** The plan of the builder's snapshot, checked equal to the plan of its reader-trimmed snapshot (fixtures.ts). */
const plan = planTrimmedAlike;

function only(p: Plan): PlanGroup {
  const gs = p.groups.filter((g) => g.action !== 'keep');
  expect(gs).toHaveLength(1);
  return gs[0]!;
}

/** The movie on the stash (torrent "a"), and a copy of its files on the pool no torrent uses; `meta`: the pool copy's video's (null = unknown). */
function reuseWorld(meta: { donor?: InodeMeta | null; source?: InodeMeta | null } = {}): SnapshotBuilder {
  const b = new SnapshotBuilder(toPool());
  b.payload(MOVIE, movieFiles('foo').map((f) => (f.rel === 'foo.mkv' && meta.source !== undefined ? { ...f, meta: meta.source } : f)));
  b.file(`${ON_POOL}/foo.mkv`, VIDEO, 'foo-video', undefined, meta.donor === undefined ? {} : { meta: meta.donor });
  b.file(`${ON_POOL}/foo.nfo`, 1200, 'foo-nfo');
  return b.torrent({ hash: 'a'.repeat(40), content: MOVIE, category: 'movies' });
}

describe('buildPlan: a reuse donor links only a file of the same known owner, group and mode', () => {
  it('equal (root:root 0644 on both): reused as today, each link naming its own source for apply to re-read', () => {
    const b = reuseWorld();
    const g = only(plan(b));
    expect(g.action).toBe('reuse');
    const view = g.steps[0] as LinkViewStep;
    const own = b.build().payloads[MOVIE]!.files!;
    expect(view.links.map((l) => [l.donor, l.metaOf])).toEqual(own.map((f) => [`${ON_POOL}/${f.relpath}`, { fs: 'stash', path: f.path, ino: f.ino }]));
  });

  it('the pool copy shows another owner, group or mode: that file is copied, the other linked (partly present)', () => {
    for (const donor of [OTHER, { uid: 0, gid: 0, mode: 0o600 }, { uid: 0, gid: 1001, mode: 0o644 }]) {
      const g = only(plan(reuseWorld({ donor })));
      expect(g.action).toBe('move');
      expect(g.bytesToCopy).toBe(VIDEO);
      expect((g.steps[0] as CopyStep).files).toEqual([{ relpath: 'foo.mkv', size: VIDEO, sha256: sha('foo-video') }]);
      expect((g.steps[1] as LinkViewStep).links.map((l) => [l.donor, l.hashDonor])).toEqual([[`${ON_POOL}/foo.nfo`, true]]);
      expect(g.reasons.join('\n')).toMatch(/another owner, group or mode/);
    }
  });

  it('the owner of either is unknown: that file is copied', () => {
    for (const meta of [{ donor: null }, { source: null }]) {
      const g = only(plan(reuseWorld(meta)));
      expect([g.action, g.bytesToCopy]).toEqual(['move', VIDEO]);
    }
  });

  it('a promote (reuse only) whose copy on the warm filesystem shows another owner is blocked, saying why', () => {
    const b = new SnapshotBuilder(baseConfig({ placement: { default: 'stash', rules: [] } }));
    const cold = `${POOL_SEED}/movies/Foo`;
    b.payload(cold, movieFiles('foo'));
    b.file(`${STASH_SEED}/left/Foo/foo.mkv`, VIDEO, 'foo-video', undefined, { meta: OTHER });
    b.file(`${STASH_SEED}/left/Foo/foo.nfo`, 1200, 'foo-nfo');
    b.torrent({ hash: 'a'.repeat(40), content: cold, category: 'movies' });
    const g = only(plan(b));
    expect(g.action).toBe('blocked');
    expect(g.reasons[0]).toMatch(/owner, group or mode/);
  });
});

describe('buildPlan: a partly-present donor links only a file of the same known owner, group and mode', () => {
  const PACK = `${POOL_SEED}/tv/Show.S01`;
  const EPISODE = `${STASH_SEED}/movies/Show.S01E03`;
  function world(donor?: InodeMeta | null): SnapshotBuilder {
    const b = new SnapshotBuilder(toPool());
    b.payload(PACK, ['E01', 'E03'].map((e) => ({ rel: `Show.S01${e}.mkv`, size: VIDEO, content: `show-${e}`, ...(e === 'E03' && donor !== undefined ? { meta: donor } : {}) })));
    b.payload(EPISODE, [
      { rel: 'Show.S01E03.mkv', size: VIDEO, content: 'show-E03' },
      { rel: 'Show.S01E03.nfo', size: 4000, content: 'nfo-E03' },
    ]);
    return b.torrent({ hash: 'a'.repeat(40), content: PACK, category: 'tv' }).torrent({ hash: 'b'.repeat(40), content: EPISODE, category: 'movies' });
  }

  it('equal: linked from the donor as today (hashed by apply), naming its own source', () => {
    const b = world();
    const g = only(plan(b));
    expect([g.action, g.bytesToCopy]).toEqual(['move', 4000]);
    const own = b.build().payloads[EPISODE]!.files!.find((f) => f.relpath === 'Show.S01E03.mkv')!;
    expect((g.steps[1] as LinkViewStep).links).toEqual([
      { donor: `${PACK}/Show.S01E03.mkv`, path: `${POOL_SEED}/movies/Show.S01E03/Show.S01E03.mkv`, size: VIDEO, sha256: sha('show-E03'), hashDonor: true, metaOf: { fs: 'stash', path: own.path, ino: own.ino } },
    ]);
  });

  it('another owner, group or mode, or unknown: the file is copied like any file without a donor', () => {
    for (const donor of [OTHER, null]) {
      const g = only(plan(world(donor)));
      expect([g.action, g.bytesToCopy]).toEqual(['move', VIDEO + 4000]);
      expect(g.steps.map((s) => s.kind)).toEqual(['copy', 'repoint']);
    }
  });
});

describe('buildPlan: siblings on other inodes link from the one copy only where owner, group and mode are known and equal', () => {
  const A = `${STASH_SEED}/movies/Foo.2020`;
  const X = `${STASH_SEED}/cross-seed/trk/Foo 2020`;
  /** The same content downloaded twice (two inodes per file); `meta`: the owner, group and mode of X's video (null = unknown). */
  function twice(meta?: InodeMeta | null): SnapshotBuilder {
    const b = new SnapshotBuilder(toPool());
    b.payload(A, movieFiles('foo'));
    b.payload(X, movieFiles('foo').map((f) => (f.rel === 'foo.mkv' && meta !== undefined ? { ...f, meta } : f)));
    return b.torrent({ hash: 'a'.repeat(40), content: A, category: 'movies' }).torrent({ hash: 'b'.repeat(40), content: X, category: 'cross-seed' });
  }

  it('equal: one copy, the sibling view linked from it, each link naming the sibling\'s own source', () => {
    const b = twice();
    const g = only(plan(b));
    expect(g.action).toBe('move');
    expect(g.bytesToCopy).toBe(VIDEO + 1200);
    expect(g.steps.map((s) => s.kind)).toEqual(['copy', 'link-view', 'repoint', 'repoint']);
    const own = b.build().payloads[A]!.files!;
    expect((g.steps[1] as LinkViewStep).links.map((l) => l.metaOf)).toEqual(own.map((f) => ({ fs: 'stash', path: f.path, ino: f.ino })));
  });

  it('the sibling\'s video shows another owner, group or mode, or it is unknown: the sibling gets its own copy of it, the rest linked', () => {
    for (const meta of [OTHER, null]) {
      const g = only(plan(twice(meta)));
      expect(g.action).toBe('move');
      expect(g.bytesToCopy).toBe(2 * VIDEO + 1200);
      expect(g.steps.map((s) => s.kind)).toEqual(['copy', 'copy', 'link-view', 'repoint', 'repoint']);
      // The copy source is X (bytewise first); A's own video is copied into A's own view, its .nfo linked from X's copy.
      expect(g.steps[1] as CopyStep).toEqual({ kind: 'copy', fromFs: 'stash', toFs: 'pool', fromRoot: A, toRoot: `${POOL_SEED}/movies/Foo.2020`, files: [{ relpath: 'foo.mkv', size: VIDEO, sha256: sha('foo-video') }], bytes: VIDEO });
      const view = g.steps[2] as LinkViewStep;
      expect(view.root).toBe(`${POOL_SEED}/movies/Foo.2020`);
      expect(view.links.map((l) => [l.donor, l.path])).toEqual([[`${POOL_SEED}/cross-seed/trk/Foo 2020/foo.nfo`, `${POOL_SEED}/movies/Foo.2020/foo.nfo`]]);
      expect(view.expected).toEqual(['foo.mkv', 'foo.nfo']);
      expect(g.reasons.join('\n')).toMatch(/another owner, group or mode/);
    }
  });

  it('siblings sharing inodes (a hardlinked cross-seed) link as today, without a re-read', () => {
    const b = new SnapshotBuilder(toPool());
    b.payload(A, movieFiles('foo'));
    b.link(`${A}/foo.mkv`, `${X}/foo.mkv`).link(`${A}/foo.nfo`, `${X}/foo.nfo`);
    b.payload(X, []);
    b.torrent({ hash: 'a'.repeat(40), content: A, category: 'movies' }).torrent({ hash: 'b'.repeat(40), content: X, category: 'cross-seed' });
    const g = only(plan(b));
    expect(g.steps.map((s) => s.kind)).toEqual(['copy', 'link-view', 'repoint', 'repoint']);
    expect((g.steps[1] as LinkViewStep).links.every((l) => l.metaOf === undefined)).toBe(true);
  });
});
