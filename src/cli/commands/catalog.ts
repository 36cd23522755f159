// CLI command `hashall catalog stats`: per-filesystem files, bytes, hashed fraction and last scan; whether plan's payload summaries are current.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { catalogStats } from '../../catalog/reports.js';
import { verificationCoverage } from '../../catalog/integrity.js';
import { renderCoverage } from '../../render/verify-text.js';
import { renderCatalogStats } from '../../render/catalog-text.js';
import { jsonDocument } from '../../render/json.js';

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
        ctx.stdout.write(jsonDocument({ ...s, verification }));
        return;
      }
      ctx.stdout.write(renderCatalogStats(config.catalog, s) + renderCoverage(verification, config.verify.everyMs));
    } finally {
      catalog.close();
    }
  });
}
