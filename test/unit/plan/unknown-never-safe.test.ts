// Adversarial planner tests: each shape of "unknown" found in review must block, never pass as safe (pure).
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/plan/build.js';
import type { Plan } from '../../../src/plan/types.js';
import type { CatalogSnapshot } from '../../../src/domain/snapshot.js';
import { SnapshotBuilder, baseConfig, category, movieFiles, trimmedLikeReader, NOW, HOUR, STASH_SEED, POOL_SEED } from './fixtures.js';

/** The plan of the snapshot — which must equal the plan of that snapshot trimmed as readSnapshot trims it. */
function planOf(b: SnapshotBuilder, snap: CatalogSnapshot = b.build()): Plan {
  const full = buildPlan({ config: b.config, snapshot: snap, now: b.now, createdAt: new Date(b.now).toISOString() });
  expect(buildPlan({ config: b.config, snapshot: trimmedLikeReader(b.config, snap, b.now), now: b.now, createdAt: new Date(b.now).toISOString() })).toEqual(full);
  return full;
}

const cold = () => baseConfig({ placement: { default: 'pool', rules: [] } });

/** A movie relocated stash → pool `hours` ago, its torrent seeding from the pool copy. */
function relocated(hours: number, torrentHashes = ['a'.repeat(40)]): SnapshotBuilder {
  const b = new SnapshotBuilder(cold());
  const src = `${STASH_SEED}/movies/Foo`;
  const dst = `${POOL_SEED}/movies/Foo`;
  b.payload(src, movieFiles('foo'));
  b.payload(dst, movieFiles('foo'));
  b.torrent({ hash: 'a'.repeat(40), content: dst, category: 'movies' });
  const h = b.build().payloads[dst]!.payloadHash!;
  b.relocation({ id: 9, payloadHash: h, sourceFsId: 1, sourceRoot: src, targetFsId: 2, targetRoot: dst, torrentHashes, repointedAt: NOW - hours * HOUR });
  return b;
}

describe('retire: unknown users of the source block', () => {
  it('a torrent whose client path has no host spelling might be seeding from the source: blocked, not retired', () => {
    const b = relocated(100);
    b.payload(`${STASH_SEED}/tv/Other`, movieFiles('other'));
    b.torrent({ hash: 'b'.repeat(40), content: `${STASH_SEED}/tv/Other`, unmapped: 'no path map covers /downloads/Foo' });
    const g = planOf(b).groups.find((x) => x.key === 'retire:9')!;
    expect(g.action).toBe('blocked');
    expect(g.steps).toEqual([]);
    expect(g.reasons.join('\n')).toMatch(/"Other".*no host spelling/);
  });

  it('a relocation that lists no torrents proves nothing about the target: blocked, not retired', () => {
    const g = planOf(relocated(100, [])).groups.find((x) => x.key === 'retire:9')!;
    expect(g.action).toBe('blocked');
    expect(g.steps).toEqual([]);
    expect(g.reasons[0]).toMatch(/lists no torrents/);
  });
});

describe('torrent groups: a payload that is a seeding root itself', () => {
  it('is blocked even when its category is mapped (the whole seeding root would be moved, then retired)', () => {
    const cfg = cold();
    cfg.categories = { movies: category('movies') };
    const nested = `${STASH_SEED}/movies`;
    cfg.seeding = { stash: [STASH_SEED, nested], pool: [POOL_SEED] };
    const b = new SnapshotBuilder(cfg).payload(nested, movieFiles('whole'));
    b.torrent({ hash: 'c'.repeat(40), content: nested, category: 'movies' });
    const snap = b.build();
    // As readSnapshot reports it: the longest seeding root at or above the payload is the payload itself.
    snap.payloads[nested]!.seedingRoot = nested;
    const g = planOf(b, snap).groups[0]!;
    expect(g.action).toBe('blocked');
    expect(g.steps).toEqual([]);
    expect(g.reasons.join('\n')).toMatch(/is a seeding root itself/);
  });
});

describe('retire: a stale client sync is not proof', () => {
  it('a last sync older than safety.maxScanAgeHours blocks (a torrent added since could seed from the source)', () => {
    const b = relocated(100);
    b.lastSyncAt = NOW - 30 * HOUR;
    const g = planOf(b).groups.find((x) => x.key === 'retire:9')!;
    expect(g.action).toBe('blocked');
    expect(g.steps).toEqual([]);
    expect(g.reasons.join('\n')).toMatch(/client was last synced 1d 6h ago/);
  });
});

describe('hitchhikers: reuse never fills another torrent\'s payload directory', () => {
  it('a pool torrent whose payload is a subset of ours at our target root: our view goes to the unique root', () => {
    const cfg = baseConfig({ placement: { default: 'pool', rules: [] } });
    const b = new SnapshotBuilder(cfg);
    const src = `${STASH_SEED}/movies/Foo`;
    const dst = `${POOL_SEED}/movies/Foo`;
    b.payload(src, movieFiles('foo')).torrent({ hash: 'a'.repeat(40), content: src, category: 'movies' });
    // Another torrent (video only, so another payload hash) already seeds from the target directory on pool…
    b.payload(dst, [movieFiles('foo')[0]!]).torrent({ hash: 'd'.repeat(40), content: dst, category: 'movies' });
    // …and the .nfo exists elsewhere on pool, so every file has a donor there.
    b.file(`${POOL_SEED}/misc/foo.nfo`, 1200, 'foo-nfo');
    const p = planOf(b);
    const g = p.groups.find((x) => x.torrents.some((t) => t.hash === 'a'.repeat(40)))!;
    expect(g.action).toBe('reuse');
    for (const s of g.steps) {
      if (s.kind === 'link-view') for (const l of s.links) expect(l.path.startsWith(`${dst}/`)).toBe(false);
    }
    expect(g.to!.path).not.toBe(dst);
  });
});

describe('retire: filesystems that cannot be told', () => {
  it('a relocation whose source filesystem hashall.yaml no longer names is blocked, not retired on "fs#-1"', () => {
    const b = relocated(100);
    b.relocations[0]!.sourceFsId = -1;
    const g = planOf(b).groups.find((x) => x.key === 'retire:9')!;
    expect(g.action).toBe('blocked');
    expect(g.steps).toEqual([]);
    expect(g.reasons.join('\n')).toMatch(/source filesystem .* is not declared/);
  });

  it('a source path that the catalog places on another filesystem than the relocation recorded is blocked', () => {
    const b = relocated(100);
    b.relocations[0]!.sourceFsId = 2;
    const g = planOf(b).groups.find((x) => x.key === 'retire:9')!;
    expect(g.action).toBe('blocked');
    expect(g.steps).toEqual([]);
  });
});

describe('hitchhikers: a torrent whose data is missing still owns its directory', () => {
  it('a pool torrent with missing data at our target path: we move to the unique root (its recheck would overwrite ours)', () => {
    const b = new SnapshotBuilder(baseConfig({ placement: { default: 'pool', rules: [] } }));
    const src = `${STASH_SEED}/movies/Foo`;
    const dst = `${POOL_SEED}/movies/Foo`;
    b.payload(src, movieFiles('foo')).torrent({ hash: 'a'.repeat(40), content: src, category: 'movies' });
    // Another torrent points at the pool path, but its data is gone: sync records no host spelling for it.
    b.torrent({ hash: 'e'.repeat(40), content: dst, category: 'movies', phase: 'missing-files', files: [{ name: 'Foo/other.mkv', size: 9 }], unmapped: `${dst} does not exist on the host` });
    const g = planOf(b).groups.find((x) => x.torrents.some((t) => t.hash === 'a'.repeat(40)))!;
    expect(g.action).toBe('move');
    expect(g.to!.path).not.toBe(dst);
    expect(g.to!.path.startsWith(`${dst}/`)).toBe(false);
  });
});

describe('library spelled through an undeclared bind mount', () => {
  it('the canonical root the snapshot reader resolved is what counts; the raw spelling is not a second, "never scanned" library', () => {
    const cfg = baseConfig({ placement: { default: 'pool', rules: [] } });
    cfg.libraries = ['/mnt/movies'];
    const b = new SnapshotBuilder(cfg);
    b.payload(`${STASH_SEED}/movies/Foo`, movieFiles('foo')).torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/Foo`, category: 'movies' });
    // fixtures place '/mnt/movies' nowhere; give the builder a library it can place, then spell it as readSnapshot would.
    cfg.libraries = ['/stash/media/movies'];
    const snap = b.build();
    cfg.libraries = ['/mnt/movies'];
    const lib = snap.roots.find((r) => r.kind === 'library')!;
    expect(lib.path).toBe('/stash/media/movies');
    const g = planOf(b, snap).groups[0]!;
    expect(g.reasons.join('\n')).not.toMatch(/\/mnt\/movies has never been scanned/);
    expect(g.action).toBe('move');
  });

  it('an unscanned canonical library root still blocks', () => {
    const cfg = baseConfig({ placement: { default: 'pool', rules: [] } });
    const b = new SnapshotBuilder(cfg).scanned('/stash/media/movies', null);
    b.payload(`${STASH_SEED}/movies/Foo`, movieFiles('foo')).torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/Foo`, category: 'movies' });
    const snap = b.build();
    cfg.libraries = ['/mnt/movies'];
    const g = planOf(b, snap).groups[0]!;
    expect(g.action).toBe('blocked');
    expect(g.reasons.join('\n')).toMatch(/library root \/stash\/media\/movies has never been scanned/);
  });
});

describe('retire: "complete" means nothing left to download', () => {
  it('a relocated torrent reporting progress 1 but bytes left (float rounding) is not healthy: blocked', () => {
    const b = relocated(100);
    const snap = b.build();
    snap.torrents[0]!.amountLeft = 16_384;
    const g = planOf(b, snap).groups.find((x) => x.key === 'retire:9')!;
    expect(g.action).toBe('blocked');
    expect(g.steps).toEqual([]);
  });
});
