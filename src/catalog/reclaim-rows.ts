// Catalog reads for `hashall reclaim`: bytes per filesystem whose content (size + full SHA-256) also lies on another filesystem.
import type { CatalogDb } from './db.js';

/**
 * Per catalog filesystem id: the bytes of each distinct content (size, sha256) it holds that some other filesystem holds
 * too — what could be freed there if the other filesystem's copy is the one kept. Counted once per content per
 * filesystem (extra copies on the same filesystem are dedupe's); summed over filesystems it counts every such content
 * once per filesystem holding it.
 */
export function crossFilesystemBytes(catalog: CatalogDb): Map<number, { bytes: number; contents: number }> {
  const rows = catalog.db
    .prepare(
      `SELECT fs_id, sum(size), count(*) FROM (
         SELECT DISTINCT f.fs_id AS fs_id, f.size AS size, f.sha256 AS sha256
           FROM (SELECT sha256 FROM files INDEXED BY files_sha WHERE sha256 IS NOT NULL AND status = 'active' GROUP BY sha256 HAVING count(DISTINCT fs_id) > 1) d
           CROSS JOIN files f INDEXED BY files_sha ON f.sha256 = d.sha256
          WHERE f.status = 'active' AND f.size > 0)
       GROUP BY fs_id`,
    )
    .raw(true)
    .all() as [number, number, number][];
  return new Map(rows.map(([id, bytes, contents]) => [id, { bytes, contents }]));
}
