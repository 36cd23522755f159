// The qBittorrent client against a real qbittorrent-nox in a loopback-only sandbox, with real .torrent files and data.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClientError } from '../../../src/errors.js';
import { createQbittorrentClient, type QbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import {
  addTagsConfirmed,
  pauseConfirmed,
  recheckConfirmed,
  removeTagsConfirmed,
  resumeConfirmed,
  setAutoManagementConfirmed,
  setLocationConfirmed,
} from '../../../src/clients/confirm.js';
import { clientToHost } from '../../../src/domain/path-map.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';

const qbts = qbtSandboxes();
afterAll(() => qbts.stopAll());

const TRACKER = 'http://127.0.0.1:1/announce';
const UNKNOWN = '0123456789abcdef0123456789abcdef01234567';
const o = { timeoutMs: 20_000, intervalMs: 50 };

async function caught(p: Promise<unknown>): Promise<ClientError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ClientError);
  return err as ClientError;
}

describe('qBittorrent client against a real qbittorrent-nox (loopback bypass)', () => {
  let sb: QbtSandbox;
  let qb: QbittorrentClient;
  let data: string;
  let single: MadeTorrent;
  let multi: MadeTorrent;

  beforeAll(async () => {
    sb = await qbts.start();
    qb = createQbittorrentClient({ url: sb.url, timeoutMs: 10_000 });
    data = path.join(sb.dir, 'data');
    single = makeTorrent({ saveDir: path.join(data, 'single'), name: 'film.mkv', files: [{ size: 100_000 }], trackers: [TRACKER], private: true });
    multi = makeTorrent({
      saveDir: path.join(data, 'multi'),
      name: 'Album (2001)',
      files: [{ path: 'a.flac', size: 70_000 }, { path: 'c.txt', content: 'hello\n' }, { path: 'sub/b.flac', size: 30_001 }],
      pieceLength: 32 * 1024,
      trackers: [TRACKER],
    });
    await addTorrent(sb, single, { savepath: path.join(data, 'single'), skipChecking: true, tags: ['fixture', 'hashall'] });
    await addTorrent(sb, multi, { savepath: path.join(data, 'multi'), skipChecking: true });
  });

  test('detects the version and picks pause/resume or stop/start from it', async () => {
    const v = await qb.version();
    expect(v.app).toMatch(/^v\d+\.\d+/);
    expect(v.webApi).toMatch(/^2\.\d+/);
    const major = Number(/^v(\d+)/.exec(v.app)?.[1]);
    expect(await qb.usesStopStart()).toBe(major >= 5);
  });

  test('lists torrents with every field, with and without a hash filter', async () => {
    const [s, m] = await Promise.all([qb.getTorrent(single.infoHash), qb.getTorrent(multi.infoHash.toUpperCase())]);
    expect(s).toMatchObject({
      hash: single.infoHash,
      name: 'film.mkv',
      savePath: path.join(data, 'single'),
      contentPath: single.contentPath,
      downloadPath: '',
      category: '',
      tags: ['fixture', 'hashall'],
      rawState: expect.stringMatching(/^(pausedUP|stoppedUP)$/),
      phase: 'paused-complete',
      running: false,
      progress: 1,
      amountLeft: 0,
      size: 100_000,
      autoTmm: false,
      seedingTimeSec: 0,
    });
    expect(s?.addedOn).toBeGreaterThan(1_600_000_000);
    expect(m).toMatchObject({ hash: multi.infoHash, name: 'Album (2001)', contentPath: path.join(data, 'multi', 'Album (2001)'), size: 100_007, tags: [] });
    const all = await qb.listTorrents();
    expect(all.map((t) => t.hash).sort()).toEqual([single.infoHash, multi.infoHash].sort());
    const filtered = await qb.listTorrents({ hashes: [multi.infoHash, UNKNOWN] });
    expect(filtered.map((t) => t.hash)).toEqual([multi.infoHash]);
    expect(await qb.listTorrents({ hashes: [] })).toEqual([]);
    expect(await qb.getTorrent(UNKNOWN)).toBeNull();
  });

  test('lists files of single- and multi-file torrents', async () => {
    expect(await qb.listFiles(single.infoHash)).toEqual([{ index: 0, name: 'film.mkv', size: 100_000, progress: 1 }]);
    const files = await qb.listFiles(multi.infoHash);
    expect(files.map((f) => [f.index, f.name, f.size, f.progress])).toEqual([
      [0, 'Album (2001)/a.flac', 70_000, 1],
      [1, 'Album (2001)/c.txt', 6, 1],
      [2, 'Album (2001)/sub/b.flac', 30_001, 1],
    ]);
    expect((await caught(qb.listFiles(UNKNOWN))).status).toBe(404);
  });

  test('resume and pause, confirmed by reading back', async () => {
    const running = await resumeConfirmed(qb, single.infoHash, o);
    expect(running.phase).toBe('seeding');
    expect(running.running).toBe(true);
    const paused = await pauseConfirmed(qb, single.infoHash, o);
    expect(paused.phase).toBe('paused-complete');
    expect(paused.running).toBe(false);
  });

  test('a confirmation given the torrent read moments ago (known) sends its request first; a wrong torrent is refused', async () => {
    const seen: string[] = [];
    const counting: typeof fetch = async (input, init) => {
      seen.push(new URL(input instanceof Request ? input.url : String(input)).pathname.replace(/^\/api\/v2/, ''));
      return fetch(input, init);
    };
    const watched = createQbittorrentClient({ url: sb.url, timeoutMs: 10_000, fetch: counting });
    try {
      await watched.version();
      const known = await resumeConfirmed(watched, single.infoHash, o);
      seen.length = 0;
      const paused = await pauseConfirmed(watched, single.infoHash, { ...o, known });
      expect(paused.running).toBe(false);
      expect(seen[0]).toMatch(/^\/torrents\/(pause|stop)$/);
      seen.length = 0;
      expect((await resumeConfirmed(watched, single.infoHash, { ...o, known: paused })).running).toBe(true);
      expect(seen[0]).toMatch(/^\/torrents\/(resume|start)$/);
      await expect(pauseConfirmed(watched, multi.infoHash, { ...o, known: paused })).rejects.toThrow(/not /);
      expect((await pauseConfirmed(watched, single.infoHash, o)).running).toBe(false);
    } finally {
      await watched.close();
    }
  });

  test('setLocation onto data the test already moved, then recheck to complete; no data lost', async () => {
    const dest = path.join(data, 'moved');
    mkdirSync(dest, { recursive: true });
    const oldRoot = path.join(data, 'multi', 'Album (2001)');
    const inoBefore = statSync(path.join(oldRoot, 'sub', 'b.flac')).ino;
    renameSync(oldRoot, path.join(dest, 'Album (2001)'));
    const moved = await setLocationConfirmed(qb, multi.infoHash, dest, o);
    expect(moved.savePath).toBe(dest);
    expect(moved.contentPath).toBe(path.join(dest, 'Album (2001)'));
    const checked = await recheckConfirmed(qb, multi.infoHash, o);
    expect(checked).toMatchObject({ phase: 'paused-complete', progress: 1, savePath: dest });
    expect(statSync(path.join(dest, 'Album (2001)', 'sub', 'b.flac')).ino).toBe(inoBefore);
    expect(readFileSync(path.join(dest, 'Album (2001)', 'c.txt'), 'utf8')).toBe('hello\n');
    expect(existsSync(oldRoot)).toBe(false);
  });

  test('setLocation to an uncreatable path is an http error (409)', async () => {
    const err = await caught(qb.setLocation([multi.infoHash], '/proc/hashall-nope'));
    expect(err.kind).toBe('http');
    expect(err.status).toBe(409);
  });

  test('a recheck that finds the data gone ends unconfirmed (incomplete)', async () => {
    const t = makeTorrent({ saveDir: path.join(data, 'gone'), name: 'gone.bin', files: [{ size: 50_000 }] });
    await addTorrent(sb, t, { savepath: path.join(data, 'gone'), skipChecking: true });
    renameSync(t.contentPath, `${t.contentPath}.away`);
    // Seen checking, then paused incomplete: the helper refuses to call that confirmed.
    const err = await caught(recheckConfirmed(qb, t.infoHash, o));
    expect(err.kind).toBe('unconfirmed');
    expect(err.message).toMatch(/ended incomplete: (pausedDL|stoppedDL), progress 0/);
    renameSync(`${t.contentPath}.away`, t.contentPath);
  });

  test('automatic management on moves into the category path; off leaves the data', async () => {
    const catPath = path.join(data, 'cat-movies');
    expect((await sb.api('POST', '/torrents/createCategory', { category: 'movies', savePath: catPath })).status).toBe(200);
    expect((await sb.api('POST', '/torrents/setCategory', { hashes: single.infoHash, category: 'movies' })).status).toBe(200);
    const on = await setAutoManagementConfirmed(qb, single.infoHash, true, o);
    expect(on).toMatchObject({ autoTmm: true, category: 'movies', savePath: catPath, contentPath: path.join(catPath, 'film.mkv') });
    expect(existsSync(path.join(catPath, 'film.mkv'))).toBe(true);
    const off = await setAutoManagementConfirmed(qb, single.infoHash, false, o);
    expect(off).toMatchObject({ autoTmm: false, savePath: catPath });
    expect(existsSync(path.join(catPath, 'film.mkv'))).toBe(true);
  });

  test('tags are added and removed, confirmed', async () => {
    const added = await addTagsConfirmed(qb, multi.infoHash, ['hashall', 'x y'], o);
    expect(added.tags).toEqual(['hashall', 'x y']);
    const removed = await removeTagsConfirmed(qb, multi.infoHash, ['x y'], o);
    expect(removed.tags).toEqual(['hashall']);
  });

  test('setDownloadPath sets and clears the per-torrent download path', async () => {
    const dl = path.join(data, 'incomplete');
    await qb.setDownloadPath([multi.infoHash], dl);
    await qb.waitFor(multi.infoHash, (t) => t.downloadPath === dl, { ...o, what: 'download path set' });
    await qb.setDownloadPath([multi.infoHash], '');
    const t = await qb.waitFor(multi.infoHash, (x) => x.downloadPath === '', { ...o, what: 'download path cleared' });
    expect(t.savePath).toBe(path.join(data, 'moved'));
  });

  test('waitFor is bounded and says what it waited for', async () => {
    const err = await caught(qb.waitFor(single.infoHash, () => false, { timeoutMs: 300, intervalMs: 50, what: 'the impossible' }));
    expect(err.kind).toBe('timeout');
    expect(err.message).toMatch(/the impossible/);
    expect(err.message).toMatch(/last seen (pausedUP|stoppedUP)/);
    const gone = await caught(qb.waitFor(UNKNOWN, () => true, { timeoutMs: 200, intervalMs: 50 }));
    expect(gone.message).toMatch(/does not list it/);
  });

  test('a mutation on an unknown hash is accepted by qBittorrent (200) but never confirmed', async () => {
    await expect(qb.setLocation([UNKNOWN], path.join(data, 'x'))).resolves.toBeUndefined();
    await expect(qb.pause([UNKNOWN])).resolves.toBeUndefined();
    const err = await caught(setLocationConfirmed(qb, UNKNOWN, path.join(data, 'x'), o));
    expect(err.kind).toBe('unconfirmed');
  });
  test('the sandbox restarts on the same profile: torrents, locations and tags survive', async () => {
    const oldPid = sb.pid;
    await sb.restart();
    expect(sb.pid).not.toBe(oldPid);
    expect(existsSync(`/proc/${oldPid}/cmdline`) && readFileSync(`/proc/${oldPid}/cmdline`, 'utf8').includes(sb.profile)).toBe(false);
    const again = createQbittorrentClient({ url: sb.url, timeoutMs: 10_000 });
    const m = await again.waitFor(multi.infoHash, (t) => t.phase !== 'checking', { ...o, what: 'resume data loaded' });
    expect(m).toMatchObject({ savePath: path.join(data, 'moved'), tags: ['hashall'], phase: 'paused-complete', progress: 1 });
  });
});

describe('qBittorrent client against a real qbittorrent-nox that requires a login', () => {
  let sb: QbtSandbox;
  beforeAll(async () => {
    sb = await qbts.start({ auth: true });
  });

  test('logs in with the password read at use, and the session works', async () => {
    let reads = 0;
    const qb = createQbittorrentClient({ url: sb.url, username: sb.username, password: () => (reads++, sb.password), timeoutMs: 10_000 });
    expect((await qb.version()).app).toMatch(/^v\d/);
    expect(await qb.listTorrents()).toEqual([]);
    expect(reads).toBe(1);
    await qb.close();
  });

  test('without a password: a clear auth error and no login attempt', async () => {
    const qb = createQbittorrentClient({ url: sb.url, timeoutMs: 10_000 });
    const err = await caught(qb.listTorrents());
    expect(err.kind).toBe('auth');
    expect(err.status).toBe(403);
  });

  test('a wrong password is an auth error, tried exactly once, without the password in it', async () => {
    const wrong = 'wrong-Pa55word';
    const qb = createQbittorrentClient({ url: sb.url, username: sb.username, password: () => wrong, timeoutMs: 10_000 });
    const err = await caught(qb.listTorrents());
    expect(err.kind).toBe('auth');
    const shown = [err.message, err.hint, JSON.stringify(err), String(err.cause), err.stack].join('\n');
    expect(shown).not.toContain(wrong);
    expect(shown).not.toContain(sb.password);
    // Only one failed login so far (qBittorrent bans after five): the right password still works.
    const ok = createQbittorrentClient({ url: sb.url, username: sb.username, password: () => sb.password, timeoutMs: 10_000 });
    expect(await ok.listTorrents()).toEqual([]);
  });
});

describe('qBittorrent in its own mount namespace with a container-style path', () => {
  test('qB reads the data through a bind mount only it sees; the path map finds it on the host', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'hashall-ct-'));
    const hostMedia = path.join(base, 'host', 'media');
    const ctMedia = path.join(base, 'ct', 'media');
    mkdirSync(hostMedia, { recursive: true });
    mkdirSync(ctMedia, { recursive: true });
    const sb = await qbts.start({ prelude: [`mount --bind '${hostMedia}' '${ctMedia}'`] });
    try {
      const t = makeTorrent({ saveDir: hostMedia, name: 'Show', files: [{ path: 'e01.mkv', size: 40_000 }, { path: 'e02.mkv', size: 20_000 }] });
      // The test process does not see the bind: the container path is empty here, full inside qB's namespace.
      expect(existsSync(path.join(ctMedia, 'Show'))).toBe(false);
      // Added without skip_checking: qB hashes every byte, so progress 1 proves it reads the host data at the container path.
      await addTorrent(sb, t, { savepath: ctMedia, paused: false });
      const qb = createQbittorrentClient({ url: sb.url, timeoutMs: 10_000 });
      const checked = await qb.waitFor(t.infoHash, (x) => x.phase === 'seeding' || x.phase === 'paused-complete', { ...o, what: 'initial check' });
      expect(checked).toMatchObject({ progress: 1, contentPath: path.join(ctMedia, 'Show') });
      const host = clientToHost([{ client: ctMedia, host: hostMedia }], checked.contentPath);
      expect(host).toBe(path.join(hostMedia, 'Show'));
      expect(existsSync(path.join(host as string, 'e02.mkv'))).toBe(true);
    } finally {
      await sb.stop();
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('qBittorrent: calls of several torrents made together share one request', () => {
  test('confirmations in flight together are one POST and one poll per round; the call touches only the torrents asked for', async () => {
    const sb = await qbts.start();
    try {
      const http: { path: string; body: string; query: string }[] = [];
      const counting: typeof fetch = async (input, init) => {
        const u = new URL(input instanceof Request ? input.url : String(input));
        http.push({ path: u.pathname.replace(/^\/api\/v2/, ''), query: u.searchParams.get('hashes') ?? '', body: init?.body instanceof URLSearchParams ? init.body.toString() : String(init?.body ?? '') });
        return fetch(input, init);
      };
      const qb = createQbittorrentClient({ url: sb.url, timeoutMs: 10_000, fetch: counting });
      const dir = path.join(sb.dir, 'data', 'batch');
      const [a, b, c] = ['A', 'B', 'C'].map((n) => makeTorrent({ saveDir: dir, name: `Batch.${n}`, files: [{ path: 'v.mkv', size: 20_000 }], trackers: [TRACKER] }));
      for (const t of [a!, b!, c!]) await addTorrent(sb, t, { savepath: dir, skipChecking: true, paused: false });
      await qb.waitFor(c!.infoHash, (x) => x.running, o);
      http.length = 0;
      // A and B paused together (two groups in flight), C never asked: one POST naming exactly A and B.
      const [pa, pb] = await Promise.all([pauseConfirmed(qb, a!.infoHash, o), pauseConfirmed(qb, b!.infoHash, o)]);
      expect([pa.running, pb.running]).toEqual([false, false]);
      // The first mutation of a fresh client asks the Web API version: once for both callers, so their calls stay together.
      expect(http.filter((h) => h.path === '/app/webapiVersion')).toHaveLength(1);
      const pauses = http.filter((h) => h.path === '/torrents/pause' || h.path === '/torrents/stop');
      expect(pauses).toHaveLength(1);
      expect(new URLSearchParams(pauses[0]!.body).get('hashes')!.split('|').sort()).toEqual([a!.infoHash, b!.infoHash].sort());
      // The reads of both confirmations went out together: the first poll after the POST asked for both (a later one
      // may ask for one alone, once the other is confirmed), and no read asked for anything else.
      const postAt = http.indexOf(pauses[0]!);
      const reads = http.slice(postAt).filter((h) => h.path === '/torrents/info');
      expect(reads.length).toBeGreaterThan(0);
      expect(reads[0]!.query.split('|').sort()).toEqual([a!.infoHash, b!.infoHash].sort());
      for (const r of http.filter((h) => h.path === '/torrents/info')) expect([a!.infoHash, b!.infoHash]).toEqual(expect.arrayContaining(r.query.split('|')));
      expect((await qb.getTorrent(c!.infoHash))?.running).toBe(true);
      // One torrent the client does not know, asked beside a known one: its confirmation fails alone, the other's holds.
      const [gone, back] = await Promise.allSettled([resumeConfirmed(qb, UNKNOWN, o), resumeConfirmed(qb, a!.infoHash, o)]);
      expect(gone.status).toBe('rejected');
      expect(((gone as PromiseRejectedResult).reason as ClientError).message).toContain('does not know torrent');
      expect(back.status).toBe('fulfilled');
      expect((await qb.getTorrent(b!.infoHash))?.running).toBe(false);
      // A torrent removed between the shared call and its read-back: only its own wait times out.
      await Promise.all([resumeConfirmed(qb, b!.infoHash, o)]);
      const removed = sb.api('POST', '/torrents/delete', { hashes: c!.infoHash, deleteFiles: 'false' });
      const [lost, kept] = await Promise.allSettled([
        qb.waitFor(c!.infoHash, () => false, { timeoutMs: 1_500, what: 'never' }),
        pauseConfirmed(qb, b!.infoHash, o),
        removed,
      ]);
      expect(lost.status).toBe('rejected');
      expect(kept.status).toBe('fulfilled');
    } finally {
      await sb.stop();
    }
  });
});

describe('qBittorrent: the tracker identity of a torrent', () => {
  test('a paused torrent and one whose first tier fails both report the host of their first tracker, with no request per torrent and no passkey', async () => {
    // A tracker that works, on loopback (libtorrent's SSRF mitigation lets a loopback tracker be announced to only at /announce).
    const tracker = createServer((_req, res) => res.end('d8:intervali1800e5:peers0:e'));
    const port = await new Promise<number>((resolve) => tracker.listen(0, '127.0.0.1', () => resolve((tracker.address() as AddressInfo).port)));
    const sb = await qbts.start();
    try {
      const requests: string[] = [];
      const counting: typeof fetch = async (input, init) => {
        requests.push(new URL(input instanceof Request ? input.url : String(input)).pathname.replace(/^\/api\/v2/, ''));
        return fetch(input, init);
      };
      const qb = createQbittorrentClient({ url: sb.url, timeoutMs: 10_000, fetch: counting });
      const dir = path.join(sb.dir, 'data', 'trackers');
      // Tier 0 refuses every announce and carries a passkey; tier 1 works.
      const trackers = ['http://127.0.0.1:1/0123456789abcdef0123456789abcdef/announce', `http://127.0.0.1:${port}/announce`];
      const paused = makeTorrent({ saveDir: dir, name: 'Paused.Tracker', files: [{ size: 30_000 }], trackers, private: true });
      const running = makeTorrent({ saveDir: dir, name: 'Running.Tracker', files: [{ size: 30_001 }], trackers });
      await addTorrent(sb, paused, { savepath: dir, skipChecking: true });
      await addTorrent(sb, running, { savepath: dir, skipChecking: true, paused: false });
      // What qBittorrent itself says in `tracker`: "" for the paused one (it never announced); the second tier's URL
      // for the running one once that tier answered — the tracker that works now, not the torrent's first.
      const deadline = Date.now() + 15_000;
      let raw: { hash: string; tracker: string }[] = [];
      while (Date.now() < deadline) {
        raw = JSON.parse((await sb.api('GET', '/torrents/info')).text) as typeof raw;
        if (raw.find((t) => t.hash === running.infoHash)?.tracker) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(raw.find((t) => t.hash === paused.infoHash)?.tracker).toBe('');
      expect(raw.find((t) => t.hash === running.infoHash)?.tracker).toBe(trackers[1]);

      requests.length = 0;
      const all = await qb.listTorrents();
      expect(all.map((t) => [t.name, t.phase, t.tracker]).sort()).toEqual([
        ['Paused.Tracker', 'paused-complete', '127.0.0.1'],
        ['Running.Tracker', expect.any(String), '127.0.0.1'],
      ]);
      expect((await qb.getTorrent(paused.infoHash))?.tracker).toBe('127.0.0.1');
      // magnet_uri of the same answer lists the trackers: a list of thousands costs no request per torrent.
      expect(requests.filter((p) => p !== '/torrents/info')).toEqual([]);
      expect(JSON.stringify(all)).not.toContain('0123456789abcdef');
    } finally {
      await sb.stop();
      await new Promise<void>((resolve) => tracker.close(() => resolve()));
    }
  });
});
