// Orphan report orchestration: the catalog reads (src/catalog/orphan-rows.ts) fed to the pure classifier (src/plan/orphans.ts).
import type { CatalogDb } from '../catalog/db.js';
import { trashNameReader } from '../catalog/consumers.js';
import { forEachSeedingFile, orphanContent, readOrphanContext, type OrphanContext } from '../catalog/orphan-rows.js';
import type { HashallConfig } from '../config/types.js';
import { orphanClassifier, orphanReport, type OrphanReport } from '../plan/orphans.js';

/** Classify every catalogued file under the seeding roots for instant `now` and sum what reclaiming the orphan trees frees. */
export function classifyOrphans(catalog: CatalogDb, config: HashallConfig, now: number, mountInfoFile?: string): OrphanReport {
  // One read transaction: the torrents, the files and the copies are one state of the catalog.
  const read = catalog.db.transaction(() => classifyOrphansIn(catalog, config, now, readOrphanContext(catalog, config, mountInfoFile)));
  return read();
}

/** classifyOrphans on a context already read (call inside the caller's read transaction, which `context` was read in). */
export function classifyOrphansIn(catalog: CatalogDb, config: HashallConfig, now: number, context: OrphanContext): OrphanReport {
  const classifier = orphanClassifier({ config, now, ...context });
  forEachSeedingFile(catalog, context.roots, classifier.subtrees(), {
    file: (row, root, links) => classifier.file(row, root, links),
    subtree: (path, root, count, bytes) => classifier.subtree(path, root, count, bytes),
  }, context.dirTotals, trashNameReader(catalog, config));
  const classified = classifier.finish();
  const inodes = new Set<string>();
  for (const t of classified.trees) for (const f of t.files) inodes.add(`${f.fsId}:${f.ino}`);
  return orphanReport(classified, orphanContent(catalog, inodes));
}
