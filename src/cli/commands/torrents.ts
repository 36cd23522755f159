// CLI command `hashall torrents`: each synced torrent with payload, filesystem, siblings, consumers and flags.
import { exitCodesHelp } from '../exit.js';
import { ExitCode } from '../../errors.js';
import { torrentLabel } from '../../domain/instance.js';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { torrentReport, type TorrentReport } from '../../catalog/torrent-report.js';
import { formatBytes } from '../../render/format-bytes.js';
import { printable as p } from '../../render/escape.js';
import { snapshotPlanner } from '../../plan/needs.js';

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
    const catalog = openCatalog(config.catalog);
    let report: TorrentReport;
    try {
      report = torrentReport(catalog, config, snapshotPlanner(config, ctx.now()));
    } finally {
      catalog.close();
    }
    if (opts.json) ctx.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else ctx.stdout.write(renderTorrents(report));
  });
}

export function renderTorrents(r: TorrentReport): string {
  const never = Object.entries(r.clients).filter(([, c]) => c.syncedAt === null).map(([n]) => n);
  if (r.lastSyncAt === null && never.length === Object.keys(r.clients).length) return 'no torrents: the client has never been synced (run `hashall sync`)\n';
  const lines = [`${r.torrents.length} torrent(s), last sync ${r.lastSyncAt === null ? `never for ${never.map((n) => `"${p(n)}"`).join(', ')}` : new Date(r.lastSyncAt).toISOString()}`];
  for (const [name, c] of Object.entries(r.clients)) {
    if (c.failedAt !== null) lines.push(`client "${p(name)}" did not answer its last sync (${p(c.failure ?? '?')}): its torrents below are as last seen, and plans block them`);
  }
  for (const t of r.torrents) {
    lines.push(`${p(t.name)} [${p(torrentLabel(t))}] ${t.phase}${t.category ? `, category ${p(t.category)}` : ''}`);
    if (t.payload) {
      lines.push(`  payload ${p(t.payload.root)} (${p(t.filesystem ?? 'unknown filesystem')}, ${t.payload.kind}, ${t.payload.files} file(s), ${formatBytes(t.payload.bytes)})`);
      lines.push(`  payload hash ${t.payload.payloadHash ?? 'unknown (files without full SHA-256: `hashall sync --hash-missing`)'}; ${t.siblings} sibling(s)`);
    } else lines.push(`  payload: none (${p(t.hostContentPath ?? t.clientContentPath)})`);
    if (t.consumers) {
      const c = t.consumers;
      lines.push(`  external consumers: ${c.status}${c.paths.length ? ` — ${c.paths.map(p).join(', ')}` : ''}`);
      for (const why of c.reasons) lines.push(`    ${p(why)}`);
    }
    if (t.dataStatus !== 'ok' || t.detail) lines.push(`  ${t.dataStatus}: ${p(t.detail ?? '')}`);
  }
  return lines.join('\n') + '\n';
}
