// CLI command `hashall catalog stats`: per-filesystem files, bytes, hashed fraction and last scan.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { catalogStats } from '../../catalog/reports.js';
import { formatBytes } from '../../render/format-bytes.js';

export function register(program: Command, ctx: CliContext): void {
  const catalogCmd = program.command('catalog').description('inspect the catalog');
  const stats = catalogCmd
    .command('stats')
    .description('per filesystem: files, bytes, hashed fraction, last scan')
    .option('--json', 'print one JSON document on stdout');
  addConfigOption(stats);
  stats.action((opts: ConfigOptionValues & { json?: boolean }) => {
    const { config } = loadConfigForCommand(opts, ctx);
    const catalog = openCatalog(config.catalog, { readonly: true });
    try {
      const s = catalogStats(catalog);
      if (opts.json) {
        ctx.stdout.write(JSON.stringify(s, null, 2) + '\n');
        return;
      }
      ctx.stdout.write(`catalog ${config.catalog} (lineage ${s.lineage}, serial ${s.serial})\n`);
      if (s.filesystems.length === 0) ctx.stdout.write('  no filesystems scanned yet; run `hashall scan`\n');
      for (const f of s.filesystems) {
        const last = f.lastScanAt === null ? 'never completed' : new Date(f.lastScanAt).toISOString();
        ctx.stdout.write(
          `  ${f.name ?? '(unnamed)'} ${f.mountPoint} [${f.fsType}]: ${f.files} files, ${formatBytes(f.bytes)} (${formatBytes(f.uniqueBytes)} unique), ` +
            `${(f.hashedFraction * 100).toFixed(1)}% hashed, last scan ${last}\n`,
        );
      }
    } finally {
      catalog.close();
    }
  });
}
