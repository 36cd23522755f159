// Catalog migration 17: the folders each client instance writes its own files to, as its last sync read them, so their files are never taken for orphans.
import type { Migration } from './index.js';

/**
 * client_status.own_folders — JSON list of `{ role, path }` (src/domain/client-folder.ts): the folders the instance
 * reported at its last successful sync (its session or configuration folder, .torrent copies, watched and incomplete
 * folders), each as a canonical host path; a folder that does not map onto the host is left out. NULL: synced by an
 * older version, which never asked — until the next sync, no file is proven an orphan (owner: src/catalog/sync.ts).
 */
export const m017ClientFolders: Migration = {
  version: 17,
  name: 'client-folders',
  up: `
ALTER TABLE client_status ADD COLUMN own_folders TEXT;
`,
};
