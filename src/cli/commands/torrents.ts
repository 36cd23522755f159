// CLI command `hashall torrents`: each synced torrent with payload, filesystem, siblings, consumers and flags.
import { exitCodesHelp } from '../exit.js';
import { ExitCode } from '../../errors.js';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { torrentReport, type TorrentReport } from '../../catalog/torrent-report.js';
import { renderTorrents } from '../../render/torrents-text.js';
import { snapshotPlanner } from '../../plan/needs.js';
import { jsonDocument } from '../../render/json.js';
import { requireClientSection } from '../../config/require-client.js';

interface TorrentsOpts extends ConfigOptionValues {
  json?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('torrents')
    .description('list the torrents of the last sync with payload, filesystem, siblings and external consumers')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nReads the catalog only (run `hashall sync` to refresh).' + exitCodesHelp([[ExitCode.Ok, 'listed'], ExitCode.Error, ExitCode.InvalidConfig]));
  addConfigOption(cmd);
  cmd.action((opts: TorrentsOpts) => {
    const { config } = loadConfigForCommand(opts, ctx);
    // Without a client there are no torrents to list, and `hashall sync` (what an empty list would suggest) fails too.
    requireClientSection(config);
    const catalog = openCatalog(config.catalog);
    let report: TorrentReport;
    try {
      report = torrentReport(catalog, config, snapshotPlanner(config, ctx.now()));
    } finally {
      catalog.close();
    }
    if (opts.json) ctx.stdout.write(jsonDocument(report));
    else ctx.stdout.write(renderTorrents(report));
  });
}
