// Files a torrent does not download ("do not download" in qBittorrent, unchecked in Transmission, priority off in rTorrent) on REAL daemons: a season pack whose sample was never downloaded is planned, moved and seeded complete from the pool (the absent file is not missing); every byte re-hashed. A part file of libtorrent's in the save path stops the repoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hashTreeSync } from '../../support/apply-fixture.js';
import { stashPoolWorld, type StashPoolWorld } from '../../support/stash-pool-world.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { transmissionSandboxes, type TransmissionSandbox } from '../../../src/sandbox/transmission-sandbox.js';
import { rtorrentSandboxes, type RtorrentSandbox } from '../../../src/sandbox/rtorrent-sandbox.js';
import { createRtorrentClient } from '../../../src/clients/rtorrent/client.js';
import { addTorrent, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { createQbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import { createTransmissionClient } from '../../../src/clients/transmission/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';

const TRACKER = 'http://127.0.0.1:1/announce';
const PIECE = 64 * 1024;
const qbts = qbtSandboxes();
const trs = transmissionSandboxes();
const rts = rtorrentSandboxes();
let rt: RtorrentSandbox;
let w: StashPoolWorld;
let stashMovies: string;
let poolMovies: string;
let qbt: QbtSandbox;
let trPassword = '';
let trSb: TransmissionSandbox;
const clients = new Map<string, TorrentClient>();
const seeded = new Map<string, { t: MadeTorrent; bytes: Record<string, string> }>();

const cli = (...args: string[]) => w.cli(...args);

/** Two episodes ending on piece boundaries (no piece holds bytes of the sample), then the sample, never downloaded. */
function pack(name: string): MadeTorrent {
  const t = makeTorrent({
    saveDir: stashMovies,
    name,
    files: [{ path: 'e01.mkv', size: 4 * PIECE }, { path: 'e02.mkv', size: 3 * PIECE }, { path: 'Sample/sample.mkv', size: 2 * PIECE + 500 }],
    trackers: [TRACKER],
    pieceLength: PIECE,
  });
  rmSync(path.join(t.contentPath, 'Sample'), { recursive: true });
  return t;
}

async function complete(c: TorrentClient, hash: string, savePath: string): Promise<void> {
  const t = await c.waitFor(hash, (x) => x.phase !== 'checking' && x.phase !== 'moving', { timeoutMs: 60_000, intervalMs: 100, what: 'finish checking' });
  expect(t).toMatchObject({ savePath, progress: 1 });
}

/** Loads `t` into rTorrent stopped, with its third file (the sample) switched off (f.priority 0) before the hash check, and waits the check out. */
const addToRtorrentSampleOff = (t: MadeTorrent): Promise<void> => rt.add(t, { dir: stashMovies, filesOff: [2] });

async function groups(): Promise<Record<string, { action: string; reasons: string[] }>> {
  return Object.fromEntries((await w.plan()).groups.map((g) => [g.title, { action: g.action, reasons: g.reasons }]));
}

beforeAll(async () => {
  // 600 MiB filesystems (tmpfs: a limit, not memory): rTorrent closes a torrent it does not call complete — one with
  // files off never is — where less than 500 MB is free ("Low diskspace.", its built-in low_diskspace schedule).
  w = stashPoolWorld('unwanted', { folders: ['movies'], sizeMiB: 600, env: () => ({ TR_PW: trPassword }) });
  stashMovies = w.seeding('stash', 'movies');
  poolMovies = w.seeding('pool', 'movies');

  const [q, tr, r] = (await Promise.all([qbts.start({ dir: path.join(w.tmp.path, 'qbt') }), trs.start({ dir: path.join(w.tmp.path, 'tr') }), rts.start({ dir: path.join(w.tmp.path, 'rt') })])) as [QbtSandbox, TransmissionSandbox, RtorrentSandbox];
  rt = r;
  qbt = q;
  trSb = tr;
  trPassword = tr.password;
  clients.set('qbt', createQbittorrentClient({ url: qbt.url, timeoutMs: 10_000 }));
  clients.set('tr', createTransmissionClient({ url: tr.url, username: tr.username, password: () => tr.password, timeoutMs: 10_000 }));
  clients.set('rt', createRtorrentClient({ url: rt.url, timeoutMs: 10_000 }));

  const a = pack('Show.S01.Qbt');
  await addTorrent(qbt, a, { savepath: stashMovies, paused: true });
  expect((await qbt.api('POST', '/torrents/filePrio', { hash: a.infoHash, id: '2', priority: '0' })).status).toBe(200);
  await qbt.api('POST', '/torrents/recheck', { hashes: a.infoHash });
  const b = pack('Show.S01.Tr');
  await tr.add(b, { downloadDir: stashMovies, paused: true });
  await tr.rpc('torrent-set', { ids: [b.infoHash], 'files-unwanted': [2] });
  await tr.rpc('torrent-verify', { ids: [b.infoHash] });
  // rTorrent never calls a torrent with files off d.complete; everything it wants is there (no wanted chunk left).
  const c3 = pack('Show.S01.Rt');
  await addToRtorrentSampleOff(c3);
  expect(await rt.call('d.complete', [c3.infoHash.toUpperCase()])).toBe(0);
  for (const [name, x] of [['qbt', a], ['tr', b], ['rt', c3]] as const) {
    const c = clients.get(name)!;
    await complete(c, x.infoHash, stashMovies);
    await c.resume([x.infoHash]);
    expect((await c.listFiles(x.infoHash)).map((f) => f.wanted !== false), name).toEqual([true, true, false]);
    seeded.set(name, { t: x, bytes: hashTreeSync(x.contentPath) });
  }

  w.writeConfig(
    { qbt: { type: 'qbittorrent', url: qbt.url }, tr: { type: 'transmission', url: tr.url, username: tr.username, password: '${TR_PW}' }, rt: { type: 'rtorrent', url: rt.url } },
    ['placement: { default: pool }', 'safety: { minFree: 1MiB, retire: { observeHours: 1000h } }'],
  );
}, 180_000);

afterAll(async () => {
  for (const c of clients.values()) await c.close();
  await qbts.stopAll();
  await trs.stopAll();
  await rts.stopAll();
  w?.cleanup();
});

describe('files a torrent does not download, in qBittorrent, Transmission and rTorrent', () => {
  it('each torrent is planned as a move: its never-downloaded sample is not missing', async () => {
    const g = await groups();
    for (const title of ['Show.S01.Qbt', 'Show.S01.Tr', 'Show.S01.Rt']) expect(g[title]?.action, `${title}: ${g[title]?.reasons.join('\n')}`).toBe('move');
  });

  it('apply moves all three; each client seeds complete from the pool; no sample appears anywhere (rTorrent: the empty file it made itself)', async () => {
    const r = await cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const [name, s] of seeded) {
      await complete(clients.get(name)!, s.t.infoHash, poolMovies);
      const moved = path.join(poolMovies, path.basename(s.t.contentPath));
      expect(hashTreeSync(moved), name).toEqual(s.bytes);
      expect(hashTreeSync(s.t.contentPath), `${name} source kept until retired`).toEqual(s.bytes);
      if (name === 'rt') {
        // rTorrent creates every file of a torrent it opens, one switched off included: empty. It is moved as it is.
        expect(statSync(path.join(moved, 'Sample', 'sample.mkv')).size).toBe(0);
      } else expect(existsSync(path.join(moved, 'Sample')), name).toBe(false);
    }
    const again = await groups();
    expect(Object.entries(again).filter(([, g]) => g.action === 'move' || g.action === 'blocked')).toEqual([]);
  });

  it('a libtorrent part file in the save path blocks the torrent, and stops the repoint of a plan saved before it came; nothing is lost; without it the move goes', async () => {
    const c = clients.get('qbt')!;
    const t = pack('Show.S02.Qbt');
    await addTorrent(qbt, t, { savepath: stashMovies, paused: true });
    expect((await qbt.api('POST', '/torrents/filePrio', { hash: t.infoHash, id: '2', priority: '0' })).status).toBe(200);
    await qbt.api('POST', '/torrents/recheck', { hashes: t.infoHash });
    await c.waitFor(t.infoHash, (x) => x.progress === 1 && x.phase !== 'checking', { timeoutMs: 30_000, intervalMs: 100, what: 'the check' });
    await c.resume([t.infoHash]);
    const bytes = hashTreeSync(t.contentPath);
    const part = path.join(stashMovies, `.${t.infoHash}.parts`);
    writeFileSync(part, 'pieces of the sample that share a piece with e02');
    const blocked = (await groups())['Show.S02.Qbt'];
    expect(blocked?.action).toBe('blocked');
    expect(blocked?.reasons.join('\n')).toContain(`${part} holds pieces of files of "Show.S02.Qbt" that the client does not download`);
    // A plan saved while there was none; the part file comes before it is applied.
    rmSync(part);
    const saved = path.join(w.tmp.path, 'plan.json');
    expect((await groups())['Show.S02.Qbt']?.action).toBe('move');
    expect([0, 2]).toContain((await cli('plan', '--out', saved)).code);
    writeFileSync(part, 'pieces of the sample that share a piece with e02');
    const r = await cli('apply', saved, '--auto-approve');
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain(`${part} holds pieces of its files the client does not download`);
    await complete(c, t.infoHash, stashMovies);
    expect(hashTreeSync(t.contentPath)).toEqual(bytes);
    expect(existsSync(part)).toBe(true);
    expect(existsSync(path.join(poolMovies, 'Show.S02.Qbt'))).toBe(false);
    // The part file is the torrent's own, never an orphan.
    const orphans = await cli('orphans', '--json');
    expect(orphans.stdout).not.toContain(`.${t.infoHash}.parts`);
    rmSync(part);
    const again = await cli('apply', '--auto-approve');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    await complete(c, t.infoHash, poolMovies);
    expect(hashTreeSync(path.join(poolMovies, 'Show.S02.Qbt'))).toEqual(bytes);
  });

  it('Transmission: a never-downloaded sample that shares a piece with a wanted episode lies on disk in part (that piece’s bytes only): moved as it is, seeding complete', async () => {
    const c = clients.get('tr')!;
    // e02 ends mid-piece: the piece it ends in also holds the sample's first bytes, which Transmission wrote there.
    const t = makeTorrent({
      saveDir: stashMovies,
      name: 'Show.S03.Tr',
      files: [{ path: 'e01.mkv', size: 4 * PIECE }, { path: 'e02.mkv', size: 3 * PIECE - 1000 }, { path: 'Sample/sample.mkv', size: 2 * PIECE + 500 }],
      trackers: [TRACKER],
      pieceLength: PIECE,
    });
    const sample = path.join(t.contentPath, 'Sample', 'sample.mkv');
    truncateSync(sample, 1000);
    await trSb.add(t, { downloadDir: stashMovies, paused: true });
    await trSb.rpc('torrent-set', { ids: [t.infoHash], 'files-unwanted': [2] });
    await trSb.rpc('torrent-verify', { ids: [t.infoHash] });
    await c.waitFor(t.infoHash, (x) => x.progress === 1 && x.phase !== 'checking', { timeoutMs: 30_000, intervalMs: 100, what: 'the check' });
    await c.resume([t.infoHash]);
    expect((await c.listFiles(t.infoHash)).map((f) => f.wanted !== false)).toEqual([true, true, false]);
    const bytes = hashTreeSync(t.contentPath);
    expect((await groups())['Show.S03.Tr']?.action).toBe('move');
    const r = await cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await complete(c, t.infoHash, poolMovies);
    expect(hashTreeSync(path.join(poolMovies, 'Show.S03.Tr'))).toEqual(bytes);
    expect(statSync(path.join(poolMovies, 'Show.S03.Tr', 'Sample', 'sample.mkv')).size).toBe(1000);
  });
  it('rTorrent: a sample switched off that shares a piece with a wanted episode lies on disk in part (that piece’s bytes only): moved as it is, seeding everything it wants; without those bytes the torrent is incomplete and blocked', async () => {
    const c = clients.get('rt')!;
    const make = (name: string) =>
      makeTorrent({
        saveDir: stashMovies,
        name,
        files: [{ path: 'e01.mkv', size: 4 * PIECE }, { path: 'e02.mkv', size: 3 * PIECE - 1000 }, { path: 'Sample/sample.mkv', size: 2 * PIECE + 500 }],
        trackers: [TRACKER],
        pieceLength: PIECE,
      });
    // e02 ends mid-piece: the piece it ends in also holds the sample's first 1,000 bytes, kept on disk.
    const t = make('Show.S03.Rt');
    truncateSync(path.join(t.contentPath, 'Sample', 'sample.mkv'), 1000);
    await addToRtorrentSampleOff(t);
    // The same without those bytes: e02's last piece cannot be checked, so a wanted chunk is left.
    const lacking = make('Show.S04.Rt');
    rmSync(path.join(lacking.contentPath, 'Sample'), { recursive: true });
    await addToRtorrentSampleOff(lacking);
    for (const x of [t, lacking]) await c.resume([x.infoHash]);
    expect((await c.listFiles(t.infoHash)).map((f) => f.wanted !== false)).toEqual([true, true, false]);
    expect(await c.getTorrent(lacking.infoHash)).toMatchObject({ phase: 'downloading' });
    const bytes = hashTreeSync(t.contentPath);
    const lackingBytes = hashTreeSync(lacking.contentPath);
    const g = await groups();
    expect(g['Show.S03.Rt']?.action).toBe('move');
    expect(g['Show.S04.Rt']?.action).toBe('blocked');
    expect(g['Show.S04.Rt']?.reasons.join('\n')).toContain('is downloading');
    const r = await cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await complete(c, t.infoHash, poolMovies);
    expect(await c.getTorrent(t.infoHash)).toMatchObject({ phase: 'seeding', amountLeft: 0 });
    expect(hashTreeSync(path.join(poolMovies, 'Show.S03.Rt'))).toEqual(bytes);
    expect(statSync(path.join(poolMovies, 'Show.S03.Rt', 'Sample', 'sample.mkv')).size).toBe(1000);
    expect(hashTreeSync(lacking.contentPath)).toEqual(lackingBytes);
    expect(existsSync(path.join(poolMovies, 'Show.S04.Rt'))).toBe(false);
  });
});
