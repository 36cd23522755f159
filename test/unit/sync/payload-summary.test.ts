// Stored payload summaries: written for one catalog serial, used only while it holds, equal to what the rows give (real tmpfs, real catalog).
import { linkSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../../src/catalog/db.js';
import { storeSummaries, storedSummaries, storedDupes, dupesKey, computeDupes } from '../../../src/catalog/payload-summary.js';
import type { FilesystemRow } from '../../../src/catalog/filesystems.js';
import { readSnapshot } from '../../../src/catalog/snapshot.js';
import { snapshotPlanner } from '../../../src/plan/needs.js';
import type { HashallConfig } from '../../../src/config/types.js';
import type { CatalogSnapshot } from '../../../src/domain/snapshot.js';
import { insertRelocationRow, makeSyncFixture, openFixtureCatalog, scan, writeConfig, type SyncFixture } from './sync-fixture.js';

describe('payload summaries', () => {
  let w: SyncFixture;
  let config: HashallConfig;
  let catalog: CatalogDb;
  let linked: string;
  let plain: string;
  let solo: string;

  /** Everything of a payload but its file list (which readSnapshot loads only where the planner needs it). */
  const summaryOf = (s: CatalogSnapshot) =>
    Object.fromEntries(Object.entries(s.payloads).map(([k, p]) => [k, { ...p, files: null }]));
  const store = () => storeSummaries(catalog, config);

  beforeAll(async () => {
    w = makeSyncFixture('hashall-summaries-');
    config = writeConfig(w, { url: 'http://127.0.0.1:9' });
    catalog = openFixtureCatalog(config);
    linked = path.join(w.seedS, 'movies/Linked');
    plain = path.join(w.seedS, 'movies/Plain');
    mkdirSync(linked, { recursive: true });
    mkdirSync(plain, { recursive: true });
    writeFileSync(path.join(linked, 'a.mkv'), Buffer.alloc(20_000, 1));
    writeFileSync(path.join(linked, 'a.nfo'), 'nfo\n');
    linkSync(path.join(linked, 'a.mkv'), path.join(w.library, 'a.mkv')); // an external consumer
    writeFileSync(path.join(plain, 'b.mkv'), Buffer.alloc(30_000, 2));
    writeFileSync(path.join(plain, 'b copy.mkv'), Buffer.alloc(30_000, 2)); // a same-filesystem duplicate
    solo = path.join(w.seedS, 'movies/Solo');
    mkdirSync(solo, { recursive: true });
    writeFileSync(path.join(solo, 'c.mkv'), Buffer.alloc(25_000, 5)); // content held nowhere else
    await scan(w, catalog, config);
    linked = realpathSync(linked);
    plain = realpathSync(plain);
    solo = realpathSync(solo);
    // Relocation rows put both payloads into the snapshot without a client (their sources are payloads).
    for (const src of [linked, plain, solo]) insertRelocationRow(catalog, src, path.join(realpathSync(w.seedP), 'movies', path.basename(src)), w.clock.t);
  }, 60_000);

  afterAll(() => {
    catalog?.close();
    w?.tmp.cleanup();
  });

  it('are stored for the current serial and equal what readSnapshot computes from the rows', () => {
    const rowStats = { payloads: 0, computed: 0, loaded: 0 };
    const fromRows = readSnapshot(catalog, config, { planner: snapshotPlanner(config, w.clock.t), liveCheck: false, stats: rowStats });
    expect(storedSummaries(catalog)).toBeNull(); // nothing stored yet: the reader computed them
    expect(rowStats).toEqual({ payloads: 3, computed: 3, loaded: 3 }); // relocation sources are always loaded
    expect(store()).toEqual({ payloads: 3, stored: true });
    const stored = storedSummaries(catalog);
    expect(stored).not.toBeNull();
    expect(stored!.get(linked)).toMatchObject({ fileCount: 2, missingHashes: 0, linked: [{ path: path.join(linked, 'a.mkv'), nlink: 2, links: [path.join(w.library, 'a.mkv')] }] });
    expect(stored!.get(plain)!.linked).toEqual([]);
    // Files whose content another row also holds: the library link, the duplicate pair, nothing for the solo.
    expect([linked, plain, solo].map((p) => stored!.get(p)!.copied)).toEqual([1, 2, 0]);
    const storeStats = { payloads: 0, computed: 0, loaded: 0 };
    const fromStore = readSnapshot(catalog, config, { planner: snapshotPlanner(config, w.clock.t), liveCheck: false, stats: storeStats });
    expect(storeStats).toEqual({ payloads: 3, computed: 0, loaded: 3 });
    expect(summaryOf(fromStore)).toEqual(summaryOf(fromRows));
    // Donor copies: the same whether looked up (linked, plain) or known to be none (solo, skipped by its summary).
    expect(fromStore.copiesBySha256).toEqual(fromRows.copiesBySha256);
    expect(fromStore.copiesBySha256.size).toBe(2);
    for (const p of [linked, plain, solo]) expect(fromStore.payloads[p]!.files).toEqual(fromRows.payloads[p]!.files);
    expect(fromStore.payloads[linked]!.consumers).toMatchObject({ status: 'some', paths: [path.join(w.library, 'a.mkv')] });
    expect(fromStore.dupes).toEqual(fromRows.dupes);
    expect(fromStore.dupes).toHaveLength(1);
  });

  it('are what the reader uses while the serial holds, and are ignored once anything changed', async () => {
    store();
    // Prove the stored row is the one read: mark it, and the snapshot shows the mark.
    catalog.db.prepare(`UPDATE payload_summaries SET payload_hash = ? WHERE root = ?`).run('f'.repeat(64), plain);
    expect(readSnapshot(catalog, config, { planner: snapshotPlanner(config, w.clock.t), liveCheck: false }).payloads[plain]!.payloadHash).toBe('f'.repeat(64));
    // A real change on disk, seen by a scan, bumps the serial: the mark (and every stored summary) is no longer used.
    const before = catalog.serial();
    writeFileSync(path.join(plain, 'b.mkv'), Buffer.alloc(30_001, 3));
    await scan(w, catalog, config);
    expect(catalog.serial()).toBeGreaterThan(before);
    expect(storedSummaries(catalog)).toBeNull();
    const snap = readSnapshot(catalog, config, { planner: snapshotPlanner(config, w.clock.t), liveCheck: false, files: 'all' });
    const p = snap.payloads[plain]!;
    expect(p.payloadHash).not.toBe('f'.repeat(64));
    expect(p.bytes).toBe(60_001);
    expect(p.files!.map((f) => f.size).sort()).toEqual([30_000, 30_001]);
    expect(snap.dupes).toEqual([]); // the duplicate is gone with the change, though the stored groups still list it
  });

  it('are not stored when the catalog changed between computing and storing them', () => {
    store();
    const before = catalog.db.prepare(`SELECT value FROM meta WHERE key = 'summaries_serial'`).pluck().get();
    catalog.db.prepare(`UPDATE payload_summaries SET payload_hash = ? WHERE root = ?`).run('e'.repeat(64), solo); // a mark to survive
    const real = catalog.serial;
    let calls = 0;
    // The first read of the serial (inside the computing read) sees the catalog as it is; every later one, a writer's bump.
    catalog.serial = () => real() + (calls++ === 0 ? 0 : 1);
    try {
      expect(storeSummaries(catalog, config)).toEqual({ payloads: 0, stored: false });
    } finally {
      catalog.serial = real;
    }
    expect(catalog.db.prepare(`SELECT value FROM meta WHERE key = 'summaries_serial'`).pluck().get()).toBe(before);
    expect(catalog.db.prepare(`SELECT payload_hash FROM payload_summaries WHERE root = ?`).pluck().get(solo)).toBe('e'.repeat(64));
  });

  it('stored duplicate groups are used only for the dedupe settings they were computed for', () => {
    store();
    const fsRows = catalog.db.prepare(`SELECT * FROM filesystems`).all() as FilesystemRow[];
    const named = fsRows.filter((r) => r.name !== null);
    expect(storedDupes(catalog, dupesKey(config, named))).toEqual(computeDupes(catalog, config, named));
    const other = { ...config, dedupe: { ...config.dedupe, minSize: 123 } };
    expect(storedDupes(catalog, dupesKey(other, named))).toBeNull();
  });
});
