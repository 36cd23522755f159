// readSnapshot never offers a copy that changed on disk since the scan as a reuse donor (real tmpfs, real catalog).
import { mkdirSync, realpathSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../../src/catalog/db.js';
import { readSnapshot } from '../../../src/catalog/snapshot.js';
import { snapshotPlanner } from '../../../src/plan/needs.js';
import type { HashallConfig } from '../../../src/config/types.js';
import { insertRelocationRow, makeSyncFixture, openFixtureCatalog, scan, sha256, writeConfig, type SyncFixture } from './sync-fixture.js';

describe('copies changed since the scan are no donors', () => {
  let w: SyncFixture;
  let config: HashallConfig;
  let catalog: CatalogDb;
  let src: string;
  let copy: string;
  const video = Buffer.alloc(50_000, 7);

  beforeAll(async () => {
    w = makeSyncFixture('hashall-stale-donor-');
    config = writeConfig(w, { url: 'http://127.0.0.1:9' });
    catalog = openFixtureCatalog(config);
    src = path.join(w.seedS, 'movies/Foo');
    copy = path.join(w.seedP, 'old/Foo');
    for (const d of [src, copy]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, 'foo.mkv'), video);
      writeFileSync(path.join(d, 'foo.nfo'), 'nfo\n');
    }
    await scan(w, catalog, config);
    src = realpathSync(src);
    copy = realpathSync(copy);
    // A relocation source puts the stash payload (and so its copies) into the snapshot without a client.
    insertRelocationRow(catalog, src, path.join(realpathSync(w.seedP), 'movies/Foo'), w.clock.t);
  }, 60_000);

  afterAll(() => {
    catalog?.close();
    w?.tmp.cleanup();
  });

  const donors = () => (readSnapshot(catalog, config, { planner: snapshotPlanner(config, w.clock.t), files: 'all' }).copiesBySha256.get(sha256(video)) ?? []).map((c) => c.path).sort();

  it('an unchanged pool copy is a donor', () => {
    expect(donors()).toEqual([path.join(copy, 'foo.mkv'), path.join(src, 'foo.mkv')].sort());
  });

  it('a copy outside every configured root (an ad-hoc scan) is left out: the planner never takes a donor from there', async () => {
    const outside = path.join(w.pool, 'archive/Foo');
    mkdirSync(outside, { recursive: true });
    writeFileSync(path.join(outside, 'foo.mkv'), video);
    await scan(w, catalog, config, [{ path: outside, kind: 'adhoc' }]);
    expect(catalog.db.prepare(`SELECT count(*) FROM files WHERE path LIKE '%archive/Foo/foo.mkv' AND status = 'active'`).pluck().get()).toBe(1);
    expect(donors()).toEqual([path.join(copy, 'foo.mkv'), path.join(src, 'foo.mkv')].sort());
  });

  it('the same copy rewritten in place after the scan (same inode and size, new mtime) is not', () => {
    const f = path.join(copy, 'foo.mkv');
    writeFileSync(f, Buffer.alloc(50_000, 9));
    utimesSync(f, new Date(Date.UTC(2030, 0, 1)), new Date(Date.UTC(2030, 0, 1)));
    expect(donors()).toEqual([path.join(src, 'foo.mkv')]);
  });
});
