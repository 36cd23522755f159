// Catalog migration 12: a torrent is identified by (client instance, info-hash); rows of older catalogs belong to `default`.
import type { Migration } from './index.js';

/**
 * torrents, torrent_files — rebuilt with the instance name `client` in their keys: PRIMARY KEY (client, hash) and
 *   (client, torrent_hash, idx). The same info-hash may be seeded by two instances (the same .torrent added to
 *   qBittorrent and Transmission): two rows. Every existing row is copied under `default`, the instance name of a
 *   single `client:` section (src/config/types.ts DEFAULT_INSTANCE). This is the one non-additive migration: SQLite
 *   cannot change a primary key in place; the rebuild copies every row and column in the same transaction.
 * sync_sessions.client — the instance a sync session read (older sessions: `default`).
 * client_status — per instance: when its last sync succeeded, and when and why its last attempt failed (a failure
 *   newer than the last success makes the instance unreachable: the planner blocks every group that touches it).
 * relocations.torrent_clients — JSON list of instance names, parallel to torrent_hashes (NULL: all `default`).
 */
export const m012ClientInstances: Migration = {
  version: 12,
  name: 'client-instances',
  up: `
CREATE TABLE torrents_v11 (
  client TEXT NOT NULL,
  hash TEXT NOT NULL,
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
  removed_at INTEGER,
  listing_digest TEXT,
  PRIMARY KEY (client, hash)
) STRICT;
INSERT INTO torrents_v11 (client, hash, name, category, tags, tracker, raw_state, phase, running, progress, amount_left, size, auto_tmm,
  added_on, completion_on, seeding_time, client_save_path, client_content_path, client_download_path, host_content_path, fs_id,
  unmapped_reason, data_status, data_detail, payload_kind, payload_files, payload_bytes, payload_hash, status, first_seen, synced_at,
  removed_at, listing_digest)
SELECT 'default', hash, name, category, tags, tracker, raw_state, phase, running, progress, amount_left, size, auto_tmm,
  added_on, completion_on, seeding_time, client_save_path, client_content_path, client_download_path, host_content_path, fs_id,
  unmapped_reason, data_status, data_detail, payload_kind, payload_files, payload_bytes, payload_hash, status, first_seen, synced_at,
  removed_at, listing_digest FROM torrents;
CREATE TABLE torrent_files_v11 (
  client TEXT NOT NULL,
  torrent_hash TEXT NOT NULL,
  idx INTEGER NOT NULL,
  name TEXT NOT NULL,
  size INTEGER NOT NULL,
  progress REAL NOT NULL,
  PRIMARY KEY (client, torrent_hash, idx),
  FOREIGN KEY (client, torrent_hash) REFERENCES torrents_v11 (client, hash)
) STRICT;
INSERT INTO torrent_files_v11 (client, torrent_hash, idx, name, size, progress)
SELECT 'default', torrent_hash, idx, name, size, progress FROM torrent_files;
DROP TABLE torrent_files;
DROP TABLE torrents;
ALTER TABLE torrents_v11 RENAME TO torrents;
ALTER TABLE torrent_files_v11 RENAME TO torrent_files;
CREATE INDEX torrents_payload_hash ON torrents (payload_hash);
CREATE INDEX torrents_host_content_path ON torrents (host_content_path);
CREATE INDEX torrents_status ON torrents (status);

ALTER TABLE sync_sessions ADD COLUMN client TEXT NOT NULL DEFAULT 'default';
CREATE TABLE client_status (
  client TEXT PRIMARY KEY,
  synced_at INTEGER,
  failed_at INTEGER,
  failure TEXT
) STRICT;
INSERT INTO client_status (client, synced_at) SELECT 'default', max(finished_at) FROM sync_sessions HAVING count(*) > 0;
ALTER TABLE relocations ADD COLUMN torrent_clients TEXT;
`,
};
