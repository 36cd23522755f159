// Folders a client keeps its own files in (rTorrent's session, qBittorrent's .torrent copies, watched and incomplete folders, Transmission's incomplete-dir) inside a seeding root are never orphans: real daemons, real tmpfs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openCatalog } from '../../../src/catalog/db.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { rtorrentSandboxes, type RtorrentSandbox } from '../../../src/sandbox/rtorrent-sandbox.js';
import { transmissionSandboxes, type TransmissionSandbox } from '../../../src/sandbox/transmission-sandbox.js';
import { addTorrent, fixtureBytes, makeTorrent } from '../../../src/sandbox/torrent-file.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { runCli } from '../../support/cli.js';
import { contentTree, CLOCK_AHEAD } from './orphan-fixture.js';
import { stashPoolConfigText } from '../../../src/sandbox/stash-pool-config.js';

const TRACKER = 'http://127.0.0.1:1/announce';
const qbts = qbtSandboxes();
const rts = rtorrentSandboxes();
const trs = transmissionSandboxes();
let tmp: TempDir;
let qbt: QbtSandbox;
let rt: RtorrentSandbox;
let tr: TransmissionSandbox;
let seed: string;
let configPath: string;
let before: Map<string, string>;

interface OrphansJson {
  proven: boolean;
  blockers: string[];
  trees: { path: string }[];
  classes: { files: Record<string, number> };
  clientFolders: { client: string; role: string; path: string }[];
}

const hashall = (...args: string[]) => runCli([...args, '--config', configPath], { cwd: tmp.path, now: () => Date.now() + CLOCK_AHEAD });

function write(p: string, data: Buffer): void {
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, data);
}

beforeAll(async () => {
  tmp = makeTempDir('hashall-client-folders-');
  const stash = path.join(tmp.path, 'stash');
  const pool = path.join(tmp.path, 'pool');
  mountTmpfs(stash, 32 << 20, 'cf-stash');
  mountTmpfs(pool, 8 << 20, 'cf-pool');
  seed = path.join(stash, 'seeding');
  const movies = path.join(seed, 'movies');
  mkdirSync(movies, { recursive: true });
  mkdirSync(path.join(pool, 'seeding'), { recursive: true });

  // qBittorrent: "Copy .torrent files to" (and for finished downloads), a watched folder and "Keep incomplete torrents
  // in", all inside the seeding root, as many setups keep them beside the data.
  qbt = await qbts.start({ dir: path.join(tmp.path, 'qbt') });
  const prefs = {
    export_dir: path.join(seed, '.torrents', 'all'),
    export_dir_fin: path.join(seed, '.torrents', 'done'),
    scan_dirs: { [path.join(seed, 'watch')]: 1 },
    temp_path_enabled: true,
    temp_path: path.join(seed, 'incomplete'),
  };
  for (const d of [prefs.export_dir, prefs.export_dir_fin, path.join(seed, 'watch'), prefs.temp_path]) mkdirSync(d, { recursive: true });
  const set = await qbt.api('POST', '/app/setPreferences', { json: JSON.stringify(prefs) });
  expect(set.status).toBe(200);
  const film = makeTorrent({ saveDir: movies, name: 'Film.2020', files: [{ path: 'film.mkv', size: 40_000 }], trackers: [TRACKER] });
  await addTorrent(qbt, film, { savepath: movies, paused: false, skipChecking: true });
  // The copies qBittorrent keeps (written once, never touched again), a note in the watched folder, and a partial
  // download left in the incomplete folder under its own name (.!qB off).
  write(path.join(prefs.export_dir, 'Film.2020.torrent'), film.buffer);
  write(path.join(prefs.export_dir_fin, 'Film.2020.torrent'), film.buffer);
  write(path.join(seed, 'watch', 'README.txt'), fixtureBytes('watch-note', 200));
  write(path.join(prefs.temp_path, 'Stalled.2001', 'stalled.mkv'), fixtureBytes('stalled-qbt', 9_000));

  // rTorrent with its session folder inside the seeding root: one .torrent (and its state files) per torrent.
  rt = await rts.start({ dir: path.join(tmp.path, 'rt'), session: path.join(seed, '.rtsession') });
  const rtData = path.join(seed, 'rt');
  const album = makeTorrent({ saveDir: rtData, name: 'Album.1999', files: [{ path: 'a.flac', size: 30_000 }], trackers: [TRACKER] });
  await rt.add(album, { dir: rtData, start: true });
  await rt.call('session.save');

  // Transmission downloading into an incomplete-dir inside the seeding root, partial files under their own names: a
  // stalled download's bytes there are all it has.
  tr = await trs.start({ dir: path.join(tmp.path, 'tr') });
  const trIncomplete = path.join(seed, 'incomplete-tr');
  mkdirSync(trIncomplete, { recursive: true });
  await tr.rpc('session-set', { 'incomplete-dir': trIncomplete, 'incomplete-dir-enabled': true, 'rename-partial-files': false });
  write(path.join(trIncomplete, 'Rare.1971', 'rare.mkv'), fixtureBytes('rare-partial', 11_000));

  // One real orphan, so the report proves it still finds them.
  write(path.join(movies, 'Removed.2010', 'r.mkv'), fixtureBytes('removed', 13_000));

  configPath = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(
    configPath,
    stashPoolConfigText(
      {
        catalog: 'catalog.db',
        stash,
        pool,
        seeding: { stash: [seed], pool: [path.join(pool, 'seeding')] },
        clients: { qbt: { type: 'qbittorrent', url: qbt.url }, rt: { type: 'rtorrent', url: rt.url }, tr: { type: 'transmission', url: tr.url } },
      },
      ['safety: { minFree: 1MiB }'],
    ),
  );
  before = contentTree(seed);
}, 180_000);

afterAll(async () => {
  await qbts.stopAll();
  await rts.stopAll();
  await trs.stopAll();
  tmp?.cleanup();
});

describe('folders a client keeps its own files in', () => {
  it('are never orphans: the session, .torrent copies, watched and incomplete folders are named, the real orphan is found', async () => {
    expect(readdirSync(path.join(seed, '.rtsession')).some((n) => n.endsWith('.torrent')), 'rTorrent saved its session').toBe(true);
    for (const cmd of ['scan', 'sync']) {
      const r = await hashall(cmd);
      expect(r.code, r.stderr).toBe(0);
    }
    const r = await hashall('orphans', '--json');
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as OrphansJson;
    expect(o.blockers).toEqual([]);
    expect(o.trees.map((t) => t.path)).toEqual([path.join(seed, 'movies', 'Removed.2010')]);
    const folders = o.clientFolders.map((f) => `${f.client} ${f.role} ${f.path}`).sort();
    expect(folders).toEqual(
      [
        `qbt incomplete ${path.join(seed, 'incomplete')}`,
        `qbt torrent-copies ${path.join(seed, '.torrents', 'all')}`,
        `qbt torrent-copies ${path.join(seed, '.torrents', 'done')}`,
        `qbt watch ${path.join(seed, 'watch')}`,
        `rt session ${path.join(seed, '.rtsession')}`,
        `tr incomplete ${path.join(seed, 'incomplete-tr')}`,
      ].sort(),
    );
    // Every file in those folders is the client's: the two copies, the note, the two partial downloads and rTorrent's
    // session files (at least the .torrent and its state files).
    expect(o.classes.files.client).toBeGreaterThanOrEqual(5 + 2);
    const text = await hashall('orphans');
    expect(text.stdout).toMatch(/session folder of client "rt"/);
    // Nothing was touched.
    const now = contentTree(seed);
    for (const [rel, sha] of before) expect(now.get(rel), rel).toBe(sha);
  });

  it('a catalog synced before hashall asked clients for their folders proves no orphan until the next sync', async () => {
    const cat = openCatalog(path.join(tmp.path, 'catalog.db'));
    try {
      cat.db.prepare(`UPDATE client_status SET own_folders = NULL WHERE client = 'rt'`).run();
    } finally {
      cat.close();
    }
    const r = await hashall('orphans', '--json');
    const o = JSON.parse(r.stdout) as OrphansJson;
    expect(o.proven).toBe(false);
    expect(o.blockers.join('\n')).toMatch(/"rt" was last synced by an older hashall/);
    expect((await hashall('sync')).code).toBe(0);
    const again = JSON.parse((await hashall('orphans', '--json')).stdout) as OrphansJson;
    expect(again.proven).toBe(true);
    expect(again.trees.map((t) => t.path)).toEqual([path.join(seed, 'movies', 'Removed.2010')]);
  });
});
