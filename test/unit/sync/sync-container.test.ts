// syncTorrents with a container-style path map (qBittorrent in its own mount namespace) and the zero-torrent refusal.
import { existsSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../../src/catalog/db.js';
import { readSnapshot } from '../../../src/catalog/snapshot.js';
import { snapshotPlanner } from '../../../src/plan/needs.js';
import { syncTorrents } from '../../../src/catalog/sync.js';
import { clientFromSettings } from '../../../src/clients/from-config.js';
import type { HashallConfig } from '../../../src/config/types.js';
import { ClientError } from '../../../src/errors.js';
import { fakeTorrent, startFakeQbt } from '../../support/fake-qbt.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { expectedPayloadHash, makeSyncFixture, openFixtureCatalog, scan, writeConfig, type SyncFixture } from './sync-fixture.js';

const qbts = qbtSandboxes();

describe('container-style path map: qBittorrent sees the stash media under a path the host does not have', () => {
  let w: SyncFixture;
  let sb: QbtSandbox;
  let config: HashallConfig;
  let catalog: CatalogDb;
  let ctMedia: string;
  let film: MadeTorrent;
  let nowhere: MadeTorrent;

  beforeAll(async () => {
    w = makeSyncFixture('hashall-syncct-');
    const ct = path.join(w.tmp.path, 'ct');
    mkdirSync(ct);
    ctMedia = path.join(ct, 'data/media');
    // Inside qBittorrent's namespace only: a tmpfs over `ct`, the stash media bound at ct/data/media, and ct/other.
    sb = await qbts.start({
      dir: path.join(w.tmp.path, 'qbt'),
      prelude: [`mount -t tmpfs ct '${ct}'`, `mkdir -p '${ctMedia}' '${ct}/other'`, `mount --bind '${path.join(w.stash, 'media')}' '${ctMedia}'`],
    });
    config = writeConfig(w, { url: sb.url, pathMaps: [{ client: ctMedia, host: path.join(w.stash, 'media') }] });
    catalog = openFixtureCatalog(config);
    film = makeTorrent({ saveDir: path.join(w.seedS, 'movies'), name: 'Box', files: [{ path: 'box.mkv', size: 33_000 }, { path: 'box.nfo', content: 'n' }] });
    const ctSave = path.join(ctMedia, 'torrents/seeding/movies');
    // Checked by qBittorrent through the container path: progress 1 proves it reads the host bytes there.
    await addTorrent(sb, film, { savepath: ctSave, category: 'movies', paused: false });
    nowhere = makeTorrent({ saveDir: path.join(w.tmp.path, 'scratch'), name: 'Nowhere.bin', files: [{ size: 2_000 }] });
    await addTorrent(sb, nowhere, { savepath: path.join(ct, 'other'), skipChecking: true });
    await scan(w, catalog, config);
  }, 120_000);

  afterAll(async () => {
    catalog?.close();
    await qbts.stopAll();
    w?.tmp.cleanup();
  });

  it('maps client paths to canonical host paths; a client path no map covers and the host lacks is unmapped', async () => {
    expect(existsSync(path.join(ctMedia, 'torrents'))).toBe(false);
    const client = clientFromSettings(config.clients.default!, { now: Date.now });
    try {
      await client.waitFor(film.infoHash, (t) => t.progress === 1, { timeoutMs: 20_000, intervalMs: 50, what: 'initial check' });
      const s = await syncTorrents({ catalog, config, instance: config.clients.default!, client, now: w.now });
      expect(s.byStatus).toMatchObject({ ok: 1, unmapped: 1 });
    } finally {
      await client.close();
    }
    const snap = readSnapshot(catalog, config, { planner: snapshotPlanner(config, w.clock.t), files: 'all' });
    const t = snap.torrents.find((x) => x.hash === film.infoHash)!;
    expect(t.clientContentPath).toBe(path.join(ctMedia, 'torrents/seeding/movies/Box'));
    expect(t.hostContentPath).toBe(film.contentPath);
    expect(snap.payloads[film.contentPath]?.payloadHash).toBe(expectedPayloadHash(film.contentPath, ['box.mkv', 'box.nfo']));
    const n = snap.torrents.find((x) => x.hash === nowhere.infoHash)!;
    expect(n.hostContentPath).toBeNull();
    expect(n.unmappedReason).toBe(`no path map in hashall.yaml translates ${path.join(w.tmp.path, 'ct/other/Nowhere.bin')}, and it does not exist on the host`);
  });
});

describe('a client answering with zero torrents while the catalog knows some is refused', () => {
  let w: SyncFixture;
  beforeAll(() => {
    w = makeSyncFixture('hashall-syncz-');
  });
  afterAll(() => w.tmp.cleanup());

  it('records nothing: rows, statuses and serial stay as they were', async () => {
    const fake = await startFakeQbt({ preferences: { export_dir: '', export_dir_fin: '', scan_dirs: {}, temp_path_enabled: false } });
    const config = writeConfig(w, { url: fake.url });
    const catalog = openFixtureCatalog(config);
    try {
      fake.torrents.set('a'.repeat(40), fakeTorrent('a'.repeat(40), { content_path: '/data/seed/A', name: 'A' }));
      fake.torrents.set('b'.repeat(40), fakeTorrent('b'.repeat(40), { content_path: '/data/seed/B', name: 'B' }));
      const client = clientFromSettings(config.clients.default!, { now: Date.now });
      const first = await syncTorrents({ catalog, config, instance: config.clients.default!, client, now: w.now });
      expect(first.torrents).toBe(2);
      const serial = catalog.serial();
      const sessions = catalog.db.prepare(`SELECT count(*) AS n FROM sync_sessions`).get() as { n: number };
      fake.torrents.clear();
      const err = await syncTorrents({ catalog, config, instance: config.clients.default!, client, now: w.now }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ClientError);
      expect((err as Error).message).toBe('torrent client "default" reported no torrents, but the catalog knows 2 active torrent(s) of it from the last sync; refusing to record them as removed');
      expect(catalog.serial()).toBe(serial);
      expect(catalog.db.prepare(`SELECT hash, status FROM torrents ORDER BY hash`).all()).toEqual([
        { hash: 'a'.repeat(40), status: 'active' },
        { hash: 'b'.repeat(40), status: 'active' },
      ]);
      expect(catalog.db.prepare(`SELECT count(*) AS n FROM sync_sessions`).get()).toEqual(sessions);
      await client.close();
    } finally {
      catalog.close();
      await fake.close();
    }
  });
});

describe('a client listing one torrent twice with different details is refused', () => {
  let w: SyncFixture;
  beforeAll(() => {
    w = makeSyncFixture('hashall-syncdup-');
  });
  afterAll(() => w.tmp.cleanup());

  it('sync records nothing (the last entry does not win); a read of that torrent fails alone; twice alike is once', async () => {
    const fake = await startFakeQbt({ preferences: { export_dir: '', export_dir_fin: '', scan_dirs: {}, temp_path_enabled: false } });
    const config = writeConfig(w, { url: fake.url });
    const catalog = openFixtureCatalog(config);
    const A = 'a'.repeat(40);
    const B = 'b'.repeat(40);
    try {
      const a = fakeTorrent(A, { content_path: '/data/seed/A', name: 'A', state: 'uploading' });
      const b = fakeTorrent(B, { content_path: '/data/seed/B', name: 'B', state: 'uploading' });
      fake.torrents.set(A, a);
      fake.torrents.set(B, b);
      const client = clientFromSettings(config.clients.default!, { now: Date.now });
      const downloading = { ...a, state: 'downloading', progress: 0.5, amount_left: 500 };
      // Downloading first, seeding last: the old sync kept the last one and recorded a seeding torrent.
      fake.script('/torrents/info', { json: [downloading, b, a] });
      const err = await syncTorrents({ catalog, config, instance: config.clients.default!, client, now: w.now }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ClientError);
      expect((err as Error).message).toMatch(new RegExp(`listed torrent ${A} twice, with different details`));
      expect(catalog.db.prepare(`SELECT count(*) AS n FROM torrents`).get()).toEqual({ n: 0 });
      // A read of several torrents (the confirmations of apply): only the contradicted one fails.
      fake.script('/torrents/info', { json: [downloading, b, a] });
      const [ra, rb] = await Promise.allSettled([client.getTorrent(A), client.getTorrent(B)]);
      expect(ra.status).toBe('rejected');
      expect(String((ra as PromiseRejectedResult).reason)).toMatch(/twice, with different details/);
      expect(rb).toMatchObject({ status: 'fulfilled', value: { hash: B, phase: 'seeding' } });
      // Listed twice alike: one torrent.
      fake.script('/torrents/info', { json: [a, b, a] });
      expect((await syncTorrents({ catalog, config, instance: config.clients.default!, client, now: w.now })).torrents).toBe(2);
      await client.close();
    } finally {
      catalog.close();
      await fake.close();
    }
  });
});

describe('a client path with a ".." segment', () => {
  let w: SyncFixture;
  beforeAll(() => {
    w = makeSyncFixture('hashall-syncdots-');
  });
  afterAll(() => w.tmp.cleanup());

  it('is unmapped, never read lexically: through a symlink the client reaches another folder than the lexical one', async () => {
    const movies = path.join(w.seedS, 'movies');
    mkdirSync(path.join(movies, 'Box'), { recursive: true });
    writeFileSync(path.join(movies, 'Box/box.mkv'), 'lexical payload');
    // `evil` is a link a local user made to a folder elsewhere: the kernel takes `evil/..` to that folder's parent.
    const elsewhere = path.join(w.tmp.path, 'elsewhere');
    mkdirSync(path.join(elsewhere, 'deep'), { recursive: true });
    mkdirSync(path.join(elsewhere, 'Box'));
    writeFileSync(path.join(elsewhere, 'Box/box.mkv'), 'what the client seeds');
    symlinkSync(path.join(elsewhere, 'deep'), path.join(movies, 'evil'));
    expect(realpathSync.native(`${movies}/evil/../Box`)).toBe(realpathSync.native(path.join(elsewhere, 'Box')));
    const fake = await startFakeQbt({ preferences: { export_dir: '', export_dir_fin: '', scan_dirs: {}, temp_path_enabled: false } });
    const config = writeConfig(w, { url: fake.url });
    const catalog = openFixtureCatalog(config);
    const H = 'c'.repeat(40);
    try {
      await scan(w, catalog, config);
      const save = `${movies}/evil/..`;
      fake.torrents.set(H, fakeTorrent(H, { name: 'Box', save_path: save, content_path: `${save}/Box`, state: 'uploading', fileList: [{ name: 'Box/box.mkv', size: 15 }] }));
      const client = clientFromSettings(config.clients.default!, { now: Date.now });
      await syncTorrents({ catalog, config, instance: config.clients.default!, client, now: w.now });
      const row = catalog.db.prepare(`SELECT data_status, host_content_path, unmapped_reason FROM torrents WHERE hash = ?`).get(H) as Record<string, unknown>;
      expect(row.host_content_path).toBeNull();
      expect(row.data_status).toBe('unmapped');
      expect(String(row.unmapped_reason)).toMatch(/"\.\." segment/);
      await client.close();
    } finally {
      catalog.close();
      await fake.close();
    }
  });
});
