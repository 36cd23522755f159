// Catalog migration 18: a partial index of the rows named like hashall's own temp files, so apply's sweep of them reads a handful of rows, not the whole catalog.
import type { Migration } from './index.js';

/**
 * files_hashall_temp holds only the active rows whose name is `.hashall-*.part` (src/apply/temp-sweep.ts): at 1M rows the
 * sweep that every apply and `hashall recover` runs read the whole path index (0.4 s warm, seconds cold). The WHERE
 * clause must stay textually identical to the one in `TEMP_FILES_SQL` (src/catalog/files-table.ts), or SQLite cannot
 * use the index (test/unit/catalog/temp-files-index.test.ts checks the plan). Cost: two GLOBs per row written.
 */
export const m018TempFilesIndex: Migration = {
  version: 18,
  name: 'temp-files-index',
  up: `
CREATE INDEX files_hashall_temp ON files (fs_id, path, ino)
  WHERE status = 'active' AND (path GLOB '.hashall-*.part' OR path GLOB '*/.hashall-*.part');
`,
};
