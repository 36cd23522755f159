// The catalog's `torrents` rows (migrations 2 and 5): the row type the sync writes, the snapshot's read of them, and the named reads of repair (torrents holding a path) and donors (torrents by payload hash).
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

/** SnapshotTorrent's fields as `torrents` columns (SQL expressions: 0/1 integers become JSON booleans). */
const SNAPSHOT_FIELDS: readonly [keyof SnapshotTorrent, string][] = [
  ['client', 'client'], ['hash', 'hash'], ['name', 'name'], ['category', 'category'], ['tags', 'tags'], ['tracker', 'tracker'],
  ['phase', 'phase'], ['rawState', 'raw_state'], ['running', `json(CASE running WHEN 1 THEN 'true' ELSE 'false' END)`],
  ['progress', 'progress'], ['amountLeft', 'amount_left'], ['size', 'size'], ['autoTmm', `json(CASE auto_tmm WHEN 1 THEN 'true' ELSE 'false' END)`],
  ['addedOn', 'added_on'], ['completionOn', 'completion_on'], ['seedingTimeSec', 'seeding_time'], ['clientSavePath', 'client_save_path'],
  ['clientContentPath', 'client_content_path'], ['clientDownloadPath', 'client_download_path'], ['hostContentPath', 'host_content_path'],
  ['unmappedReason', 'unmapped_reason'], ['files', 'NULL'], ['listingDigest', 'listing_digest'], ['syncedAt', 'synced_at'],
];

/**
 * Every active row as one JSON text: per row [the SnapshotTorrent as an object (tags still its JSON text), fs_id].
 * JSON.parse makes each torrent object in its final shape at once; reading the columns made 24 values per row, then
 * the object from them (10k torrents: a tenth of the planner's reading before its first live check). The values are
 * the columns' own: SQLite writes text escaped and a REAL with the digits that read back as the same double.
 */
const ACTIVE_TORRENTS_JSON = `SELECT json_group_array(json_array(json_object(${SNAPSHOT_FIELDS.map(([k, e]) => `'${k}', ${e}`).join(', ')}), fs_id))
  FROM torrents WHERE status = 'active'`;

/**
 * Every active torrent as the snapshot carries it (client file lists not loaded), by hash, with the row fields the
 * reader needs besides. Only torrents of the configured `instances`: rows of an instance no longer configured
 * (renamed, removed) are history.
 */
export function readActiveTorrents(catalog: CatalogDb, instances: readonly string[]): { torrents: SnapshotTorrent[]; rows: Pick<TorrentRow, 'host_content_path' | 'fs_id'>[] } {
  const wanted = new Set(instances);
  // Ordered by hash, then client, in SQLite's BINARY order (UTF-8 bytes: compareBytes), sorted here: SQLite's ORDER BY
  // sorted the whole wide rows in a temporary b-tree (a third of the read); (client, hash) is the key, so no two tie.
  const all = JSON.parse(catalog.db.prepare(ACTIVE_TORRENTS_JSON).pluck().get() as string) as [SnapshotTorrent & { tags: string | string[] }, number | null][];
  const picked = all
    .filter((r) => wanted.has(r[0].client))
    .sort((a, b) => compareBytes(a[0].hash, b[0].hash) || compareBytes(a[0].client, b[0].client));
  const rows: Pick<TorrentRow, 'host_content_path' | 'fs_id'>[] = [];
  const torrents: SnapshotTorrent[] = [];
  for (const [t, fsId] of picked) {
    t.tags = t.tags === '[]' ? [] : (JSON.parse(t.tags as string) as string[]);
    rows.push({ host_content_path: t.hostContentPath, fs_id: fsId });
    torrents.push(t);
  }
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
