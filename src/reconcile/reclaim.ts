// Reclaim report orchestration: the dedupe planner's groups, the orphan classification and the cross-filesystem copies, per filesystem.
import type { CatalogDb } from '../catalog/db.js';
import { readOrphanContext } from '../catalog/orphan-rows.js';
import { crossFilesystemBytes, dedupeSnapshot } from '../catalog/reclaim-rows.js';
import type { HashallConfig } from '../config/types.js';
import { planDedupeGroups } from '../plan/dedupe.js';
import { reclaimReport, type ReclaimReport } from '../plan/reclaim.js';
import { indexSnapshot } from '../plan/snapshot-index.js';
import { classifyOrphansIn } from './orphans.js';

/**
 * What could be reclaimed now, per filesystem; dedupe is planned as if switched on for every configured filesystem.
 * One read transaction; the roots and torrents are read once, for the orphans and the dedupe planner alike.
 */
export function reclaim(catalog: CatalogDb, config: HashallConfig, now: number, mountInfoFile?: string): ReclaimReport {
  const all = Object.keys(config.filesystems);
  const everywhere: HashallConfig = { ...config, dedupe: { ...config.dedupe, filesystems: all } };
  const read = catalog.db.transaction(() => {
    const context = readOrphanContext(catalog, config, mountInfoFile);
    const snapshot = dedupeSnapshot(catalog, everywhere, context);
    const dedupeGroups = planDedupeGroups(indexSnapshot(everywhere, snapshot, now));
    const orphans = classifyOrphansIn(catalog, config, now, context);
    const names = new Map(snapshot.filesystems.map((f) => [f.id, f.name]));
    const cross = new Map<string, number>();
    for (const [id, c] of crossFilesystemBytes(catalog)) {
      const name = names.get(id) ?? `fs#${id}`;
      cross.set(name, (cross.get(name) ?? 0) + c.bytes);
    }
    return reclaimReport({ filesystems: all, dedupeGroups, dedupeEnabled: new Set(config.dedupe.filesystems), orphans, crossFilesystem: cross });
  });
  return read();
}
