// CLI command `hashall dupes`: duplicate content within a filesystem (reclaimable bytes) and, with --cross, across; with --trees, duplicate folder trees and donors.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addConfigOption, loadConfigForCommand, type ConfigOptionValues } from '../config-option.js';
import { openCatalog } from '../../catalog/db.js';
import { crossDupes, localDupes } from '../../catalog/reports.js';
import { HashallError } from '../../errors.js';
import type { HashallConfig } from '../../config/types.js';
import type { CatalogDb } from '../../catalog/db.js';
import { treeDupes } from '../../catalog/tree-dupes.js';
import { unhashedCount } from '../../catalog/files-table.js';
import { filesystemIdNamed } from '../../catalog/filesystems.js';
import { findDonors } from '../../reconcile/tree-donors.js';
import { jsonDocument } from '../../render/json.js';
import { renderDupes, renderTreeDupes } from '../../render/dupes-text.js';

/** `dupes --trees`: duplicate trees under the seeding and library roots, then donors (orphan trees equal to a payload elsewhere). */
function writeTrees(ctx: CliContext, config: HashallConfig, catalog: CatalogDb, json: boolean): void {
  const roots = [...Object.values(config.seeding).flat(), ...config.libraries];
  const index = treeDupes(catalog, roots);
  const donors = findDonors(catalog, config, index, ctx.now());
  const reclaimable = index.groups.reduce((n, g) => n + g.reclaimableBytes, 0);
  if (json) {
    ctx.stdout.write(jsonDocument({ trees: index.groups, reclaimableBytes: reclaimable, unhashedDirs: index.unhashedDirs, donors }));
    return;
  }
  ctx.stdout.write(renderTreeDupes(index, donors, reclaimable));
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
        fsId = filesystemIdNamed(catalog.db, opts.filesystem);
        if (fsId === undefined) {
          throw new HashallError(`filesystem ${JSON.stringify(opts.filesystem)} is not in the catalog`, {
            hint: config.filesystems[opts.filesystem] ? 'scan a root on it first: `hashall scan`' : `configured filesystems: ${Object.keys(config.filesystems).join(', ') || '(none)'}`,
          });
        }
      }
      const local = localDupes(catalog, fsId === undefined ? {} : { fsId });
      const cross = opts.cross ? crossDupes(catalog) : null;
      const reclaimable = local.reduce((n, g) => n + g.reclaimableBytes, 0);
      // Files not hashed yet are not compared: unknown, never "no duplicate" (size-first: no other file has their size).
      const unhashedFiles = unhashedCount(catalog.db);
      if (opts.json) {
        ctx.stdout.write(jsonDocument({ groups: local, reclaimableBytes: reclaimable, unhashedFiles, ...(cross ? { cross } : {}) }));
        return;
      }
      ctx.stdout.write(renderDupes(local, cross, reclaimable, unhashedFiles));
    } finally {
      catalog.close();
    }
  });
}
