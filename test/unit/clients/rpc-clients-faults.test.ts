// Transmission, rTorrent and Deluge adapters against wire-level fakes: a lying "ok" is never taken as done, 5xx is retried then reported.
import { afterEach, describe, expect, test } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setLocationConfirmed, pauseConfirmed } from '../../../src/clients/confirm.js';
import { createDelugeClient } from '../../../src/clients/deluge/client.js';
import { createRtorrentClient } from '../../../src/clients/rtorrent/client.js';
import { createTransmissionClient } from '../../../src/clients/transmission/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import { ClientError } from '../../../src/errors.js';
import { startFakeDeluge, startFakeRtorrent, startFakeTransmission, type FakeDeluge, type FakeRpc, type FakeRtorrent } from '../../support/fake-rpc-clients.js';

const H = 'ab'.repeat(20);
let fake: FakeRpc | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

const kinds: [string, () => Promise<FakeRpc>, (url: string) => TorrentClient][] = [
  ['Transmission', startFakeTransmission, (url) => createTransmissionClient({ url, timeoutMs: 2_000, backoffMs: 5 })],
  ['rTorrent (HTTP)', startFakeRtorrent, (url) => createRtorrentClient({ url, timeoutMs: 2_000, backoffMs: 5 })],
  ['Deluge', () => startFakeDeluge(), (url) => createDelugeClient({ url, password: () => 'pw', timeoutMs: 2_000, backoffMs: 5 })],
];

describe.each(kinds)('%s against a wire-level fake', (_name, start, make) => {
  test('a repoint answered "ok" that changed nothing is unconfirmed, never done; a pause likewise', async () => {
    fake = await start();
    fake.torrents.set(H, { hash: H, name: 'Movie', dir: '/stash/seeding/movies', files: [{ path: 'a.mkv', size: 10 }, { path: 'b.nfo', size: 1 }], running: false });
    const c = make(fake.url);
    expect(await c.getTorrent(H)).toMatchObject({ savePath: '/stash/seeding/movies', contentPath: '/stash/seeding/movies/Movie', phase: 'paused-complete' });
    const err = await setLocationConfirmed(c, H, '/pool/seeding/movies', { timeoutMs: 300, intervalMs: 20 }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).kind).toBe('unconfirmed');
    expect((err as Error).message).toMatch(/did not move to \/pool\/seeding\/movies/);
    fake.torrents.get(H)!.running = true;
    const perr = await pauseConfirmed(c, H, { timeoutMs: 300, intervalMs: 20 }).then(() => null, (e: unknown) => e);
    expect((perr as ClientError).kind).toBe('unconfirmed');
  });

  test('5xx answers are retried (bounded) and then reported as an http error; a transient one is survived', async () => {
    fake = await start();
    fake.torrents.set(H, { hash: H, name: 'one.bin', dir: '/d', files: [{ path: 'one.bin', size: 5 }], running: true });
    const c = make(fake.url);
    fake.failNext(2, 502);
    expect((await c.listTorrents()).map((t) => t.hash)).toEqual([H]);
    fake.failNext(10, 503);
    const err = await c.listFiles(H).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).kind).toBe('http');
    expect((err as ClientError).status).toBe(503);
  });
});

describe('Deluge against a wire-level fake', () => {
  const PW = 'sekret-password-42';

  test('an error answer that echoes the password or the session id is redacted in the ClientError', async () => {
    const f = await startFakeDeluge({ password: PW });
    fake = f;
    f.torrents.set(H, { hash: H, name: 'one.bin', dir: '/d', files: [{ path: 'one.bin', size: 5 }], running: true });
    const c = createDelugeClient({ url: f.url, password: () => PW, timeoutMs: 2_000, backoffMs: 5 });
    expect(await c.getTorrent(H)).toMatchObject({ hash: H, phase: 'seeding' });
    f.errorOn('core.pause_torrent', `KeyError: login ${PW} with session fake-session-1 failed`);
    const err = await c.pause([H]).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as Error).message).toContain('<redacted>');
    expect((err as Error).message).not.toContain(PW);
    expect((err as Error).message).not.toContain('fake-session-1');
  });

  test("a torrent's error message quoting its tracker's passkey (in the path, in ?passkey=, bare) or the password never reaches hashall's torrent state (shown, stored in the catalog, put in plans and notices)", async () => {
    const f = await startFakeDeluge({ password: PW });
    fake = f;
    const PK = '0123456789abcdef0123456789abcdef';
    const PK2 = 'fedcba9876543210fedcba9876543210';
    f.torrents.set(H, {
      hash: H,
      name: 'one.bin',
      dir: '/d',
      files: [{ path: 'one.bin', size: 5 }],
      running: true,
      trackers: [`https://tracker.example.org/announce/${PK}`, `http://backup.example.net:2710/announce.php?passkey=${PK2}&uid=7`],
      errorMessage: `${PW}: https://tracker.example.org/announce/${PK}: 403; http://backup.example.net:2710/announce.php?passkey=${PK2}&uid=7: bad key ${PK2}`,
    });
    const c = createDelugeClient({ url: f.url, password: () => PW, timeoutMs: 2_000, backoffMs: 5 });
    const seen = [(await c.listTorrents())[0], await c.getTorrent(H), await c.getTorrent(H, { contentPath: false })];
    for (const t of seen) {
      expect(t).toMatchObject({ hash: H, phase: 'error' });
      const text = JSON.stringify(t);
      for (const secret of [PK, PK2, PW]) expect(text).not.toContain(secret);
      // What is left still tells what happened, and where.
      expect(t!.rawState).toBe('Error: <redacted>: https://tracker.example.org/<redacted>: 403; http://backup.example.net:2710/<redacted>: bad key <redacted>');
    }
  });

  test('an expired session is logged in again once; a refused login is an auth error', async () => {
    const f = await startFakeDeluge({ password: PW });
    fake = f;
    f.torrents.set(H, { hash: H, name: 'one.bin', dir: '/d', files: [{ path: 'one.bin', size: 5 }], running: false });
    const c = createDelugeClient({ url: f.url, password: () => PW, timeoutMs: 2_000, backoffMs: 5 });
    expect(await c.listTorrents()).toHaveLength(1);
    f.expireSessions();
    expect(await c.listTorrents()).toHaveLength(1);
    expect(f.count('auth.login')).toBe(2);
    const wrong = createDelugeClient({ url: f.url, password: () => 'nope-nope', timeoutMs: 2_000, backoffMs: 5 });
    const err = await wrong.listTorrents().then(() => null, (e: unknown) => e);
    expect((err as ClientError).kind).toBe('auth');
  });

  test('a repoint on a Deluge 1.x daemon is refused before any move is sent (its move_storage replaces target files and deletes the source)', async () => {
    const f = await startFakeDeluge({ version: '1.3.15' });
    fake = f;
    f.torrents.set(H, { hash: H, name: 'one.bin', dir: '/d', files: [{ path: 'one.bin', size: 5 }], running: false });
    const c = createDelugeClient({ url: f.url, password: () => 'pw', timeoutMs: 2_000, backoffMs: 5 });
    expect((await c.version()).app).toBe('Deluge 1.3.15');
    await expect(c.setLocation([H], '/pool/x')).rejects.toThrow(/cannot repoint without moving data/);
    expect(f.count('core.move_storage')).toBe(0);
  });
});

describe('rTorrent against a wire-level fake: several torrents in one system.multicall', () => {
  const [A, B, C] = ['aa', 'bb', 'cc'].map((x) => x.repeat(20)) as [string, string, string];
  async function three(): Promise<FakeRtorrent> {
    const f = await startFakeRtorrent();
    fake = f;
    for (const h of [A, B, C]) f.torrents.set(h, { hash: h, name: `t-${h.slice(0, 2)}.bin`, dir: '/d', files: [{ path: `t-${h.slice(0, 2)}.bin`, size: 5 }], running: true });
    return f;
  }

  test('reads asked together are one multicall; an entry that does not parse fails only its torrent', async () => {
    const f = await three();
    f.malformed.add(B);
    const c = createRtorrentClient({ url: f.url, timeoutMs: 2_000, backoffMs: 5 });
    const out = await Promise.allSettled([A, B, C].map((h) => c.getTorrent(h)));
    expect(out.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((out[1] as PromiseRejectedResult).reason as Error).message).toMatch(/d\.state is a string/);
    expect((out[0] as PromiseFulfilledResult<unknown>).value).toMatchObject({ hash: A, phase: 'seeding' });
    expect(f.multicalls).toEqual([[A, B, C]]);
  });

  test('a multicall answered with a result missing fails every torrent of that call, a read or a mutation, and only those', async () => {
    const f = await three();
    const c = createRtorrentClient({ url: f.url, timeoutMs: 2_000, backoffMs: 5 });
    f.dropResultNext();
    const reads = await Promise.allSettled([A, B].map((h) => c.getTorrent(h)));
    expect(reads.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    expect(((reads[0] as PromiseRejectedResult).reason as Error).message).toMatch(/wrong number of results/);
    expect(await c.getTorrent(C)).toMatchObject({ hash: C });
    f.dropResultNext();
    const pauses = await Promise.allSettled([A, B].map((h) => c.pause([h])));
    expect(pauses.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    expect(f.multicalls.at(-1)).toEqual([A, B]);
    await c.pause([C]);
  });
});

describe('Deluge against a wire-level fake: several torrents in one call', () => {
  const [A, B, C] = ['aa', 'bb', 'cc'].map((x) => x.repeat(20)) as [string, string, string];
  async function three(): Promise<FakeDeluge> {
    const f = await startFakeDeluge();
    fake = f;
    for (const h of [A, B, C]) f.torrents.set(h, { hash: h, name: `t-${h.slice(0, 2)}.bin`, dir: '/d', files: [{ path: `t-${h.slice(0, 2)}.bin`, size: 5 }], running: false });
    return f;
  }
  const named = (f: FakeDeluge, method: string) => f.calls.filter((x) => x.method === method).map((x) => [...(x.params[0] as string[])].sort());

  test('moves asked together are one core.move_storage; a torrent whose status entry does not parse fails alone and is not named', async () => {
    const f = await three();
    f.malformed.add(B);
    const c = createDelugeClient({ url: f.url, password: () => 'pw', timeoutMs: 2_000, backoffMs: 5 });
    const out = await Promise.allSettled([A, B, C].map((h) => c.setLocation([h], '/pool/x')));
    expect(out.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((out[1] as PromiseRejectedResult).reason as Error).message).toMatch(/no file priorities for bb/);
    expect(named(f, 'core.move_storage')).toEqual([[A, C]]);
  });

  test('a call refused by Deluge fails every torrent it named, and only those; an id-less call is never sent', async () => {
    const f = await three();
    const c = createDelugeClient({ url: f.url, password: () => 'pw', timeoutMs: 2_000, backoffMs: 5 });
    f.errorOn('core.pause_torrent', "KeyError: 'bb'");
    const out = await Promise.allSettled([A, B].map((h) => c.pause([h])));
    expect(out.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    await c.pause([C]);
    expect(named(f, 'core.pause_torrent')).toEqual([[A, B], [C]]);
    // Deluge pauses every torrent for an empty list: an unknown torrent alone sends nothing.
    await expect(c.pause(['dd'.repeat(20)])).rejects.toThrow(/does not know torrent/);
    expect(named(f, 'core.pause_torrent')).toHaveLength(2);
  });
});

describe('Transmission: compressed answers', () => {
  test('it asks for gzip; an answer that claims gzip and does not decompress is a protocol error naming the call, not "cannot reach"', async () => {
    const asked: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      asked.push(req.headers['accept-encoding']);
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' }).end('{"result":"success"} — not gzip');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const client = createTransmissionClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timeoutMs: 2_000, backoffMs: 5 });
      const err = (await client.listTorrents().catch((e: unknown) => e)) as ClientError;
      expect(err).toBeInstanceOf(ClientError);
      expect(err.kind).toBe('protocol');
      expect(err.message).toMatch(/answered session-get|answered torrent-get/);
      expect(err.message).toMatch(/does not decompress/);
      expect(asked[0]).toBe('gzip');
      await client.close();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('Transmission and rTorrent (HTTP): an answer echoing the login', () => {
  const PW = 'Tr ans&pw=42%';
  /** A server (a compromised Web UI, a proxy) that quotes the Authorization header and the password it decodes from it. */
  async function echoing(answer: (echo: string) => string): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createServer((req, res) => {
      const auth = req.headers.authorization ?? '';
      const pw = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString('utf8').split(':').slice(1).join(':');
      const echo = `auth=${auth} pw=${pw} form=${new URLSearchParams({ p: pw }).toString()} uri=${encodeURIComponent(pw)}`;
      res.writeHead(200, { 'content-type': 'text/xml', 'x-transmission-session-id': 's' }).end(answer(echo));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      },
    };
  }
  const hidden = (err: unknown): void => {
    expect(err).toBeInstanceOf(ClientError);
    const text = `${(err as Error).message} ${String((err as { cause?: unknown }).cause)}`;
    expect(text).toContain('<redacted>');
    for (const spelling of [PW, encodeURIComponent(PW), new URLSearchParams({ p: PW }).toString().slice(2), Buffer.from(`u:${PW}`).toString('base64')]) expect(text).not.toContain(spelling);
  };

  test('Transmission: a refusal whose result quotes the password or the basic-auth header is shown without them', async () => {
    const s = await echoing((echo) => JSON.stringify({ result: `refused ${echo}`, arguments: {} }));
    try {
      const c = createTransmissionClient({ url: `${s.url}/transmission/rpc`, username: 'u', password: () => PW, timeoutMs: 2_000, backoffMs: 5 });
      hidden(await c.listTorrents().catch((e: unknown) => e));
      await c.close();
    } finally {
      await s.close();
    }
  });

  test('rTorrent: a fault (of the call, or of one call of a multicall) quoting them is shown without them', async () => {
    const fault = (echo: string) =>
      `<value><struct><member><name>faultCode</name><value><i4>-1</i4></value></member><member><name>faultString</name><value><string>${echo.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</string></value></member></struct></value>`;
    const whole = await echoing((echo) => `<?xml version="1.0"?><methodResponse><fault>${fault(echo)}</fault></methodResponse>`);
    try {
      const c = createRtorrentClient({ url: `${whole.url}/RPC2`, username: 'u', password: () => PW, timeoutMs: 2_000, backoffMs: 5 });
      hidden(await c.version().catch((e: unknown) => e));
      await c.close();
    } finally {
      await whole.close();
    }
    const one = await echoing((echo) => `<?xml version="1.0"?><methodResponse><params><param><value><array><data>${fault(echo)}</data></array></value></param></params></methodResponse>`);
    try {
      const c = createRtorrentClient({ url: `${one.url}/RPC2`, username: 'u', password: () => PW, timeoutMs: 2_000, backoffMs: 5 });
      hidden(await c.pause([H]).catch((e: unknown) => e));
      await c.close();
    } finally {
      await one.close();
    }
  });
});
