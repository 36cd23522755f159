// After a group's steps all succeeded: record the relocation / retirement and the new files in the catalog, bump the serial.
import type { CatalogDb } from '../catalog/db.js';
import type { PlanGroup } from '../plan/types.js';

/** Records the files now under `root` (scanner's subtree scan, wired by the CLI); optional so apply works before it exists. */
export type RecordTree = (root: string, fsName: string) => Promise<void>;

/** The synchronous, transactional part; `markDone` marks the group done in the same transaction. */
export async function recordGroupOutcome(
  catalog: CatalogDb,
  group: PlanGroup,
  info: { runId: string; now: number; recordTree?: RecordTree | undefined; markDone: () => void },
): Promise<void> {
  if (info.recordTree) {
    if ((group.action === 'move' || group.action === 'reuse') && group.to) await info.recordTree(group.to.path, group.to.fs);
    if (group.action === 'dedupe') {
      for (const s of group.steps) if (s.kind === 'dedupe-link') await info.recordTree(s.duplicate.path, s.fs);
    }
    if (group.action === 'retire') {
      for (const s of group.steps) if (s.kind === 'retire') await info.recordTree(s.root, s.fs);
    }
  }
  const txn = catalog.db.transaction(() => {
    if ((group.action === 'move' || group.action === 'reuse') && group.from && group.to && group.payloadHash) {
      catalog.db
        .prepare(
          `INSERT INTO relocations (payload_hash, source_fs, source_root, target_fs, target_root, torrent_hashes, run_id, repointed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(group.payloadHash, group.from.fs, group.from.path, group.to.fs, group.to.path, JSON.stringify(group.torrents.map((t) => t.hash)), info.runId, info.now);
    }
    if (group.action === 'retire') {
      for (const s of group.steps) if (s.kind === 'retire') catalog.db.prepare(`UPDATE relocations SET retired_at = ? WHERE id = ?`).run(info.now, s.relocationId);
    }
    catalog.bumpSerial();
    info.markDone();
  });
  txn();
}
