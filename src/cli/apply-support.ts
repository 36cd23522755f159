// Shared wiring for apply/recover commands: the client from config, the catalog refresher, and the event sink (NDJSON or human).
import type { CliContext } from './context.js';
import type { HashallConfig } from '../config/types.js';
import type { TorrentClient } from '../clients/types.js';
import { createQbittorrentClient } from '../clients/qbittorrent/client.js';
import { scanRoots } from '../catalog/scanner.js';
import type { ApplyEvent, Emit } from '../apply/events.js';
import type { RecordTree } from '../apply/bookkeeping.js';
import { formatEvent, progressBar } from '../render/apply-text.js';
import type { RunResult } from '../apply/executor.js';
import { formatBytes } from '../render/format-bytes.js';
import { printable } from '../render/escape.js';

export function makeClient(config: HashallConfig, ctx: CliContext): TorrentClient | null {
  if (!config.client) return null;
  const c = config.client;
  return createQbittorrentClient({ url: c.url, username: c.username, password: c.password ? () => c.password!.reveal() : null, timeoutMs: c.timeoutMs, now: ctx.now });
}

/** Refresh the catalog under a root after a group changed it (the scanner's incremental scan). */
export function makeRecordTree(config: HashallConfig, ctx: CliContext): RecordTree {
  return async (catalog, root, fsName) => {
    const summary = await scanRoots(catalog, [{ path: root, kind: 'adhoc' }], { drift: 'metadata', filesystems: config.filesystems, now: ctx.now, expectFilesystem: fsName });
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

/** The human summary apply prints on stdout when it ends (also after SIGINT/SIGTERM: what happened and what to run). */
export function applySummary(result: RunResult, signal: string | null): string {
  const lines: string[] = [];
  const done = result.groups.filter((g) => g.status === 'done').length;
  const head = result.status === 'interrupted' && signal ? `interrupted by ${signal}` : result.status;
  lines.push(`Apply ${head}: ${done}/${result.groups.length} group(s) done, ${formatBytes(result.bytesCopied)} copied, ${formatBytes(result.bytesFreed)} freed (run ${result.runId}).`);
  for (const g of result.groups.filter((x) => x.status !== 'done')) lines.push(`  ${printable(g.id)} ${printable(g.title)}: ${g.status}${g.error ? ` — ${printable(g.error)}` : ''}`);
  for (const p of result.guardProblems) lines.push(`  GUARD: ${printable(p)}`);
  for (const a of result.attention) lines.push(`  NEEDS ATTENTION: ${printable(a)}`);
  if (signal && result.status === 'interrupted') {
    lines.push(
      `  Stopped safely on ${signal}: finished groups are kept, the group in progress was rolled back, later groups were not started,`,
      '  and torrents hashall had paused run again. Nothing is left half done. To continue: `hashall apply` (a saved plan is',
      '  refused as stale if the world moved: re-plan with `hashall plan --out FILE`).',
    );
  } else if (signal) {
    lines.push(`  ${signal} arrived when nothing was left to stop: the run ended as recorded above.`);
  }
  if (result.status !== 'succeeded') lines.push(`  details: hashall runs show ${result.runId}`);
  return lines.join('\n') + '\n';
}
