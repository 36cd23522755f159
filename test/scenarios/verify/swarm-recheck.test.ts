// `hashall verify --repair` through the swarm on a real qbittorrent-nox (loopback, no peers): a corrupted file of a
// complete torrent with no good copy anywhere makes hashall ask that torrent's client to recheck it — the torrent
// leaves "complete", hashall says it needs re-download, the run record has the step — and nothing else on disk changes.
// With a good copy, the file is restored from it and the torrent is never rechecked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../../support/cli.js';
import { rot } from '../../support/bit-rot.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, waitSettled, type MadeTorrent, type RawTorrent } from '../../../src/sandbox/torrent-file.js';
import { makeSyncFixture, writeConfig, type SyncFixture } from '../../unit/sync/sync-fixture.js';
import { inodeTreeSnapshot } from '../../support/tree-snapshot.js';

const qbts = qbtSandboxes();

describe('hashall verify --repair with no good copy: a recheck in the torrent client', () => {
  let w: SyncFixture;
  let sb: QbtSandbox;
  let t: MadeTorrent;
  let other: MadeTorrent;
  const cli = (...args: string[]) => runCli([...args, '--config', w.configFile], { cwd: w.tmp.path });
  const info = async (hash: string): Promise<RawTorrent> => JSON.parse((await sb.api('GET', `/torrents/info?hashes=${hash}`)).text)[0] as RawTorrent;
  const COMPLETE = /^(uploading|stalledUP|pausedUP|stoppedUP|queuedUP|forcedUP)$/;

  beforeAll(async () => {
    w = makeSyncFixture('hashall-swarm-');
    sb = await qbts.start({ dir: path.join(w.tmp.path, 'qbt') });
    writeConfig(w, { url: sb.url });
    // A two-file torrent, seeding (running, complete); another torrent beside it that must never be asked anything.
    t = makeTorrent({ saveDir: path.join(w.seedS, 'music'), name: 'Album', files: [{ path: 'a.flac', size: 200_000 }, { path: 'b.flac', size: 300_000 }] });
    other = makeTorrent({ saveDir: path.join(w.seedS, 'music'), name: 'Other', files: [{ path: 'o.flac', size: 90_000 }] });
    await addTorrent(sb, t, { savepath: path.join(w.seedS, 'music'), skipChecking: true, paused: false, category: 'music' });
    await addTorrent(sb, other, { savepath: path.join(w.seedS, 'music'), skipChecking: true, paused: false, category: 'music' });
    // A good copy of a.flac on the pool (not part of any torrent): the first repair must use it, not the swarm.
    const copy = path.join(w.seedP, 'backup', 'a.flac');
    mkdirSync(path.dirname(copy), { recursive: true });
    copyFileSync(t.paths[0]!, copy);
    for (const p of [...t.paths, ...other.paths, copy]) utimesSync(p, 1_600_000_000, 1_600_000_000);
    expect((await cli('scan', '--hash-all')).code).toBe(0);
    const s = await cli('sync');
    expect(s.code, s.stderr).toBe(0);
    for (const h of [t.infoHash, other.infoHash]) expect((await waitSettled(sb, h)).state).toMatch(COMPLETE);
  }, 120_000);

  afterAll(async () => {
    await qbts.stopAll();
    w?.tmp.cleanup();
  });

  it('with a good copy the file is restored from it and the torrent is not rechecked', async () => {
    rot(t.paths[0]!, 12_345);
    const r = await cli('verify', '--repair', t.paths[0]!);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('REPAIRED');
    expect(r.stdout).not.toContain('re-download');
    expect(readFileSync(t.paths[0]!).equals(readFileSync(path.join(w.seedP, 'backup', 'a.flac')))).toBe(true);
    const now = await info(t.infoHash);
    expect(now.progress).toBe(1);
    expect(now.state).toMatch(COMPLETE);
    const shown = JSON.stringify(JSON.parse((await cli('runs', 'show', JSON.parse((await cli('runs', '--json')).stdout).runs[0].id, '--json')).stdout));
    expect(shown).not.toContain('recheck');
  });

  it('with no good copy: the torrent is rechecked (it leaves complete), hashall says it needs re-download, recorded, nothing else changed', async () => {
    const damaged = t.paths[1]!;
    rot(damaged, 150_001);
    const before = inodeTreeSnapshot(w.stash, w.pool);
    const seen = await cli('verify', damaged);
    expect(seen.code).toBe(1);
    expect(seen.stdout).toContain(`CORRUPTED  ${damaged}`);

    const r = await cli('verify', '--repair', damaged);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain(`NEEDS RE-DOWNLOAD ${damaged}`);
    expect(r.stdout).toContain('needs re-download from the swarm');
    expect(r.stdout).toContain(`default/${t.infoHash.slice(0, 8)}`);
    // The client found the damaged piece: the torrent is no longer complete (no peers here, so it stays so).
    const after = await waitSettled(sb, t.infoHash);
    expect(after.progress).toBeLessThan(1);
    expect(after.state).not.toMatch(COMPLETE);
    // The other torrent was not touched.
    const o = await info(other.infoHash);
    expect([o.progress, o.state]).toEqual([1, expect.stringMatching(COMPLETE)]);
    // Nothing on disk changed: every byte of every file (the damaged one too, still damaged) re-hashed.
    expect(inodeTreeSnapshot(w.stash, w.pool)).toEqual(before);

    const runs = JSON.parse((await cli('runs', '--json')).stdout).runs as { id: string; status: string; command: string }[];
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ status: 'succeeded', command: 'hashall verify --repair' });
    const shown = await cli('runs', 'show', runs[0]!.id);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('recheck');
    expect(shown.stdout).toContain(t.infoHash.slice(0, 8));
    expect(shown.stdout).toContain('needs re-download from the swarm');
    // Still corrupted until the client has re-downloaded it: verify keeps saying so, and a second repair asks nothing new.
    const again = await cli('verify', '--repair', damaged);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain(`NEEDS RE-DOWNLOAD ${damaged}`);
    expect(inodeTreeSnapshot(w.stash, w.pool)).toEqual(before);
  });

  it('never lets the client rename or move the data: a client renaming incomplete files is refused; a download path is cleared first', async () => {
    const damaged = other.paths[0]!;
    const prefs = (p: Record<string, unknown>) => sb.api('POST', '/app/setPreferences', { json: JSON.stringify(p) });
    expect((await prefs({ incomplete_files_ext: true })).status).toBe(200);
    // The setting is global: qBittorrent renames the incomplete Album's b.flac to b.flac.!qB (what a recheck must not cause).
    for (let i = 0; i < 200 && !existsSync(`${t.paths[1]!}.!qB`); i++) await new Promise((res) => setTimeout(res, 50));
    expect(existsSync(`${t.paths[1]!}.!qB`)).toBe(true);
    rot(damaged, 4_321);
    const before = inodeTreeSnapshot(w.stash, w.pool);
    const refused = await cli('verify', '--repair', damaged);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(`NOT REPAIRED ${damaged}`);
    expect(refused.stdout).toContain('renames the files of incomplete torrents');
    const still = await info(other.infoHash);
    expect([still.progress, still.state]).toEqual([1, expect.stringMatching(COMPLETE)]);
    expect(inodeTreeSnapshot(w.stash, w.pool)).toEqual(before);

    // qBittorrent moves a torrent that turns incomplete into its download path: hashall clears it before the recheck.
    // Off again: qBittorrent renames b.flac.!qB back.
    expect((await prefs({ incomplete_files_ext: false })).status).toBe(200);
    for (let i = 0; i < 200 && !existsSync(t.paths[1]!); i++) await new Promise((res) => setTimeout(res, 50));
    const before2 = inodeTreeSnapshot(w.stash, w.pool);
    expect(Object.keys(before2).filter((p) => p.endsWith('.!qB'))).toEqual([]);
    const incomplete = path.join(w.stash, 'media', 'incomplete');
    expect((await sb.api('POST', '/torrents/setDownloadPath', { id: other.infoHash, path: incomplete })).status).toBe(200);
    expect((await info(other.infoHash)).download_path).toBe(incomplete);
    const r = await cli('verify', '--repair', damaged);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain(`NEEDS RE-DOWNLOAD ${damaged}`);
    const after = await waitSettled(sb, other.infoHash);
    expect(after.progress).toBeLessThan(1);
    expect([after.download_path, after.content_path]).toEqual(['', damaged]);
    expect(inodeTreeSnapshot(w.stash, w.pool)).toEqual(before2);
    const runs = JSON.parse((await cli('runs', '--json')).stdout).runs as { id: string }[];
    expect((await cli('runs', 'show', runs[0]!.id)).stdout).toContain(`its download path ${incomplete} was cleared`);
  });
});
