// Pad files on REAL daemons: hybrid torrents (BEP 47 `.pad/N` entries) and BitComet's older `_____padding_file_K_…`
// entries, in Deluge (listed, never on disk), Transmission (listed, on disk; `.pad/N` the same name twice) and
// qBittorrent (hidden, yet on disk) are planned, moved and seeded from the pool like any other torrent; every byte re-hashed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { hashTreeSync } from '../../support/apply-fixture.js';
import { stashPoolWorld, type StashPoolWorld } from '../../support/stash-pool-world.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { transmissionSandboxes, type TransmissionSandbox } from '../../../src/sandbox/transmission-sandbox.js';
import { delugeSandboxes, type DelugeSandbox } from '../../../src/sandbox/deluge-sandbox.js';
import { addTorrent, bitCometPadName, makeTorrent, type MadeTorrent, type PadStyle } from '../../../src/sandbox/torrent-file.js';
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
/** Per torrent: its client instance, the torrent, the bytes of its folder as seeded (pad files included where on disk), and one pad file's path below its root. */
const seeded = new Map<string, { client: string; t: MadeTorrent; bytes: Record<string, string>; padsOnDisk: boolean; pad: string }>();

const cli = (...args: string[]) => w.cli(...args);
let trPassword = '';
let dlPassword = '';

/** Two volumes of one size (so their BEP 47 pad files share one name) and a small last file; BitComet's pads in a subfolder. */
function hybrid(name: string, onDisk: boolean, style: PadStyle = 'bep47'): MadeTorrent {
  const dir = style === 'bitcomet' ? 'CD1/' : '';
  return makeTorrent({
    saveDir: stashMovies,
    name,
    files: [{ path: `${dir}${name}.r00`, size: 40_000 }, { path: `${dir}${name}.r01`, size: 40_000 }, { path: `${name}.sfv`, size: 300 }],
    trackers: [TRACKER],
    pieceLength: 16 * 1024,
    pad: { onDisk, style },
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
  const qc = hybrid('Comet.Qbt', true, 'bitcomet');
  for (const x of [q, qc]) await addTorrent(qbt, x, { savepath: stashMovies, paused: false, skipChecking: false });
  // Transmission 3 lists pad files as files and keeps them on disk.
  const t = hybrid('Pad.Tr', true);
  const tc = hybrid('Comet.Tr', true, 'bitcomet');
  for (const x of [t, tc]) await tr.add(x, { downloadDir: stashMovies, paused: false });
  // Deluge (libtorrent 2) lists pad files, complete, and never writes them.
  const d = hybrid('Pad.Dl', false);
  const dc = hybrid('Comet.Dl', false, 'bitcomet');
  for (const x of [d, dc]) await dl.add(x, { dir: stashMovies, running: true });
  const bep47 = '.pad/9152';
  const comet = `CD1/${bitCometPadName(0)}`;
  for (const [title, name, x, onDisk, pad] of [
    ['Pad.Qbt', 'qbt', q, true, bep47], ['Pad.Tr', 'tr', t, true, bep47], ['Pad.Dl', 'dl', d, false, bep47],
    ['Comet.Qbt', 'qbt', qc, true, comet], ['Comet.Tr', 'tr', tc, true, comet], ['Comet.Dl', 'dl', dc, false, comet],
  ] as const) {
    await complete(clients.get(name)!, x.infoHash, stashMovies);
    seeded.set(title, { client: name, t: x, bytes: hashTreeSync(x.contentPath), padsOnDisk: onDisk, pad });
    expect(existsSync(path.join(x.contentPath, pad)), title).toBe(onDisk);
  }
  expect((await clients.get('tr')!.listFiles(t.infoHash)).filter((f) => f.name === 'Pad.Tr/.pad/9152')).toHaveLength(2);
  expect((await clients.get('dl')!.listFiles(d.infoHash)).some((f) => f.name.startsWith('Pad.Dl/.pad/'))).toBe(true);
  expect((await clients.get('dl')!.listFiles(dc.infoHash)).some((f) => f.name === `Comet.Dl/${comet}`)).toBe(true);
  for (const x of [q, qc]) expect((await clients.get('qbt')!.listFiles(x.infoHash)).some((f) => f.name.includes('.pad') || f.name.includes('_padding_file_'))).toBe(false);

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

describe('pad files (BEP 47 hybrid torrents and BitComet\'s older padding) in qBittorrent, Transmission and Deluge', () => {
  it('each torrent is planned as a move (a pad file is neither missing when absent nor a stranger when present)', async () => {
    const r = await cli('plan', '--json');
    expect([0, 2], r.stdout + r.stderr).toContain(r.code);
    const plan = JSON.parse(r.stdout) as Plan;
    const by = Object.fromEntries(plan.groups.map((g) => [g.title, g]));
    for (const title of seeded.keys()) {
      expect(by[title]?.action, `${title}: ${by[title]?.reasons.join('\n')}`).toBe('move');
      expect(by[title]).toMatchObject({ from: { fs: 'stash' }, to: { fs: 'pool', path: path.join(poolMovies, title) } });
    }
    const torrents = await cli('torrents', '--json');
    expect(torrents.stdout).not.toMatch(/not in the catalog payload|ambiguous|not part of/);
  });

  it('apply moves all six; each client seeds them complete from the pool; pad files on disk moved with their payload', async () => {
    const r = await cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const [title, s] of seeded) {
      await complete(clients.get(s.client)!, s.t.infoHash, poolMovies);
      const moved = path.join(poolMovies, path.basename(s.t.contentPath));
      expect(hashTreeSync(moved), title).toEqual(s.bytes);
      expect(hashTreeSync(s.t.contentPath), `${title} source kept until retired`).toEqual(s.bytes);
      expect(existsSync(path.join(moved, s.pad)), title).toBe(s.padsOnDisk);
    }
    const again = JSON.parse((await cli('plan', '--json')).stdout) as Plan;
    expect(again.groups.filter((g) => g.action === 'move' || g.action === 'reuse' || g.action === 'blocked').map((g) => [g.title, g.action, g.reasons])).toEqual([]);
  });
});
