// Catalog migration 2: torrents as last synced from the client, their file lists, sync sessions, free-space time.
import type { Migration } from './index.js';

/**
 * Schema (times are epoch milliseconds unless named *_on, which are the client's epoch seconds):
 *
 * torrents — one row per info-hash ever seen. Rows are never deleted: a torrent gone from the client
 *   becomes status 'removed' (removed_at set) and comes back to 'active' if it reappears.
 *   client_*_path     exactly as the client reports them (container spelling)
 *   host_content_path canonical host path of content_path (src/catalog/sync.ts); NULL = unknown, see unmapped_reason
 *   fs_id             catalog filesystem holding host_content_path (NULL when unknown / never scanned)
 *   data_status       'ok' | 'unmapped' | 'missing' (host path absent) | 'not-in-catalog' (exists, not scanned) |
 *                     'incomplete' (client files absent from the payload, or progress < 1)
 *   payload_kind, payload_files, payload_bytes, payload_hash  the payload as resolved from catalog rows at sync time
 *                     (payload_hash NULL while any payload file lacks a full SHA-256). The snapshot reader
 *                     recomputes payloads from current rows; these columns serve reports and sibling lookups.
 * torrent_files — the client's file list per torrent (name relative to save path, size, progress, index).
 * sync_sessions — one row per successful `hashall sync` (refused or failed syncs record nothing).
 * filesystems.free_at — when free_bytes was last measured (statfs), set by the sync.
 */
export const m002Torrents: Migration = {
  version: 2,
  name: 'torrents',
  up: `
CREATE TABLE torrents (
  hash TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  category TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]',
  tracker TEXT,
  raw_state TEXT NOT NULL,
  phase TEXT NOT NULL,
  running INTEGER NOT NULL,
  progress REAL NOT NULL,
  amount_left INTEGER NOT NULL,
  size INTEGER NOT NULL,
  auto_tmm INTEGER NOT NULL,
  added_on INTEGER,
  completion_on INTEGER,
  seeding_time INTEGER NOT NULL,
  client_save_path TEXT NOT NULL,
  client_content_path TEXT NOT NULL,
  client_download_path TEXT NOT NULL,
  host_content_path TEXT,
  fs_id INTEGER REFERENCES filesystems (id),
  unmapped_reason TEXT,
  data_status TEXT NOT NULL CHECK (data_status IN ('ok', 'unmapped', 'missing', 'not-in-catalog', 'incomplete')),
  data_detail TEXT,
  payload_kind TEXT CHECK (payload_kind IN ('file', 'dir')),
  payload_files INTEGER,
  payload_bytes INTEGER,
  payload_hash TEXT,
  status TEXT NOT NULL CHECK (status IN ('active', 'removed')),
  first_seen INTEGER NOT NULL,
  synced_at INTEGER NOT NULL,
  removed_at INTEGER
) STRICT;
CREATE INDEX torrents_payload_hash ON torrents (payload_hash);
CREATE INDEX torrents_host_content_path ON torrents (host_content_path);
CREATE INDEX torrents_status ON torrents (status);

CREATE TABLE torrent_files (
  torrent_hash TEXT NOT NULL REFERENCES torrents (hash),
  idx INTEGER NOT NULL,
  name TEXT NOT NULL,
  size INTEGER NOT NULL,
  progress REAL NOT NULL,
  PRIMARY KEY (torrent_hash, idx)
) STRICT;

CREATE TABLE sync_sessions (
  id INTEGER PRIMARY KEY,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  client_version TEXT,
  torrents INTEGER NOT NULL,
  added INTEGER NOT NULL,
  changed INTEGER NOT NULL,
  removed INTEGER NOT NULL,
  unmapped INTEGER NOT NULL,
  hash_unknown INTEGER NOT NULL,
  serial INTEGER NOT NULL
) STRICT;

ALTER TABLE filesystems ADD COLUMN free_at INTEGER;
`,
};
