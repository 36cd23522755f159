// Catalog reads for `hashall reclaim`: bytes per filesystem whose content (size + full SHA-256) also lies on another filesystem, and the slice of a snapshot the dedupe planner reads.
import type { HashallConfig } from '../config/types.js';
import type { CatalogSnapshot } from '../domain/snapshot.js';
import type { CatalogDb } from './db.js';
import { readSnapshotFilesystems } from './filesystems.js';
import type { OrphanContext } from './orphan-rows.js';
import { computeDupes, dupesKey, storedDupes } from './payload-summary.js';
import { withLiveMeta } from './snapshot.js';

/**
 * Per catalog filesystem id: the bytes of each distinct content (size, sha256) it holds that some other filesystem holds
 * too — what could be freed there if the other filesystem's copy is the one kept. Counted once per content per
 * filesystem (extra copies on the same filesystem are dedupe's); summed over filesystems it counts every such content
 * once per filesystem holding it.
 *
 * Scale: contents stored more than once are nominated from the sha256 index alone (no table row read per file); only
 * their rows are read, and a row counts when an active row of the same content lies on another filesystem.
 */
export function crossFilesystemBytes(catalog: CatalogDb): Map<number, { bytes: number; contents: number }> {
  const rows = catalog.db
    .prepare(
      `SELECT fs_id, sum(size), count(*) FROM (
         SELECT DISTINCT f.fs_id AS fs_id, f.size AS size, f.sha256 AS sha256
           FROM (SELECT sha256 FROM files INDEXED BY files_sha WHERE sha256 IS NOT NULL GROUP BY sha256 HAVING count(*) > 1) d
           CROSS JOIN files f INDEXED BY files_sha ON f.sha256 = d.sha256
          WHERE f.status = 'active' AND f.size > 0
            AND EXISTS (SELECT 1 FROM files o INDEXED BY files_sha WHERE o.sha256 = f.sha256 AND o.status = 'active' AND o.fs_id <> f.fs_id))
       GROUP BY fs_id`,
    )
    .raw(true)
    .all() as [number, number, number][];
  return new Map(rows.map(([id, bytes, contents]) => [id, { bytes, contents }]));
}

/**
 * What the dedupe planner (src/plan/dedupe.ts, through indexSnapshot) reads of a snapshot, for `config`: the filesystems,
 * roots, torrents and sync state of an orphan context read in the same transaction, and the duplicate groups with their
 * owner and mode read from disk — the groups readSnapshot would hand it, without the payloads, copies and file lists
 * only moves and reuses need.
 */
export function dedupeSnapshot(catalog: CatalogDb, config: HashallConfig, context: OrphanContext): CatalogSnapshot {
  const { named, filesystems } = readSnapshotFilesystems(catalog.db, config);
  const dupes = storedDupes(catalog, dupesKey(config, named)) ?? computeDupes(catalog, config, named);
  withLiveMeta(dupes);
  return {
    lineage: catalog.lineage,
    serial: catalog.serial(),
    filesystems,
    roots: context.roots,
    torrents: context.torrents,
    payloads: {},
    copiesBySha256: new Map(),
    relocations: [],
    dupes,
    lastSyncAt: context.lastSyncAt,
    clients: context.clients,
  };
}
