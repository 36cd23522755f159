// Free space per configured filesystem (statfs), recorded on the catalog's filesystems rows with the time measured.
import { statSync } from 'node:fs';
import type { HashallConfig } from '../config/types.js';
import { rootBirthAt } from '../fs/filesystem-identity.js';
import { devToMajorMinor } from '../fs/mountinfo.js';
import { spaceOf } from '../fs/statfs.js';
import type { CatalogDb } from './db.js';

export interface FreeSpace {
  name: string;
  fsId: number | null;
  /** Null when unknown: never scanned, path missing, or the path is on another filesystem than the catalog's (not mounted?). */
  freeBytes: number | null;
  problem: string | null;
}

/**
 * Measure each configured filesystem through its configured path. The measurement is trusted only when that
 * path is on the device (and root) the catalog recorded for the filesystem — an unmounted pool would otherwise report the
 * root filesystem's space. Free space is a measurement, not catalog content: it never bumps the serial.
 */
export function measureFreeSpace(catalog: CatalogDb, config: Pick<HashallConfig, 'filesystems'>, now: number): FreeSpace[] {
  const byName = catalog.db.prepare(`SELECT id, dev, preferred_mount, root_birth FROM filesystems WHERE name = ? ORDER BY last_seen DESC`);
  const update = catalog.db.prepare(`UPDATE filesystems SET free_bytes = ?, total_bytes = coalesce(?, total_bytes), free_at = ? WHERE id = ?`);
  const out: FreeSpace[] = [];
  for (const fs of Object.values(config.filesystems).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const rows = byName.all(fs.name) as { id: number; dev: string; preferred_mount: string; root_birth: string | null }[];
    if (rows.length === 0) {
      out.push({ name: fs.name, fsId: null, freeBytes: null, problem: `filesystem ${fs.name} is not in the catalog yet (run \`hashall scan\`)` });
      continue;
    }
    let dev: string;
    try {
      dev = devToMajorMinor(statSync(fs.path, { bigint: true }).dev);
    } catch (err) {
      for (const r of rows) update.run(null, null, now, r.id);
      out.push({ name: fs.name, fsId: rows[0]!.id, freeBytes: null, problem: `${fs.path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'EIO'})` });
      continue;
    }
    // Same device is not enough: a tmpfs mounted in place of another gets the freed device number (root birth time differs).
    const row = rows.find((r) => r.dev === dev && (r.root_birth === null || rootBirthAt(r.preferred_mount, dev) === r.root_birth));
    if (!row) {
      for (const r of rows) update.run(null, null, now, r.id);
      out.push({ name: fs.name, fsId: rows[0]!.id, freeBytes: null, problem: `${fs.path} is on device ${dev}, not on the filesystem the catalog recorded (not mounted?)` });
      continue;
    }
    const space = spaceOf(fs.path);
    update.run(space.freeBytes, space.totalBytes, now, row.id);
    out.push({ name: fs.name, fsId: row.id, freeBytes: space.freeBytes, problem: null });
  }
  return out;
}
