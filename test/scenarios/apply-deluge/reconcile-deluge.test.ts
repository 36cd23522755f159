// End to end through the CLI with a REAL deluged + deluge-web on two tmpfs filesystems: the library-linked movie stays, a movie and its cross-seed move; plan → apply → plan converges.
import { contentTree } from '../../support/content-tree.js';
import { linkSync, lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDelugeClient } from '../../../src/clients/deluge/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import type { Plan } from '../../../src/plan/types.js';
import { delugeSandboxes, type DelugeSandbox } from '../../../src/sandbox/deluge-sandbox.js';
import { makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { runCli } from '../../support/cli.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { stashPoolConfigText } from '../../../src/sandbox/stash-pool-config.js';

const TRACKER = 'http://127.0.0.1:1/announce';
const sandboxes = delugeSandboxes();
let sb: DelugeSandbox;
let client: TorrentClient;
let tmp: TempDir;
let stash: string;
let pool: string;
let configPath: string;
let linked: MadeTorrent;
let old: MadeTorrent;
let xseed: MadeTorrent;
let renamed: MadeTorrent;
let libFile: string;

const allContent = (): Set<string> => new Set([...contentTree(stash).values(), ...contentTree(pool).values()]);
const hashall = (...args: string[]) => runCli([...args, '--config', configPath], { cwd: tmp.path, env: { ...process.env, NO_COLOR: '1', DELUGE_WEB_PASSWORD: sb.password } });

beforeAll(async () => {
  tmp = makeTempDir('hashall-reconcile-deluge-');
  stash = path.join(tmp.path, 'stash');
  pool = path.join(tmp.path, 'pool');
  mountTmpfs(stash, 64 << 20, 'dl-stash');
  mountTmpfs(pool, 64 << 20, 'dl-pool');
  const save = path.join(stash, 'seeding', 'movies');
  mkdirSync(path.join(pool, 'seeding'), { recursive: true });
  sb = await sandboxes.start({ dir: path.join(tmp.path, 'deluge') });
  client = createDelugeClient({ url: sb.url, password: () => sb.password, timeoutMs: 10_000 });
  linked = makeTorrent({ saveDir: save, name: 'Linked.Movie.2021', files: [{ path: 'Linked.Movie.2021.mkv', size: 150_000 }], trackers: [TRACKER] });
  old = makeTorrent({ saveDir: save, name: 'Old.Movie.2009', files: [{ path: 'movie.mkv', size: 250_000 }, { path: 'subs/en.srt', content: 'old subs\n' }], trackers: [TRACKER], pieceLength: 16 * 1024 });
  xseed = makeTorrent({ saveDir: save, name: 'Old.Movie.2009', files: [{ path: 'movie.mkv', size: 250_000 }, { path: 'subs/en.srt', content: 'old subs\n' }], trackers: [TRACKER], pieceLength: 32 * 1024, write: false });
  await sb.add(linked, { dir: save, running: true, label: 'movies' });
  await sb.add(old, { dir: save, running: true, label: 'movies' });
  await sb.add(xseed, { dir: save, running: false, label: 'movies' });
  // A user renamed this one's folder in Deluge ("rename folder" renames its files; the name follows on 2.0.3) and gave
  // it a display name (its "name" option): save path + name now names a folder that does not exist.
  renamed = makeTorrent({ saveDir: save, name: 'Orig.Name.2015', files: [{ path: 'film.mkv', size: 120_000 }, { path: 'extras/x.nfo', content: 'nfo\n' }], trackers: [TRACKER] });
  await sb.add(renamed, { dir: save, running: true, label: 'movies' });
  await sb.call('core.rename_folder', [renamed.infoHash, 'Orig.Name.2015/', 'Renamed Film (2015)/']);
  for (let i = 0; ; i++) {
    const s = (await sb.call('core.get_torrent_status', [renamed.infoHash, ['files']])) as { files: { path: string }[] };
    if (s.files.every((f) => f.path.startsWith('Renamed Film (2015)/'))) break;
    if (i > 200) throw new Error('Deluge never renamed the folder');
    await new Promise((r) => setTimeout(r, 50));
  }
  await sb.call('core.set_torrent_options', [[renamed.infoHash], { name: 'Renamed Film' }]);
  // The *arr import: a hardlink of the linked movie in the library.
  libFile = path.join(stash, 'library', 'Linked Movie (2021)', 'Linked Movie (2021).mkv');
  mkdirSync(path.dirname(libFile), { recursive: true });
  linkSync(linked.paths[0] as string, libFile);
  configPath = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(
    configPath,
    stashPoolConfigText(
      {
        catalog: 'catalog.db',
        stash,
        pool,
        seeding: { stash: [path.join(stash, 'seeding')], pool: [path.join(pool, 'seeding')] },
        libraries: [path.join(stash, 'library')],
        client: { type: 'deluge', url: sb.url, password: '${DELUGE_WEB_PASSWORD}' },
      },
      ['placement:', '  default: pool', 'safety: { minFree: 1MiB, retire: { mode: staged, observeHours: 1 } }'],
    ),
  );
}, 120_000);

afterAll(async () => {
  await sandboxes.stopAll();
  tmp?.cleanup();
});

describe('plan → apply → plan with a real Deluge', () => {
  let contentBefore: Set<string>;

  it('plans the movie and its cross-seed to move together and keeps the library-linked movie warm', async () => {
    contentBefore = allContent();
    const r = await hashall('plan', '--json');
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as Plan;
    const byTitle = Object.fromEntries(plan.groups.map((g) => [g.title, g]));
    expect(byTitle['Linked.Movie.2021']?.action).toBe('stay');
    const move = plan.groups.find((g) => g.torrents.some((t) => t.hash === old.infoHash));
    expect(move?.action).toBe('move');
    expect(move?.torrents.map((t) => t.hash).sort()).toEqual([old.infoHash, xseed.infoHash].sort());
    // Found at its renamed folder (not "missing": the folder save path + name names does not exist).
    const ren = plan.groups.find((g) => g.torrents.some((t) => t.hash === renamed.infoHash));
    expect(ren?.action, JSON.stringify(ren?.reasons)).toBe('move');
    expect(ren?.from?.path).toBe(path.join(stash, 'seeding', 'movies', 'Renamed Film (2015)'));
  });

  it('applies: both siblings seed from pool (the running one resumed, the paused one paused), the linked movie and its library link untouched, nothing lost; the next plan is empty', async () => {
    const r = await hashall('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const to = path.join(pool, 'seeding', 'movies');
    expect(await client.getTorrent(old.infoHash)).toMatchObject({ savePath: to, contentPath: path.join(to, 'Old.Movie.2009'), progress: 1, phase: 'seeding' });
    expect(await client.getTorrent(xseed.infoHash)).toMatchObject({ savePath: to, progress: 1, phase: 'paused-complete' });
    expect(await client.getTorrent(linked.infoHash)).toMatchObject({ savePath: path.join(stash, 'seeding', 'movies'), progress: 1, phase: 'seeding' });
    expect(lstatSync(libFile).ino).toBe(lstatSync(linked.paths[0] as string).ino);
    // The source stays until the observation window ends; every content hash is still there.
    for (const h of contentBefore) expect(allContent().has(h)).toBe(true);
    expect(contentTree(path.join(to, 'Old.Movie.2009'))).toEqual(contentTree(path.join(stash, 'seeding', 'movies', 'Old.Movie.2009')));
    // The renamed one seeds from its folder on pool, rechecked complete by Deluge; its bytes there equal the source's.
    expect(await client.getTorrent(renamed.infoHash)).toMatchObject({ name: 'Renamed Film', savePath: to, contentPath: path.join(to, 'Renamed Film (2015)'), progress: 1, phase: 'seeding' });
    expect(contentTree(path.join(to, 'Renamed Film (2015)'))).toEqual(contentTree(path.join(stash, 'seeding', 'movies', 'Renamed Film (2015)')));
    expect(contentTree(path.join(to, 'Renamed Film (2015)')).size).toBe(2);
    const again = await hashall('plan', '--detailed-exitcode');
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });
});
