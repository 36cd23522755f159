// CLI command `hashall sync`: record every client instance's torrents in the catalog and map them onto their payloads.
import { exitCodesHelp } from '../exit.js';
import { ExitCode } from '../../errors.js';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { syncInstances, type SyncAllResult, type SyncSummary } from '../../catalog/sync.js';
import { requireClients } from '../../clients/from-config.js';
import { closeAll } from '../../clients/client-set.js';
import type { ClientType } from '../../config/types.js';
import { formatBytes, formatDuration } from '../../render/format-bytes.js';
import { printable as p } from '../../render/escape.js';
import { torrentLabel } from '../../domain/instance.js';

interface SyncOpts extends ConfigOptionValues {
  json?: boolean;
  hashMissing?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('sync')
    .description('read every torrent from every client instance and map each onto its payload in the catalog')
    .option('--hash-missing', 'compute missing full SHA-256 of payload files (complete torrents only) so payload hashes are known')
    .option('--json', 'print the sync summary as one JSON document on stdout')
    .addHelpText(
      'after',
      '\nA client that answers with zero torrents while the catalog knows some is refused (nothing recorded for it).' +
        '\nWith several instances, each is synced; one that fails is recorded as unreachable (plans block the groups touching it) and the others are still synced.' +
        exitCodesHelp([[ExitCode.Ok, 'synced'], [ExitCode.Error, 'error (a client unreachable, refused answer)'], ExitCode.InvalidConfig]),
    );
  addConfigOption(cmd);
  cmd.action(async (opts: SyncOpts) => {
    const { config } = loadConfigForCommand(opts, ctx);
    const clients = requireClients(config, { now: ctx.now });
    const catalog = openCatalog(config.catalog);
    let result: SyncAllResult;
    try {
      result = await syncInstances({
        catalog,
        config,
        clients,
        now: ctx.now,
        hashMissing: Boolean(opts.hashMissing),
        progress: ctx.interactive ? (p) => ctx.stderr.write(`\r\x1b[Ksync: ${p.phase} ${p.done}/${p.total}`) : undefined,
      });
    } finally {
      if (ctx.interactive) ctx.stderr.write('\r\x1b[K');
      await closeAll(clients);
      catalog.close();
    }
    // One instance: its summary, as before `clients:` existed; several: every summary and every failure.
    const single = clients.names.length === 1;
    if (opts.json) {
      const doc = single && result.synced[0] ? result.synced[0] : { instances: result.synced, failed: result.failed.map((f) => ({ client: f.client, error: f.error.message })) };
      if (!single || result.failed.length === 0) ctx.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    } else {
      for (const s of result.synced) ctx.stdout.write(renderSync(s, config.clients[s.client]?.type));
    }
    const failed = result.failed[0];
    if (failed) {
      if (!single) ctx.stderr.write(`sync: ${result.failed.length} of ${clients.names.length} client instance(s) did not answer; groups touching their torrents are blocked until a sync succeeds\n`);
      throw failed.error;
    }
  });
}

const APP: Record<ClientType, string> = { qbittorrent: 'qBittorrent', transmission: 'Transmission', rtorrent: 'rTorrent', deluge: 'Deluge' };

export function renderSync(s: SyncSummary, type?: ClientType): string {
  const st = s.byStatus;
  const lines = [
    `synced ${s.torrents} torrent(s) from ${type ? APP[type] : 'client'} ${s.clientVersion ?? '?'} "${p(s.client)}" in ${formatDuration(s.durationMs)} (session ${s.sessionId}, catalog serial ${s.serial})`,
    `  ${s.added} added, ${s.changed} changed, ${s.unchanged} unchanged, ${s.removed} removed from the client`,
    `  data: ${st.ok} ok, ${st.incomplete} incomplete, ${st.missing} missing, ${st['not-in-catalog']} not in the catalog, ${st.unmapped} unmapped; ${s.hashUnknown} without payload hash`,
  ];
  if (s.hashed) lines.push(`  hashed ${s.hashed.files} payload file(s), ${formatBytes(s.hashed.bytes)}; ${s.hashed.failed.length} failed`);
  for (const f of s.filesystems) lines.push(`  ${p(f.name)}: ${f.freeBytes === null ? `free space unknown (${p(f.problem ?? '?')})` : `${formatBytes(f.freeBytes)} free`}`);
  for (const x of s.problems) lines.push(`  ${x.dataStatus.padEnd(14)} ${p(x.name)} [${p(torrentLabel({ client: s.client, hash: x.hash }))}]: ${p(x.detail ?? '')}`);
  if (s.hashed) for (const f of s.hashed.failed) lines.push(`  hash failed ${f.code} ${p(f.path)}: ${p(f.message)}`);
  return lines.join('\n') + '\n';
}
