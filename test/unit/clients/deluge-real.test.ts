// The Deluge client against a real deluged + deluge-web 2.0.3 on loopback, plus its login, session and connection errors.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pauseConfirmed, recheckConfirmed, resumeConfirmed, setLocationConfirmed } from '../../../src/clients/confirm.js';
import { createDelugeClient } from '../../../src/clients/deluge/client.js';
import { makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import { ClientError } from '../../../src/errors.js';
import { delugeSandboxes, type DelugeSandbox } from '../../../src/sandbox/deluge-sandbox.js';
import { clientContract, hashes, linkView, UNKNOWN } from '../../support/client-contract.js';

const sandboxes = delugeSandboxes();
let sb: DelugeSandbox;
let client: TorrentClient;
beforeAll(async () => {
  sb = await sandboxes.start();
  client = createDelugeClient({ url: sb.url, password: () => sb.password, timeoutMs: 10_000 });
}, 90_000);
afterAll(() => sandboxes.stopAll());

clientContract('Deluge', () => ({
  client,
  dir: sb.dir,
  async add(t, saveDir, o) {
    await sb.add(t, { dir: saveDir, running: o.running, label: o.label });
  },
}));

describe('Deluge transport', () => {
  test('the version names Deluge 2.0 and its libtorrent', async () => {
    expect(await client.version()).toEqual({ app: 'Deluge 2.0.3', webApi: expect.stringMatching(/^libtorrent \d+\.\d+/) });
  });

  test('"move completed to" is the download-path override: reported, and cleared by setDownloadPath(\'\') as read back', async () => {
    const [t] = await client.listTorrents();
    expect(t).toBeDefined();
    const h = t!.hash;
    await sb.call('core.set_torrent_options', [[h], { move_completed: true, move_completed_path: path.join(sb.dir, 'done') }]);
    expect((await client.getTorrent(h))?.downloadPath).toBe(path.join(sb.dir, 'done'));
    await client.setDownloadPath([h], '');
    expect((await client.getTorrent(h))?.downloadPath).toBe('');
    expect(((await sb.call('core.get_torrent_status', [h, ['move_completed']])) as { move_completed: boolean }).move_completed).toBe(false);
  });

  test('a wrong password is an auth error that never shows the password', async () => {
    const wrong = createDelugeClient({ url: sb.url, password: () => 'not-the-password-123', timeoutMs: 5_000 });
    const err = await wrong.listTorrents().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).kind).toBe('auth');
    expect(JSON.stringify({ m: (err as Error).message, h: (err as ClientError).hint })).not.toContain('not-the-password-123');
  });

  test('an expired session (deleted by deluge-web) is logged in again, once, and the call goes through', async () => {
    const c = createDelugeClient({ url: sb.url, password: () => sb.password, timeoutMs: 10_000 });
    const n = (await c.listTorrents()).length;
    // Delete every session deluge-web knows: the client's cookie is now stale (the sandbox logs in again by itself too).
    await sb.call('auth.delete_session');
    expect((await c.listTorrents()).length).toBe(n);
  });

  test('deluge-web that lost its daemon is connected again; a ?daemon= that is not in its host list is a clear error', async () => {
    const c = createDelugeClient({ url: sb.url, password: () => sb.password, timeoutMs: 2_000 });
    const n = (await c.listTorrents()).length;
    await sb.call('web.disconnect');
    // deluge-web leaves a core call of a disconnected session unanswered: after the timeout the client connects again.
    expect((await c.listTorrents()).length).toBe(n);
    const other = createDelugeClient({ url: `${sb.url}/?daemon=127.0.0.1:1`, password: () => sb.password, timeoutMs: 5_000 });
    await sb.call('web.disconnect');
    const err = await other.listTorrents().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as Error).message).toMatch(/host list has no daemon 127\.0\.0\.1:1/);
    // Leave deluge-web connected: the tests after this one (and the sandbox's own calls) expect a connected daemon.
    expect((await c.listTorrents()).length).toBe(n);
  });

  test('nothing listens: a network error naming the URL without credentials, after bounded retries', async () => {
    const dead = createDelugeClient({ url: 'http://user:secret@127.0.0.1:9/?daemon=x', password: () => 'pw-secret-xyz', timeoutMs: 2_000, attempts: 2, backoffMs: 10 });
    const err = await dead.listTorrents().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).kind).toBe('network');
    expect((err as Error).message).toContain('127.0.0.1:9');
    expect((err as Error).message).not.toMatch(/secret/);
  });
});

describe('Deluge: a recheck long enough to be seen', () => {
  // Deluge updates a torrent's `state` only on libtorrent's alerts: while a paused torrent is force-rechecked it reads
  // "Paused" with its progress climbing (libtorrent runs it, unpaused), and "Paused" at progress 1 before Deluge pauses
  // it again. Read as settled, that is a false "ended incomplete" mid-check, or a resume that Deluge's re-pause undoes.
  test('a paused 3 x 48 MiB torrent rechecked: confirmed complete, never failed mid-check, and paused by Deluge before it is called settled', async () => {
    const save = path.join(sb.dir, 'data', 'long-check');
    mkdirSync(save, { recursive: true });
    const t = makeTorrent({ saveDir: save, name: 'Long.Check', files: [0, 1, 2].map((i) => ({ path: `part${i}.bin`, size: 48 * 1024 * 1024 })), trackers: ['http://127.0.0.1:1/announce'] });
    await sb.add(t, { dir: save, running: false });
    await sb.waitSettled(t.infoHash, 60_000);
    const seen: string[] = [];
    const done = await recheckConfirmed(client, t.infoHash, { timeoutMs: 60_000, observe: (x) => seen.push(`${x.rawState}@${x.progress}`) });
    expect(done.progress).toBe(1);
    expect(done.phase).toBe('paused-complete');
    // The check was seen running (not over before the first poll), so the test proves the mid-check reads.
    expect(seen.some((s) => !s.endsWith('@1'))).toBe(true);
    const fresh = (await sb.call('core.get_torrent_status', [t.infoHash, ['paused', 'state']])) as { paused: boolean; state: string };
    expect(fresh).toEqual({ paused: true, state: 'Paused' });
  }, 120_000);
});

describe('Deluge: calls of several torrents made together share one request', () => {
  /** The method and the torrents named (a list first parameter, or a status filter's ids) of every JSON-RPC call sent. */
  function counting(): { calls: { method: string; ids: string[] }[]; fetch: typeof fetch } {
    const calls: { method: string; ids: string[] }[] = [];
    return {
      calls,
      fetch: async (input, init) => {
        const body = JSON.parse(String(init?.body ?? '{}')) as { method?: string; params?: unknown[] };
        const first = body.params?.[0];
        const ids = Array.isArray(first) ? first : typeof first === 'string' ? [first] : ((first as { id?: string[] } | undefined)?.id ?? []);
        calls.push({ method: body.method ?? '', ids: ids.map(String) });
        return fetch(input, init);
      },
    };
  }

  test('the version is asked once for concurrent callers', async () => {
    const { calls, fetch: f } = counting();
    const c = createDelugeClient({ url: sb.url, password: () => sb.password, timeoutMs: 10_000, fetch: f });
    const [a, b] = await Promise.all([c.version(), c.version()]);
    expect(a).toEqual(b);
    expect(calls.filter((x) => x.method === 'daemon.get_version')).toHaveLength(1);
    await c.version();
    expect(calls.filter((x) => x.method === 'daemon.get_version')).toHaveLength(1);
  });

  test('three torrents repointed at once: each action is one call naming exactly them; an unknown torrent asked with them fails alone; a bystander is untouched', async () => {
    const { calls, fetch: f } = counting();
    const c = createDelugeClient({ url: sb.url, password: () => sb.password, timeoutMs: 10_000, fetch: f });
    const save = path.join(sb.dir, 'data', 'batched');
    const ts = ['One', 'Two', 'Three', 'Bystander'].map((n) => makeTorrent({ saveDir: save, name: `Batched.${n}`, files: [{ path: 'x.bin', size: 40_000 }], trackers: ['http://127.0.0.1:1/announce'] }));
    for (const t of ts) await sb.add(t, { dir: save, running: true });
    const three = ts.slice(0, 3);
    const bystander = ts[3] as MadeTorrent;
    const toSave = path.join(sb.dir, 'view', 'batched');
    for (const t of three) linkView(t, save, toSave);
    const before = hashes(ts.flatMap((t) => t.paths));
    const want = three.map((t) => t.infoHash).sort();
    const o = { timeoutMs: 20_000 };
    /** The calls of `method`: one, naming exactly the three torrents. */
    const one = (method: string) => {
      const sent = calls.filter((x) => x.method === method);
      expect(sent, method).toHaveLength(1);
      expect([...sent[0]!.ids].sort(), method).toEqual(want);
    };

    calls.length = 0;
    await Promise.all(three.map((t) => pauseConfirmed(c, t.infoHash, o)));
    one('core.pause_torrent');

    calls.length = 0;
    const moved = await Promise.allSettled([...three.map((t) => setLocationConfirmed(c, t.infoHash, toSave, o)), c.setLocation([UNKNOWN], toSave)]);
    expect(moved.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect(((moved[3] as PromiseRejectedResult).reason as Error).message).toMatch(/does not know torrent/);
    one('core.move_storage');

    calls.length = 0;
    const checked = await Promise.all(three.map((t) => recheckConfirmed(c, t.infoHash, o)));
    expect(checked.map((t) => [t.savePath, t.progress])).toEqual(three.map(() => [toSave, 1]));
    one('core.force_recheck');

    calls.length = 0;
    const resumed = await Promise.all(three.map((t) => resumeConfirmed(c, t.infoHash, o)));
    expect(resumed.every((t) => t.running)).toBe(true);
    one('core.resume_torrent');

    expect(await c.getTorrent(bystander.infoHash)).toMatchObject({ savePath: save, running: true, progress: 1 });
    expect(hashes(ts.flatMap((t) => t.paths))).toEqual(before);
  });
});

describe('Deluge: the folders it keeps its own files in', () => {
  test('its configuration folder always, its .torrent copies once "copy .torrent files" is on, read from the daemon', async () => {
    expect(await client.ownFolders()).toEqual([{ role: 'config', path: path.join(sb.dir, 'config') }]);
    const copies = path.join(sb.dir, 'torrent-copies');
    await sb.call('core.set_config', [{ copy_torrent_file: true, torrentfiles_location: copies }]);
    try {
      expect(await client.ownFolders()).toEqual([
        { role: 'config', path: path.join(sb.dir, 'config') },
        { role: 'torrent-copies', path: copies },
      ]);
    } finally {
      await sb.call('core.set_config', [{ copy_torrent_file: false }]);
    }
  });
});

describe('Deluge: the content path is where its files are, not save path + name', () => {
  /** Deluge renames asynchronously (core.rename_folder / rename_files answer first): wait until its file list says `done`. */
  async function renamed(h: string, done: (paths: string[]) => boolean): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const s = (await sb.call('core.get_torrent_status', [h, ['files']])) as { files: { path: string }[] };
      if (done(s.files.map((f) => f.path))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`Deluge never renamed the files of ${h}`);
  }

  test('a torrent whose folder was renamed (core.rename_folder) and given a display name (its "name" option): both reads report the renamed folder', async () => {
    const save = path.join(sb.dir, 'data', 'renamed');
    const t = makeTorrent({ saveDir: save, name: 'Orig.Folder', files: [{ path: 'a.bin', size: 40_000 }, { path: 'sub/b.txt', content: 'b\n' }], trackers: ['http://127.0.0.1:1/announce'] });
    await sb.add(t, { dir: save, running: false });
    await sb.call('core.rename_folder', [t.infoHash, 'Orig.Folder/', 'Renamed Folder/']);
    await renamed(t.infoHash, (ps) => ps.every((p) => p.startsWith('Renamed Folder/')));
    // Measured on 2.0.3 (libtorrent 2.0.8): Deluge's name follows the first file's folder — until a display name is set.
    expect(await client.getTorrent(t.infoHash)).toMatchObject({ name: 'Renamed Folder', contentPath: path.join(save, 'Renamed Folder') });
    await sb.call('core.set_torrent_options', [[t.infoHash], { name: 'Shown Name' }]);
    const want = { name: 'Shown Name', savePath: save, contentPath: path.join(save, 'Renamed Folder') };
    expect(await client.getTorrent(t.infoHash)).toMatchObject(want);
    expect((await client.listTorrents({ hashes: [t.infoHash] }))[0]).toMatchObject(want);
    expect((await client.listFiles(t.infoHash)).map((f) => f.name)).toEqual(['Renamed Folder/a.bin', 'Renamed Folder/sub/b.txt']);
  });

  test('a one-file torrent with a display name: its file; its files moved apart (no common folder): the save path', async () => {
    const save = path.join(sb.dir, 'data', 'renamed-one');
    const one = makeTorrent({ saveDir: save, name: 'one.bin', files: [{ size: 30_000 }], trackers: ['http://127.0.0.1:1/announce'] });
    await sb.add(one, { dir: save, running: false });
    await sb.call('core.set_torrent_options', [[one.infoHash], { name: 'Shown One' }]);
    expect(await client.getTorrent(one.infoHash)).toMatchObject({ name: 'Shown One', contentPath: path.join(save, 'one.bin') });
    const two = makeTorrent({ saveDir: save, name: 'Two.Folder', files: [{ path: 'a.bin', size: 20_000 }, { path: 'b.bin', size: 20_000 }], trackers: ['http://127.0.0.1:1/announce'] });
    await sb.add(two, { dir: save, running: false });
    await sb.call('core.rename_files', [two.infoHash, [[0, 'Elsewhere/a.bin']]]);
    await renamed(two.infoHash, (ps) => ps[0] === 'Elsewhere/a.bin');
    // Its content lies directly in the save path, beside other content (as qBittorrent reports a torrent without a root folder).
    expect(await client.getTorrent(two.infoHash)).toMatchObject({ contentPath: save });
  });
});
