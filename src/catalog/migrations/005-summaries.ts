// Catalog migration 5: per-payload summaries and duplicate groups kept by the sync, and each torrent's listing digest (additive).
import type { Migration } from './index.js';

/**
 * What `plan` needs of every payload without reading its files, written by each sync for the catalog serial it
 * ends at (meta `summaries_serial`); the snapshot reader uses them only while the serial is unchanged, so a
 * scan, sync or apply since makes it recompute them from file rows (src/catalog/payload-summary.ts).
 * payload_summaries — one row per payload root (canonical host path) the sync saw: counts, bytes, files without a
 *   full hash, payload hash, listing digest (src/domain/listing.ts), and `linked`: JSON of the files whose inode
 *   has another active row or more than one link, with those other paths (all an external-consumer verdict needs), and
 *   `copied`: how many files hold content some other active row also holds (0 = no donor lookup needed).
 * dupe_summaries — same-filesystem duplicate groups of the dedupe filesystems (meta `dupes_serial`, `dupes_key`).
 * torrents.listing_digest — clientListingDigest of the torrent's file list as synced; NULL when it does not map.
 */
export const m005Summaries: Migration = {
  version: 5,
  name: 'summaries',
  up: `
ALTER TABLE torrents ADD COLUMN listing_digest TEXT;
CREATE TABLE payload_summaries (
  fs_id INTEGER NOT NULL,
  root TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('file', 'dir')),
  files INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  missing INTEGER NOT NULL,
  payload_hash TEXT,
  listing_digest TEXT NOT NULL,
  linked TEXT NOT NULL,
  copied INTEGER,
  PRIMARY KEY (fs_id, root)
) STRICT;
CREATE TABLE dupe_summaries (
  fs_id INTEGER NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  inodes TEXT NOT NULL,
  PRIMARY KEY (fs_id, size, sha256)
) STRICT;
INSERT OR IGNORE INTO meta (key, value) VALUES ('summaries_serial', '-1');
INSERT OR IGNORE INTO meta (key, value) VALUES ('dupes_serial', '-1');
INSERT OR IGNORE INTO meta (key, value) VALUES ('dupes_key', '');
`,
};
