// readSnapshot: a move target on another filesystem mounted inside the target seeding root is unknown, never "empty" (real tmpfs).
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../../src/catalog/db.js';
import { readSnapshot } from '../../../src/catalog/snapshot.js';
import { snapshotPlanner } from '../../../src/plan/needs.js';
import type { HashallConfig } from '../../../src/config/types.js';
import { mountTmpfs } from '../../support/mounts.js';
import { insertTorrentRow, makeSyncFixture, openFixtureCatalog, scan, writeConfig, type SyncFixture } from './sync-fixture.js';

describe('occupancy behind a nested mount', () => {
  let w: SyncFixture;
  let config: HashallConfig;
  let catalog: CatalogDb;
  let target: string;

  beforeAll(async () => {
    w = makeSyncFixture('hashall-occ-nested-');
    config = writeConfig(w, { url: 'http://127.0.0.1:9' });
    catalog = openFixtureCatalog(config);
    const src = path.join(w.seedS, 'movies/Foo');
    const control = path.join(w.seedS, 'tv/Bar');
    for (const d of [src, control]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, 'x.mkv'), Buffer.alloc(20_000, 3));
    }
    // Another filesystem mounted at pool's movies folder, holding other content where Foo would go.
    const nested = path.join(w.seedP, 'movies');
    mountTmpfs(nested, 8 * 1024 * 1024, 'hashall-occ-nested');
    mkdirSync(path.join(nested, 'Foo'));
    writeFileSync(path.join(nested, 'Foo/other.mkv'), 'someone else\n');
    await scan(w, catalog, config);
    target = path.join(realpathSync(w.seedP), 'movies/Foo');
    // The torrent rows as a sync records them (no client needed to read the snapshot).
    const fsId = (catalog.db.prepare(`SELECT id FROM filesystems WHERE name = 'stash'`).get() as { id: number }).id;
    for (const [hash, dir] of [['a'.repeat(40), src], ['b'.repeat(40), control]] as const) {
      const host = realpathSync(dir);
      insertTorrentRow(catalog, { hash, name: 'T', category: 'movies', savePath: path.dirname(host), contentPath: host, hostPath: host, fsId, files: 1, bytes: 20_000, syncedAt: 1 });
    }
  }, 60_000);

  afterAll(() => {
    catalog?.close();
    w?.tmp.cleanup();
  });

  it('the target under the nested mount has no occupancy answer (unknown), not an empty one', () => {
    const snap = readSnapshot(catalog, config, { planner: snapshotPlanner(config, w.clock.t), files: 'all' });
    expect(Object.keys(snap.payloads).sort()).toEqual([realpathSync(path.join(w.seedS, 'movies/Foo')), realpathSync(path.join(w.seedS, 'tv/Bar'))].sort());
    expect(snap.occupiedPaths![target]).toBeUndefined();
    // Control: a target on pool itself is answered (empty: nothing lies there).
    expect(snap.occupiedPaths![path.join(realpathSync(w.seedP), 'tv/Bar')]).toEqual([]);
  });
});
