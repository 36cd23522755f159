// A moved torrent found damaged on the target during its observation window, on real tmpfs and a real qBittorrent: the
// sync that sees it restarts the window, so the source copy stays until the torrent has seeded healthy from the pool for
// the whole window again; then it is retired, every byte of the kept copy re-hashed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, openSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { hashTreeSync } from '../../support/apply-fixture.js';
import { stashPoolWorld, type StashPoolWorld } from '../../support/stash-pool-world.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { createQbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';

const qbts = qbtSandboxes();
let w: StashPoolWorld;
let qbt: QbtSandbox;
let qc: TorrentClient;
let t: MadeTorrent;
let before: Record<string, string>;

function writeConfig(observe: string): void {
  w.writeConfig({ qbt: { type: 'qbittorrent', url: qbt.url } }, ['placement: { default: pool }', `safety: { minFree: 1MiB, retire: { observeHours: ${observe} } }`]);
}
/** The relocation row of the move (read-only, beside hashall's own connection). */
function relocation(): { repointed_at: number; unhealthy_at: number | null; unhealthy_what: string | null } {
  const db = new Database(path.join(w.tmp.path, 'catalog.db'), { readonly: true });
  try {
    return db.prepare(`SELECT repointed_at, unhealthy_at, unhealthy_what FROM relocations WHERE retired_at IS NULL`).get() as never;
  } finally {
    db.close();
  }
}
async function rechecked(): Promise<{ progress: number; phase: string }> {
  await qc.recheck([t.infoHash]);
  await new Promise((r) => setTimeout(r, 300));
  return qc.waitFor(t.infoHash, (y) => y.phase !== 'checking', { timeoutMs: 30_000, intervalMs: 100, what: 'finish checking' });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

beforeAll(async () => {
  w = stashPoolWorld('sick', { folders: ['movies'] });
  const movies = w.seeding('stash', 'movies');
  t = makeTorrent({ saveDir: movies, name: 'Sick', files: [{ path: 's.mkv', size: 2 << 20 }, { path: 's.nfo', size: 100 }], trackers: ['http://127.0.0.1:1/announce'] });
  before = hashTreeSync(t.contentPath);
  qbt = await qbts.start({ dir: path.join(w.tmp.path, 'qbt') });
  qc = createQbittorrentClient({ url: qbt.url, timeoutMs: 10_000 });
  await addTorrent(qbt, t, { savepath: movies, paused: false });
}, 120_000);

afterAll(async () => {
  await qc?.close();
  await qbts.stopAll();
  w?.cleanup();
});

describe('a moved torrent seen unhealthy on the target during its observation window', () => {
  it('the sync that sees it restarts the window; the source stays until the torrent has seeded healthy for the whole window again, then it is retired', async () => {
    writeConfig('1000h');
    expect((await w.cli('apply', '--auto-approve')).code).toBe(0);
    const onPool = path.join(w.seeding('pool', 'movies'), 'Sick');
    const x = await qc.waitFor(t.infoHash, (y) => y.phase !== 'checking', { timeoutMs: 30_000, intervalMs: 100, what: 'finish checking' });
    expect(x).toMatchObject({ savePath: w.seeding('pool', 'movies'), progress: 1 });
    const t0 = relocation().repointed_at;
    // Seeds from the pool a while, then a piece of the pool copy goes bad (a failing disk, a careless hand) and a recheck finds it.
    await sleep(t0 + 5000 - Date.now());
    const fd = openSync(path.join(onPool, 's.mkv'), 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 65_536);
    closeSync(fd);
    expect((await rechecked()).progress).toBeLessThan(1);
    const sync = await w.cli('sync');
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    expect(sync.stdout).toMatch(/1 earlier move\(s\) with a torrent not settled on the target .*: their observation windows start again now/);
    const seen = relocation();
    expect(seen.unhealthy_at).toBeGreaterThanOrEqual(t0 + 5000);
    expect(seen.unhealthy_what).toMatch(/^torrent "Sick" was (downloading|paused-incomplete|missing-files|error) /);
    const t1 = seen.unhealthy_at!;
    // The user repairs it from the stash copy, still there, and rechecks: healthy again.
    copyFileSync(path.join(t.contentPath, 's.mkv'), path.join(onPool, 's.mkv'));
    expect(await rechecked()).toMatchObject({ progress: 1 });
    expect(hashTreeSync(onPool)).toEqual(before);
    // A window longer than the time since that sync but shorter than the time since the repoint (they are ≥ 5 s apart):
    // counted from the repoint it would be over; counted from the unhealthy sighting it is not.
    const windowS = Math.ceil((Date.now() - t1) / 1000) + 2;
    expect(windowS * 1000).toBeLessThan(Date.now() - t0);
    writeConfig(`${windowS}s`);
    const pending = (await w.plan()).groups.filter((g) => g.title === 'Sick' && g.action !== 'keep');
    expect(pending.map((g) => g.action)).toEqual(['pending']);
    expect(pending[0]!.reasons[0]).toMatch(/restarted by the sync at .*: torrent "Sick" was .* on pool/);
    expect(existsSync(path.join(t.contentPath, 's.mkv'))).toBe(true);
    // Once it has seeded healthy for the whole window since that sync, the stash copy is retired.
    await sleep(t1 + windowS * 1000 + 300 - Date.now());
    const retire = (await w.plan()).groups.filter((g) => g.title === 'Sick' && g.action !== 'keep');
    expect(retire.map((g) => g.action)).toEqual(['retire']);
    expect((await w.cli('apply', '--auto-approve')).code).toBe(0);
    expect(existsSync(t.contentPath)).toBe(false);
    expect(hashTreeSync(onPool)).toEqual(before);
    expect((await qc.getTorrent(t.infoHash))).toMatchObject({ savePath: w.seeding('pool', 'movies'), progress: 1 });
  });
});
