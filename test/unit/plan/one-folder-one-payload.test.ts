// Pure planner tests: two torrents' trees never share one folder (DOMAIN: hitchhikers) — not through a sibling's own copy, a partly-present donor or colliding names — across every group of one plan.
import { describe, expect, it } from 'vitest';
import type { CopyStep, LinkViewStep, Plan, PlanGroup, RepointStep } from '../../../src/plan/types.js';
import type { InodeMeta } from '../../../src/domain/snapshot.js';
import { isAtOrUnder } from '../../../src/domain/path-string.js';
import { SnapshotBuilder, baseConfig, category, rule, planTrimmedAlike, movieFiles, GiB, STASH_SEED, POOL_SEED } from './fixtures.js';

const OTHER: InodeMeta = { uid: 1001, gid: 1001, mode: 0o600 };
const toPool = () =>
  baseConfig({
    placement: { default: 'stash', rules: [rule('cold', 'pool', { categories: ['movies', 'cross-seed', 'tv'] })] },
    categories: { movies: category('movies'), tv: category('tv') },
  });

/** Every folder or file a group writes into on the target: its copies' and views' roots and its torrents' new roots. */
function rootsOf(g: PlanGroup): string[] {
  const out = new Set<string>();
  for (const s of g.steps) {
    if (s.kind === 'copy') out.add((s as CopyStep).toRoot);
    if (s.kind === 'link-view') out.add((s as LinkViewStep).root);
    if (s.kind === 'repoint') out.add((s as RepointStep).hostTo);
  }
  return [...out];
}

/** No root of one group at, under or above a root of another; none at, under or above a payload of other content. */
function oneTreePerFolder(p: Plan, foreign: Record<string, string[]>): void {
  const acting = p.groups.filter((g) => g.action === 'move' || g.action === 'reuse');
  for (const a of acting) {
    for (const b of acting) {
      if (a === b) continue;
      for (const ra of rootsOf(a)) for (const rb of rootsOf(b)) expect(isAtOrUnder(ra, rb) || isAtOrUnder(rb, ra), `${a.title} ${ra} / ${b.title} ${rb}`).toBe(false);
    }
    for (const r of rootsOf(a)) for (const f of foreign[a.title] ?? []) expect(isAtOrUnder(r, f) || isAtOrUnder(f, r), `${a.title} ${r} / ${f}`).toBe(false);
  }
}

describe('buildPlan: one folder, one payload', () => {
  it('a sibling’s own copy, a category collision, a single file named as another’s folder, and a tree already on the target: each in a folder of its own', () => {
    const b = new SnapshotBuilder(toPool());
    // Foo: two siblings on other inodes, the cross-seed's video of another owner: its own copy into its own view.
    const fooA = `${STASH_SEED}/movies/Foo`;
    const fooX = `${STASH_SEED}/cross-seed/trk/Foo`;
    b.payload(fooA, movieFiles('foo'));
    b.payload(fooX, movieFiles('foo').map((f) => (f.rel === 'foo.mkv' ? { ...f, meta: OTHER } : f)));
    // Other content already where the cross-seed's view would go.
    const there = `${POOL_SEED}/cross-seed/trk/Foo`;
    b.payload(there, movieFiles('other'));
    // Bar: other content named Foo too, category movies from another folder: the same target as Foo's movie.
    const bar = `${STASH_SEED}/old/Foo`;
    b.payload(bar, movieFiles('bar'));
    // A single file named Foo (no extension), category movies: the very path of Foo's folder on the pool.
    const single = `${STASH_SEED}/loose/Foo`;
    b.payload(single, [{ rel: 'Foo', size: 3 * GiB, content: 'single' }], { kind: 'file' });
    b.torrent({ hash: 'a'.repeat(40), content: fooA, category: 'movies' })
      .torrent({ hash: 'b'.repeat(40), content: fooX, category: 'cross-seed' })
      .torrent({ hash: 'c'.repeat(40), content: bar, category: 'movies' })
      .torrent({ hash: 'd'.repeat(40), content: single, category: 'movies' })
      .torrent({ hash: 'e'.repeat(40), content: there, category: 'cross-seed' });
    const p = planTrimmedAlike(b);
    const acting = p.groups.filter((g) => g.action !== 'keep');
    expect(acting.map((g) => [g.title, g.action])).toEqual([
      ['Foo', 'move'],
      ['Foo', 'move'],
      ['Foo', 'move'],
    ]);
    const foo = acting.find((g) => g.torrents.length === 2)!;
    // Two copies (the source's, and the sibling's own of the video), each into a view of its own: the cross-seed's
    // beside the other content's folder, the movie's beside the folder another group claimed first.
    const copies = foo.steps.filter((s) => s.kind === 'copy') as CopyStep[];
    const unique = foo.payloadHash!.slice(0, 12);
    expect(copies.map((c) => c.toRoot)).toEqual([`${there}.hashall-${unique}/Foo`, `${POOL_SEED}/movies/Foo.hashall-${unique}/Foo`]);
    oneTreePerFolder(p, { Foo: [there] });
  });
});
