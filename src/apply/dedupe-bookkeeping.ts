// Catalog rows of a dedupe group's linked duplicates, written from what each step saw after its swap (new inode, link count) instead of rescanning their folders.
// The duplicate's row takes its keeper's inode, metadata and hashes (the bytes were compared equal before the swap);
// every active row of the keeper's inode takes the link count read after the swap, and rows of the duplicate's former
// inode lose one link. A rescan of the same tree then finds exactly these rows.
import type { CatalogDb } from '../catalog/db.js';
import { activeFileAtReader, dedupeLinkWrites, type LinkedFileRow } from '../catalog/files-table.js';
import { filesystemMountsReader } from '../catalog/filesystems.js';
import { stepResults } from './run-store.js';
import type { DedupeLinkStep, PlanGroup } from '../plan/types.js';

/** What a dedupe-link step journals as its result: the duplicate's inode and link count after the swap, and before. */
export interface DedupeLinkResult {
  bytesFreed: number;
  ino?: number;
  nlink?: number;
  oldIno?: number;
}

type FileRow = LinkedFileRow;

export interface DedupeLinkRecord {
  dupId: number;
  keeper: FileRow;
  /** The duplicate's row as read with the keeper's (dropped when the catalog may have changed since: a rescan ran). */
  dup?: FileRow;
  oldIno: number;
  nlink: number;
}

/** The catalog row of a canonical host path on the filesystem named so, or null (statements compiled once, mounts read once per name). */
function rowReader(catalog: CatalogDb): (fsName: string, p: string) => FileRow | null {
  const readMounts = filesystemMountsReader(catalog.db);
  const mounts = new Map<string, { id: number; preferred_mount: string }[]>();
  const byPath = activeFileAtReader(catalog.db);
  return (fsName, p) => {
    let list = mounts.get(fsName);
    if (!list) mounts.set(fsName, (list = readMounts(fsName)));
    for (const m of list) {
      const prefix = m.preferred_mount === '/' ? '/' : `${m.preferred_mount}/`;
      if (!p.startsWith(prefix)) continue;
      const row = byPath(m.id, p.slice(prefix.length));
      if (row) return row;
    }
    return null;
  };
}

/** What a group's linked duplicates become in the catalog: the rows to write, and the steps to rescan instead. */
export interface DedupeLinkPlan {
  records: DedupeLinkRecord[];
  rescan: DedupeLinkStep[];
}

/**
 * The records of groups' linked duplicates from each step's result (`resultOf(i)`: the result of step i when it was
 * done, else null), the catalog's statements compiled once for every group it is called for. Steps without a usable
 * result — no-ops (found already linked), results without inode data (a journal of an older version), or paths the
 * catalog has no row for — are to be rescanned instead.
 */
export function dedupeLinkRecorder(catalog: CatalogDb): (group: PlanGroup, resultOf: (i: number) => DedupeLinkResult | null) => DedupeLinkPlan {
  const rowOf = rowReader(catalog);
  return (group, resultOf) => {
    const records: DedupeLinkRecord[] = [];
    const rescan: DedupeLinkStep[] = [];
    for (const [i, step] of group.steps.entries()) {
      if (step.kind !== 'dedupe-link') continue;
      const res = resultOf(i);
      const keeper = res ? rowOf(step.fs, step.keeper.path) : null;
      const dup = res ? rowOf(step.fs, step.duplicate.path) : null;
      if (!res || res.ino === undefined || res.nlink === undefined || !keeper || !dup || keeper.ino !== res.ino || keeper.fs_id !== dup.fs_id) {
        rescan.push(step);
        continue;
      }
      records.push({ dupId: dup.id, keeper, dup, oldIno: res.oldIno ?? dup.ino, nlink: res.nlink });
    }
    return { records, rescan };
  };
}

/** The records of one group from the results its steps journaled (`done` with their post-swap inode). */
export function dedupeLinkRecords(catalog: CatalogDb, group: PlanGroup, runId: string): DedupeLinkPlan {
  const results = new Map(stepResults(catalog.db, runId, group.id).map((r) => [r.step_index, r]));
  return dedupeLinkRecorder(catalog)(group, (i) => {
    const journaled = results.get(i);
    return journaled?.status === 'done' && journaled.result ? (JSON.parse(journaled.result) as DedupeLinkResult) : null;
  });
}

/** Write the records (call inside the group's bookkeeping transaction, in step order). */
export function recordDedupeLinks(catalog: CatalogDb, records: DedupeLinkRecord[], now: number): void {
  if (!records.length) return;
  const w = dedupeLinkWrites(catalog.db);
  for (const r of records) {
    const k = r.keeper;
    if (r.oldIno !== k.ino) w.dropLink(k.fs_id, r.oldIno, r.dupId);
    w.take(k, r.dupId, r.nlink, now, r.dup);
    w.setLinks(r.nlink, k.fs_id, k.ino);
  }
}
