// Refresh before planning: incremental scan of every configured root, then a client sync, with progress on stderr.
import type { CatalogDb } from '../catalog/db.js';
import { scanRoots } from '../catalog/scan/scan-roots.js';
import type { ScanProgress, ScanSummary } from '../catalog/scan/types.js';
import { syncInstances, type SyncAllResult } from '../catalog/sync.js';
import type { ClientSet } from '../clients/client-set.js';
import type { HashallConfig } from '../config/types.js';
import { formatBytes } from '../render/format-bytes.js';
import type { CliContext } from '../cli/context.js';
import { HashallError } from '../errors.js';
import { rootsToScan } from '../cli/commands/scan.js';

/** Where refresh reports: `info` lines (stderr, or NDJSON under apply --json) and whether to draw progress on the terminal. */
export interface RefreshOutput {
  info(line: string): void;
  progress: boolean;
}

export interface RefreshResult {
  scan: ScanSummary | null;
  /** Null when no client is configured. */
  sync: SyncAllResult | null;
}

/**
 * Scan the configured roots (incremental, metadata drift) and sync every client instance. Full SHA-256 of payload
 * files the scan left unhashed is computed by the sync (`hashMissing`), because decisions rely on it.
 */
export async function refresh(
  catalog: CatalogDb,
  config: HashallConfig,
  clients: ClientSet,
  ctx: CliContext,
  signal?: AbortSignal,
  out: RefreshOutput = { info: (line) => void ctx.stderr.write(line + '\n'), progress: ctx.interactive },
): Promise<RefreshResult> {
  const roots = rootsToScan(config, [], ctx.cwd);
  let scan: ScanSummary | null = null;
  if (roots.length > 0) {
    let last = 0;
    const progress = out.progress
      ? (p: ScanProgress) => {
          const t = ctx.now();
          if (t - last < 200) return;
          last = t;
          ctx.stderr.write(`\r\x1b[Kscanning: ${p.filesSeen} files, ${formatBytes(p.bytesHashed)} hashed`);
        }
      : undefined;
    try {
      scan = await scanRoots(catalog, roots, { drift: 'metadata', filesystems: config.filesystems, now: ctx.now, progress, signal });
    } finally {
      if (out.progress) ctx.stderr.write('\r\x1b[K');
    }
    out.info(`refresh: scanned ${roots.length} root(s): ${scanLine(scan)}`);
    if (scan.status === 'interrupted') {
      throw new HashallError('refresh interrupted: the scan stopped before it finished; nothing was planned', {
        hint: 'the catalog is consistent; run the command again to continue',
      });
    }
  }
  let sync: SyncAllResult | null = null;
  if (clients.names.length > 0) {
    sync = await syncInstances({ catalog, config, clients, now: ctx.now, hashMissing: true });
    for (const s of sync.synced) out.info(`refresh: synced ${s.torrents} torrent(s) from ${config.clients[s.client]?.type ?? 'client'} "${s.client}"`);
    // Every instance down: nothing to plan with (as with one client). Some down: plan; their groups are blocked.
    if (sync.synced.length === 0 && sync.failed[0]) throw sync.failed[0].error;
    for (const f of sync.failed) out.info(`refresh: torrent client "${f.client}" did not answer (${f.error.message}); every group touching its torrents is blocked`);
  }
  return { scan, sync };
}

function scanLine(s: ScanSummary): string {
  return `${s.added} added, ${s.changed} changed, ${s.deleted} deleted, ${s.unchanged} unchanged`;
}
