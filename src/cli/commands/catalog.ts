// CLI command `hashall catalog stats`: per-filesystem files, bytes, hashed fraction and last scan; whether plan's payload summaries are current.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { catalogStats } from '../../catalog/reports.js';
import { formatBytes } from '../../render/format-bytes.js';
import { printable } from '../../render/escape.js';
import { verificationCoverage } from '../../catalog/integrity.js';
import { renderCoverage } from '../../render/verify-text.js';

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
      const verification = verificationCoverage(catalog, ctx.now() - config.verify.everyMs);
      if (opts.json) {
        ctx.stdout.write(JSON.stringify({ ...s, verification }, null, 2) + '\n');
        return;
      }
      ctx.stdout.write(`catalog ${printable(config.catalog)} (lineage ${s.lineage}, serial ${s.serial})\n`);
      if (s.filesystems.length === 0) ctx.stdout.write('  no filesystems scanned yet; run `hashall scan`\n');
      for (const f of s.filesystems) {
        const last = f.lastScanAt === null ? 'never completed' : new Date(f.lastScanAt).toISOString();
        ctx.stdout.write(
          `  ${printable(f.name ?? '(unnamed)')} ${printable(f.mountPoint)} [${printable(f.fsType)}]: ${f.files} files, ${formatBytes(f.bytes)} (${formatBytes(f.uniqueBytes)} unique), ` +
            `${(f.hashedFraction * 100).toFixed(1)}% hashed, last scan ${last}\n`,
        );
      }
      const sm = s.summaries;
      ctx.stdout.write(
        sm.serial === null
          ? '  payload summaries: none yet (the next `hashall sync` stores them; plan reads every payload file by file until then)\n'
          : sm.current
            ? `  payload summaries: ${sm.payloads}, current (stored by the last sync)\n`
            : `  payload summaries: ${sm.payloads}, stale (stored at serial ${sm.serial}; the catalog changed since — \`hashall sync\` refreshes them)\n`,
      );
      ctx.stdout.write(renderCoverage(verification, config.verify.everyMs));
    } finally {
      catalog.close();
    }
  });
}
