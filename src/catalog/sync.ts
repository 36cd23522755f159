// `hashall sync`: records each client instance's torrents in the catalog, maps each onto its payload, measures free space.
//
// Must never: record an empty torrent list over a catalog that knows active torrents (an error that looks like
// "no torrents" would mark everything removed); delete a torrent row (gone torrents become 'removed');
// use save_path + name instead of content_path.
import { trackerHost } from '../domain/tracker.js';
import { FILE_LISTS_IN_FLIGHT, type ClientTorrent, type ClientTorrentFile, type TorrentClient } from '../clients/types.js';
import type { ClientSet } from '../clients/client-set.js';
import type { ClientConfig, HashallConfig, PathMap } from '../config/types.js';
import { ClientError } from '../errors.js';
import { oneEntryEach } from '../clients/batch.js';
import { clientListingDigest } from '../domain/listing.js';
import type { CatalogDb } from './db.js';
import { hashMissing as hashMissingFiles } from './hash-missing.js';
import { hostPathContext } from './host-paths.js';
import { payloadReader } from './payload-rows.js';
import { storeSummaries } from './payload-summary.js';
import { resolveTorrent, type DataStatus, type TorrentResolution } from './torrent-resolve.js';
import type { TorrentRow } from './torrent-row.js';
import { measureFreeSpace, type FreeSpace } from './free-space.js';
import { mapLimit } from '../domain/map-limit.js';
import type { ClientFolder } from '../domain/client-folder.js';
import { clientAbsolute, clientToHost } from '../domain/path-map.js';
import { compareBytes } from '../domain/payload-hash.js';
import { locateHostPath, type HostPathContext } from './host-paths.js';
import { closeUndoneRelocations, noteUnhealthyRelocations } from './relocations.js';

export interface SyncProgress {
  phase: 'files' | 'hashing' | 'recording' | 'summaries';
  done: number;
  total: number;
}

export interface SyncDeps {
  catalog: CatalogDb;
  config: HashallConfig;
  /** The instance synced (its name keys its rows; its path maps translate its paths) and its client. */
  instance: ClientConfig;
  client: TorrentClient;
  now: () => number;
  /** Compute missing full SHA-256 of payload files (complete torrents only), then recompute payload hashes. */
  hashMissing?: boolean;
  progress?: (p: SyncProgress) => void;
  hashWorkers?: number;
  /** Test injection: another mountinfo file. */
  mountInfoFile?: string;
  /**
   * Instances whose answer of zero torrents is their state (the user confirmed removing every torrent: `hashall sync
   * --accept-empty NAME`); any other such answer, while the catalog knows torrents of it, is refused.
   */
  acceptEmpty?: readonly string[];
}

export interface SyncTorrentLine {
  hash: string;
  name: string;
  dataStatus: DataStatus;
  detail: string | null;
  hostContentPath: string | null;
  payloadHash: string | null;
}

export interface SyncSummary {
  /** The instance synced. */
  client: string;
  sessionId: number;
  clientVersion: string | null;
  /** Torrents the client reported. */
  torrents: number;
  added: number;
  changed: number;
  unchanged: number;
  /** Active torrents no longer reported (now status 'removed'). */
  removed: number;
  /** Moves hashall recorded that this sync found undone by hand (every torrent moved seeds from the source again, or is removed): closed, never to retire their source. */
  movesUndone: number;
  /** Open moves one of whose torrents this sync saw at the target and not settled: their observation window starts again. */
  movesUnsettled: number;
  byStatus: Record<DataStatus, number>;
  /** Torrents with a payload in the catalog but no payload hash (files without full SHA-256). */
  hashUnknown: number;
  hashed: { files: number; bytes: number; failed: { path: string; code: string; message: string }[] } | null;
  filesystems: FreeSpace[];
  /** Every torrent whose data status is not ok, or that carries a detail. */
  problems: SyncTorrentLine[];
  serial: number;
  durationMs: number;
}

/** Fields whose change is a catalog change (seeding_time and synced_at grow on every sync and are not). */
const COMPARED: (keyof Omit<TorrentRow, 'synced_at'>)[] = [
  'name', 'category', 'tags', 'tracker', 'raw_state', 'phase', 'running', 'progress', 'amount_left', 'size', 'auto_tmm', 'added_on', 'completion_on',
  'client_save_path', 'client_content_path', 'client_download_path', 'host_content_path', 'fs_id', 'unmapped_reason', 'data_status', 'data_detail',
  'payload_kind', 'payload_files', 'payload_bytes', 'payload_hash', 'listing_digest', 'status',
];

function rowOf(client: string, t: ClientTorrent, r: TorrentResolution, files: readonly ClientTorrentFile[]): Omit<TorrentRow, 'status' | 'synced_at'> {
  return {
    client,
    hash: t.hash,
    name: t.name,
    category: t.category,
    tags: JSON.stringify(t.tags),
    // Host name only: an announce URL carries the user's passkey, which is never stored.
    tracker: trackerHost(t.tracker),
    raw_state: t.rawState,
    phase: t.phase,
    running: t.running ? 1 : 0,
    progress: t.progress,
    amount_left: t.amountLeft,
    size: t.size,
    auto_tmm: t.autoTmm ? 1 : 0,
    added_on: t.addedOn,
    completion_on: t.completionOn,
    seeding_time: t.seedingTimeSec,
    client_save_path: t.savePath,
    client_content_path: t.contentPath,
    client_download_path: t.downloadPath,
    host_content_path: r.hostContentPath,
    fs_id: r.fsId,
    unmapped_reason: r.unmappedReason,
    data_status: r.dataStatus,
    data_detail: r.detail,
    payload_kind: r.payload?.kind ?? null,
    payload_files: r.payload?.files.length ?? null,
    payload_bytes: r.payload ? r.payload.files.reduce((s, f) => s + f.size, 0) : null,
    payload_hash: r.payloadHash,
    listing_digest: clientListingDigest({ clientSavePath: t.savePath, clientContentPath: t.contentPath, files }),
  };
}

/** Read every torrent of one instance and its file list, map them onto payloads, and record the result in one transaction. */
export async function syncTorrents(deps: SyncDeps): Promise<SyncSummary> {
  const { catalog, config, client } = deps;
  const name = deps.instance.name;
  const db = catalog.db;
  const started = deps.now();
  const clientVersion: string | null = (await client.version()).app;
  // A client that sends every torrent's file list with its status (Deluge: its content path comes from the list) is
  // read once for both; the lists are then not asked again, one by one.
  const withFiles = client.listTorrentsWithFiles ? await client.listTorrentsWithFiles() : null;
  const listed = withFiles ? withFiles.map((w) => w.torrent) : await client.listTorrents();
  const known = (db.prepare(`SELECT count(*) AS n FROM torrents WHERE client = ? AND status = 'active'`).get(name) as { n: number }).n;
  if (listed.length === 0 && known > 0 && !deps.acceptEmpty?.includes(name)) {
    throw new ClientError('protocol', `torrent client "${name}" reported no torrents, but the catalog knows ${known} active torrent(s) of it from the last sync; refusing to record them as removed`, {
      hint: `check that hashall talks to the right client (URL, restarted with an empty profile?); nothing was recorded. If every torrent really was removed from it, run \`hashall sync --accept-empty ${name}\` once: they are recorded as removed, and their data, no longer claimed by a torrent, becomes an orphan candidate`,
    });
  }
  const torrents = oneEntryEach(listed, `torrent client "${name}"`);
  const listedFiles = new Map(withFiles?.map((w) => [w.torrent.hash, w.files]));
  let filesDone = 0;
  // Where the client answers the lists asked together in one request, many are asked at once (a first sync of
  // thousands of torrents: a few dozen requests instead of one per torrent).
  const fileLists = await mapLimit(torrents, client.listFilesInFlight ?? FILE_LISTS_IN_FLIGHT, async (t) => {
    const f = listedFiles.get(t.hash) ?? (await client.listFiles(t.hash));
    deps.progress?.({ phase: 'files', done: ++filesDone, total: torrents.length });
    return f;
  });

  // The folders the client writes its own files to (their files are never orphans), asked after its torrents.
  const reported = await client.ownFolders();

  const ctx = hostPathContext(config, deps.mountInfoFile);
  const maps = deps.instance.pathMaps;
  const ownFolders = hostFolders(ctx, maps, reported);
  const resolveAll = (): TorrentResolution[] => {
    const reader = payloadReader(catalog);
    return torrents.map((t, i) => resolveTorrent(catalog, ctx, reader, maps, t, fileLists[i] as ClientTorrentFile[]));
  };
  let resolved = resolveAll();

  let hashed: SyncSummary['hashed'] = null;
  if (deps.hashMissing) {
    const ids = new Set<number>();
    resolved.forEach((r, i) => {
      const t = torrents[i] as ClientTorrent;
      if (!r.payload || t.progress < 1 || t.amountLeft > 0) return;
      for (const f of r.payload.files) if (f.sha256 === null) ids.add(f.id);
    });
    if (ids.size > 0) {
      deps.progress?.({ phase: 'hashing', done: 0, total: ids.size });
      const res = await hashMissingFiles(catalog, { fileIds: [...ids] }, { now: deps.now, hashWorkers: deps.hashWorkers });
      hashed = { files: res.hashed.length, bytes: res.bytesHashed, failed: res.failed.map((f) => ({ path: f.path, code: f.code, message: f.message })) };
      resolved = resolveAll();
    } else {
      hashed = { files: 0, bytes: 0, failed: [] };
    }
  }

  deps.progress?.({ phase: 'recording', done: 0, total: torrents.length });
  const now = deps.now();
  const summary: SyncSummary = {
    client: name,
    sessionId: 0,
    clientVersion,
    torrents: torrents.length,
    added: 0,
    changed: 0,
    unchanged: 0,
    removed: 0,
    movesUndone: 0,
    movesUnsettled: 0,
    byStatus: { ok: 0, unmapped: 0, missing: 0, 'not-in-catalog': 0, incomplete: 0 },
    hashUnknown: 0,
    hashed,
    filesystems: [],
    problems: [],
    serial: 0,
    durationMs: 0,
  };
  const get = db.prepare(`SELECT * FROM torrents WHERE client = ? AND hash = ?`);
  const cols = [...COMPARED.filter((c) => c !== 'status'), 'seeding_time'] as const;
  const upsert = db.prepare(
    `INSERT INTO torrents (client, hash, ${cols.join(', ')}, status, first_seen, synced_at, removed_at)
     VALUES (@client, @hash, ${cols.map((c) => '@' + c).join(', ')}, 'active', @now, @now, NULL)
     ON CONFLICT (client, hash) DO UPDATE SET ${cols.map((c) => `${c} = excluded.${c}`).join(', ')}, status = 'active', synced_at = excluded.synced_at, removed_at = NULL`,
  );
  const getFiles = db.prepare(`SELECT idx, name, size, progress, wanted FROM torrent_files WHERE client = ? AND torrent_hash = ? ORDER BY idx`);
  const delFiles = db.prepare(`DELETE FROM torrent_files WHERE client = ? AND torrent_hash = ?`);
  const insFile = db.prepare(`INSERT INTO torrent_files (client, torrent_hash, idx, name, size, progress, wanted) VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const activeHashes = db.prepare(`SELECT hash FROM torrents WHERE client = ? AND status = 'active'`);
  const markRemoved = db.prepare(`UPDATE torrents SET status = 'removed', removed_at = ? WHERE client = ? AND hash = ?`);

  db.transaction(() => {
    let changedAny = false;
    torrents.forEach((t, i) => {
      const r = resolved[i] as TorrentResolution;
      const files = fileLists[i] as ClientTorrentFile[];
      const row = { ...rowOf(name, t, r, files), status: 'active' as const };
      const prev = get.get(name, t.hash) as TorrentRow | undefined;
      const prevFiles = prev ? (getFiles.all(name, t.hash) as { idx: number; name: string; size: number; progress: number; wanted: number }[]) : [];
      const filesSame =
        prevFiles.length === files.length &&
        files.every((f, k) => prevFiles[k]?.idx === f.index && prevFiles[k]?.name === f.name && prevFiles[k]?.size === f.size && prevFiles[k]?.progress === f.progress && prevFiles[k]?.wanted === (f.wanted === false ? 0 : 1));
      const rowSame = prev !== undefined && COMPARED.every((c) => prev[c] === row[c]);
      if (!prev) summary.added++;
      else if (rowSame && filesSame) summary.unchanged++;
      else summary.changed++;
      if (!(rowSame && filesSame)) changedAny = true;
      upsert.run({ ...row, now });
      if (!filesSame) {
        delFiles.run(name, t.hash);
        for (const f of files) insFile.run(name, t.hash, f.index, f.name, f.size, f.progress, f.wanted === false ? 0 : 1);
      }
      summary.byStatus[r.dataStatus]++;
      if (r.payload && r.payloadHash === null) summary.hashUnknown++;
      if (r.dataStatus !== 'ok' || r.detail !== null) {
        summary.problems.push({ hash: t.hash, name: t.name, dataStatus: r.dataStatus, detail: r.detail, hostContentPath: r.hostContentPath, payloadHash: r.payloadHash });
      }
    });
    const seen = new Set(torrents.map((t) => t.hash));
    for (const { hash } of activeHashes.all(name) as { hash: string }[]) {
      if (seen.has(hash)) continue;
      markRemoved.run(now, name, hash);
      summary.removed++;
      changedAny = true;
    }
    summary.filesystems = measureFreeSpace(catalog, config, now);
    // A success after a recorded failure makes the instance known again: that changes what plans may do.
    if (recordSyncOutcome(catalog, name, { syncedAt: now, ownFolders })) changedAny = true;
    // Moves undone by hand (their torrents seed from the source again) stop waiting for a retire.
    summary.movesUndone = closeUndoneRelocations(db, now);
    if (summary.movesUndone > 0) changedAny = true;
    // A torrent of an open move seen unhealthy on its target: that move's observation window starts again now.
    summary.movesUnsettled = noteUnhealthyRelocations(db, name, now);
    if (summary.movesUnsettled > 0) changedAny = true;
    if (changedAny) catalog.bumpSerial();
    summary.serial = catalog.serial();
    summary.sessionId = Number(
      db
        .prepare(
          `INSERT INTO sync_sessions (client, started_at, finished_at, client_version, torrents, added, changed, removed, unmapped, hash_unknown, serial)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(name, started, now, clientVersion, summary.torrents, summary.added, summary.changed, summary.removed, summary.byStatus.unmapped, summary.hashUnknown, summary.serial).lastInsertRowid,
    );
  })();
  // What plan needs of every payload, for exactly the serial the sync ended at (src/catalog/payload-summary.ts).
  deps.progress?.({ phase: 'summaries', done: 0, total: torrents.length });
  storeSummaries(catalog, config);
  summary.durationMs = deps.now() - started;
  return summary;
}

/**
 * Records the outcome of syncing instance `client` in client_status (migration 12): a success (clears a failure; with
 * the folders the client keeps its own files in, migration 17), or a failure at `failedAt` with its message (the
 * instance is unreachable until a sync succeeds; its folders stay as last read). Returns true when what plans may
 * decide changed (the instance known again or no longer, or other folders); call inside a transaction that bumps the
 * serial when it did. Never a secret: pass a ClientError message (they redact).
 */
export function recordSyncOutcome(catalog: CatalogDb, client: string, outcome: { syncedAt: number; ownFolders: readonly ClientFolder[] } | { failedAt: number; failure: string }): boolean {
  const db = catalog.db;
  const prev = db.prepare(`SELECT synced_at, failed_at, own_folders FROM client_status WHERE client = ?`).get(client) as
    | { synced_at: number | null; failed_at: number | null; own_folders: string | null }
    | undefined;
  const wasDown = prev?.failed_at != null;
  if ('syncedAt' in outcome) {
    const folders = JSON.stringify(outcome.ownFolders);
    db.prepare(
      `INSERT INTO client_status (client, synced_at, failed_at, failure, own_folders) VALUES (?, ?, NULL, NULL, ?)
       ON CONFLICT (client) DO UPDATE SET synced_at = excluded.synced_at, failed_at = NULL, failure = NULL, own_folders = excluded.own_folders`,
    ).run(client, outcome.syncedAt, folders);
    return wasDown || (prev?.own_folders ?? null) !== folders;
  }
  db.prepare(
    `INSERT INTO client_status (client, synced_at, failed_at, failure) VALUES (?, NULL, ?, ?)
     ON CONFLICT (client) DO UPDATE SET failed_at = excluded.failed_at, failure = excluded.failure`,
  ).run(client, outcome.failedAt, outcome.failure);
  return !wasDown;
}

/**
 * The client's own folders as canonical host paths, sorted: through its path maps, else as spelled (a folder no map
 * translates may still be a host path: counting its files as the client's only keeps them). A folder that does not
 * exist on the host holds nothing and is left out; one that cannot be resolved for another reason is kept as spelled.
 */
export function hostFolders(ctx: HostPathContext, maps: readonly PathMap[], folders: readonly ClientFolder[]): ClientFolder[] {
  const out = new Map<string, ClientFolder>();
  for (const f of folders) {
    const host = clientToHost(maps, f.path) ?? clientAbsolute(f.path);
    if (host === null) continue;
    const where = locateHostPath(ctx, host, { followLast: true });
    if (!where.ok && (where.code === 'ENOENT' || where.code === 'ENOTDIR')) continue;
    const p = where.ok ? where.loc.path : where.spelled;
    out.set(`${f.role}\0${p}`, { role: f.role, path: p });
  }
  return [...out.values()].sort((a, b) => compareBytes(a.path, b.path) || compareBytes(a.role, b.role));
}

/** Records that syncing `client` failed (its own transaction; bumps the serial when the instance just became unknown). */
export function recordSyncFailure(catalog: CatalogDb, client: string, now: number, err: unknown): void {
  const failure = err instanceof Error ? err.message : String(err);
  catalog.db.transaction(() => {
    if (recordSyncOutcome(catalog, client, { failedAt: now, failure })) catalog.bumpSerial();
  })();
}

export interface SyncAllResult {
  /** One summary per instance that answered, in instance-name order. */
  synced: SyncSummary[];
  /** Instances whose sync failed (recorded in client_status: unreachable until a sync succeeds). */
  failed: { client: string; error: Error }[];
}

/**
 * Sync every configured instance, one after the other. A client failure (unreachable, refused answer) of one instance
 * is recorded and collected, and the others are still synced: the planner then blocks exactly the groups touching
 * it. Anything else (the catalog) throws.
 */
export async function syncInstances(deps: Omit<SyncDeps, 'instance' | 'client'> & { clients: ClientSet }): Promise<SyncAllResult> {
  const out: SyncAllResult = { synced: [], failed: [] };
  for (const name of deps.clients.names) {
    const instance = deps.config.clients[name];
    if (!instance) continue;
    try {
      out.synced.push(await syncTorrents({ ...deps, instance, client: deps.clients.get(name) }));
    } catch (err) {
      if (!(err instanceof ClientError)) throw err;
      recordSyncFailure(deps.catalog, name, deps.now(), err);
      out.failed.push({ client: name, error: err });
    }
  }
  return out;
}

/** When instance `client` last synced successfully (null: never). */
export function lastSyncedAt(catalog: CatalogDb, client: string): number | null {
  return (catalog.db.prepare(`SELECT synced_at FROM client_status WHERE client = ?`).pluck().get(client) as number | null | undefined) ?? null;
}
