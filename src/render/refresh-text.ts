// What a refresh (the scan and sync before plan or apply) tells the user: its progress line and one line per scan and client (pure).
import type { ScanProgress, ScanSummary } from '../catalog/scan/types.js';
import { formatBytes } from './format-bytes.js';

/** The progress line on a terminal while the refresh scans. */
export function refreshProgressLine(p: ScanProgress): string {
  return `scanning: ${p.filesSeen} files, ${formatBytes(p.bytesHashed)} hashed`;
}

export function refreshScannedLine(roots: number, s: ScanSummary): string {
  return `refresh: scanned ${roots} root(s): ${s.added} added, ${s.changed} changed, ${s.deleted} deleted, ${s.unchanged} unchanged${s.unhashed > 0 ? `; ${s.unhashed} file(s) not hashed yet (no other file has their size)` : ''}`;
}

export function refreshSyncedLine(torrents: number, type: string | undefined, client: string): string {
  return `refresh: synced ${torrents} torrent(s) from ${type ?? 'client'} "${client}"`;
}

/** A client the refresh could not sync (down, a refused login, …): `error` with its hint, which says what to check. */
export function refreshClientDownLine(client: string, error: string): string {
  return `refresh: torrent client "${client}" did not answer the sync: ${error}; every group touching its torrents is blocked`;
}
