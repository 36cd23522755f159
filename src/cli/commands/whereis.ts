// CLI command `hashall whereis`: every copy and hardlink of some content, the torrents using each copy, its consumers.
import { exitCodesHelp } from '../exit.js';
import { ExitCode } from '../../errors.js';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { whereis, type WhereisResult } from '../../catalog/whereis.js';
import { renderWhereis } from '../../render/whereis-text.js';
import { jsonDocument } from '../../render/json.js';

interface WhereisOpts extends ConfigOptionValues {
  json?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('whereis')
    .description('show every copy of some content on every filesystem, its hardlinks, the torrents using each copy and its consumers')
    .argument('<what>', 'an info-hash or payload hash (or a unique prefix of 8+ hex digits), or a path (relative to the current directory)')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nReads the catalog only.' + exitCodesHelp([[ExitCode.Ok, 'found'], [ExitCode.Error, 'nothing matches, or an error'], ExitCode.InvalidConfig]));
  addConfigOption(cmd);
  cmd.action((what: string, opts: WhereisOpts) => {
    const { config } = loadConfigForCommand(opts, ctx);
    const catalog = openCatalog(config.catalog);
    let result: WhereisResult;
    try {
      result = whereis(catalog, config, what, ctx.cwd);
    } finally {
      catalog.close();
    }
    if (opts.json) ctx.stdout.write(jsonDocument(result));
    else ctx.stdout.write(renderWhereis(result));
  });
}
