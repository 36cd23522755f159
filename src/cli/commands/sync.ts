// CLI command `hashall sync`: record the client's torrents in the catalog and map them onto their payloads.
import { exitCodesHelp } from '../exit.js';
import { ExitCode } from '../../errors.js';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { syncTorrents, type SyncSummary } from '../../catalog/sync.js';
import { clientFromConfig } from '../../clients/from-config.js';
import { formatBytes, formatDuration } from '../../render/format-bytes.js';
import { printable as p } from '../../render/escape.js';

interface SyncOpts extends ConfigOptionValues {
  json?: boolean;
  hashMissing?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('sync')
    .description('read every torrent from the client and map each onto its payload in the catalog')
    .option('--hash-missing', 'compute missing full SHA-256 of payload files (complete torrents only) so payload hashes are known')
    .option('--json', 'print the sync summary as one JSON document on stdout')
    .addHelpText(
      'after',
      '\nA client that answers with zero torrents while the catalog knows some is refused (nothing recorded).' +
        exitCodesHelp([[ExitCode.Ok, 'synced'], [ExitCode.Error, 'error (client unreachable, refused answer)'], ExitCode.InvalidConfig]),
    );
  addConfigOption(cmd);
  cmd.action(async (opts: SyncOpts) => {
    const { config } = loadConfigForCommand(opts, ctx);
    const client = clientFromConfig(config, { now: ctx.now });
    const catalog = openCatalog(config.catalog);
    let summary: SyncSummary;
    try {
      summary = await syncTorrents({
        catalog,
        config,
        client,
        now: ctx.now,
        hashMissing: Boolean(opts.hashMissing),
        progress: ctx.interactive ? (p) => ctx.stderr.write(`\r\x1b[Ksync: ${p.phase} ${p.done}/${p.total}`) : undefined,
      });
    } finally {
      if (ctx.interactive) ctx.stderr.write('\r\x1b[K');
      await client.close();
      catalog.close();
    }
    if (opts.json) ctx.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else ctx.stdout.write(renderSync(summary));
  });
}

export function renderSync(s: SyncSummary): string {
  const st = s.byStatus;
  const lines = [
    `synced ${s.torrents} torrent(s) from qBittorrent ${s.clientVersion ?? '?'} in ${formatDuration(s.durationMs)} (session ${s.sessionId}, catalog serial ${s.serial})`,
    `  ${s.added} added, ${s.changed} changed, ${s.unchanged} unchanged, ${s.removed} removed from the client`,
    `  data: ${st.ok} ok, ${st.incomplete} incomplete, ${st.missing} missing, ${st['not-in-catalog']} not in the catalog, ${st.unmapped} unmapped; ${s.hashUnknown} without payload hash`,
  ];
  if (s.hashed) lines.push(`  hashed ${s.hashed.files} payload file(s), ${formatBytes(s.hashed.bytes)}; ${s.hashed.failed.length} failed`);
  for (const f of s.filesystems) lines.push(`  ${p(f.name)}: ${f.freeBytes === null ? `free space unknown (${p(f.problem ?? '?')})` : `${formatBytes(f.freeBytes)} free`}`);
  for (const x of s.problems) lines.push(`  ${x.dataStatus.padEnd(14)} ${p(x.name)} [${x.hash.slice(0, 8)}]: ${p(x.detail ?? '')}`);
  if (s.hashed) for (const f of s.hashed.failed) lines.push(`  hash failed ${f.code} ${p(f.path)}: ${p(f.message)}`);
  return lines.join('\n') + '\n';
}
