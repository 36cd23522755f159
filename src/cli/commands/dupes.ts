// CLI command `hashall dupes`: duplicate content within a filesystem (reclaimable bytes) and, with --cross, across.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { crossDupes, localDupes } from '../../catalog/reports.js';
import { formatBytes } from '../../render/format-bytes.js';
import { HashallError } from '../../errors.js';
import { printable } from '../../render/escape.js';

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('dupes')
    .description('duplicate files (same size and full SHA-256, different inodes) per filesystem')
    .option('--filesystem <name>', 'only this configured filesystem')
    .option('--cross', 'also list content present on more than one filesystem')
    .option('--json', 'print one JSON document on stdout');
  addConfigOption(cmd);
  cmd.action((opts: ConfigOptionValues & { filesystem?: string; cross?: boolean; json?: boolean }) => {
    const { config } = loadConfigForCommand(opts, ctx);
    const catalog = openCatalog(config.catalog, { readonly: true });
    try {
      let fsId: number | undefined;
      if (opts.filesystem !== undefined) {
        const row = catalog.db.prepare(`SELECT id FROM filesystems WHERE name = ?`).get(opts.filesystem) as { id: number } | undefined;
        if (!row) {
          throw new HashallError(`filesystem ${JSON.stringify(opts.filesystem)} is not in the catalog`, {
            hint: config.filesystems[opts.filesystem] ? 'scan a root on it first: `hashall scan`' : `configured filesystems: ${Object.keys(config.filesystems).join(', ') || '(none)'}`,
          });
        }
        fsId = row.id;
      }
      const local = localDupes(catalog, fsId === undefined ? {} : { fsId });
      const cross = opts.cross ? crossDupes(catalog) : null;
      const reclaimable = local.reduce((n, g) => n + g.reclaimableBytes, 0);
      if (opts.json) {
        ctx.stdout.write(JSON.stringify({ groups: local, reclaimableBytes: reclaimable, ...(cross ? { cross } : {}) }, null, 2) + '\n');
        return;
      }
      for (const g of local) {
        ctx.stdout.write(`${printable(g.fsName ?? `fs#${g.fsId}`)} ${formatBytes(g.size)} × ${g.inodes.length} inodes, reclaimable ${formatBytes(g.reclaimableBytes)} sha256:${g.sha256.slice(0, 16)}\n`);
        for (const i of g.inodes) for (const p of i.paths) ctx.stdout.write(`  ${printable(p)} (inode ${i.ino})\n`);
      }
      ctx.stdout.write(`${local.length} duplicate group(s), ${formatBytes(reclaimable)} reclaimable by hardlinking\n`);
      if (cross) {
        for (const g of cross) {
          ctx.stdout.write(`cross ${formatBytes(g.size)} sha256:${g.sha256.slice(0, 16)}\n`);
          for (const c of g.copies) for (const p of c.paths) ctx.stdout.write(`  ${printable(c.fsName ?? `fs#${c.fsId}`)}: ${printable(p)}\n`);
        }
        ctx.stdout.write(`${cross.length} content group(s) on several filesystems\n`);
      }
    } finally {
      catalog.close();
    }
  });
}
