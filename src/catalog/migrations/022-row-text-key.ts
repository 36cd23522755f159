// Catalog migration 22: files_fs_path_cover also keeps, per row, the text a no-change rescan compares (inode, size, mtime, links, flags, id), so the scan reads it instead of formatting it.
import type { Migration } from './index.js';

/**
 * The last key is the scanner's row text before the path (ROW_TEXT_KEY in src/catalog/scan/directory-rows.ts,
 * verbatim: any other spelling formats it again for every row). Formatting six integers per row was most of a
 * no-change rescan's SQLite time (20k rows: 22 ms of 25; read from the index: 11 ms). The index is rebuilt (about
 * 40 bytes more per row); the keys before it are those of migration 4, for its other readers.
 */
export const m022RowTextKey: Migration = {
  version: 22,
  name: 'row-text-key',
  up: `
DROP INDEX files_fs_path_cover;
CREATE INDEX files_fs_path_cover ON files (
  fs_id, path, ino, size, mtime_ns, nlink, status,
  (quick_hash IS NOT NULL) + 2 * (sha256 IS NOT NULL) + 4 * (status = 'deleted'),
  format('%d %d %s %d %d %d ', ino, size, mtime_ns, nlink, (quick_hash IS NOT NULL) + 2 * (sha256 IS NOT NULL) + 4 * (status = 'deleted'), id)
);
`,
};
