// CLI command `hashall reclaim`: bytes reclaimable per filesystem by dedupe, by orphan retirement and by cross-filesystem duplicates, from the catalog.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { reclaim } from '../../reconcile/reclaim.js';
import { reclaimText } from '../../render/reclaim-text.js';
import { jsonDocument } from '../../render/json.js';

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('reclaim')
    .description('bytes reclaimable per filesystem: by dedupe, by orphan retirement, by cross-filesystem duplicates; reads the catalog as the last refresh left it')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExit codes: 0 ok, 1 error, 3 invalid config.');
  addConfigOption(cmd);
  cmd.action((opts: ConfigOptionValues & { json?: boolean }) => {
    const { config } = loadConfigForCommand(opts, ctx);
    const catalog = openCatalog(config.catalog, { readonly: true });
    try {
      const report = reclaim(catalog, config, ctx.now());
      ctx.stdout.write(opts.json ? jsonDocument(report) : reclaimText(report));
    } finally {
      catalog.close();
    }
  });
}
