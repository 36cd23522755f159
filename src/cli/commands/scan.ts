// CLI command `hashall scan`: incremental catalog scan of given paths or of every configured root.
import { exitCodesHelp } from '../exit.js';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { scanRoots } from '../../catalog/scan/scan-roots.js';
import type { DriftPolicy, ScanProgress, ScanSummary } from '../../catalog/scan/types.js';
import { rootsToScan } from '../../reconcile/refresh.js';
import { formatBytes, formatDuration } from '../../render/format-bytes.js';
import { HashallError, ExitCode } from '../../errors.js';
import { printable } from '../../render/escape.js';

interface ScanOpts extends ConfigOptionValues {
  full?: boolean;
  drift?: string;
  quickOnly?: boolean;
  json?: boolean;
  hashWorkers?: string;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('scan')
    .description('scan files into the catalog (default: every seeding and library root of hashall.yaml)')
    .argument('[path...]', 'directories to scan instead of the configured roots')
    .option('--drift <policy>', 'metadata (same inode+size+mtime keeps hashes) | quick (re-check sampled blocks) | full (re-hash all)', 'metadata')
    .option('--full', 'same as --drift full')
    .option('--quick-only', 'compute only quick hashes for new/changed files; full SHA-256 later, on demand')
    .option('--hash-workers <n>', 'hashing threads', '2')
    .option('--json', 'print the scan summary as one JSON document on stdout')
    .addHelpText('after', exitCodesHelp([[ExitCode.Ok, 'scanned'], [ExitCode.Error, 'error or interrupted (the catalog stays consistent)'], ExitCode.InvalidConfig]));
  addConfigOption(cmd);
  cmd.action(async (paths: string[], opts: ScanOpts) => {
    const drift = (opts.full ? 'full' : opts.drift) as DriftPolicy;
    if (!['metadata', 'quick', 'full'].includes(drift)) throw new HashallError(`--drift must be metadata, quick or full (got ${opts.drift})`);
    const workers = Number(opts.hashWorkers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new HashallError(`--hash-workers must be an integer 1..64 (got ${opts.hashWorkers})`);
    const { config } = loadConfigForCommand(opts, ctx);
    const roots = rootsToScan(config, paths, ctx.cwd);
    if (roots.length === 0) throw new HashallError('nothing to scan: no seeding or library roots in the config and no path given');
    const catalog = openCatalog(config.catalog);
    const ac = new AbortController();
    const onSignal = (): void => ac.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const started = ctx.now();
    let lastDraw = 0;
    const progress = ctx.interactive
      ? (p: ScanProgress) => {
          const t = ctx.now();
          if (t - lastDraw < 200) return;
          lastDraw = t;
          ctx.stderr.write(`\r\x1b[K${progressLine(p, t - started)}`);
        }
      : undefined;
    let summary: ScanSummary;
    try {
      summary = await scanRoots(catalog, roots, { drift, quickOnly: Boolean(opts.quickOnly), filesystems: config.filesystems, now: ctx.now, progress, signal: ac.signal, hashWorkers: workers });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (ctx.interactive) ctx.stderr.write('\r\x1b[K');
      catalog.close();
    }
    if (opts.json) ctx.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else ctx.stdout.write(renderSummary(summary));
    for (const p of opts.json ? [] : summary.problems.slice(0, 50)) ctx.stderr.write(`hashall: ${p.code} ${printable(p.path)}: ${printable(p.message)}\n`);
    if (summary.status === 'interrupted') {
      ctx.stderr.write('hashall: scan interrupted; the catalog is consistent, run `hashall scan` again to finish\n');
      throw new HashallError('scan interrupted');
    }
  });
}

export function progressLine(p: ScanProgress, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (p.bytesHashed / elapsedMs) * 1000 : 0;
  const left = Math.max(0, p.bytesToHash - p.bytesHashed);
  const eta = p.walking ? 'walking' : rate > 0 ? `ETA ${formatDuration((left / rate) * 1000)}` : '';
  return `scan ${printable(p.root)}: ${p.filesSeen} files, ${formatBytes(p.bytesSeen)} seen, ${formatBytes(p.bytesHashed)}/${formatBytes(p.bytesToHash)} hashed, ${formatBytes(rate)}/s ${eta}`;
}

export function renderSummary(s: ScanSummary): string {
  const lines = [
    `scan ${s.status} in ${formatDuration(s.durationMs)} (drift ${s.drift}, session ${s.sessionId})`,
    ...s.roots.map((r) => `  ${printable(r.path)} [${r.kind}${r.filesystem.name ? `, ${printable(r.filesystem.name)}` : ''}]${r.coveredBy ? ` covered by ${printable(r.coveredBy)}` : `: ${r.files} files, ${r.deleted} deleted`}`),
    `  files: ${s.filesSeen} seen, ${s.added} added, ${s.changed} changed, ${s.unchanged} unchanged, ${s.deleted} deleted`,
    `  hashed: ${s.filesHashed} files, ${formatBytes(s.bytesHashed)}; symlinks skipped: ${s.symlinks}; problems: ${s.problems.length}`,
    ...s.skippedMounts.map((m) => `  not entered (another filesystem): ${printable(m)}`),
  ];
  return lines.join('\n') + '\n';
}
