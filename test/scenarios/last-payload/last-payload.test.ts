// The last payload of a seeding root moved to the pool and retired, on real tmpfs and a real qBittorrent: the catalog
// forgets what the retire staged (the next scan finds the root empty and must not call that an unmounted disk), the
// payload's inner hardlinks arrive as links, and a second plan changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, linkSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hashTreeSync } from '../../support/apply-fixture.js';
import { stashPoolWorld, type StashPoolWorld } from '../../support/stash-pool-world.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, fixtureBytes, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';

const qbts = qbtSandboxes();
let w: StashPoolWorld;
let stashSeeding: string;
let poolAlbum: string;
let album: MadeTorrent;
let before: Record<string, string>;
let qbt: QbtSandbox;

const cli = (...args: string[]) => w.cli(...args);
const planJson = () => w.plan();

beforeAll(async () => {
  w = stashPoolWorld('last', { folders: ['music'] });
  stashSeeding = w.seeding('stash');
  const music = w.seeding('stash', 'music');
  // An album whose cover is one inode linked into both disc folders (as a dedupe leaves it).
  const root = path.join(music, 'Album');
  mkdirSync(path.join(root, 'CD1'), { recursive: true });
  mkdirSync(path.join(root, 'CD2'), { recursive: true });
  writeFileSync(path.join(root, 'CD1', 'cover.jpg'), fixtureBytes('cover', 3 << 20));
  linkSync(path.join(root, 'CD1', 'cover.jpg'), path.join(root, 'CD2', 'cover.jpg'));
  writeFileSync(path.join(root, 'CD1', '01.flac'), fixtureBytes('01', 200_000));
  album = makeTorrent({ saveDir: music, name: 'Album', files: [{ path: 'CD1/01.flac' }, { path: 'CD1/cover.jpg' }, { path: 'CD2/cover.jpg' }], write: false, trackers: ['http://127.0.0.1:1/announce'] });
  before = hashTreeSync(root);
  poolAlbum = path.join(w.seeding('pool', 'music'), 'Album');
  qbt = await qbts.start({ dir: path.join(w.tmp.path, 'qbt') });
  await addTorrent(qbt, album, { savepath: music, paused: false });
  w.writeConfig({ qbt: { type: 'qbittorrent', url: qbt.url } }, ['placement: { default: pool }', 'dedupe: { filesystems: [stash, pool] }', 'safety: { minFree: 1MiB, retire: { observeHours: 0h } }']);
}, 120_000);

afterAll(async () => {
  await qbts.stopAll();
  w?.cleanup();
});

describe('the last payload of a seeding root, moved and retired', () => {
  it('the move copies the linked cover once and links its other name', async () => {
    const p = await planJson();
    expect(p.groups.map((g) => [g.title, g.action])).toEqual([['Album', 'move']]);
    // Planned as it is done: the cover's bytes once.
    expect(p.groups[0]!.bytesToCopy).toBe((3 << 20) + 200_000);
    const r = await cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(hashTreeSync(poolAlbum)).toEqual(before);
    expect(lstatSync(path.join(poolAlbum, 'CD2', 'cover.jpg')).ino).toBe(lstatSync(path.join(poolAlbum, 'CD1', 'cover.jpg')).ino);
  });

  it('the retire empties the stash seeding root; the next plan scans it empty without calling it unmounted, and has nothing to do', async () => {
    const plan = await planJson();
    expect(plan.groups.filter((g) => g.action !== 'keep').map((g) => [g.title, g.action])).toEqual([['Album', 'retire']]);
    const r = await cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(existsSync(path.join(stashSeeding, 'music'))).toBe(false);
    expect(readdirSync(stashSeeding)).toEqual([]);
    const again = await cli('plan', '--json', '--detailed-exitcode');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(hashTreeSync(poolAlbum)).toEqual(before);
    const scan = await cli('scan');
    expect(scan.code, scan.stdout + scan.stderr).toBe(0);
  });

  it('the user then removes the torrent from the client (keeping its data): the empty answer is refused until confirmed with sync --accept-empty', async () => {
    const del = await qbt.api('POST', '/torrents/delete', { hashes: album.infoHash, deleteFiles: 'false' });
    expect(del.status).toBe(200);
    for (let i = 0; i < 100 && JSON.parse((await qbt.api('GET', '/torrents/info')).text).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    const refused = await cli('plan');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/reported no torrents, but the catalog knows 1 active torrent/);
    expect(refused.stderr).toMatch(/hashall sync --accept-empty qbt/);
    const wrong = await cli('sync', '--accept-empty', 'nope');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/--accept-empty nope: no client instance "nope" in hashall.yaml \(its instances: qbt\)/);
    const ok = await cli('sync', '--accept-empty', 'qbt', '--json');
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ client: 'qbt', torrents: 0, removed: 1 });
    // From then on the client's empty answer is its state: plans and syncs work, and nothing was deleted.
    const plan = await cli('plan', '--json');
    expect([0, 2], plan.stdout + plan.stderr).toContain(plan.code);
    expect((await cli('sync')).code).toBe(0);
    expect(hashTreeSync(poolAlbum)).toEqual(before);
  });
});
