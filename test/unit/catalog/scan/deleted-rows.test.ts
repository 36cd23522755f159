// Rows of files gone from disk are kept as 'deleted' for a while (a path that comes back reuses its row) and then removed:
// a catalog with churn (*arr upgrades, removed torrents) grew with them forever — at 20k live files and 160k deleted
// rows, plan and dupes took twice as long and the catalog was 98 MB.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openCatalog, type CatalogDb } from '../../../../src/catalog/db.js';
import { DELETED_ROWS_KEPT_MS } from '../../../../src/catalog/files-table.js';
import { scanRoots } from '../../../../src/catalog/scan/scan-roots.js';
import type { ScanOptions } from '../../../../src/catalog/scan/types.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../../support/mounts.js';

const DAY = 86_400_000;
let tmp: TempDir;
let stash: string;
let catalog: CatalogDb;
let clock: number;

const opts = (): ScanOptions => ({ drift: 'metadata', filesystems: {}, now: () => clock, hashWorkers: 2 });
const scan = () => scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
const rows = (status: string): string[] => (catalog.db.prepare(`SELECT path FROM files WHERE status = ? ORDER BY path`).pluck().all(status) as string[]).sort();

beforeEach(() => {
  tmp = makeTempDir('hashall-deleted-rows-');
  stash = path.join(tmp.path, 'stash');
  mountTmpfs(stash, 16 * 1024 * 1024, 'deleted-rows-test');
  catalog = openCatalog(path.join(tmp.path, 'catalog.db'));
  clock = Date.UTC(2026, 0, 1);
});
afterEach(() => {
  catalog.close();
  tmp.cleanup();
});

describe('deleted rows', () => {
  it('are removed once they have been deleted longer than the kept window, at most one pass a day; active rows and the serial untouched', async () => {
    expect(DELETED_ROWS_KEPT_MS).toBe(30 * DAY);
    for (const d of ['old', 'recent', 'live']) {
      mkdirSync(path.join(stash, d));
      for (let i = 0; i < 3; i++) writeFileSync(path.join(stash, d, `f${i}`), `${d} ${i}`);
    }
    await scan();
    // 'old' goes now; 'recent' goes 25 days later; a scan 35 days from now finds 'old' deleted 35 days ago.
    rmSync(path.join(stash, 'old'), { recursive: true });
    clock += DAY;
    await scan();
    expect(rows('deleted')).toEqual(['old/f0', 'old/f1', 'old/f2']);
    rmSync(path.join(stash, 'recent'), { recursive: true });
    clock += 25 * DAY;
    await scan();
    expect(rows('deleted')).toHaveLength(6);
    clock += 10 * DAY;
    const serial = catalog.serial();
    await scan();
    expect(rows('deleted')).toEqual(['recent/f0', 'recent/f1', 'recent/f2']);
    expect(rows('active')).toEqual(['live/f0', 'live/f1', 'live/f2']);
    expect(catalog.serial()).toBe(serial);
    // Another pass 20 days later: 'recent' (deleted 30 days minus a second ago) stays.
    clock += 20 * DAY - 1000;
    await scan();
    expect(rows('deleted')).toHaveLength(3);
    // Two seconds later they are past the window, but a rescan within a day of the last pass does not pay for one ...
    clock += 2000;
    await scan();
    expect(rows('deleted')).toHaveLength(3);
    // ... a day later, the next scan removes them.
    clock += DAY;
    await scan();
    expect(rows('deleted')).toEqual([]);
    expect(rows('active')).toEqual(['live/f0', 'live/f1', 'live/f2']);
  });

  it('a path that comes back within the window gets its row back (active again)', async () => {
    mkdirSync(path.join(stash, 'd'));
    writeFileSync(path.join(stash, 'd', 'f'), 'x');
    writeFileSync(path.join(stash, 'keep'), 'k');
    await scan();
    rmSync(path.join(stash, 'd', 'f'));
    clock += DAY;
    await scan();
    const id = catalog.db.prepare(`SELECT id FROM files WHERE path = 'd/f'`).pluck().get();
    writeFileSync(path.join(stash, 'd', 'f'), 'y');
    clock += DAY;
    await scan();
    expect(catalog.db.prepare(`SELECT id, status FROM files WHERE path = 'd/f'`).get()).toEqual({ id, status: 'active' });
  });
});
