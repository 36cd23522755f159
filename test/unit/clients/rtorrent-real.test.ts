// The rTorrent client against a real rtorrent 0.9.8 on loopback: over its SCGI unix socket and over HTTP (a loopback relay, as nginx/ruTorrent).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRtorrentClient } from '../../../src/clients/rtorrent/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import { ClientError } from '../../../src/errors.js';
import { rtorrentSandboxes, type RtorrentSandbox } from '../../../src/sandbox/rtorrent-sandbox.js';
import { clientContract } from '../../support/client-contract.js';

const sandboxes = rtorrentSandboxes();
let sb: RtorrentSandbox;
/** A second daemon for the HTTP run of the contract (the contract's torrents have fixed info-hashes). */
let sbHttp: RtorrentSandbox;
let scgi: TorrentClient;
let http: TorrentClient;
let relayUrl: string;
const auth = { username: 'rutorrent', password: 'relay-pass-42' };
beforeAll(async () => {
  [sb, sbHttp] = await Promise.all([sandboxes.start(), sandboxes.start()]);
  scgi = createRtorrentClient({ url: sb.url, timeoutMs: 10_000 });
  relayUrl = (await sbHttp.httpRelay(auth)).url;
  http = createRtorrentClient({ url: relayUrl, username: auth.username, password: () => auth.password, timeoutMs: 10_000 });
});
afterAll(() => sandboxes.stopAll());

const daemon = (which: () => TorrentClient, box: () => RtorrentSandbox) => () => ({
  client: which(),
  dir: box().dir,
  async add(t: Parameters<RtorrentSandbox['add']>[0], saveDir: string, o: { running: boolean; label?: string }) {
    await box().add(t, { dir: saveDir, start: o.running, label: o.label });
  },
});

clientContract('rTorrent over SCGI', daemon(() => scgi, () => sb));

clientContract('rTorrent over HTTP', daemon(() => http, () => sbHttp));

describe('rTorrent over HTTP', () => {
  test('lists the same torrents through the HTTP endpoint as through the socket', async () => {
    const direct = createRtorrentClient({ url: sbHttp.url, timeoutMs: 10_000 });
    const a = (await direct.listTorrents()).map((t) => [t.hash, t.savePath, t.phase]).sort();
    expect(a.length).toBeGreaterThan(0);
    expect((await http.listTorrents()).map((t) => [t.hash, t.savePath, t.phase]).sort()).toEqual(a);
    expect((await http.version()).app).toBe('rTorrent 0.9.8');
  });

  test('a wrong password is an auth error that never shows the password', async () => {
    const wrong = createRtorrentClient({ url: relayUrl, username: auth.username, password: () => 'nope-secret-77', timeoutMs: 5_000 });
    const err = await wrong.version().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).kind).toBe('auth');
    expect((err as Error).message).not.toContain('nope-secret-77');
  });

  test('a socket nobody listens on is a network error after bounded retries', async () => {
    const dead = createRtorrentClient({ url: `scgi://${sb.dir}/no-such.sock`, timeoutMs: 2_000, attempts: 2, backoffMs: 10 });
    const err = await dead.listTorrents().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).kind).toBe('network');
  });
});
