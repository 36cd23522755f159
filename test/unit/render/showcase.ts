// A plan exercising every group action, built by the real planner from an in-memory snapshot (test support).
import { buildPlan } from '../../../src/plan/build.js';
import type { Plan } from '../../../src/plan/types.js';
import type { HashallConfig } from '../../../src/config/types.js';
import type { CatalogSnapshot } from '../../../src/domain/snapshot.js';
import { SnapshotBuilder, baseConfig, rule, category, movieFiles, NOW, HOUR, GiB, STASH_SEED, POOL_SEED, MOVIES_LIB } from '../plan/fixtures.js';

/** The showcase's config and snapshot (every file list loaded), as buildPlan takes them. */
export function showcaseInput(): { config: HashallConfig; snapshot: CatalogSnapshot; now: number } {
  const cfg = baseConfig({
    placement: { default: 'stash', rules: [rule('old-movies', 'pool', { categories: ['movies', 'cross-seed'], minSeedingDays: 30 })] },
    dedupe: { filesystems: ['stash'], minSize: 1024 },
    // The music library holds the dedupe pair below (dedupe links only inside seeding and library roots).
    libraries: [MOVIES_LIB, '/stash/media/music'],
  });
  cfg.categories = { 'cross-seed': category('cross-seed/{tracker}') };
  const b = new SnapshotBuilder(cfg);
  let ino = 5000;
  const files = (w: string, size?: number) => movieFiles(w, size).map((f) => ({ ...f, ino: ino++ }));
  // move: cross-seed siblings with different top folders
  const a = `${STASH_SEED}/movies/Foo.2020.1080p.BluRay`;
  const x = `${STASH_SEED}/cross-seed/tracker.example.org/Foo 2020 1080p BluRay`;
  b.payload(a, files('foo', 9 * GiB));
  b.link(`${a}/foo.mkv`, `${x}/foo.mkv`).link(`${a}/foo.nfo`, `${x}/foo.nfo`).payload(x, []);
  b.torrent({ hash: '1a2b3c4d'.padEnd(40, '0'), content: a, category: 'movies' });
  b.torrent({ hash: '5e6f7a8b'.padEnd(40, '0'), content: x, category: 'cross-seed' });
  // reuse: a copy already on the pool
  const r = `${STASH_SEED}/movies/Bar.1999`;
  b.payload(r, files('bar', 2 * GiB)).torrent({ hash: 'b0b0b0b0'.padEnd(40, '1'), content: r, category: 'movies' });
  b.file(`${POOL_SEED}/archive/bar.mkv`, 2 * GiB, 'bar-video', ino++);
  b.file(`${POOL_SEED}/archive/bar.nfo`, 1200, 'bar-nfo', ino++);
  // stay: library hardlink
  const s = `${STASH_SEED}/movies/Kept.2001`;
  b.payload(s, files('kept')).torrent({ hash: 'cafe0000'.padEnd(40, '2'), content: s, category: 'movies' });
  b.link(`${s}/kept.mkv`, `${MOVIES_LIB}/Kept (2001)/kept.mkv`);
  // blocked: still downloading
  const d = `${STASH_SEED}/movies/Half.2022`;
  b.payload(d, files('half')).torrent({ hash: 'dead0000'.padEnd(40, '3'), content: d, category: 'movies', phase: 'downloading' });
  // dedupe: two copies of one file on stash
  b.file('/stash/media/music/a/track (1).flac', 40 * 1024 * 1024, 'track', ino++, { mtimeNs: '1700000000000000000' });
  b.file('/stash/media/music/b/track.flac', 40 * 1024 * 1024, 'track', ino++, { mtimeNs: '1700000000000000000' });
  // retire (window passed) and pending (window running)
  const old = `${STASH_SEED}/movies/Old.1980`;
  const oldDst = `${POOL_SEED}/movies/Old.1980`;
  b.payload(old, files('old', 3 * GiB));
  b.payload(oldDst, files('old', 3 * GiB));
  b.torrent({ hash: 'eeee0000'.padEnd(40, '4'), content: oldDst, category: 'movies' });
  const mid = `${STASH_SEED}/movies/Mid.1990`;
  const midDst = `${POOL_SEED}/movies/Mid.1990`;
  b.payload(mid, files('mid', GiB));
  b.payload(midDst, files('mid', GiB));
  b.torrent({ hash: 'ffff0000'.padEnd(40, '5'), content: midDst, category: 'movies' });
  const snap0 = b.build();
  b.relocation({ id: 1, payloadHash: snap0.payloads[oldDst]!.payloadHash!, sourceFsId: 1, sourceRoot: old, targetFsId: 2, targetRoot: oldDst, torrentHashes: ['eeee0000'.padEnd(40, '4')], repointedAt: NOW - 100 * HOUR });
  b.relocation({ id: 2, payloadHash: snap0.payloads[midDst]!.payloadHash!, sourceFsId: 1, sourceRoot: mid, targetFsId: 2, targetRoot: midDst, torrentHashes: ['ffff0000'.padEnd(40, '5')], repointedAt: NOW - 10 * HOUR });
  return { config: cfg, snapshot: b.build(), now: NOW };
}

export function showcasePlan(): Plan {
  const { config, snapshot, now } = showcaseInput();
  return buildPlan({ config, snapshot, now, createdAt: new Date(now).toISOString() });
}
