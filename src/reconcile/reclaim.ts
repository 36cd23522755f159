// Reclaim report orchestration: the dedupe planner's groups, the orphan classification and the cross-filesystem copies, per filesystem.
import type { CatalogDb } from '../catalog/db.js';
import { crossFilesystemBytes } from '../catalog/reclaim-rows.js';
import { readSnapshot } from '../catalog/snapshot.js';
import type { HashallConfig } from '../config/types.js';
import { NO_PLANNER } from '../domain/snapshot.js';
import { planDedupeGroups } from '../plan/dedupe.js';
import { reclaimReport, type ReclaimReport } from '../plan/reclaim.js';
import { indexSnapshot } from '../plan/snapshot-index.js';
import { classifyOrphans } from './orphans.js';

/** What could be reclaimed now, per filesystem; dedupe is planned as if switched on for every configured filesystem. */
export function reclaim(catalog: CatalogDb, config: HashallConfig, now: number, mountInfoFile?: string): ReclaimReport {
  const all = Object.keys(config.filesystems);
  const everywhere: HashallConfig = { ...config, dedupe: { ...config.dedupe, filesystems: all } };
  const read = catalog.db.transaction(() => {
    const snapshot = readSnapshot(catalog, everywhere, { planner: NO_PLANNER, ...(mountInfoFile ? { mountInfoFile } : {}) });
    const dedupeGroups = planDedupeGroups(indexSnapshot(everywhere, snapshot, now));
    const orphans = classifyOrphans(catalog, config, now, mountInfoFile);
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
