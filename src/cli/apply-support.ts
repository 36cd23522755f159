// Shared wiring for apply/recover commands: the client from config, the catalog refresher, and the event sink (NDJSON or human).
import type { CliContext } from './context.js';
import type { HashallConfig } from '../config/types.js';
import type { TorrentClient } from '../clients/types.js';
import { createQbittorrentClient } from '../clients/qbittorrent/client.js';
import { scanRoots } from '../catalog/scanner.js';
import type { ApplyEvent, Emit } from '../apply/events.js';
import type { RecordTree } from '../apply/bookkeeping.js';
import { formatEvent, progressBar } from '../apply/format-event.js';

export function makeClient(config: HashallConfig, ctx: CliContext): TorrentClient | null {
  if (!config.client) return null;
  const c = config.client;
  return createQbittorrentClient({ url: c.url, username: c.username, password: c.password ? () => c.password!.reveal() : null, timeoutMs: c.timeoutMs, now: ctx.now });
}

/** Refresh the catalog under a root after a group changed it (the scanner's incremental scan). */
export function makeRecordTree(config: HashallConfig, ctx: CliContext): RecordTree {
  return async (catalog, root) => {
    const summary = await scanRoots(catalog, [{ path: root, kind: 'adhoc' }], { drift: 'metadata', filesystems: config.filesystems, now: ctx.now });
    if (summary.status !== 'completed') throw new Error(`scan of ${root} ${summary.status}`);
  };
}

/** NDJSON events on stdout with --json; otherwise human lines on stderr and a progress bar for copies on a terminal. */
export function eventSink(ctx: CliContext, json: boolean): { emit: Emit; end: () => void } {
  let barShown = false;
  let lastBar = 0;
  const clearBar = () => {
    if (barShown) ctx.stderr.write('\r\x1b[K');
    barShown = false;
  };
  return {
    emit: (e: ApplyEvent) => {
      if (json) {
        if (e.type === 'copy-progress') {
          const t = ctx.now();
          if (t - lastBar < 500 && e.bytes < e.totalBytes) return;
          lastBar = t;
        }
        ctx.stdout.write(JSON.stringify(e) + '\n');
        return;
      }
      if (e.type === 'copy-progress') {
        if (!ctx.interactive) return;
        const t = ctx.now();
        if (t - lastBar < 100 && e.groupBytes < e.groupTotal) return;
        lastBar = t;
        ctx.stderr.write(`\r\x1b[K${progressBar(e)}`);
        barShown = true;
        return;
      }
      clearBar();
      const line = formatEvent(e);
      if (line !== null) ctx.stderr.write(line + '\n');
    },
    end: clearBar,
  };
}
