// CLI command `hashall sync`: record every client instance's torrents in the catalog and map them onto their payloads.
import { exitCodesHelp } from '../exit.js';
import { ExitCode, HashallError } from '../../errors.js';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { syncInstances, type SyncAllResult } from '../../catalog/sync.js';
import { requireClients } from '../../clients/from-config.js';
import { closeAll } from '../../clients/client-set.js';
import { renderSync, syncFailedLine, syncProgressLine } from '../../render/sync-text.js';
import { progressLine } from '../progress-line.js';
import { jsonDocument } from '../../render/json.js';

interface SyncOpts extends ConfigOptionValues {
  json?: boolean;
  hashMissing?: boolean;
  acceptEmpty?: string[];
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('sync')
    .description('read every torrent from every client instance and map each onto its payload in the catalog')
    .option('--hash-missing', 'compute missing full SHA-256 of payload files (complete torrents only) so payload hashes are known')
    .option('--json', 'print the sync summary as one JSON document on stdout')
    .option('--accept-empty <client>', 'this instance really has no torrents now (every one removed): record them as removed (repeatable)', collect)
    .addHelpText(
      'after',
      '\nA client that answers with zero torrents while the catalog knows some is refused (nothing recorded for it), unless named with --accept-empty.' +
        '\nWith several instances, each is synced; one that fails is recorded as unreachable (plans block the groups touching it) and the others are still synced.' +
        exitCodesHelp([[ExitCode.Ok, 'synced'], [ExitCode.Error, 'error (a client unreachable, refused answer)'], ExitCode.InvalidConfig]),
    );
  addConfigOption(cmd);
  cmd.action(async (opts: SyncOpts) => {
    const { config } = loadConfigForCommand(opts, ctx);
    const names = Object.keys(config.clients);
    for (const n of opts.acceptEmpty ?? []) {
      if (!names.includes(n)) throw new HashallError(`--accept-empty ${n}: no client instance "${n}" in hashall.yaml (its instances: ${names.join(', ') || 'none'})`);
    }
    const clients = requireClients(config, { now: ctx.now });
    const catalog = openCatalog(config.catalog);
    let result: SyncAllResult;
    const line = progressLine(ctx, syncProgressLine);
    try {
      result = await syncInstances({
        catalog,
        config,
        clients,
        now: ctx.now,
        hashMissing: Boolean(opts.hashMissing),
        acceptEmpty: opts.acceptEmpty ?? [],
        progress: line?.draw,
      });
    } finally {
      line?.clear();
      await closeAll(clients);
      catalog.close();
    }
    // One instance: its summary, as before `clients:` existed; several: every summary and every failure.
    const single = clients.names.length === 1;
    if (opts.json) {
      const doc = single && result.synced[0] ? result.synced[0] : { instances: result.synced, failed: result.failed.map((f) => ({ client: f.client, error: f.error.message })) };
      if (!single || result.failed.length === 0) ctx.stdout.write(jsonDocument(doc));
    } else {
      for (const s of result.synced) ctx.stdout.write(renderSync(s, config.clients[s.client]?.type));
    }
    const failed = result.failed[0];
    if (failed) {
      if (!single) ctx.stderr.write(syncFailedLine(result.failed.length, clients.names.length));
      throw failed.error;
    }
  });
}
