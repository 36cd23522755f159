// Catalog rows of a dedupe group's linked duplicates, written from what each step saw after its swap (new inode, link count) instead of rescanning their folders.
// The duplicate's row takes its keeper's inode, metadata and hashes (the bytes were compared equal before the swap);
// every active row of the keeper's inode takes the link count read after the swap, and rows of the duplicate's former
// inode lose one link. A rescan of the same tree then finds exactly these rows.
import type { CatalogDb } from '../catalog/db.js';
import { stepResults } from './run-store.js';
import type { DedupeLinkStep, PlanGroup } from '../plan/types.js';

/** What a dedupe-link step journals as its result: the duplicate's inode and link count after the swap, and before. */
export interface DedupeLinkResult {
  bytesFreed: number;
  ino?: number;
  nlink?: number;
  oldIno?: number;
}

interface FileRow {
  id: number;
  fs_id: number;
  ino: number;
  size: number;
  mtime_ns: string;
  quick_hash: string | null;
  sha256: string | null;
  hashed_at: number | null;
  verified_at: number | null;
}

export interface DedupeLinkRecord {
  dupId: number;
  keeper: FileRow;
  oldIno: number;
  nlink: number;
}

/** The catalog row of a canonical host path on the filesystem named so, or null (statements compiled once per call site). */
function rowReader(catalog: CatalogDb): (fsName: string, p: string) => FileRow | null {
  const mountsOf = catalog.db.prepare(`SELECT id, preferred_mount FROM filesystems WHERE name = ?`);
  const byPath = catalog.db.prepare(
    `SELECT id, fs_id, ino, size, mtime_ns, quick_hash, sha256, hashed_at, verified_at FROM files WHERE fs_id = ? AND path = ? AND status = 'active'`,
  );
  return (fsName, p) => {
    for (const m of mountsOf.all(fsName) as { id: number; preferred_mount: string }[]) {
      const prefix = m.preferred_mount === '/' ? '/' : `${m.preferred_mount}/`;
      if (!p.startsWith(prefix)) continue;
      const row = byPath.get(m.id, p.slice(prefix.length)) as FileRow | undefined;
      if (row) return row;
    }
    return null;
  };
}

/**
 * The rows to write for the group's linked duplicates (steps journaled `done` with their post-swap inode), and the
 * steps that must be rescanned instead: no-ops (found already linked), results without inode data (a journal of an
 * older version), or paths the catalog has no row for.
 */
export function dedupeLinkRecords(catalog: CatalogDb, group: PlanGroup, runId: string): { records: DedupeLinkRecord[]; rescan: DedupeLinkStep[] } {
  const results = new Map(
    stepResults(catalog.db, runId, group.id).map(
      (r) => [r.step_index, r],
    ),
  );
  const records: DedupeLinkRecord[] = [];
  const rescan: DedupeLinkStep[] = [];
  const rowOf = rowReader(catalog);
  for (const [i, step] of group.steps.entries()) {
    if (step.kind !== 'dedupe-link') continue;
    const journaled = results.get(i);
    const res = journaled?.status === 'done' && journaled.result ? (JSON.parse(journaled.result) as DedupeLinkResult) : null;
    const keeper = res ? rowOf(step.fs, step.keeper.path) : null;
    const dup = res ? rowOf(step.fs, step.duplicate.path) : null;
    if (!res || res.ino === undefined || res.nlink === undefined || !keeper || !dup || keeper.ino !== res.ino || keeper.fs_id !== dup.fs_id) {
      rescan.push(step);
      continue;
    }
    records.push({ dupId: dup.id, keeper, oldIno: res.oldIno ?? dup.ino, nlink: res.nlink });
  }
  return { records, rescan };
}

/** Write the records (call inside the group's bookkeeping transaction, in step order). */
export function recordDedupeLinks(catalog: CatalogDb, records: DedupeLinkRecord[], now: number): void {
  if (!records.length) return;
  // By (fs_id, ino): without the hint SQLite scans every row of the filesystem through the covering path index.
  const dropLink = catalog.db.prepare(`UPDATE files INDEXED BY files_fs_ino SET nlink = nlink - 1 WHERE fs_id = ? AND ino = ? AND status = 'active' AND nlink > 1`);
  const take = catalog.db.prepare(
    `UPDATE files SET ino = ?, size = ?, mtime_ns = ?, quick_hash = ?, sha256 = ?, hashed_at = ?, verified_at = ?, last_seen = ? WHERE id = ?`,
  );
  const links = catalog.db.prepare(`UPDATE files INDEXED BY files_fs_ino SET nlink = ? WHERE fs_id = ? AND ino = ? AND status = 'active'`);
  for (const r of records) {
    const k = r.keeper;
    if (r.oldIno !== k.ino) dropLink.run(k.fs_id, r.oldIno);
    take.run(k.ino, k.size, k.mtime_ns, k.quick_hash, k.sha256, k.hashed_at, k.verified_at, now, r.dupId);
    links.run(r.nlink, k.fs_id, k.ino);
  }
}
