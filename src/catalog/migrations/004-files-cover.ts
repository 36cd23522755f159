// Catalog migration 4: a covering index for the scanner's per-directory lookup and deletion pass (additive).
import type { Migration } from './index.js';

/**
 * files_fs_path_cover holds, in path order per filesystem, everything a no-change rescan reads of a row: its id (the
 * rowid every index carries), inode, size, mtime, link count, status and which hashes are known. The lookup in
 * src/catalog/scan/file-rows.ts (DIRECTORY_ROW_COLUMNS) and the deletion pass are then answered from the index alone, with no
 * table lookup per row. The last key is an expression and must stay textually identical to the flags column the
 * scanner selects, or SQLite falls back to reading the table (test/unit/catalog/files-cover.test.ts checks the plan).
 * files_fs_path stays: it is the UNIQUE (fs_id, path) constraint the scanner's upsert relies on.
 */
export const m004FilesCover: Migration = {
  version: 4,
  name: 'files-cover',
  up: `
CREATE INDEX files_fs_path_cover ON files (
  fs_id, path, ino, size, mtime_ns, nlink, status,
  (quick_hash IS NOT NULL) + 2 * (sha256 IS NOT NULL) + 4 * (status = 'deleted')
);
`,
};
