// Migration 013 on a catalog holding quick hashes of format v1 (as every earlier version recorded them): small files'
// values move to v2 (their full SHA-256) or are forgotten when no full hash is known, so later drift checks compare like
// with like — a v1 value compared with a v2 read would report every unchanged small file as corrupted.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { openCatalog, schemaVersion, type CatalogDb } from '../../../../src/catalog/db.js';
import { MIGRATIONS } from '../../../../src/catalog/migrations/index.js';
import { openIntegrityProblems } from '../../../../src/catalog/integrity.js';
import { scanRoots } from '../../../../src/catalog/scan/scan-roots.js';
import type { ScanOptions } from '../../../../src/catalog/scan/types.js';
import { QUICK_BLOCK } from '../../../../src/fs/hash.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../../support/mounts.js';

const sha = (...parts: (string | Buffer)[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
/** The v1 quick hash of a file of at most 3 × 64 KiB, as versions before migration 013 recorded it. */
const quickV1Small = (content: Buffer): string => sha(`hashall-quick-v1\n${content.length}\n`, content);

let tmp: TempDir;
let stash: string;
let file: string;
let clock: number;

function opts(extra: Partial<ScanOptions> = {}): ScanOptions {
  return { drift: 'metadata', filesystems: {}, now: () => ++clock, hashWorkers: 2, ...extra };
}
function quickHashes(catalog: CatalogDb): Record<string, [string | null, string | null]> {
  const r = catalog.db.prepare(`SELECT path, quick_hash, sha256 FROM files ORDER BY path`).all() as { path: string; quick_hash: string | null; sha256: string | null }[];
  return Object.fromEntries(r.map((x) => [x.path, [x.quick_hash, x.sha256]]));
}

beforeEach(() => {
  tmp = makeTempDir('hashall-quick-v2-');
  stash = path.join(tmp.path, 'stash');
  mountTmpfs(stash, 64 * 1024 * 1024, 'quick-v2-test');
  file = path.join(tmp.path, 'catalog.db');
  clock = 1_000;
});
afterEach(() => tmp.cleanup());

describe('quick hash v2 (migration 013)', () => {
  it('an existing catalog keeps every unchanged file unchanged under --drift quick; a small file never fully hashed is read again', async () => {
    const content = {
      small: Buffer.alloc(1000, 1),
      edge: Buffer.alloc(3 * QUICK_BLOCK, 2),
      large: Buffer.alloc(3 * QUICK_BLOCK + 1, 3),
      quickOnly: Buffer.alloc(5000, 4),
      empty: Buffer.alloc(0),
    };
    for (const [name, c] of Object.entries(content)) writeFileSync(path.join(stash, name), c);

    // The catalog as the previous version left it: schema 12, v1 quick hashes, one small file scanned --quick-only.
    const old = openCatalog(file, { migrations: MIGRATIONS.filter((m) => m.version <= 12) });
    // This version's scanner records symlinks (migration 016's table and column): lent for the scan, gone again as in schema 12.
    old.db.exec(MIGRATIONS.find((m) => m.version === 16)!.up);
    await scanRoots(old, [{ path: stash, kind: 'library' }], opts());
    old.db.exec(`DROP TABLE symlinks; ALTER TABLE scan_roots DROP COLUMN links_known`);
    old.db.prepare(`UPDATE files SET sha256 = NULL, hashed_at = NULL WHERE path = 'quickOnly'`).run();
    const setQuick = old.db.prepare(`UPDATE files SET quick_hash = ? WHERE path = ?`);
    for (const name of ['small', 'edge', 'quickOnly', 'empty'] as const) setQuick.run(quickV1Small(content[name]), name);
    const largeQuick = (old.db.prepare(`SELECT quick_hash FROM files WHERE path = 'large'`).get() as { quick_hash: string }).quick_hash;
    expect(schemaVersion(old.db)).toBe(12);
    old.close();

    const catalog = openCatalog(file);
    try {
      expect(schemaVersion(catalog.db)).toBeGreaterThanOrEqual(13);
      // Small files: quick = full hash; never fully hashed: forgotten (unknown); large files: v1 sampling, kept.
      expect(quickHashes(catalog)).toEqual({
        edge: [sha(content.edge), sha(content.edge)],
        empty: [sha(content.empty), sha(content.empty)],
        large: [largeQuick, sha(content.large)],
        quickOnly: [null, null],
        small: [sha(content.small), sha(content.small)],
      });

      const quick = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ drift: 'quick' }));
      expect(quick.problems).toEqual([]);
      expect(openIntegrityProblems(catalog)).toEqual([]);
      expect(quick).toMatchObject({ added: 0, changed: 0, deleted: 0, unchanged: 5 });
      // The file whose quick hash was forgotten was read again and now has both.
      expect(quickHashes(catalog).quickOnly).toEqual([sha(content.quickOnly), sha(content.quickOnly)]);
      // And what a fresh scan records is what the migration wrote.
      const fresh = openCatalog(path.join(tmp.path, 'fresh.db'));
      await scanRoots(fresh, [{ path: stash, kind: 'library' }], opts());
      expect(quickHashes(fresh)).toEqual(quickHashes(catalog));
      fresh.close();
    } finally {
      catalog.close();
    }
  });
});
