// The Transmission client against a real transmission-daemon 3.00 on loopback (basic auth on), plus its auth and handshake errors.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTransmissionClient } from '../../../src/clients/transmission/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import { ClientError } from '../../../src/errors.js';
import { transmissionSandboxes, type TransmissionSandbox } from '../../../src/sandbox/transmission-sandbox.js';
import { clientContract } from '../../support/client-contract.js';
import { pauseConfirmed } from '../../../src/clients/confirm.js';
import { makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';

const sandboxes = transmissionSandboxes();
let sb: TransmissionSandbox;
let client: TorrentClient;
beforeAll(async () => {
  sb = await sandboxes.start({ auth: true });
  client = createTransmissionClient({ url: sb.url, username: sb.username, password: () => sb.password, timeoutMs: 10_000 });
});
afterAll(() => sandboxes.stopAll());

clientContract('Transmission', () => ({
  client,
  dir: sb.dir,
  async add(t, saveDir, o) {
    await sb.add(t, { downloadDir: saveDir, paused: !o.running, labels: o.label ? [o.label] : undefined });
  },
}));

describe('Transmission transport', () => {
  test('a wrong password is an auth error that never shows the password', async () => {
    const wrong = createTransmissionClient({ url: sb.url, username: sb.username, password: () => 'not-the-password-123', timeoutMs: 5_000 });
    const err = await wrong.version().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).kind).toBe('auth');
    expect(JSON.stringify({ m: (err as Error).message, h: (err as ClientError).hint })).not.toContain('not-the-password-123');
  });

  test('the bare host:port URL gets the RPC path; after a daemon restart a new client handshakes (409) and reads the same torrents', async () => {
    const bare = createTransmissionClient({ url: sb.url.replace('/transmission/rpc', ''), username: sb.username, password: () => sb.password, timeoutMs: 10_000 });
    expect((await bare.version()).app).toMatch(/^Transmission 3\./);
    const n = (await client.listTorrents()).length;
    await sb.restart();
    const after = createTransmissionClient({ url: sb.url, username: sb.username, password: () => sb.password, timeoutMs: 10_000 });
    // The daemon answers RPC before it has loaded its torrents from the config dir: poll, bounded.
    let seen = -1;
    for (let i = 0; i < 100 && seen !== n; i++) {
      seen = (await after.listTorrents()).length;
      if (seen !== n) await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen).toBe(n);
    client = after;
  });

  test('says it renames the files of incomplete torrents while rename-partial-files is on (a recheck would rename them), and not once it is off', async () => {
    expect(await client.renamesIncompleteFiles!()).toBe(true); // the daemon's default
    const set = (on: boolean) => sb.rpc('session-set', { 'rename-partial-files': on });
    await set(false);
    expect(await client.renamesIncompleteFiles!()).toBe(false);
    await set(true);
    expect(await client.renamesIncompleteFiles!()).toBe(true);
  });

  test('nothing listens: a network error naming the URL without credentials, after bounded retries', async () => {
    const dead = createTransmissionClient({ url: 'http://user:secret@127.0.0.1:9/transmission/rpc', timeoutMs: 2_000, attempts: 2, backoffMs: 10 });
    const err = await dead.listTorrents().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).kind).toBe('network');
    expect((err as Error).message).toContain('127.0.0.1:9');
    expect((err as Error).message).not.toContain('secret');
  });
});

describe('Transmission: calls of several torrents made together share one request', () => {
  test('the version is asked once for concurrent callers (a read asked with them needs it too)', async () => {
    const methods: string[] = [];
    const counting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      // The session handshake's refused first try (409) is not a call of its own.
      if (res.status !== 409) methods.push((JSON.parse(String(init?.body ?? '{}')) as { method?: string }).method ?? '');
      return res;
    };
    const c = createTransmissionClient({ url: sb.url, username: sb.username, password: () => sb.password, timeoutMs: 10_000, fetch: counting });
    const [a, b] = await Promise.all([c.version(), c.version(), c.listTorrents()]);
    expect(a).toEqual(b);
    expect(methods.filter((m) => m === 'session-get')).toHaveLength(1);
    await c.version();
    expect(methods.filter((m) => m === 'session-get')).toHaveLength(1);
  });

  test('two pauses in flight are one torrent-stop naming exactly both; their polls are one torrent-get per round; a third torrent is untouched', async () => {
    const calls: { method: string; ids: string[] }[] = [];
    const counting: typeof fetch = async (input, init) => {
      const body = JSON.parse(String(init?.body ?? '{}')) as { method?: string; arguments?: { ids?: string[] } };
      calls.push({ method: body.method ?? '', ids: body.arguments?.ids ?? [] });
      return fetch(input, init);
    };
    const c = createTransmissionClient({ url: sb.url, username: sb.username, password: () => sb.password, timeoutMs: 10_000, fetch: counting });
    const save = `${sb.dir}/data/batched`;
    const ts = ['A', 'B', 'C'].map((n) => makeTorrent({ saveDir: save, name: `Batched.${n}`, files: [{ path: 'v.bin', size: 20_000 }], trackers: ['http://127.0.0.1:1/announce'] }));
    for (const t of ts) await sb.add(t, { downloadDir: save, paused: false });
    const [a, b, third] = ts as [MadeTorrent, MadeTorrent, MadeTorrent];
    for (const t of ts) await c.waitFor(t.infoHash, (x) => x.running, { timeoutMs: 20_000 });
    calls.length = 0;
    const o = { timeoutMs: 20_000 };
    const [pa, pb] = await Promise.all([pauseConfirmed(c, a.infoHash, o), pauseConfirmed(c, b.infoHash, o)]);
    expect([pa.running, pb.running]).toEqual([false, false]);
    const stops = calls.filter((x) => x.method === 'torrent-stop');
    expect(stops).toHaveLength(1);
    expect([...stops[0]!.ids].sort()).toEqual([a.infoHash, b.infoHash].sort());
    // The polls of both confirmations went out together: the first read after the stop named both (a later one may
    // name one alone, once the other is confirmed), and no read named anything else.
    const reads = calls.slice(calls.indexOf(stops[0]!)).filter((x) => x.method === 'torrent-get');
    expect(reads.length).toBeGreaterThan(0);
    expect([...reads[0]!.ids].sort()).toEqual([a.infoHash, b.infoHash].sort());
    for (const r of calls.filter((x) => x.method === 'torrent-get')) expect([a.infoHash, b.infoHash]).toEqual(expect.arrayContaining(r.ids));
    expect((await c.getTorrent(third.infoHash))?.running).toBe(true);
  });
});

describe('Transmission: the folders it keeps its own files in', () => {
  test('its configuration folder, and incomplete-dir only while it is enabled, read from the daemon', async () => {
    const config = { role: 'config', path: `${sb.dir}/config` };
    expect(await client.ownFolders()).toEqual([config]);
    await sb.rpc('session-set', { 'incomplete-dir': `${sb.dir}/incomplete`, 'incomplete-dir-enabled': true });
    try {
      expect(await client.ownFolders()).toEqual([config, { role: 'incomplete', path: `${sb.dir}/incomplete` }]);
    } finally {
      await sb.rpc('session-set', { 'incomplete-dir-enabled': false });
    }
  });
});

describe('Transmission: a tracker error that quotes the passkey', () => {
  test("the daemon reports the tracker's error text (error 2, errorString quoting the passkey and the announce URL, cut to 128 bytes); nothing hashall reads of the torrent carries it", async () => {
    const PK = '0123456789abcdef0123456789abcdef';
    let port = 0;
    // A private tracker on loopback that refuses the announce, quoting the key and the URL, as real ones do.
    const tracker = createServer((_req, res) => {
      const msg = `unregistered passkey ${PK}; announce to http://127.0.0.1:${port}/announce/${PK} refused`;
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`d14:failure reason${Buffer.byteLength(msg)}:${msg}e`);
    });
    await new Promise<void>((r) => tracker.listen(0, '127.0.0.1', () => r()));
    port = (tracker.address() as AddressInfo).port;
    const save = `${sb.dir}/data/tracker-error`;
    const t = makeTorrent({ saveDir: save, name: 'Refused.bin', files: [{ size: 20_000 }], trackers: [`http://127.0.0.1:${port}/announce/${PK}`], private: true });
    try {
      await sb.add(t, { downloadDir: save, paused: false });
      await sb.rpc('torrent-reannounce', { ids: [t.infoHash] });
      // Polled until the daemon has the tracker's answer (bounded; no time is asserted).
      let raw: Record<string, unknown> | undefined;
      for (let i = 0; i < 300 && raw?.error !== 2; i++) {
        raw = ((await sb.rpc('torrent-get', { ids: [t.infoHash], fields: ['error', 'errorString'] })).torrents as Record<string, unknown>[])[0];
        if (raw?.error !== 2) await new Promise((r) => setTimeout(r, 100));
      }
      expect(raw).toMatchObject({ error: 2, errorString: expect.stringContaining(`unregistered passkey ${PK}`) as unknown });
      const seen = JSON.stringify([(await client.listTorrents({ hashes: [t.infoHash] }))[0], await client.getTorrent(t.infoHash), await client.getTorrent(t.infoHash, { contentPath: false })]);
      expect(seen).toContain(t.infoHash);
      expect(seen).not.toContain(PK.slice(0, 12));
    } finally {
      await sb.rpc('torrent-stop', { ids: [t.infoHash] });
      await new Promise((r) => tracker.close(() => r(undefined)));
    }
  });
});
