// Catalog migration 8: data-at-rest integrity — when each inode was last verified, and the problems verify and scans found (additive).
import type { Migration } from './index.js';

/**
 * files.verified_at — epoch ms of the last re-read whose SHA-256 matched the recorded one (all active rows of the
 *   inode carry it); NULL = never verified since it was hashed (hashed_at then counts as its last proof).
 * integrity_problems — one row per (filesystem, inode, kind) found by `hashall verify` or a scan, kept until resolved;
 *   owned by src/catalog/integrity.ts.
 *   kind      'corrupted' (same size and mtime, different bytes: bit rot, a bad disk) | 'unreadable' (EIO, EACCES …)
 *   path      canonical absolute path of the row it was found through (all links of the inode share the verdict)
 *   expected  the recorded SHA-256 (never overwritten while the problem is open); found: what was read (NULL if unreadable)
 *   size, mtime_ns  the metadata the file still had when the problem was found
 *   detail    errno and message for unreadable files
 *   resolved_at / resolution  when and how it ended ('verified-ok', 'changed', 'missing', 'repaired'); NULL = open
 */
export const m008Integrity: Migration = {
  version: 8,
  name: 'integrity',
  up: `
ALTER TABLE files ADD COLUMN verified_at INTEGER;
CREATE TABLE integrity_problems (
  id INTEGER PRIMARY KEY,
  fs_id INTEGER NOT NULL REFERENCES filesystems (id),
  ino INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('corrupted', 'unreadable')),
  path TEXT NOT NULL,
  expected TEXT,
  found TEXT,
  size INTEGER NOT NULL,
  mtime_ns TEXT NOT NULL,
  detail TEXT,
  source TEXT NOT NULL CHECK (source IN ('verify', 'scan')),
  detected_at INTEGER NOT NULL,
  resolved_at INTEGER,
  resolution TEXT
) STRICT;
CREATE INDEX integrity_open ON integrity_problems (fs_id, ino) WHERE resolved_at IS NULL;
CREATE INDEX files_verified ON files (verified_at);
`,
};
