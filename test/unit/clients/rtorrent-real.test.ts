// The rTorrent client against a real rtorrent 0.9.8 on loopback: over its SCGI unix socket and over HTTP (a loopback relay, as nginx/ruTorrent).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pauseConfirmed, recheckConfirmed, resumeConfirmed, setLocationConfirmed } from '../../../src/clients/confirm.js';
import { createRtorrentClient } from '../../../src/clients/rtorrent/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import { ClientError } from '../../../src/errors.js';
import { rtorrentSandboxes, type RtorrentSandbox } from '../../../src/sandbox/rtorrent-sandbox.js';
import { makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { clientContract, hashes, linkView, UNKNOWN } from '../../support/client-contract.js';

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

describe('rTorrent: calls of several torrents made together share one request', () => {
  /** The methods (top-level, and each call of a system.multicall) and the info-hashes of every XML-RPC request sent. */
  function counting(): { calls: { top: string; inner: string[]; hashes: string[] }[]; fetch: typeof fetch } {
    const calls: { top: string; inner: string[]; hashes: string[] }[] = [];
    return {
      calls,
      fetch: async (input, init) => {
        const body = String(init?.body ?? '');
        calls.push({
          top: /<methodName>([^<]+)<\/methodName>/.exec(body)?.[1] ?? '',
          inner: [...body.matchAll(/<name>methodName<\/name><value><string>([^<]+)<\/string>/g)].map((m) => m[1] as string),
          hashes: [...new Set([...body.matchAll(/<string>([0-9A-F]{40})<\/string>/g)].map((m) => (m[1] as string).toLowerCase()))],
        });
        return fetch(input, init);
      },
    };
  }

  test('three torrents repointed at once: each action is one multicall naming exactly them, their polls one read per round; an unknown torrent asked with them fails alone; a bystander is untouched', async () => {
    const { calls, fetch: f } = counting();
    const c = createRtorrentClient({ url: relayUrl, username: auth.username, password: () => auth.password, timeoutMs: 10_000, fetch: f });
    const save = path.join(sbHttp.dir, 'data', 'batched');
    const ts = ['One', 'Two', 'Three', 'Bystander'].map((n) => makeTorrent({ saveDir: save, name: `Batched.${n}`, files: [{ path: 'x.bin', size: 40_000 }], trackers: ['http://127.0.0.1:1/announce'] }));
    for (const t of ts) await sbHttp.add(t, { dir: save, start: true });
    const three = ts.slice(0, 3);
    const bystander = ts[3] as MadeTorrent;
    const toSave = path.join(sbHttp.dir, 'view', 'batched');
    for (const t of three) linkView(t, save, toSave);
    const before = hashes(ts.flatMap((t) => t.paths));
    const want = three.map((t) => t.infoHash).sort();
    const o = { timeoutMs: 20_000 };
    /** The multicalls carrying `method`: one, naming exactly the three torrents. */
    const one = (method: string) => {
      const sent = calls.filter((x) => x.inner.includes(method));
      expect(sent, method).toHaveLength(1);
      expect([...sent[0]!.hashes].sort(), method).toEqual(want);
      return sent[0]!;
    };
    /** The first read after `call` names the three (the polls of every confirmation went out together); no read names another torrent. */
    const readsTogether = (call: (typeof calls)[number]) => {
      const reads = calls.slice(calls.indexOf(call)).filter((x) => x.inner[0] === 'd.hash');
      expect(reads.length).toBeGreaterThan(0);
      expect([...reads[0]!.hashes].sort()).toEqual(want);
    };

    calls.length = 0;
    await Promise.all(three.map((t) => pauseConfirmed(c, t.infoHash, o)));
    readsTogether(one('d.stop'));

    calls.length = 0;
    const moved = await Promise.allSettled([...three.map((t) => setLocationConfirmed(c, t.infoHash, toSave, o)), c.setLocation([UNKNOWN], toSave)]);
    expect(moved.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect(((moved[3] as PromiseRejectedResult).reason as Error).message).toMatch(/does not know torrent/);
    readsTogether(one('d.directory.set'));
    one('d.close');

    calls.length = 0;
    const checked = await Promise.all(three.map((t) => recheckConfirmed(c, t.infoHash, o)));
    expect(checked.map((t) => [t.savePath, t.progress])).toEqual(three.map(() => [toSave, 1]));
    readsTogether(one('d.check_hash'));

    calls.length = 0;
    const resumed = await Promise.all(three.map((t) => resumeConfirmed(c, t.infoHash, o)));
    expect(resumed.every((t) => t.running)).toBe(true);
    readsTogether(one('d.start'));

    // In all: 4 actions x (one read of the three + one multicall) + the polls, instead of 4 x 3 x (read + call(s)).
    expect(await c.getTorrent(bystander.infoHash)).toMatchObject({ savePath: save, running: true, progress: 1 });
    expect(hashes(ts.flatMap((t) => t.paths))).toEqual(before);
  });
});

describe('rTorrent: the folders it keeps its own files in', () => {
  test('its session folder, over SCGI and over HTTP, read from the daemon', async () => {
    const strip = (p: string) => p.replace(/\/+$/, '');
    const got = await scgi.ownFolders();
    expect(got.map((f) => ({ ...f, path: strip(f.path) }))).toEqual([{ role: 'session', path: `${sb.dir}/session` }]);
    const viaHttp = await http.ownFolders();
    expect(viaHttp.map((f) => ({ ...f, path: strip(f.path) }))).toEqual([{ role: 'session', path: `${sbHttp.dir}/session` }]);
  });
});

describe('rTorrent: per-file progress', () => {
  test('a complete hybrid torrent (BEP 47 pad files on disk) reports every file at 1, never more', async () => {
    const save = path.join(sb.dir, 'padded');
    const t = makeTorrent({ saveDir: save, name: 'Padded', files: [{ path: 'a.bin', size: 20_000 }, { path: 'b.bin', size: 15_000 }, { path: 'c.bin', size: 40_000 }], trackers: ['http://127.0.0.1:1/announce'], pieceLength: 16 * 1024, pad: { onDisk: true } });
    await sb.add(t, { dir: save, start: false });
    const files = await scgi.listFiles(t.infoHash);
    expect(files.map((f) => f.name)).toEqual(['Padded/a.bin', 'Padded/.pad/12768', 'Padded/b.bin', 'Padded/.pad/1384', 'Padded/c.bin']);
    expect(files.map((f) => f.progress)).toEqual([1, 1, 1, 1, 1]);
  });
});
