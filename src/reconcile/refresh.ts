// Refresh: bring the catalog up to date with the disks and the clients — before planning (scan every configured
// root, then sync every client instance) and after applying (rescan a changed root, re-read repointed torrents).
import path from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import type { ScanHashMode, ScanProgress, ScanRootSpec, ScanSummary } from '../catalog/scan/types.js';
import type { SyncAllResult } from '../catalog/sync.js';
import type { ClientSet } from '../clients/client-set.js';
import type { HashallConfig } from '../config/types.js';
import type { RescanRoot } from '../apply/bookkeeping.js';
import type { WrittenContent } from '../apply/written-content.js';
import { errorText, HashallError } from '../errors.js';
import { refreshClientDownLine, refreshScannedLine, refreshSyncedLine } from '../render/refresh-text.js';

// The scanner and the sync load when a refresh runs, not with every command that may refresh (apply of a saved plan
// rescans only after a move; `plan --no-refresh` never does).
const scanner = async () => (await import('../catalog/scan/scan-roots.js')).scanRoots;
const proven = async () => (await import('../catalog/scan/proven.js')).provenHashes;
const syncer = async () => (await import('../catalog/sync.js')).syncInstances;

/** Where refresh reports: `info` lines (stderr, or NDJSON under apply --json) and, on a terminal, the scan's progress. */
export interface RefreshOutput {
  info(line: string): void;
  /** A client that could not be synced: a warning (stderr even under --json, so cron mails it); `info` when absent. */
  warn?(line: string): void;
  /** Drawn while the scan runs (throttling is the drawer's); `clear` once it ended, however it ended. */
  progress?: { draw(p: ScanProgress): void; clear(): void };
}

export interface RefreshResult {
  scan: ScanSummary | null;
  /** Null when no client is configured. */
  sync: SyncAllResult | null;
}

/** What a scan hashes under this config (`scan.hash`; absent in configs built in code: the documented default). */
export function scanHashMode(config: HashallConfig): ScanHashMode {
  return config.scan?.hash ?? 'shared-sizes';
}

/** Every seeding and library root of the config, or the given paths (kind taken from the config when they match). */
export function rootsToScan(config: HashallConfig, paths: string[], cwd: string): ScanRootSpec[] {
  const seeding = Object.values(config.seeding).flat();
  if (paths.length === 0) {
    return [...seeding.map((p) => ({ path: p, kind: 'seeding' as const })), ...config.libraries.map((p) => ({ path: p, kind: 'library' as const }))];
  }
  return paths.map((p) => {
    const abs = path.resolve(cwd, p);
    const kind = seeding.includes(abs) ? 'seeding' : config.libraries.includes(abs) ? 'library' : 'adhoc';
    return { path: abs, kind };
  });
}

/**
 * Scan the configured roots (incremental, metadata drift) and sync every client instance. Full SHA-256 of payload
 * files the scan left unhashed is computed by the sync (`hashMissing`), because decisions rely on it.
 */
export async function refresh(
  catalog: CatalogDb,
  config: HashallConfig,
  clients: ClientSet,
  env: { now: () => number; cwd: string },
  out: RefreshOutput,
  signal?: AbortSignal,
): Promise<RefreshResult> {
  const roots = rootsToScan(config, [], env.cwd);
  let scan: ScanSummary | null = null;
  if (roots.length > 0) {
    try {
      const scanRoots = await scanner();
      scan = await scanRoots(catalog, roots, { drift: 'metadata', hash: scanHashMode(config), filesystems: config.filesystems, now: env.now, progress: out.progress?.draw, signal });
    } finally {
      out.progress?.clear();
    }
    out.info(refreshScannedLine(roots.length, scan));
    if (scan.status === 'interrupted') {
      throw new HashallError('refresh interrupted: the scan stopped before it finished; nothing was planned', {
        hint: 'the catalog is consistent; run the command again to continue',
      });
    }
  }
  let sync: SyncAllResult | null = null;
  if (clients.names.length > 0) {
    const syncInstances = await syncer();
    sync = await syncInstances({ catalog, config, clients, now: env.now, hashMissing: true });
    for (const s of sync.synced) out.info(refreshSyncedLine(s.torrents, config.clients[s.client]?.type, s.client));
    // Every instance down: nothing to plan with (as with one client). Some down: plan; their groups are blocked.
    if (sync.synced.length === 0 && sync.failed[0]) throw sync.failed[0].error;
    for (const f of sync.failed) (out.warn ?? out.info)(refreshClientDownLine(f.client, errorText(f.error)));
  }
  return { scan, sync };
}

/**
 * Refresh the catalog under a root after a group changed it (the scanner's incremental scan); `many` refreshes the roots
 * of several groups in one scan (a scan has a fixed cost of ~0.25 s: one per group was most of a first adoption).
 */
export function makeRescanRoot(config: HashallConfig, now: () => number): RescanRoot {
  const many = async (catalog: CatalogDb, roots: readonly string[], fsName: string, written?: WrittenContent): Promise<void> => {
    const scanRoots = await scanner();
    // The files the run's copies wrote are recorded from what the copy proved (their bytes are not read a second time).
    const told = written ? { proven: (await proven())(catalog, written) } : {};
    // Payload folders after groups: the Node walk is done before a find process would have started (~3 ms each).
    const summary = await scanRoots(catalog, roots.map((path) => ({ path, kind: 'adhoc' as const })), { drift: 'metadata', hash: scanHashMode(config), filesystems: config.filesystems, now, expectFilesystem: fsName, findProgram: null, ...told });
    if (summary.status !== 'completed') throw new Error(`scan of ${roots.length === 1 ? roots[0]! : `${roots.length} folders`} ${summary.status}`);
  };
  return Object.assign((catalog: CatalogDb, root: string, fsName: string, written?: WrittenContent) => many(catalog, [root], fsName, written), { many });
}

/** Re-read the client's torrents after apply repointed some, so the catalog (and `plan --no-refresh`) sees where they are now. */
export function makeResyncTorrents(config: HashallConfig, clients: ClientSet, now: () => number): ((catalog: CatalogDb) => Promise<void>) | undefined {
  if (clients.names.length === 0) return undefined;
  return async (catalog) => {
    const syncInstances = await syncer();
    const r = await syncInstances({ catalog, config, clients, now });
    if (r.failed.length > 0) throw new Error(r.failed.map((f) => `client "${f.client}": ${f.error.message}`).join('; '));
  };
}
