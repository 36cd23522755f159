// Filesystem rows that must not stand for a configured filesystem: a shadow of an unmounted one is refused, stale rows pruned.
import type { FilesystemConfig } from '../config/types.js';
import { CatalogError } from '../errors.js';
import { canonicalize } from '../fs/canonical-path.js';
import { identifyFilesystem, type IdentityProbes } from '../fs/filesystem-identity.js';
import type { MountEntry } from '../fs/mountinfo.js';
import type { CatalogDb } from './db.js';
import type { FilesystemRow } from './filesystems.js';

const COMPLETED = `EXISTS (SELECT 1 FROM scan_roots s WHERE s.fs_id = fs.id AND s.last_completed_at IS NOT NULL)`;

/**
 * Refuses to record `uuid` under the configured name `name` while the catalog knows `name` as another filesystem that
 * completed a scan: the configured path then shows whatever lies below an unmounted mount point (the system disk),
 * and recording it would leave a row standing for `name` that is not it. Called before anything is recorded.
 */
export function refuseShadow(catalog: CatalogDb, name: string, uuid: string, root: string, mountPoint: string): void {
  const known = catalog.db.prepare(`SELECT * FROM filesystems fs WHERE fs.name = ? AND fs.uuid <> ? AND ${COMPLETED}`).all(name, uuid) as FilesystemRow[];
  if (known.length === 0) return;
  const was = known.map((r) => `${r.uuid} at ${r.preferred_mount}`).join('; ');
  throw new CatalogError(`scan root ${root} is on ${uuid} (mounted at ${mountPoint}), but filesystem ${name} is ${was} in the catalog; nothing was recorded`, {
    hint: `is ${name} mounted? mount it and run the command again (if ${name} was replaced on purpose, start a new catalog: the old one describes the old disk)`,
  });
}

/** Stable identities of the configured filesystems' paths as mounted right now (paths that do not resolve are skipped). */
export function configuredIdentities(filesystems: Record<string, FilesystemConfig>, mounts: MountEntry[], probes: IdentityProbes): Set<string> {
  const out = new Set<string>();
  for (const fs of Object.values(filesystems)) {
    try {
      const loc = canonicalize(fs.path, { mounts, aliases: [], preferredPaths: [] });
      if (loc) out.add(identifyFilesystem(loc.mount, mounts, probes).uuid);
    } catch {
      /* an unresolvable path identifies nothing */
    }
  }
  return out;
}

/**
 * Deletes rows that never completed a scan, hold no file and no torrent, and are not what any configured filesystem
 * path is now (e.g. the system disk recorded under "pool" while the pool was unmounted, after the pool came back).
 * Nothing refers to such a row, so nothing a plan relies on changes. Returns what was removed.
 */
export function pruneStaleFilesystems(catalog: CatalogDb, current: ReadonlySet<string>): FilesystemRow[] {
  const db = catalog.db;
  const candidates = db
    .prepare(
      `SELECT * FROM filesystems fs WHERE NOT EXISTS (SELECT 1 FROM scan_roots s WHERE s.fs_id = fs.id)
         AND NOT EXISTS (SELECT 1 FROM files f WHERE f.fs_id = fs.id) AND NOT EXISTS (SELECT 1 FROM torrents t WHERE t.fs_id = fs.id)`,
    )
    .all() as FilesystemRow[];
  const stale = candidates.filter((r) => !current.has(r.uuid));
  if (stale.length === 0) return [];
  const del = db.prepare(`DELETE FROM filesystems WHERE id = ?`);
  const removed: FilesystemRow[] = [];
  db.transaction(() => {
    for (const r of stale) {
      try {
        del.run(r.id);
        removed.push(r);
      } catch (err) {
        // Anything else that still refers to the row (a foreign key) keeps it: only unreferenced rows go.
        if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_FOREIGNKEY') throw err;
      }
    }
  })();
  return removed;
}
