// The catalog's `torrents` rows (migrations 2 and 5): the row type the sync writes, the snapshot's read of them, and the named reads of repair (torrents holding a path) and donors (torrents by payload hash).
import type { TorrentPhase } from '../clients/types.js';
import type { SnapshotTorrent } from '../domain/snapshot.js';
import type { CatalogDb, Db } from './db.js';
import type { DataStatus } from './torrent-resolve.js';
import { compareBytes } from '../domain/payload-hash.js';

/** One `torrents` row as better-sqlite3 returns it (`SELECT *` adds first_seen/removed_at, unused here). */
export interface TorrentRow {
  /** Client instance name (migration 12); (client, hash) identifies the torrent. */
  client: string;
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

const SNAPSHOT_COLUMNS = [
  'client', 'hash', 'name', 'category', 'tags', 'tracker', 'phase', 'raw_state', 'running', 'progress', 'amount_left', 'size', 'auto_tmm', 'added_on', 'completion_on',
  'seeding_time', 'client_save_path', 'client_content_path', 'client_download_path', 'host_content_path', 'unmapped_reason', 'listing_digest', 'synced_at', 'fs_id',
] as const;

/**
 * Every active torrent as the snapshot carries it (client file lists not loaded), by hash, with the row fields the
 * reader needs besides. Raw rows with named columns: row objects of ~30 keys cost more than planning a group.
 * Only torrents of the configured `instances`: rows of an instance no longer configured (renamed, removed) are history.
 */
export function readActiveTorrents(catalog: CatalogDb, instances: readonly string[]): { torrents: SnapshotTorrent[]; rows: Pick<TorrentRow, 'host_content_path' | 'fs_id'>[] } {
  const at = Object.fromEntries(SNAPSHOT_COLUMNS.map((c, i) => [c, i])) as Record<(typeof SNAPSHOT_COLUMNS)[number], number>;
  const wanted = new Set(instances);
  // Ordered by hash, then client, in SQLite's BINARY order (UTF-8 bytes: compareBytes), sorted here: SQLite's ORDER BY
  // sorted the whole wide rows in a temporary b-tree (a third of the read); (client, hash) is the key, so no two tie.
  const raw = (catalog.db.prepare(`SELECT ${SNAPSHOT_COLUMNS.join(', ')} FROM torrents WHERE status = 'active'`).raw(true).all() as unknown[][])
    .filter((v) => wanted.has(v[at.client] as string))
    .sort((a, b) => compareBytes(a[at.hash] as string, b[at.hash] as string) || compareBytes(a[at.client] as string, b[at.client] as string));
  const rows: Pick<TorrentRow, 'host_content_path' | 'fs_id'>[] = [];
  const torrents = raw.map((v): SnapshotTorrent => {
    rows.push({ host_content_path: v[at.host_content_path] as string | null, fs_id: v[at.fs_id] as number | null });
    return {
      client: v[at.client] as string,
      hash: v[at.hash] as string,
      name: v[at.name] as string,
      category: v[at.category] as string,
      tags: v[at.tags] === '[]' ? [] : (JSON.parse(v[at.tags] as string) as string[]),
      tracker: v[at.tracker] as string | null,
      phase: v[at.phase] as TorrentPhase,
      rawState: v[at.raw_state] as string,
      running: v[at.running] === 1,
      progress: v[at.progress] as number,
      amountLeft: v[at.amount_left] as number,
      size: v[at.size] as number,
      autoTmm: v[at.auto_tmm] === 1,
      addedOn: v[at.added_on] as number | null,
      completionOn: v[at.completion_on] as number | null,
      seedingTimeSec: v[at.seeding_time] as number,
      clientSavePath: v[at.client_save_path] as string,
      clientContentPath: v[at.client_content_path] as string,
      clientDownloadPath: v[at.client_download_path] as string,
      hostContentPath: v[at.host_content_path] as string | null,
      unmappedReason: v[at.unmapped_reason] as string | null,
      files: null,
      listingDigest: (v[at.listing_digest] as string | null) ?? null,
      syncedAt: v[at.synced_at] as number,
    };
  });
  return { torrents, rows };
}

/** An active torrent's identity, name, mapped content root and size. */
export interface TorrentWithContent {
  client: string;
  name: string;
  hash: string;
  root: string;
  size: number;
}

/** Every active torrent whose content maps to a host path, by instance, then hash. */
export function activeTorrentsWithContent(db: Db): TorrentWithContent[] {
  return db
    .prepare(`SELECT client, name, hash, host_content_path AS root, size FROM torrents WHERE status = 'active' AND host_content_path IS NOT NULL ORDER BY client, hash`)
    .all() as TorrentWithContent[];
}

/** An active torrent holding a payload: (client, hash) identifies it. */
export interface PayloadTorrent {
  client: string;
  hash: string;
  name: string;
  contentPath: string | null;
  fsId: number | null;
}

/**
 * The active torrents of the configured `instances` whose payload hash is the one given, by name, instance, then hash
 * (the statement compiled once). Rows of an instance no longer configured are history, as in readActiveTorrents.
 */
export function activeTorrentsWithPayloadReader(db: Db, instances: readonly string[]): (payloadHash: string) => PayloadTorrent[] {
  const wanted = new Set(instances);
  const torrentsOf = db.prepare(`SELECT client, hash, name, host_content_path AS contentPath, fs_id AS fsId FROM torrents WHERE status = 'active' AND payload_hash = ? ORDER BY name, client, hash`);
  return (payloadHash) => (torrentsOf.all(payloadHash) as PayloadTorrent[]).filter((t) => wanted.has(t.client));
}
