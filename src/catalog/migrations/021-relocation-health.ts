// Catalog migration 21: when a sync last saw a torrent of an open move unhealthy on the target (and what it saw), so its observation window counts from then.
import type { Migration } from './index.js';

/**
 * unhealthy_at: the last sync (epoch ms) that saw a torrent of the move at its target root and not settled (checking,
 * downloading, missing files, errored); NULL: never seen so. unhealthy_what: what it saw, for the plan's reason.
 */
export const m021RelocationHealth: Migration = {
  version: 21,
  name: 'relocation-health',
  up: `
ALTER TABLE relocations ADD COLUMN unhealthy_at INTEGER;
ALTER TABLE relocations ADD COLUMN unhealthy_what TEXT;
`,
};
