// The `hashall torrents` report: each active torrent with payload, filesystem, siblings, consumers and flags (data only).
import type { HashallConfig } from '../config/types.js';
import type { SnapshotClientState, SnapshotPlanner } from '../domain/snapshot.js';
import { torrentKey } from '../domain/instance.js';
import type { CatalogDb } from './db.js';
import { readSnapshot } from './snapshot.js';

export interface TorrentReportLine {
  /** Client instance seeding it; (client, hash) identifies the torrent. */
  client: string;
  hash: string;
  name: string;
  category: string;
  phase: string;
  progress: number;
  clientContentPath: string;
  hostContentPath: string | null;
  filesystem: string | null;
  dataStatus: string;
  /** Unmapped reason, missing data, incomplete files, files outside the torrent … */
  detail: string | null;
  payload: { root: string; kind: 'file' | 'dir'; files: number; bytes: number; payloadHash: string | null; seedingRoot: string | null } | null;
  /** Other active torrents with the same (known) payload hash. */
  siblings: number;
  consumers: { status: 'none' | 'some' | 'unknown'; paths: string[]; symlinks?: string[]; reasons: string[] } | null;
  syncedAt: number;
}

export interface TorrentReport {
  lastSyncAt: number | null;
  /** Each configured instance's last sync outcome (an instance with failedAt set did not answer its last sync). */
  clients: Record<string, SnapshotClientState>;
  torrents: TorrentReportLine[];
}

export function torrentReport(catalog: CatalogDb, config: HashallConfig, planner: SnapshotPlanner): TorrentReport {
  const snap = readSnapshot(catalog, config, { planner });
  const status = new Map(
    (catalog.db.prepare(`SELECT client, hash, data_status, data_detail FROM torrents WHERE status = 'active'`).all() as { client: string; hash: string; data_status: string; data_detail: string | null }[]).map((r) => [
      torrentKey(r),
      r,
    ]),
  );
  const fsName = new Map(snap.filesystems.map((f) => [f.id, f.name ?? f.uuid]));
  const byHash = new Map<string, number>();
  for (const t of snap.torrents) {
    const h = t.hostContentPath ? snap.payloads[t.hostContentPath]?.payloadHash : null;
    if (h) byHash.set(h, (byHash.get(h) ?? 0) + 1);
  }
  const torrents = snap.torrents
    .map((t): TorrentReportLine => {
      const p = t.hostContentPath ? (snap.payloads[t.hostContentPath] ?? null) : null;
      const st = status.get(torrentKey(t));
      return {
        client: t.client,
        hash: t.hash,
        name: t.name,
        category: t.category,
        phase: t.phase,
        progress: t.progress,
        clientContentPath: t.clientContentPath,
        hostContentPath: t.hostContentPath,
        filesystem: p ? (fsName.get(p.fsId) ?? null) : null,
        dataStatus: st?.data_status ?? 'unknown',
        detail: st?.data_detail ?? t.unmappedReason,
        payload: p
          ? { root: p.rootPath, kind: p.kind, files: p.fileCount, bytes: p.bytes, payloadHash: p.payloadHash, seedingRoot: p.seedingRoot }
          : null,
        siblings: p?.payloadHash ? (byHash.get(p.payloadHash) ?? 1) - 1 : 0,
        consumers: p ? p.consumers : null,
        syncedAt: t.syncedAt,
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : a.client < b.client ? -1 : 1));
  return { lastSyncAt: snap.lastSyncAt, clients: snap.clients ?? {}, torrents };
}
