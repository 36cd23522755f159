// CLI command `hashall orphans`: data under the seeding roots that no torrent and no external consumer uses, as trees, from the catalog.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { classifyOrphans } from '../../reconcile/orphans.js';
import { orphansJson, orphansText } from '../../render/orphans-text.js';
import { jsonDocument } from '../../render/json.js';

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('orphans')
    .description('orphan trees under the seeding roots (no torrent, no library hardlink), with what reclaiming them frees; reads the catalog as the last refresh left it')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExit codes: 0 ok (also when orphans exist or nothing can be proven: see "proven"), 1 error, 3 invalid config.');
  addConfigOption(cmd);
  cmd.action((opts: ConfigOptionValues & { json?: boolean }) => {
    const { config } = loadConfigForCommand(opts, ctx);
    const catalog = openCatalog(config.catalog, { readonly: true });
    try {
      const report = classifyOrphans(catalog, config, ctx.now());
      ctx.stdout.write(opts.json ? jsonDocument(orphansJson(report)) : orphansText(report));
    } finally {
      catalog.close();
    }
  });
}
