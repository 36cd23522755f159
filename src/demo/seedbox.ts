// The demo seedbox: two filesystems (stash with a library, pool), a real qBittorrent and five torrents that show every decision.
import { copyFileSync, linkSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startQbt, type QbtSandbox } from '../sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, type MadeTorrent } from '../sandbox/torrent-file.js';
import { stashPoolConfigText } from '../sandbox/stash-pool-config.js';

export interface DemoSeedbox {
  base: string;
  stash: string;
  pool: string;
  seedStash: string;
  seedPool: string;
  library: string;
  configPath: string;
  qbt: QbtSandbox;
  torrents: { old: MadeTorrent; linked: MadeTorrent; show: MadeTorrent; xseed: MadeTorrent; album: MadeTorrent };
  /** The library's two identical extras (different inodes before dedupe). */
  extras: [string, string];
}

const MiB = 1024 * 1024;

/**
 * Lay out the seedbox under `base` (stash and pool must already exist: two mounts, or two plain dirs) and start
 * qBittorrent with five running torrents. The caller stops `qbt` and removes `base`. `trackers` (loopback URLs) makes
 * Old.Movie.2009 a private torrent announcing to them (tests of what hashall keeps of a tracker URL).
 */
export async function buildDemoSeedbox(base: string, stash: string, pool: string, opts: { trackers?: string[] } = {}): Promise<DemoSeedbox> {
  const seedStash = path.join(stash, 'media/torrents/seeding');
  const seedPool = path.join(pool, 'media/torrents/seeding');
  const library = path.join(stash, 'media/movies');
  for (const d of [seedStash, seedPool, library]) mkdirSync(d, { recursive: true });

  // 1. An old movie tagged for the archive: nothing else uses it -> MOVE to pool.
  const old = makeTorrent({ saveDir: path.join(seedStash, 'movies'), name: 'Old.Movie.2009', ...(opts.trackers ? { trackers: opts.trackers, private: true } : {}), files: [{ path: 'Old.Movie.2009.mkv', size: 6 * MiB }, { path: 'Old.Movie.2009.srt', size: 20_000 }] });
  // 2. A movie the library hardlinks -> stays on stash whatever the rules say.
  const linked = makeTorrent({ saveDir: path.join(seedStash, 'movies'), name: 'Linked.Movie.2021', files: [{ path: 'Linked.Movie.2021.mkv', size: 4 * MiB }] });
  mkdirSync(path.join(library, 'Linked Movie (2021)'), { recursive: true });
  linkSync(linked.paths[0] as string, path.join(library, 'Linked Movie (2021)', 'Linked Movie (2021).mkv'));
  // 3. A show and its cross-seed (same bytes, another folder name, hardlinked) -> they move together.
  const show = makeTorrent({ saveDir: path.join(seedStash, 'tv'), name: 'Some.Show.S01', files: [{ path: 'e01.mkv', size: 3 * MiB }, { path: 'e02.mkv', size: 3 * MiB }] });
  const xsName = 'Some Show S01 [other tracker]';
  const xsDir = path.join(seedStash, 'cross-seed', xsName);
  mkdirSync(xsDir, { recursive: true });
  show.paths.forEach((p) => linkSync(p, path.join(xsDir, path.basename(p))));
  const xseed = makeTorrent({ saveDir: path.join(seedStash, 'cross-seed'), name: xsName, files: [{ path: 'e01.mkv' }, { path: 'e02.mkv' }], write: false });
  // 4. An album whose bytes already sit on the pool -> REUSE (zero bytes copied).
  const album = makeTorrent({ saveDir: path.join(seedStash, 'music'), name: 'Album.2015.FLAC', files: [{ path: '01.flac', size: 2 * MiB }, { path: '02.flac', size: 2 * MiB }] });
  mkdirSync(path.join(seedPool, 'music', 'Album.2015.FLAC'), { recursive: true });
  album.paths.forEach((p) => copyFileSync(p, path.join(seedPool, 'music', 'Album.2015.FLAC', path.basename(p))));
  // 5. Two identical extras in the library with different inodes -> DEDUPE.
  const extrasDir = path.join(library, 'Extras');
  mkdirSync(extrasDir, { recursive: true });
  const extras: [string, string] = [path.join(extrasDir, 'trailer.mkv'), path.join(extrasDir, 'trailer (copy).mkv')];
  // Same modification time (a `cp -a` copy): dedupe never changes the mtime a library file shows.
  const copied = new Date('2024-01-01T00:00:00Z');
  for (const e of extras) {
    writeFileSync(e, Buffer.alloc(2 * MiB, 7));
    utimesSync(e, copied, copied);
  }

  const qbt = await startQbt({ dir: path.join(base, 'qbt') });
  try {
    await addTorrent(qbt, old, { savepath: path.join(seedStash, 'movies'), category: 'movies', tags: ['archive'], paused: false });
    await addTorrent(qbt, linked, { savepath: path.join(seedStash, 'movies'), category: 'movies', tags: ['archive'], paused: false });
    await addTorrent(qbt, show, { savepath: path.join(seedStash, 'tv'), category: 'tv', tags: ['archive'], paused: false });
    await addTorrent(qbt, xseed, { savepath: path.join(seedStash, 'cross-seed'), category: 'cross-seed', tags: ['archive'], paused: false });
    await addTorrent(qbt, album, { savepath: path.join(seedStash, 'music'), category: 'music', tags: ['archive'], paused: false });
  } catch (err) {
    await qbt.stop();
    throw err;
  }

  const configPath = path.join(base, 'hashall.yaml');
  writeFileSync(
    configPath,
    stashPoolConfigText(
      {
        comment: 'hashall demo seedbox (throwaway): stash is warm and holds the library, pool is cold.',
        catalog: 'catalog.db',
        stash,
        pool,
        seeding: { stash: [seedStash], pool: [seedPool] },
        libraries: [library],
        client: { type: 'qbittorrent', url: qbt.url },
      },
      [
        'placement:',
        '  default: keep',
        '  rules:',
        '    - name: archive-to-pool',
        '      match: { tags: [archive] }',
        '      place: pool',
        'dedupe: { filesystems: [stash], minSize: 1MiB }',
        'safety: { minFree: 1MiB, retire: { mode: staged, observeHours: 72 } }',
      ],
    ),
  );
  return { base, stash, pool, seedStash, seedPool, library, configPath, qbt, torrents: { old, linked, show, xseed, album }, extras };
}
