// The row type of the catalog's `torrents` table (migration 002), shared by the sync that writes it and the readers.
import type { DataStatus } from './torrent-resolve.js';

/** One `torrents` row as better-sqlite3 returns it (`SELECT *` adds first_seen/removed_at, unused here). */
export interface TorrentRow {
  hash: string;
  name: string;
  category: string;
  tags: string;
  tracker: string | null;
  raw_state: string;
  phase: string;
  running: number;
  progress: number;
  amount_left: number;
  size: number;
  auto_tmm: number;
  added_on: number | null;
  completion_on: number | null;
  seeding_time: number;
  client_save_path: string;
  client_content_path: string;
  client_download_path: string;
  host_content_path: string | null;
  fs_id: number | null;
  unmapped_reason: string | null;
  data_status: DataStatus;
  data_detail: string | null;
  payload_kind: string | null;
  payload_files: number | null;
  payload_bytes: number | null;
  payload_hash: string | null;
  /** clientListingDigest of the file list as synced (migration 5); NULL when it does not map or before migration 5. */
  listing_digest: string | null;
  status: 'active' | 'removed';
  synced_at: number;
}
