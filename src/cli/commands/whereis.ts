// CLI command `hashall whereis`: every copy and hardlink of some content, the torrents using each copy, its consumers.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { whereis, type WhereisResult } from '../../catalog/whereis.js';
import { formatBytes } from '../../render/format-bytes.js';

interface WhereisOpts extends ConfigOptionValues {
  json?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('whereis')
    .description('show every copy of some content on every filesystem, its hardlinks, the torrents using each copy and its consumers')
    .argument('<what>', 'an info-hash, a payload hash, or a path')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nReads the catalog only. Exit codes: 0 found, 1 nothing matches or error, 3 invalid config.');
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
    if (opts.json) ctx.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else ctx.stdout.write(renderWhereis(result));
  });
}

export function renderWhereis(r: WhereisResult): string {
  const lines = [`${r.query} (${r.matched}) → ${r.roots.join(', ')}`, `payload hash ${r.payloadHash ?? 'unknown (files without full SHA-256)'}`];
  for (const f of r.files) {
    lines.push(`${f.relpath} (${formatBytes(f.size)}${f.sha256 ? `, sha256 ${f.sha256.slice(0, 16)}…` : ', no full hash'}): ${f.copies.length} cop${f.copies.length === 1 ? 'y' : 'ies'}`);
    for (const c of f.copies) {
      lines.push(`  ${c.fs ?? `fs#${c.fsId}`} inode ${c.ino} (${c.nlink} link(s))`);
      for (const p of c.paths) lines.push(`    ${p}${c.external.includes(p) ? '   [external]' : ''}`);
      for (const t of c.torrents) lines.push(`    used by ${t.name} [${t.hash.slice(0, 8)}]`);
    }
  }
  lines.push(`torrents: ${r.torrents.length === 0 ? 'none' : ''}`);
  for (const t of r.torrents) lines.push(`  ${t.name} [${t.hash.slice(0, 8)}] ${t.hostContentPath ?? '(no host path)'}`);
  return lines.join('\n') + '\n';
}
