// Catalog migration 20: a partial index of the rows named like libtorrent's part files (`.<info-hash>.parts`), so every snapshot finds them without reading the whole catalog.
import type { Migration } from './index.js';

/**
 * files_part_files holds only the active rows whose name is `.<hex>.parts` (PART_FILES_SQL, src/catalog/files-table.ts,
 * must keep its WHERE on `files` word for word, or SQLite cannot use the index). Cost: two GLOBs per row written.
 */
export const m020PartFilesIndex: Migration = {
  version: 20,
  name: 'part-files-index',
  up: `
CREATE INDEX files_part_files ON files (fs_id, path)
  WHERE status = 'active' AND (path GLOB '.[0-9a-f]*.parts' OR path GLOB '*/.[0-9a-f]*.parts');
`,
};
