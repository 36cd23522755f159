// Placement changed back before the retire, on real tmpfs and a real qBittorrent: the torrent moves to the pool, then
// back onto its still-present stash copy (a reuse); the first move is closed, not blocked forever; the pool copy is
// retired after its window; every byte re-hashed, and nothing is left to do.
import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { hashTreeSync } from '../../support/apply-fixture.js';
import { addTorrent, makeTorrent } from '../../../src/sandbox/torrent-file.js';
import { oneTorrentWorld } from '../../support/one-torrent-world.js';

const world = oneTorrentWorld('flip', 'Flip');

const cli = (...args: string[]) => world.w.cli(...args);
function writeConfig(place: 'stash' | 'pool', observe: string): void {
  world.w.writeConfig({ qbt: { type: 'qbittorrent', url: world.qbt.url } }, [`placement: { default: ${place} }`, `safety: { minFree: 1MiB, retire: { observeHours: ${observe} } }`]);
}
/** The plan's groups other than keep (only those titled `title`, when given). */
async function groups(title?: string): Promise<[string, string][]> {
  return (await world.w.plan()).groups.filter((g) => g.action !== 'keep' && (title === undefined || g.title === title)).map((g) => [g.action, `${g.from?.fs}→${g.to?.fs}`]);
}
async function seedsFrom(fsName: 'stash' | 'pool'): Promise<void> {
  const saveDir = world.w.seeding(fsName, 'movies');
  const x = await world.qc.waitFor(world.t.infoHash, (y) => y.phase !== 'checking', { timeoutMs: 30_000, intervalMs: 100, what: 'finish checking' });
  expect(x).toMatchObject({ savePath: saveDir, progress: 1 });
  expect(hashTreeSync(path.join(saveDir, 'Flip'))).toEqual(world.before);
}

describe('placement changed back world.before the retire', () => {
  it('moves to the pool, then back onto the stash copy; the first move is closed, not left blocked', async () => {
    writeConfig('pool', '1000h');
    expect(await groups()).toEqual([['move', 'stash→pool']]);
    expect((await cli('apply', '--auto-approve')).code).toBe(0);
    await seedsFrom('pool');
    writeConfig('stash', '1000h');
    expect(await groups()).toEqual([['reuse', 'pool→stash'], ['pending', 'stash→pool']]);
    expect((await cli('apply', '--auto-approve')).code).toBe(0);
    await seedsFrom('stash');
    // Only the move back waits to retire the pool copy; the stash copy is live and never a retire's source.
    expect(await groups()).toEqual([['pending', 'pool→stash']]);
  });

  it('after the window the pool copy is retired; the stash copy stays; nothing is left to do', async () => {
    writeConfig('stash', '0h');
    await new Promise((r) => setTimeout(r, 1100));
    expect(await groups()).toEqual([['retire', 'pool→stash']]);
    expect((await cli('apply', '--auto-approve')).code).toBe(0);
    await seedsFrom('stash');
    expect(existsSync(path.join(world.w.seeding('pool', 'movies'), 'Flip'))).toBe(false);
    const again = await cli('plan', '--detailed-exitcode');
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it('moved again, then removed from the client world.before the retire: its retire group goes away (not blocked for good); both copies stay on disk', async () => {
    writeConfig('pool', '1000h');
    expect(await groups()).toEqual([['move', 'stash→pool']]);
    expect((await cli('apply', '--auto-approve')).code).toBe(0);
    await seedsFrom('pool');
    expect(await groups()).toEqual([['pending', 'stash→pool']]);
    // Another torrent keeps the client from answering with none; the user removes Flip, keeping its files.
    const other = makeTorrent({ saveDir: world.w.seeding('pool', 'movies'), name: 'Other', files: [{ path: 'o.mkv', size: 50_000 }], trackers: ['http://127.0.0.1:1/announce'] });
    await addTorrent(world.qbt, other, { savepath: world.w.seeding('pool', 'movies'), paused: false });
    expect((await world.qbt.api('POST', '/torrents/delete', { hashes: world.t.infoHash, deleteFiles: 'false' })).status).toBe(200);
    for (let i = 0; i < 100 && (await world.qc.getTorrent(world.t.infoHash)) !== null; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await groups()).toEqual([]);
    expect(hashTreeSync(path.join(world.w.seeding('stash', 'movies'), 'Flip'))).toEqual(world.before);
    expect(hashTreeSync(path.join(world.w.seeding('pool', 'movies'), 'Flip'))).toEqual(world.before);
  });

  it('re-added by hand at the stash copy, then moved to the pool copy by hand: the new stay on the pool does not inherit the old window (no retire of the stash copy)', async () => {
    // The open move is the previous test's (stash → pool, a few seconds ago); its window is 2 s from now on.
    writeConfig('pool', '2s');
    await addTorrent(world.qbt, world.t, { savepath: world.w.seeding('stash', 'movies'), paused: false });
    await seedsFrom('stash');
    // The sync of this plan sees the move undone: the user put the torrent back on its source.
    expect(await groups()).toEqual([['reuse', 'stash→pool']]);
    // The user moves it on to the pool copy by hand (removes it and adds it there), after the old window has passed.
    expect((await world.qbt.api('POST', '/torrents/delete', { hashes: world.t.infoHash, deleteFiles: 'false' })).status).toBe(200);
    for (let i = 0; i < 100 && (await world.qc.getTorrent(world.t.infoHash)) !== null; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 2100));
    await addTorrent(world.qbt, world.t, { savepath: world.w.seeding('pool', 'movies'), paused: false });
    await seedsFrom('pool');
    // It has seeded from the pool for well under its window: nothing may retire the stash copy on the strength of the
    // first move's. The stash copy is no torrent's now: the orphan rules' business, never a retire's.
    expect(await groups()).toEqual([]);
    expect(hashTreeSync(path.join(world.w.seeding('stash', 'movies'), 'Flip'))).toEqual(world.before);
    expect(hashTreeSync(path.join(world.w.seeding('pool', 'movies'), 'Flip'))).toEqual(world.before);
  });

  it('moved back by hashall, then re-added by hand at a third path on the pool: that move neither waits nor blocks for good; the placement just reuses the stash copy again; no copy is touched', async () => {
    writeConfig('stash', '2s');
    // (Other, on the pool, cannot follow a stash placement without a copy there: blocked, and not this test's business.)
    expect(await groups('Flip')).toEqual([['reuse', 'pool→stash']]);
    expect((await cli('apply', '--auto-approve')).code).toBe(0);
    await seedsFrom('stash');
    // The user copies the payload to another folder of the pool and seeds it from there instead. (A copy on the
    // stash, the move's target, would still prove the move: the relocated content, healthy on the target filesystem.)
    const third = world.w.seeding('pool', 'other');
    mkdirSync(third, { recursive: true });
    cpSync(path.join(world.w.seeding('stash', 'movies'), 'Flip'), path.join(third, 'Flip'), { recursive: true });
    expect((await world.qbt.api('POST', '/torrents/delete', { hashes: world.t.infoHash, deleteFiles: 'false' })).status).toBe(200);
    for (let i = 0; i < 100 && (await world.qc.getTorrent(world.t.infoHash)) !== null; i++) await new Promise((r) => setTimeout(r, 50));
    await addTorrent(world.qbt, world.t, { savepath: third, paused: false });
    const x = await world.qc.waitFor(world.t.infoHash, (y) => y.phase !== 'checking', { timeoutMs: 30_000, intervalMs: 100, what: 'finish checking' });
    expect(x).toMatchObject({ savePath: third, progress: 1 });
    await new Promise((r) => setTimeout(r, 2100));
    // It uses neither copy of the move: it proves nothing, and nothing is left to retire (was: a retire group blocked
    // for good, "does not point at the relocated content"). The placement still wants it on the stash: a reuse.
    expect(await groups('Flip')).toEqual([['reuse', 'pool→stash']]);
    for (const d of [world.w.seeding('stash', 'movies'), world.w.seeding('pool', 'movies'), third]) expect(hashTreeSync(path.join(d, 'Flip'))).toEqual(world.before);
  });
});
