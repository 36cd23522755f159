// Catalog migration 19: a torrent file's `wanted` flag (0: the client is told not to download it), so plans treat an unwanted file absent on disk as not missing.
import type { Migration } from './index.js';

export const m019UnwantedFiles: Migration = {
  version: 19,
  name: 'unwanted-files',
  up: `
ALTER TABLE torrent_files ADD COLUMN wanted INTEGER NOT NULL DEFAULT 1 CHECK (wanted IN (0, 1));
`,
};
