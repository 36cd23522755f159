// A moved torrent found damaged on the target during its observation window, on real tmpfs and a real qBittorrent: the
// sync that sees it restarts the window, so the source copy stays until the torrent has seeded healthy from the pool for
// the whole window again; then it is retired, every byte of the kept copy re-hashed.
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, openSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { hashTreeSync } from '../../support/apply-fixture.js';
import { oneTorrentWorld } from '../../support/one-torrent-world.js';

const world = oneTorrentWorld('sick', 'Sick');

function writeConfig(observe: string): void {
  world.w.writeConfig({ qbt: { type: 'qbittorrent', url: world.qbt.url } }, ['placement: { default: pool }', `safety: { minFree: 1MiB, retire: { observeHours: ${observe} } }`]);
}
/** The relocation row of the move (read-only, beside hashall's own connection). */
function relocation(): { repointed_at: number; unhealthy_at: number | null; unhealthy_what: string | null } {
  const db = new Database(path.join(world.w.tmp.path, 'catalog.db'), { readonly: true });
  try {
    return db.prepare(`SELECT repointed_at, unhealthy_at, unhealthy_what FROM relocations WHERE retired_at IS NULL`).get() as never;
  } finally {
    db.close();
  }
}
async function rechecked(): Promise<{ progress: number; phase: string }> {
  await world.qc.recheck([world.t.infoHash]);
  await new Promise((r) => setTimeout(r, 300));
  return world.qc.waitFor(world.t.infoHash, (y) => y.phase !== 'checking', { timeoutMs: 30_000, intervalMs: 100, what: 'finish checking' });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

describe('a moved torrent seen unhealthy on the target during its observation window', () => {
  it('the sync that sees it restarts the window; the source stays until the torrent has seeded healthy for the whole window again, then it is retired', async () => {
    writeConfig('1000h');
    expect((await world.w.cli('apply', '--auto-approve')).code).toBe(0);
    const onPool = path.join(world.w.seeding('pool', 'movies'), 'Sick');
    const x = await world.qc.waitFor(world.t.infoHash, (y) => y.phase !== 'checking', { timeoutMs: 30_000, intervalMs: 100, what: 'finish checking' });
    expect(x).toMatchObject({ savePath: world.w.seeding('pool', 'movies'), progress: 1 });
    const t0 = relocation().repointed_at;
    // Seeds from the pool a while, then a piece of the pool copy goes bad (a failing disk, a careless hand) and a recheck finds it.
    await sleep(t0 + 5000 - Date.now());
    const fd = openSync(path.join(onPool, 's.mkv'), 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 65_536);
    closeSync(fd);
    expect((await rechecked()).progress).toBeLessThan(1);
    const sync = await world.w.cli('sync');
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    expect(sync.stdout).toMatch(/1 earlier move\(s\) with a torrent not settled on the target .*: their observation windows start again now/);
    const seen = relocation();
    expect(seen.unhealthy_at).toBeGreaterThanOrEqual(t0 + 5000);
    expect(seen.unhealthy_what).toMatch(/^torrent "Sick" was (downloading|paused-incomplete|missing-files|error) /);
    const t1 = seen.unhealthy_at!;
    // The user repairs it from the stash copy, still there, and rechecks: healthy again.
    copyFileSync(path.join(world.t.contentPath, 's.mkv'), path.join(onPool, 's.mkv'));
    expect(await rechecked()).toMatchObject({ progress: 1 });
    expect(hashTreeSync(onPool)).toEqual(world.before);
    // A window longer than the time since that sync but shorter than the time since the repoint (they are ≥ 5 s apart):
    // counted from the repoint it would be over; counted from the unhealthy sighting it is not.
    const windowS = Math.ceil((Date.now() - t1) / 1000) + 2;
    expect(windowS * 1000).toBeLessThan(Date.now() - t0);
    writeConfig(`${windowS}s`);
    const pending = (await world.w.plan()).groups.filter((g) => g.title === 'Sick' && g.action !== 'keep');
    expect(pending.map((g) => g.action)).toEqual(['pending']);
    expect(pending[0]!.reasons[0]).toMatch(/restarted by the sync at .*: torrent "Sick" was .* on pool/);
    expect(existsSync(path.join(world.t.contentPath, 's.mkv'))).toBe(true);
    // Once it has seeded healthy for the whole window since that sync, the stash copy is retired.
    await sleep(t1 + windowS * 1000 + 300 - Date.now());
    const retire = (await world.w.plan()).groups.filter((g) => g.title === 'Sick' && g.action !== 'keep');
    expect(retire.map((g) => g.action)).toEqual(['retire']);
    expect((await world.w.cli('apply', '--auto-approve')).code).toBe(0);
    expect(existsSync(world.t.contentPath)).toBe(false);
    expect(hashTreeSync(onPool)).toEqual(world.before);
    expect((await world.qc.getTorrent(world.t.infoHash))).toMatchObject({ savePath: world.w.seeding('pool', 'movies'), progress: 1 });
  });
});
