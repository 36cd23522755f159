// readSnapshot reads owner, group and mode (CatalogFile.meta) of loaded payload files whose content the catalog holds on another inode (another payload's file, a copy on the pool), and of those copies — of no other file, and never of one changed since the scan (real tmpfs, real catalog).
import { chmodSync, chownSync, mkdirSync, realpathSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../../src/catalog/db.js';
import { readSnapshot } from '../../../src/catalog/snapshot.js';
import { snapshotPlanner } from '../../../src/plan/needs.js';
import type { HashallConfig } from '../../../src/config/types.js';
import type { InodeMeta } from '../../../src/domain/snapshot.js';
import { insertRelocationRow, makeSyncFixture, openFixtureCatalog, scan, writeConfig, type SyncFixture } from './sync-fixture.js';

describe('owner, group and mode of payload files of equal content on other inodes', () => {
  let w: SyncFixture;
  let config: HashallConfig;
  let catalog: CatalogDb;
  let a: string;
  let b: string;
  const video = Buffer.alloc(50_000, 7);

  beforeAll(async () => {
    w = makeSyncFixture('hashall-payload-meta-');
    config = writeConfig(w, { url: 'http://127.0.0.1:9' });
    catalog = openFixtureCatalog(config);
    a = path.join(w.seedS, 'movies/Foo');
    b = path.join(w.seedS, 'cross-seed/Foo.REPACK');
    for (const [d, nfo] of [[a, 'nfo-a\n'], [b, 'nfo-b\n']] as const) {
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, 'foo.mkv'), video);
      writeFileSync(path.join(d, 'foo.nfo'), nfo);
      chmodSync(path.join(d, 'foo.mkv'), 0o644);
    }
    chownSync(path.join(b, 'foo.mkv'), 1001, 1002);
    chmodSync(path.join(b, 'foo.mkv'), 0o640);
    // A copy of the video on the pool no torrent uses (a reuse donor), of another owner.
    mkdirSync(path.join(w.seedP, 'left'), { recursive: true });
    writeFileSync(path.join(w.seedP, 'left/foo.mkv'), video);
    chownSync(path.join(w.seedP, 'left/foo.mkv'), 1003, 1003);
    chmodSync(path.join(w.seedP, 'left/foo.mkv'), 0o600);
    await scan(w, catalog, config);
    a = realpathSync(a);
    b = realpathSync(b);
    // Relocation sources put both payloads (and their file lists) into the snapshot without a client.
    for (const [src, name] of [[a, 'movies/Foo'], [b, 'cross-seed/Foo.REPACK']] as const) insertRelocationRow(catalog, src, path.join(realpathSync(w.seedP), name), w.clock.t);
  }, 60_000);

  afterAll(() => {
    catalog?.close();
    w?.tmp.cleanup();
  });

  /** Each loaded file of the two payloads with its metadata (null: none read). */
  const metas = (c: HashallConfig = config, liveCheck = true): Record<string, InodeMeta | null> => {
    const s = readSnapshot(catalog, c, { planner: snapshotPlanner(c, w.clock.t), liveCheck });
    const out: Record<string, InodeMeta | null> = {};
    for (const root of [a, b]) for (const f of s.payloads[root]!.files!) out[path.relative(w.seedS, f.path)] = f.meta ?? null;
    // The copies on the pool, as the planner's donors (copiesBySha256).
    for (const list of s.copiesBySha256.values()) for (const f of list) if (!f.path.startsWith(realpathSync(w.seedS))) out[`pool:${path.relative(realpathSync(w.seedP), f.path)}`] = f.meta ?? null;
    return out;
  };

  const everyMeta = {
    'movies/Foo/foo.mkv': { uid: 0, gid: 0, mode: 0o644 },
    'movies/Foo/foo.nfo': null,
    'cross-seed/Foo.REPACK/foo.mkv': { uid: 1001, gid: 1002, mode: 0o640 },
    'cross-seed/Foo.REPACK/foo.nfo': null,
    'pool:left/foo.mkv': { uid: 1003, gid: 1003, mode: 0o600 },
  };

  it('read for the equal-content file on every inode (the pool copy too), not for files whose content is their own', () => {
    expect(metas()).toEqual(everyMeta);
  });

  it('read where no filesystem dedupes too (siblings and reuse link across inodes all the same); never without the live check', () => {
    expect(metas({ ...config, dedupe: { ...config.dedupe, filesystems: [] } })).toEqual(everyMeta);
    expect(Object.values(metas(config, false)).every((m) => m === null)).toBe(true);
  });

  it('unknown for a file changed since the scan (another mtime); its equal copy, left without one, is not read either', () => {
    const f = path.join(a, 'foo.mkv');
    utimesSync(f, new Date(Date.UTC(2030, 0, 1)), new Date(Date.UTC(2030, 0, 1)));
    // Its equal copies on the other inodes are still read: the pool copy and b's may link to each other.
    expect(metas()).toEqual({ ...everyMeta, 'movies/Foo/foo.mkv': null });
  });
});
