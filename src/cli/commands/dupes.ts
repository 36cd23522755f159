// CLI command `hashall dupes`: duplicate content within a filesystem (reclaimable bytes) and, with --cross, across; with --trees, duplicate folder trees and donors.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { crossDupes, localDupes } from '../../catalog/reports.js';
import { formatBytes } from '../../render/format-bytes.js';
import { HashallError } from '../../errors.js';
import { printable } from '../../render/escape.js';
import type { HashallConfig } from '../../config/types.js';
import type { CatalogDb } from '../../catalog/db.js';
import { treeDupes } from '../../catalog/tree-dupes.js';
import { findDonors } from '../../reconcile/tree-donors.js';

/** `dupes --trees`: duplicate trees under the seeding and library roots, then donors (orphan trees equal to a payload elsewhere). */
function writeTrees(ctx: CliContext, config: HashallConfig, catalog: CatalogDb, json: boolean): void {
  const roots = [...Object.values(config.seeding).flat(), ...config.libraries];
  const index = treeDupes(catalog, roots);
  const donors = findDonors(catalog, config, index, ctx.now());
  const reclaimable = index.groups.reduce((n, g) => n + g.reclaimableBytes, 0);
  if (json) {
    ctx.stdout.write(JSON.stringify({ trees: index.groups, reclaimableBytes: reclaimable, unhashedDirs: index.unhashedDirs, donors }, null, 2) + '\n');
    return;
  }
  for (const g of index.groups) {
    ctx.stdout.write(`tree ${formatBytes(g.bytes)} in ${g.files} file(s) × ${g.copies.length} on ${g.filesystems.map(printable).join(', ')}, reclaimable ${formatBytes(g.reclaimableBytes)} tree:${g.treeHash.slice(0, 16)}\n`);
    for (const c of g.copies) ctx.stdout.write(`  ${printable(c.fsName ?? `fs#${c.fsId}`)}: ${printable(c.path)}${c.sameInodesAs ? ` (the same inodes as ${printable(c.sameInodesAs)})` : ''}\n`);
  }
  ctx.stdout.write(`${index.groups.length} duplicate tree group(s), ${formatBytes(reclaimable)} reclaimable within filesystems${index.unhashedDirs ? `; ${index.unhashedDirs} folder(s) not compared (files without a full SHA-256: \`hashall scan --full\`)` : ''}\n`);
  if (!donors.proven) {
    ctx.stdout.write(`donors: none reported — no orphan is proven while: ${donors.blockers.map(printable).join('; ')}\n`);
    return;
  }
  for (const d of donors.donors) {
    ctx.stdout.write(`donor ${printable(d.fs)}: ${printable(d.path)} (${formatBytes(d.bytes)}, ${d.files} file(s), no torrent uses it) holds the payload of\n`);
    for (const t of d.torrents) ctx.stdout.write(`  ${printable(t.name)} (${t.hash.slice(0, 8)}) at ${printable(t.contentPath ?? '?')}${t.fs ? ` on ${printable(t.fs)}` : ''}\n`);
  }
  ctx.stdout.write(`${donors.donors.length} donor(s): orphan trees whose content is a torrent's payload elsewhere\n`);
}

export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('dupes')
    .description('duplicate files (same size and full SHA-256, different inodes) per filesystem')
    .option('--filesystem <name>', 'only this configured filesystem')
    .option('--cross', 'also list content present on more than one filesystem')
    .option('--trees', 'duplicate folder trees instead (same tree hash: the payload-hash formula over the folder), within and across filesystems, and orphan trees holding a torrent\'s payload (donors)')
    .option('--json', 'print one JSON document on stdout');
  addConfigOption(cmd);
  cmd.action((opts: ConfigOptionValues & { filesystem?: string; cross?: boolean; trees?: boolean; json?: boolean }) => {
    const { config } = loadConfigForCommand(opts, ctx);
    const catalog = openCatalog(config.catalog, { readonly: true });
    try {
      if (opts.trees) {
        writeTrees(ctx, config, catalog, opts.json === true);
        return;
      }
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
