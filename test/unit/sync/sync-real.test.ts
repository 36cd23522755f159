// syncTorrents + readSnapshot against a real qbittorrent-nox, real .torrent files and data on two real tmpfs filesystems.
import { linkSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../../src/catalog/db.js';
import { readSnapshot } from '../../../src/catalog/snapshot.js';
import { snapshotPlanner } from '../../../src/plan/needs.js';
import { syncTorrents } from '../../../src/catalog/sync.js';
import { clientFromSettings } from '../../../src/clients/from-config.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import type { HashallConfig } from '../../../src/config/types.js';
import { buildPlan } from '../../../src/plan/build.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, waitSettled, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { expectedPayloadHash, makeSyncFixture, openFixtureCatalog, scan, writeConfig, type SyncFixture } from './sync-fixture.js';

const qbts = qbtSandboxes();
const TRACKER = 'http://127.0.0.1:1/announce';

interface Row {
  hash: string;
  status: string;
  data_status: string;
  data_detail: string | null;
  host_content_path: string | null;
  unmapped_reason: string | null;
  payload_kind: string | null;
  payload_hash: string | null;
  fs_id: number | null;
  category: string;
}

describe('sync against a real qBittorrent (host paths, identity path maps, alias library)', () => {
  let w: SyncFixture;
  let sb: QbtSandbox;
  let config: HashallConfig;
  let catalog: CatalogDb;
  let client: TorrentClient;
  const t = {} as Record<'film' | 'show' | 'album' | 'albumX' | 'doc' | 'old' | 'gone' | 'partial' | 'stray', MadeTorrent>;
  let elsewhere: string;

  const row = (hash: string): Row => catalog.db.prepare(`SELECT * FROM torrents WHERE hash = ?`).get(hash) as Row;

  beforeAll(async () => {
    w = makeSyncFixture('hashall-sync-');
    sb = await qbts.start({ dir: path.join(w.tmp.path, 'qbt') });
    elsewhere = path.join(w.tmp.path, 'elsewhere');
    // Identity maps: qBittorrent runs on the host; paths outside them must exist to be adopted.
    config = writeConfig(w, {
      url: sb.url,
      pathMaps: [
        { client: path.join(w.stash, 'media'), host: path.join(w.stash, 'media') },
        { client: path.join(w.pool, 'media'), host: path.join(w.pool, 'media') },
      ],
    });
    catalog = openFixtureCatalog(config);
    client = clientFromSettings(config.clients.default!, { now: Date.now });
    const S = w.seedS;
    t.film = makeTorrent({ saveDir: path.join(S, 'movies'), name: 'Film.2001.mkv', files: [{ size: 40_000 }], trackers: [TRACKER] });
    t.show = makeTorrent({ saveDir: path.join(S, 'tv'), name: 'Show.S01', files: [{ path: 'e01.mkv', size: 30_000 }, { path: 'e02.mkv', size: 20_000 }, { path: 'extras/x.nfo', content: 'nfo\n' }] });
    t.album = makeTorrent({ saveDir: path.join(S, 'music'), name: 'Album', files: [{ path: '01.flac', size: 25_000 }, { path: '02.flac', size: 15_000 }] });
    // The cross-seed twin: the same files hardlinked under another folder name (another info-hash).
    const xs = path.join(S, 'cross-seed/127.0.0.1/Album [FLAC]');
    mkdirSync(xs, { recursive: true });
    for (const f of ['01.flac', '02.flac']) linkSync(path.join(S, 'music/Album', f), path.join(xs, f));
    t.albumX = makeTorrent({ saveDir: path.dirname(xs), name: 'Album [FLAC]', files: [{ path: '01.flac' }, { path: '02.flac' }], write: false });
    t.doc = makeTorrent({ saveDir: path.join(S, 'movies'), name: 'Doc', files: [{ path: 'doc.mkv', size: 10_000 }, { path: 'doc.srt', content: 'subs\n' }] });
    t.old = makeTorrent({ saveDir: path.join(w.seedP, 'movies'), name: 'Old.mkv', files: [{ size: 12_000 }] });
    t.gone = makeTorrent({ saveDir: path.join(S, 'movies'), name: 'Gone.mkv', files: [{ size: 5_000 }] });
    t.partial = makeTorrent({ saveDir: path.join(S, 'tv'), name: 'Partial', files: [{ path: 'p1.bin', size: 20_000 }, { path: 'p2.bin', size: 20_000 }] });
    t.stray = makeTorrent({ saveDir: elsewhere, name: 'Stray.bin', files: [{ size: 3_000 }] });
    // Library hardlink of the film (links cannot cross bind mounts, so made through the stash spelling).
    mkdirSync(path.join(w.library, 'Film (2001)'), { recursive: true });
    linkSync(path.join(S, 'movies/Film.2001.mkv'), path.join(w.library, 'Film (2001)/Film.2001.mkv'));

    for (const [k, cat] of [['film', 'movies'], ['show', 'tv'], ['album', 'music'], ['albumX', 'cross-seed'], ['doc', 'movies'], ['old', 'movies'], ['gone', 'movies'], ['stray', '']] as const) {
      const m = t[k];
      await addTorrent(sb, m, { savepath: path.dirname(m.contentPath), skipChecking: true, category: cat });
    }
    // Incomplete: one file is absent when qBittorrent checks the data.
    unlinkSync(path.join(S, 'tv/Partial/p2.bin'));
    await addTorrent(sb, t.partial, { savepath: path.join(S, 'tv'), category: 'tv' });
    // Renamed top folder, through qBittorrent (it renames on disk).
    const ren = await sb.api('POST', '/torrents/renameFolder', { hash: t.doc.infoHash, oldPath: 'Doc', newPath: 'Doc (2019)' });
    expect(ren.status).toBe(200);
    await client.waitFor(t.doc.infoHash, (x) => x.contentPath.endsWith('Doc (2019)'), { timeoutMs: 15_000, intervalMs: 50, what: 'folder rename' });
    // Missing data and a torrent outside every path map whose data is gone.
    unlinkSync(path.join(S, 'movies/Gone.mkv'));
    rmSync(elsewhere, { recursive: true });
    await waitSettled(sb, t.partial.infoHash);
    await scan(w, catalog, config);
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    catalog?.close();
    await qbts.stopAll();
    w?.tmp.cleanup();
  });

  it('records every torrent and maps it onto its payload (single, multi, renamed root, cross-seed pair, missing, incomplete, unmapped)', async () => {
    const before = catalog.serial();
    const s = await syncTorrents({ catalog, config, instance: config.clients.default!, client, now: w.now, hashMissing: true });
    expect(s.torrents).toBe(9);
    expect(s.added).toBe(9);
    expect(s.byStatus).toEqual({ ok: 6, unmapped: 1, missing: 1, 'not-in-catalog': 0, incomplete: 1 });
    expect(catalog.serial()).toBeGreaterThan(before);

    const film = row(t.film.infoHash);
    expect(film).toMatchObject({ status: 'active', data_status: 'ok', host_content_path: t.film.contentPath, payload_kind: 'file', category: 'movies' });
    expect(film.payload_hash).toBe(expectedPayloadHash(t.film.contentPath, null));
    const show = row(t.show.infoHash);
    expect(show).toMatchObject({ data_status: 'ok', payload_kind: 'dir', data_detail: null });
    expect(show.payload_hash).toBe(expectedPayloadHash(t.show.contentPath, ['e01.mkv', 'e02.mkv', 'extras/x.nfo']));

    const doc = row(t.doc.infoHash);
    expect(doc.host_content_path).toBe(path.join(w.seedS, 'movies/Doc (2019)'));
    expect(doc.data_status).toBe('ok');
    expect(doc.payload_hash).toBe(expectedPayloadHash(path.join(w.seedS, 'movies/Doc (2019)'), ['doc.mkv', 'doc.srt']));

    const a = row(t.album.infoHash);
    const x = row(t.albumX.infoHash);
    expect(a.host_content_path).not.toBe(x.host_content_path);
    expect(a.payload_hash).not.toBeNull();
    expect(x.payload_hash).toBe(a.payload_hash);

    expect(row(t.old.infoHash)).toMatchObject({ data_status: 'ok', host_content_path: t.old.contentPath });
    expect(row(t.old.infoHash).fs_id).not.toBe(film.fs_id);

    const gone = row(t.gone.infoHash);
    expect(gone).toMatchObject({ data_status: 'missing', host_content_path: null });
    expect(gone.unmapped_reason).toContain('does not exist on the host');
    const stray = row(t.stray.infoHash);
    expect(stray).toMatchObject({ data_status: 'unmapped', host_content_path: null });
    expect(stray.unmapped_reason).toBe(`no path map in hashall.yaml translates ${t.stray.contentPath}, and it does not exist on the host`);
    const partial = row(t.partial.infoHash);
    expect(partial.data_status).toBe('incomplete');
    expect(partial.data_detail).toContain('p2.bin');

    // Nothing changed: a second sync records no change and leaves the serial alone.
    const serial = catalog.serial();
    const again = await syncTorrents({ catalog, config, instance: config.clients.default!, client, now: w.now });
    expect(again).toMatchObject({ added: 0, changed: 0, unchanged: 9, removed: 0 });
    expect(catalog.serial()).toBe(serial);
    // Free space is measured per configured filesystem on the recorded device.
    expect(again.filesystems.map((f) => [f.name, f.freeBytes !== null && f.freeBytes > 1_000_000])).toEqual([
      ['pool', true],
      ['stash', true],
    ]);
  });

  it('consumers: a library hardlink (via the alias-spelled library) is some; links inside seeding roots are none; an unscanned link is unknown', () => {
    const snap = readSnapshot(catalog, config, { planner: snapshotPlanner(config, w.clock.t), files: 'all' });
    const film = snap.payloads[t.film.contentPath];
    expect(film?.consumers).toEqual({ status: 'some', paths: [path.join(w.library, 'Film (2001)/Film.2001.mkv')], reasons: [] });
    const album = snap.payloads[t.album.contentPath];
    expect(album?.consumers).toEqual({ status: 'none', paths: [], reasons: [] });
    expect(snap.payloads[t.show.contentPath]?.consumers.status).toBe('none');

    // A hardlink in a directory no configured root covers: nlink on disk exceeds what the catalog knows.
    const backup = path.join(w.stash, 'media/backup');
    mkdirSync(backup);
    linkSync(path.join(t.show.contentPath, 'e01.mkv'), path.join(backup, 'e01.mkv'));
    try {
      const s2 = readSnapshot(catalog, config, { planner: snapshotPlanner(config, w.clock.t), files: 'all' });
      const c = s2.payloads[t.show.contentPath]?.consumers;
      expect(c?.status).toBe('unknown');
      expect(c?.reasons).toEqual([`${path.join(t.show.contentPath, 'e01.mkv')} has 2 links but the catalog knows 1: a link lives outside every scanned root`]);
    } finally {
      rmSync(backup, { recursive: true });
    }

    // A configured library root on the same filesystem that was never scanned makes stash payloads unknown, not pool ones.
    const shows = path.join(w.stash, 'media/shows');
    mkdirSync(shows);
    const cfg2 = writeConfig(w, { url: config.clients.default!.url, pathMaps: config.clients.default!.pathMaps, extraLibraries: [shows] });
    const s3 = readSnapshot(catalog, cfg2, { planner: snapshotPlanner(cfg2, w.clock.t), files: 'all' });
    expect(s3.payloads[t.album.contentPath]?.consumers).toEqual({ status: 'unknown', paths: [], reasons: [`library root ${shows} has never been scanned`] });
    expect(s3.payloads[t.old.contentPath]?.consumers.status).toBe('none');
    // "some" stays some: one library link is enough, whatever else is unknown.
    expect(s3.payloads[t.film.contentPath]?.consumers.status).toBe('some');
    writeConfig(w, { url: config.clients.default!.url, pathMaps: config.clients.default!.pathMaps });
  });

  it('readSnapshot gives the planner what it expects, field by field, and buildPlan demotes a movie to pool', () => {
    const snap = readSnapshot(catalog, config, { planner: snapshotPlanner(config, w.clock.t), files: 'all' });
    expect(snap.lineage).toBe(catalog.lineage);
    expect(snap.serial).toBe(catalog.serial());
    const stash = snap.filesystems.find((f) => f.name === 'stash')!;
    const pool = snap.filesystems.find((f) => f.name === 'pool')!;
    expect(stash).toMatchObject({ mountPoint: w.stash, fsType: 'tmpfs' });
    expect(pool).toMatchObject({ mountPoint: w.pool, fsType: 'tmpfs' });
    expect(pool.freeBytes).toBeGreaterThan(60 * 1024 * 1024);
    // Roots in canonical spelling: the alias-spelled library appears under the stash spelling, scanned.
    expect(snap.roots.map((r) => [r.path, r.kind, r.fsName, r.fsId, r.lastScanAt !== null])).toEqual([
      [w.seedS, 'seeding', 'stash', stash.id, true],
      [w.seedP, 'seeding', 'pool', pool.id, true],
      [w.library, 'library', null, stash.id, true],
    ]);
    expect(snap.torrents.map((x) => x.hash)).toEqual(Object.values(t).map((m) => m.infoHash).sort());
    const film = snap.torrents.find((x) => x.hash === t.film.infoHash)!;
    expect(film).toMatchObject({
      name: 'Film.2001.mkv',
      category: 'movies',
      tags: [],
      // Paused, it never announced (qBittorrent's `tracker` is ""): the identity is its first tracker's host all the same.
      tracker: '127.0.0.1',
      phase: 'paused-complete',
      running: false,
      progress: 1,
      amountLeft: 0,
      size: 40_000,
      autoTmm: false,
      clientSavePath: path.join(w.seedS, 'movies'),
      clientContentPath: t.film.contentPath,
      clientDownloadPath: '',
      hostContentPath: t.film.contentPath,
      unmappedReason: null,
      files: [{ name: 'Film.2001.mkv', size: 40_000 }],
    });
    expect(film.addedOn).toBeGreaterThan(1_600_000_000);
    expect(snap.torrents.find((x) => x.hash === t.stray.infoHash)?.hostContentPath).toBeNull();

    // Payloads: keyed by canonical root, kind, files with relpaths, seeding root, hash.
    const doc = snap.payloads[path.join(w.seedS, 'movies/Doc (2019)')]!;
    expect(doc).toMatchObject({ kind: 'dir', fsId: stash.id, seedingRoot: w.seedS });
    expect(doc.files!.map((f) => [f.relpath, f.size, f.path])).toEqual([
      ['doc.mkv', 10_000, path.join(w.seedS, 'movies/Doc (2019)/doc.mkv')],
      ['doc.srt', 5, path.join(w.seedS, 'movies/Doc (2019)/doc.srt')],
    ]);
    expect(doc.payloadHash).toBe(row(t.doc.infoHash).payload_hash);
    expect(snap.payloads[t.film.contentPath]).toMatchObject({ kind: 'file', files: [{ relpath: 'Film.2001.mkv', nlink: 2 }] });
    expect(Object.keys(snap.payloads).sort()).toEqual(
      [t.film, t.show, t.album, t.albumX, t.old, t.partial].map((m) => m.contentPath).concat(path.join(w.seedS, 'movies/Doc (2019)')).sort(),
    );
    // Copies by sha256: the album's files exist twice (hardlinks) on stash, nowhere else.
    const f01 = snap.payloads[t.album.contentPath]!.files!.find((f) => f.relpath === '01.flac')!;
    expect(snap.copiesBySha256.get(f01.sha256!)!.map((c) => c.path)).toEqual([path.join(w.seedS, 'cross-seed/127.0.0.1/Album [FLAC]/01.flac'), path.join(t.album.contentPath, '01.flac')]);
    // No duplicate inodes yet; no relocations; synced.
    expect(snap.dupes).toEqual([]);
    expect(snap.relocations).toEqual([]);
    expect(snap.lastSyncAt).toBeGreaterThan(1_700_000_000_000);
    // Occupancy: every target candidate is answered (the pool seeding root was scanned).
    expect(snap.occupiedPaths?.[path.join(w.seedP, 'movies/Doc (2019)')]).toEqual([]);

    const plan = buildPlan({ config, snapshot: snap, now: w.clock.t, createdAt: new Date(w.clock.t).toISOString() });
    const docGroup = plan.groups.find((g) => g.torrents.some((x) => x.hash === t.doc.infoHash))!;
    expect(docGroup).toMatchObject({ action: 'move', from: { fs: 'stash', path: doc.rootPath }, to: { fs: 'pool', path: path.join(w.seedP, 'movies/Doc (2019)') }, bytesToCopy: 10_005 });
    expect(docGroup.steps.map((s) => s.kind)).toEqual(['copy', 'repoint']);
    const filmGroup = plan.groups.find((g) => g.torrents.some((x) => x.hash === t.film.infoHash))!;
    expect(filmGroup.action).toBe('stay');
    expect(plan.groups.find((g) => g.torrents.some((x) => x.hash === t.old.infoHash))?.action).toBe('keep');
    const siblings = plan.groups.find((g) => g.torrents.some((x) => x.hash === t.album.infoHash))!;
    expect(siblings.torrents.map((x) => x.hash).sort()).toEqual([t.album.infoHash, t.albumX.infoHash].sort());
    expect(plan.groups.find((g) => g.torrents.some((x) => x.hash === t.gone.infoHash))?.action).toBe('blocked');
  });

  it('a torrent gone from the client is marked removed, never deleted, and leaves the snapshot', async () => {
    const del = await sb.api('POST', '/torrents/delete', { hashes: t.stray.infoHash, deleteFiles: 'false' });
    expect(del.status).toBe(200);
    await client.waitFor(t.film.infoHash, () => true, { timeoutMs: 5_000 });
    const serial = catalog.serial();
    const s = await syncTorrents({ catalog, config, instance: config.clients.default!, client, now: w.now });
    expect(s.removed).toBe(1);
    expect(catalog.serial()).toBe(serial + 1);
    expect(row(t.stray.infoHash).status).toBe('removed');
    expect(readSnapshot(catalog, config, { planner: snapshotPlanner(config, w.clock.t), files: 'all' }).torrents.some((x) => x.hash === t.stray.infoHash)).toBe(false);
  });

  it('payload hashes stay null until --hash-missing computes the payload files (and only those)', async () => {
    // A new file in the library and new data for the show, scanned quick-only: no full SHA-256 yet.
    writeFileSync(path.join(w.library, 'poster.jpg'), 'poster');
    writeFileSync(path.join(t.show.contentPath, 'e02.mkv'), Buffer.alloc(20_000, 7));
    await scan(w, catalog, config, undefined, true);
    const s1 = await syncTorrents({ catalog, config, instance: config.clients.default!, client, now: w.now });
    expect(s1.hashUnknown).toBe(1);
    expect(row(t.show.infoHash).payload_hash).toBeNull();
    const s2 = await syncTorrents({ catalog, config, instance: config.clients.default!, client, now: w.now, hashMissing: true });
    expect(s2.hashed?.files).toBeGreaterThanOrEqual(1);
    expect(s2.hashUnknown).toBe(0);
    expect(row(t.show.infoHash).payload_hash).toBe(expectedPayloadHash(t.show.contentPath, ['e01.mkv', 'e02.mkv', 'extras/x.nfo']));
    const poster = catalog.db.prepare(`SELECT sha256 FROM files WHERE path LIKE '%poster.jpg'`).get() as { sha256: string | null };
    expect(poster.sha256).toBeNull();
  });
});
