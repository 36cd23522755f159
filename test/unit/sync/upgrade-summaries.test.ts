// A catalog written before migration 5 (no summaries, no listing digests) plans the same as after the next sync stores them (real tmpfs).
import { mkdirSync, realpathSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, type CatalogDb } from '../../../src/catalog/db.js';
import { MIGRATIONS } from '../../../src/catalog/migrations/index.js';
import { storeSummaries } from '../../../src/catalog/payload-summary.js';
import { readSnapshot, type SnapshotReadStats } from '../../../src/catalog/snapshot.js';
import { snapshotPlanner } from '../../../src/plan/needs.js';
import type { HashallConfig } from '../../../src/config/types.js';
import { clientListingDigest } from '../../../src/domain/listing.js';
import { buildPlan } from '../../../src/plan/build.js';
import { insertTorrentRow, makeSyncFixture, scan, writeConfig, type SyncFixture } from './sync-fixture.js';

describe('upgrading a catalog to payload summaries', () => {
  let w: SyncFixture;
  let config: HashallConfig;
  let catalog: CatalogDb;
  const files = [
    { name: 'Foo/x.mkv', size: 20_000 },
    { name: 'Foo/x.nfo', size: 4 },
  ];

  beforeAll(async () => {
    w = makeSyncFixture('hashall-upgrade-5-');
    config = writeConfig(w, { url: 'http://127.0.0.1:9' });
    // A catalog at migration 4, upgraded by the next open; its rows then are what the code before migration 5 wrote
    // (no listing digest, no summaries). The scan runs on the upgraded schema: today's scanner writes later columns.
    openCatalog(config.catalog, { migrations: MIGRATIONS.slice(0, 4) }).close();
    const old = openCatalog(config.catalog);
    const src = path.join(w.seedS, 'movies/Foo');
    mkdirSync(src, { recursive: true });
    writeFileSync(path.join(src, 'x.mkv'), Buffer.alloc(20_000, 3));
    writeFileSync(path.join(src, 'x.nfo'), 'nfo\n');
    await scan(w, old, config);
    const host = realpathSync(src);
    const fsId = (old.db.prepare(`SELECT id FROM filesystems WHERE name = 'stash'`).get() as { id: number }).id;
    // A torrent as a sync before migration 5 recorded it (no listing digest), its file list, the sync itself, free space.
    insertTorrentRow(old, {
      hash: 'f'.repeat(40),
      name: 'Foo',
      category: 'movies',
      savePath: '/data/movies',
      contentPath: '/data/movies/Foo',
      hostPath: host,
      fsId,
      files: 2,
      bytes: 20_004,
      syncedAt: w.clock.t,
    });
    const tf = old.db.prepare(`INSERT INTO torrent_files (client, torrent_hash, idx, name, size, progress) VALUES ('default', ?, ?, ?, ?, 1)`);
    files.forEach((f, i) => tf.run('f'.repeat(40), i, f.name, f.size));
    old.db
      .prepare(`INSERT INTO sync_sessions (started_at, finished_at, client_version, torrents, added, changed, removed, unmapped, hash_unknown, serial) VALUES (?, ?, 'v4.5.2', 1, 1, 0, 0, 0, 0, 0)`)
      .run(w.clock.t, w.clock.t);
    old.db.prepare(`UPDATE filesystems SET free_bytes = ?, free_at = ?`).run(1e12, w.clock.t);
    catalog = old;
  }, 60_000);

  afterAll(() => {
    catalog?.close();
    w?.tmp.cleanup();
  });

  const plan = (stats: SnapshotReadStats) => {
    const snap = readSnapshot(catalog, config, { planner: snapshotPlanner(config, w.clock.t), liveCheck: false, stats });
    return { snap, plan: buildPlan({ config, snapshot: snap, now: w.clock.t, createdAt: new Date(w.clock.t).toISOString() }) };
  };

  it('before the next sync: no digest, so both lists are read and compared; after it: the digests and summaries give the same plan', () => {
    expect((catalog.db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string }).value).toBe(String(MIGRATIONS.at(-1)!.version));
    expect(catalog.db.prepare(`SELECT count(*) FROM payload_summaries`).pluck().get()).toBe(0);
    expect(catalog.db.prepare(`SELECT listing_digest FROM torrents`).pluck().get()).toBeNull();
    const s1: SnapshotReadStats = { payloads: 0, computed: 0, loaded: 0 };
    const before = plan(s1);
    expect(s1).toEqual({ payloads: 1, computed: 1, loaded: 1 });
    expect(before.snap.torrents[0]!.files).toEqual(files);
    expect(before.plan.groups.map((g) => [g.action, g.reasons[0]])).toEqual([['move', expect.stringMatching(/movies-go-cold/)]]);

    // What the next sync records: the torrent's digest, then the summaries for the serial it ends at.
    catalog.db
      .prepare(`UPDATE torrents SET listing_digest = ?`)
      .run(clientListingDigest({ clientSavePath: '/data/movies', clientContentPath: '/data/movies/Foo', files }));
    catalog.bumpSerial();
    storeSummaries(catalog, config);
    const s2: SnapshotReadStats = { payloads: 0, computed: 0, loaded: 0 };
    const after = plan(s2);
    // Summary stored; the group moves, and its only payload holds content no other row holds: its files are left to the
    // catalog (the plan names them by reference), not read.
    expect(s2).toEqual({ payloads: 1, computed: 0, loaded: 0, inCatalog: 1 });
    expect(after.snap.payloads[Object.keys(after.snap.payloads)[0]!]).toMatchObject({ files: null, filesInCatalog: true });
    expect(after.snap.torrents[0]!.files).toBeNull(); // the digest matched: no client list needed
    expect({ ...after.plan, catalog: null }).toEqual({ ...before.plan, catalog: null });

    // With the live check: the rows are read and every file lstat'ed, then the list is dropped (same plan); a file
    // changed on disk since the scan keeps the list (a changed file is never a donor), and its group is blocked.
    const live = () => {
      const stats: SnapshotReadStats = { payloads: 0, computed: 0, loaded: 0 };
      const snap = readSnapshot(catalog, config, { planner: snapshotPlanner(config, w.clock.t), stats });
      return { stats, snap, plan: buildPlan({ config, snapshot: snap, now: w.clock.t, createdAt: new Date(w.clock.t).toISOString() }) };
    };
    const checked = live();
    expect(checked.stats).toEqual({ payloads: 1, computed: 0, loaded: 0, inCatalog: 1 });
    expect({ ...checked.plan, catalog: null }).toEqual({ ...before.plan, catalog: null });
    const nfo = path.join(realpathSync(path.join(w.seedS, 'movies/Foo')), 'x.nfo');
    utimesSync(nfo, new Date(Date.UTC(2031, 0, 1)), new Date(Date.UTC(2031, 0, 1)));
    const changed = live();
    expect(changed.stats).toEqual({ payloads: 1, computed: 0, loaded: 1 });
    const payload = Object.values(changed.snap.payloads)[0]!;
    expect(payload.files?.map((f) => f.relpath)).toEqual(['x.mkv', 'x.nfo']);
    expect(payload.filesInCatalog).toBeUndefined();
    expect(changed.plan.groups.map((g) => g.action)).toEqual(['blocked']);
    expect(changed.plan.groups[0]!.reasons.join('\n')).toMatch(/x\.nfo changed since the scan/);
  });
});
