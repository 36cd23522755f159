// A dedupe, then a move, on real tmpfs and a real qBittorrent: two torrents' identical files are linked into one inode; one torrent moves to the pool and its stash copy is staged into the trash; the other torrent's file (now linked only with hashall's own trash name) is not taken for an unknown external consumer, and can move in turn; every byte re-hashed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, linkSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { hashTreeSync } from '../../support/apply-fixture.js';
import { stashPoolWorld, type StashPoolWorld } from '../../support/stash-pool-world.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, fixtureBytes, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { createQbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';

const qbts = qbtSandboxes();
let w: StashPoolWorld;
let qbt: QbtSandbox;
let qc: TorrentClient;
let alpha: MadeTorrent;
let beta: MadeTorrent;
let gamma: MadeTorrent;
let before: Record<string, Record<string, string>>;

const cli = (...args: string[]) => w.cli(...args);
function writeConfig(cold: readonly string[], observe: string): void {
  const rules = cold.length ? `[{ name: cold, match: { paths: [${cold.map((c) => JSON.stringify(c)).join(', ')}] }, place: pool }]` : '[]';
  w.writeConfig({ qbt: { type: 'qbittorrent', url: qbt.url } }, [
    `placement: { default: keep, rules: ${rules} }`,
    'dedupe: { filesystems: [stash, pool], minSize: 1 }',
    'orphans: { minAge: 0d }',
    `safety: { minFree: 1MiB, retire: { observeHours: ${observe} } }`,
  ]);
}
async function groups(): Promise<[string, string, string[]][]> {
  return (await w.plan()).groups
    .filter((g) => g.action !== 'keep')
    .map((g) => [g.action, g.from ? `${g.from.fs}→${g.to?.fs}` : '', g.action === 'blocked' ? g.reasons : []]);
}
async function seedsFrom(t: MadeTorrent, fsName: 'stash' | 'pool', category: string): Promise<void> {
  const saveDir = w.seeding(fsName, category);
  const x = await qc.waitFor(t.infoHash, (y) => y.phase !== 'checking', { timeoutMs: 30_000, intervalMs: 100, what: 'finish checking' });
  expect(x).toMatchObject({ savePath: saveDir, progress: 1 });
  expect(hashTreeSync(path.join(saveDir, path.basename(t.contentPath)))).toEqual(before[t.infoHash]);
}

beforeAll(async () => {
  w = stashPoolWorld('dedupe-move', { folders: ['movies', 'tv'] });
  const movies = w.seeding('stash', 'movies');
  const tv = w.seeding('stash', 'tv');
  const same = fixtureBytes('shared episode', 1 << 20);
  alpha = makeTorrent({ saveDir: movies, name: 'Alpha', files: [{ path: 'e.mkv', content: same }, { path: 'a.nfo', size: 100 }], trackers: ['http://127.0.0.1:1/announce'] });
  beta = makeTorrent({ saveDir: tv, name: 'Beta', files: [{ path: 'e.mkv', content: same }, { path: 'b.nfo', size: 120 }], trackers: ['http://127.0.0.1:1/announce'] });
  gamma = makeTorrent({ saveDir: tv, name: 'Gamma', files: [{ path: 'e.mkv', content: same }, { path: 'g.nfo', size: 140 }], trackers: ['http://127.0.0.1:1/announce'] });
  before = { [alpha.infoHash]: hashTreeSync(alpha.contentPath), [beta.infoHash]: hashTreeSync(beta.contentPath), [gamma.infoHash]: hashTreeSync(gamma.contentPath) };
  qbt = await qbts.start({ dir: path.join(w.tmp.path, 'qbt') });
  qc = createQbittorrentClient({ url: qbt.url, timeoutMs: 10_000 });
  await addTorrent(qbt, alpha, { savepath: movies, paused: false });
  await addTorrent(qbt, beta, { savepath: tv, paused: false });
  await addTorrent(qbt, gamma, { savepath: tv, paused: false });
}, 120_000);

afterAll(async () => {
  await qc?.close();
  await qbts.stopAll();
  w?.cleanup();
});

describe('a dedupe, then a move of one of the linked torrents', () => {
  it('links the three torrents’ identical files into one inode', async () => {
    writeConfig([], '0h');
    expect((await groups()).map((g) => g[0])).toEqual(['dedupe']);
    expect((await cli('apply', '--auto-approve')).code).toBe(0);
    expect(statSync(path.join(alpha.contentPath, 'e.mkv')).ino).toBe(statSync(path.join(beta.contentPath, 'e.mkv')).ino);
    expect(statSync(path.join(gamma.contentPath, 'e.mkv')).ino).toBe(statSync(path.join(beta.contentPath, 'e.mkv')).ino);
  });

  it('moves Alpha to the pool and retires its stash copy into the trash', async () => {
    writeConfig(['movies/**'], '0h');
    expect(await groups()).toEqual([['move', 'stash→pool', []]]);
    expect((await cli('apply', '--auto-approve')).code).toBe(0);
    await seedsFrom(alpha, 'pool', 'movies');
    await new Promise((r) => setTimeout(r, 1100));
    expect(await groups()).toEqual([['retire', 'stash→pool', []]]);
    expect((await cli('apply', '--auto-approve')).code).toBe(0);
    expect(existsSync(alpha.contentPath)).toBe(false);
    // Beta's and Gamma's file is now linked besides only with the trash's name of Alpha's former copy.
    expect(statSync(path.join(beta.contentPath, 'e.mkv')).nlink).toBe(3);
    const again = await cli('plan', '--detailed-exitcode');
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it('Gamma removed from its client, keeping its files: an orphan (its file’s third link is the trash’s, not unknown)', async () => {
    expect((await qbt.api('POST', '/torrents/delete', { hashes: gamma.infoHash, deleteFiles: 'false' })).status).toBe(200);
    for (let i = 0; i < 100 && (await qc.getTorrent(gamma.infoHash)) !== null; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await cli('scan')).code).toBe(0);
    expect((await cli('sync')).code).toBe(0);
    const r = await cli('orphans', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { trees: { path: string }[]; unknown?: unknown };
    expect(report.trees.map((t) => t.path)).toEqual([gamma.contentPath]);
    expect(r.stdout).not.toContain('links but the catalog knows');
  });

  it('a link beyond the trash’s name (a library hashall.yaml does not list) still blocks Beta', async () => {
    writeConfig(['movies/**', 'tv/**'], '1000h');
    const unlisted = path.join(w.stash, 'elsewhere', 'e.mkv');
    mkdirSync(path.dirname(unlisted));
    linkSync(path.join(beta.contentPath, 'e.mkv'), unlisted);
    const g = await groups();
    expect(g.map((x) => x[0])).toEqual(['blocked']);
    expect(g[0]![2].join('\n')).toContain("has 4 links but the catalog knows 2 and hashall's trash holds 1");
    unlinkSync(unlisted);
  });

  it('Beta can move in turn while the trash still holds the other name of its file', async () => {
    writeConfig(['movies/**', 'tv/**'], '1000h');
    expect(await groups()).toEqual([['move', 'stash→pool', []]]);
    expect((await cli('apply', '--auto-approve')).code).toBe(0);
    await seedsFrom(beta, 'pool', 'tv');
    await seedsFrom(alpha, 'pool', 'movies');
  });
});
