// BEP 47 pad files on REAL daemons: hybrid torrents (`.pad/N` entries) in Deluge (listed, never on disk), Transmission
// (listed, on disk, the same name twice) and qBittorrent (hidden, yet on disk) are planned, moved and seeded from the
// pool like any other torrent; every byte re-hashed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { hashTreeSync } from '../../support/apply-fixture.js';
import { stashPoolWorld, type StashPoolWorld } from '../../support/stash-pool-world.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { transmissionSandboxes, type TransmissionSandbox } from '../../../src/sandbox/transmission-sandbox.js';
import { delugeSandboxes, type DelugeSandbox } from '../../../src/sandbox/deluge-sandbox.js';
import { addTorrent, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { createQbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import { createTransmissionClient } from '../../../src/clients/transmission/client.js';
import { createDelugeClient } from '../../../src/clients/deluge/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import type { Plan } from '../../../src/plan/types.js';

const TRACKER = 'http://127.0.0.1:1/announce';
const qbts = qbtSandboxes();
const trs = transmissionSandboxes();
const dls = delugeSandboxes();
let w: StashPoolWorld;
let stashMovies: string;
let poolMovies: string;
const clients = new Map<string, TorrentClient>();
/** Per client instance: its torrent, and the bytes of its folder as seeded (pad files included where on disk). */
const seeded = new Map<string, { t: MadeTorrent; bytes: Record<string, string>; padsOnDisk: boolean }>();

const cli = (...args: string[]) => w.cli(...args);
let trPassword = '';
let dlPassword = '';

/** Two volumes of one size (so their pad files share one name) and a small last file. */
function hybrid(name: string, onDisk: boolean): MadeTorrent {
  return makeTorrent({
    saveDir: stashMovies,
    name,
    files: [{ path: `${name}.r00`, size: 40_000 }, { path: `${name}.r01`, size: 40_000 }, { path: `${name}.sfv`, size: 300 }],
    trackers: [TRACKER],
    pieceLength: 16 * 1024,
    pad: { onDisk },
  });
}

async function complete(c: TorrentClient, hash: string, savePath: string): Promise<void> {
  const t = await c.waitFor(hash, (x) => x.phase !== 'checking' && x.phase !== 'moving', { timeoutMs: 60_000, intervalMs: 100, what: 'finish checking' });
  expect(t).toMatchObject({ savePath, progress: 1 });
}

beforeAll(async () => {
  w = stashPoolWorld('pad', { folders: ['movies'], env: () => ({ TR_PW: trPassword, DL_PW: dlPassword }) });
  stashMovies = w.seeding('stash', 'movies');
  poolMovies = w.seeding('pool', 'movies');

  const [qbt, tr, dl] = await Promise.all([qbts.start({ dir: path.join(w.tmp.path, 'qbt') }), trs.start({ dir: path.join(w.tmp.path, 'tr') }), dls.start({ dir: path.join(w.tmp.path, 'dl') })]) as [QbtSandbox, TransmissionSandbox, DelugeSandbox];
  trPassword = tr.password;
  dlPassword = dl.password;
  clients.set('qbt', createQbittorrentClient({ url: qbt.url, timeoutMs: 10_000 }));
  clients.set('tr', createTransmissionClient({ url: tr.url, username: tr.username, password: () => tr.password, timeoutMs: 10_000 }));
  clients.set('dl', createDelugeClient({ url: dl.url, password: () => dl.password, timeoutMs: 10_000 } as never));

  // qBittorrent hides pad files, but these lie on disk (the payload came from a client that downloads them).
  const q = hybrid('Pad.Qbt', true);
  await addTorrent(qbt, q, { savepath: stashMovies, paused: false, skipChecking: false });
  // Transmission 3 lists pad files as files and keeps them on disk.
  const t = hybrid('Pad.Tr', true);
  await tr.add(t, { downloadDir: stashMovies, paused: false });
  // Deluge (libtorrent 2) lists pad files, complete, and never writes them.
  const d = hybrid('Pad.Dl', false);
  await dl.add(d, { dir: stashMovies, running: true });
  for (const [name, x, onDisk] of [['qbt', q, true], ['tr', t, true], ['dl', d, false]] as const) {
    await complete(clients.get(name)!, x.infoHash, stashMovies);
    seeded.set(name, { t: x, bytes: hashTreeSync(x.contentPath), padsOnDisk: onDisk });
  }
  expect(Object.keys(seeded.get('tr')!.bytes)).toContain('.pad/9152');
  expect(existsSync(path.join(d.contentPath, '.pad'))).toBe(false);
  expect((await clients.get('tr')!.listFiles(t.infoHash)).filter((f) => f.name === 'Pad.Tr/.pad/9152')).toHaveLength(2);
  expect((await clients.get('dl')!.listFiles(d.infoHash)).some((f) => f.name.startsWith('Pad.Dl/.pad/'))).toBe(true);
  expect((await clients.get('qbt')!.listFiles(q.infoHash)).some((f) => f.name.includes('.pad'))).toBe(false);

  w.writeConfig(
    {
      qbt: { type: 'qbittorrent', url: qbt.url },
      tr: { type: 'transmission', url: tr.url, username: tr.username, password: '${TR_PW}' },
      dl: { type: 'deluge', url: dl.url, password: '${DL_PW}' },
    },
    ['placement: { default: pool }', 'safety: { minFree: 1MiB, retire: { observeHours: 1000h } }'],
  );
}, 180_000);

afterAll(async () => {
  for (const c of clients.values()) await c.close();
  await qbts.stopAll();
  await trs.stopAll();
  await dls.stopAll();
  w?.cleanup();
});

describe('BEP 47 pad files (hybrid torrents) in qBittorrent, Transmission and Deluge', () => {
  it('each torrent is planned as a move (a pad file is neither missing when absent nor a stranger when present)', async () => {
    const r = await cli('plan', '--json');
    expect([0, 2], r.stdout + r.stderr).toContain(r.code);
    const plan = JSON.parse(r.stdout) as Plan;
    const by = Object.fromEntries(plan.groups.map((g) => [g.title, g]));
    for (const title of ['Pad.Qbt', 'Pad.Tr', 'Pad.Dl']) {
      expect(by[title]?.action, `${title}: ${by[title]?.reasons.join('\n')}`).toBe('move');
      expect(by[title]).toMatchObject({ from: { fs: 'stash' }, to: { fs: 'pool', path: path.join(poolMovies, title) } });
    }
    const torrents = await cli('torrents', '--json');
    expect(torrents.stdout).not.toMatch(/not in the catalog payload|ambiguous|not part of/);
  });

  it('apply moves all three; each client seeds them complete from the pool; pad files on disk moved with their payload', async () => {
    const r = await cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const [name, s] of seeded) {
      await complete(clients.get(name)!, s.t.infoHash, poolMovies);
      const moved = path.join(poolMovies, path.basename(s.t.contentPath));
      expect(hashTreeSync(moved), name).toEqual(s.bytes);
      expect(hashTreeSync(s.t.contentPath), `${name} source kept until retired`).toEqual(s.bytes);
      expect(existsSync(path.join(moved, '.pad')), name).toBe(s.padsOnDisk);
    }
    const again = JSON.parse((await cli('plan', '--json')).stdout) as Plan;
    expect(again.groups.filter((g) => g.action === 'move' || g.action === 'reuse' || g.action === 'blocked').map((g) => [g.title, g.action, g.reasons])).toEqual([]);
  });
});
