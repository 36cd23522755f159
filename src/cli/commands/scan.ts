// CLI command `hashall scan`: incremental catalog scan of given paths or of every configured root.
import { exitCodesHelp } from '../exit.js';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { ExitStatus } from '../exit.js';
import { stopOnSignals, SCAN_WORDS } from '../stop-signals.js';
import { scanSignalHookFromEnv } from '../../apply/crash-hook.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { scanRoots } from '../../catalog/scan/scan-roots.js';
import type { DriftPolicy, ScanSummary } from '../../catalog/scan/types.js';
import { rootsToScan, scanHashMode } from '../../reconcile/refresh.js';
import { HashallError, ExitCode } from '../../errors.js';
import { SCAN_INTERRUPTED, scanProgressLine, scanSummaryView } from '../../render/scan-view.js';
import { progressLine } from '../progress-line.js';
import { writeView } from '../write-view.js';

interface ScanOpts extends ConfigOptionValues {
  full?: boolean;
  drift?: string;
  quickOnly?: boolean;
  hashAll?: boolean;
  json?: boolean;
  hashWorkers?: string;
}

export function register(program: Command, ctx: CliContext, exit: ExitStatus): void {
  const cmd = program
    .command('scan')
    .description('scan files into the catalog (default: every seeding and library root of hashall.yaml)')
    .argument('[path...]', 'directories to scan instead of the configured roots')
    .option('--drift <policy>', 'metadata (same inode+size+mtime keeps hashes) | quick (re-check sampled blocks) | full (re-hash all)', 'metadata')
    .option('--full', 'same as --drift full')
    .option('--quick-only', 'compute only quick hashes for new/changed files; full SHA-256 later, on demand')
    .option('--hash-all', 'full SHA-256 of every new or changed file and of every scanned file not hashed yet, whatever `scan.hash` says (default there: only files whose size another file has)')
    .option('--hash-workers <n>', 'hashing threads', '2')
    .option('--json', 'print the scan summary as one JSON document on stdout')
    .addHelpText('after', exitCodesHelp([[ExitCode.Ok, 'scanned'], ExitCode.Error, ExitCode.InvalidConfig, [ExitCode.Interrupted, 'stopped by Ctrl-C (SIGINT): what was scanned is kept, the catalog consistent'], [ExitCode.Terminated, 'stopped by SIGTERM, the same way']]));
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
    const line = progressLine(ctx, scanProgressLine);
    // The first SIGINT/SIGTERM stops the walk; the files being read are finished and recorded (exit 130/143).
    const stop = stopOnSignals((l) => {
      line?.clear();
      ctx.stderr.write(`hashall: ${l}\n`);
    }, process, SCAN_WORDS);
    let summary: ScanSummary;
    try {
      const progress = scanSignalHookFromEnv(ctx.env, line?.draw);
      summary = await scanRoots(catalog, roots, { drift, quickOnly: Boolean(opts.quickOnly), hash: opts.hashAll ? 'all' : scanHashMode(config), filesystems: config.filesystems, now: ctx.now, ...(progress ? { progress } : {}), signal: stop.signal, hashWorkers: workers });
    } finally {
      stop.dispose();
      line?.clear();
      catalog.close();
    }
    writeView(ctx, scanSummaryView(summary, Boolean(opts.json)));
    if (summary.status === 'interrupted') {
      ctx.stderr.write(SCAN_INTERRUPTED);
      exit.set(stop.exitCode() ?? ExitCode.Error);
    }
  });
}
