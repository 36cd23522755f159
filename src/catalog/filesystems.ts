// The filesystems table's owner: records filesystems by stable identity (a changed st_dev or mount updates the row in
// place) and finds them by configured name.
import type { CatalogDb, Db } from './db.js';
import type { HashallConfig } from '../config/types.js';
import type { SnapshotFilesystem } from '../domain/snapshot.js';

export interface FilesystemRow {
  id: number;
  uuid: string;
  dev: string;
  fs_type: string;
  source: string;
  mount_point: string;
  preferred_mount: string;
  preferred_root: string;
  name: string | null;
  free_bytes: number | null;
  total_bytes: number | null;
  /** Birth time (ns) of the root directory at the preferred mount; null when the filesystem reports none (migration 6). */
  root_birth: string | null;
  first_seen: number;
  last_seen: number;
}

export interface ObservedFilesystem {
  uuid: string;
  dev: string;
  fsType: string;
  source: string;
  mountPoint: string;
  preferredMount: string;
  preferredRoot: string;
  name: string | null;
  freeBytes: number | null;
  totalBytes: number | null;
  /** See FilesystemRow.root_birth. */
  rootBirth: string | null;
}

/**
 * Insert or update the filesystem `obs.uuid`. Returns the row and whether identifying fields changed
 * (dev, mount, preferred spelling, name, root birth time) — the caller bumps the serial in the same transaction when they did.
 * Refuses (returns `rootMoved`) when the preferred root differs from the recorded one: catalog paths would shift.
 */
export function recordFilesystem(catalog: CatalogDb, obs: ObservedFilesystem, now: number): { row: FilesystemRow; changed: boolean; rootMoved: boolean } {
  const db = catalog.db;
  const existing = db.prepare(`SELECT * FROM filesystems WHERE uuid = ?`).get(obs.uuid) as FilesystemRow | undefined;
  if (!existing) {
    const info = db
      .prepare(
        `INSERT INTO filesystems (uuid, dev, fs_type, source, mount_point, preferred_mount, preferred_root, name, free_bytes, total_bytes, root_birth, first_seen, last_seen)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(obs.uuid, obs.dev, obs.fsType, obs.source, obs.mountPoint, obs.preferredMount, obs.preferredRoot, obs.name, obs.freeBytes, obs.totalBytes, obs.rootBirth, now, now);
    const row = db.prepare(`SELECT * FROM filesystems WHERE id = ?`).get(Number(info.lastInsertRowid)) as FilesystemRow;
    return { row, changed: true, rootMoved: false };
  }
  if (existing.preferred_root !== obs.preferredRoot) return { row: existing, changed: false, rootMoved: true };
  const changed =
    existing.dev !== obs.dev ||
    existing.mount_point !== obs.mountPoint ||
    existing.preferred_mount !== obs.preferredMount ||
    existing.name !== obs.name ||
    existing.fs_type !== obs.fsType ||
    existing.source !== obs.source ||
    existing.root_birth !== obs.rootBirth;
  db.prepare(
    `UPDATE filesystems SET dev = ?, fs_type = ?, source = ?, mount_point = ?, preferred_mount = ?, name = ?, free_bytes = ?, total_bytes = ?, root_birth = ?, last_seen = ? WHERE id = ?`,
  ).run(obs.dev, obs.fsType, obs.source, obs.mountPoint, obs.preferredMount, obs.name, obs.freeBytes, obs.totalBytes, obs.rootBirth, now, existing.id);
  const row = db.prepare(`SELECT * FROM filesystems WHERE id = ?`).get(existing.id) as FilesystemRow;
  return { row, changed, rootMoved: false };
}

/**
 * A filesystem the catalog knows by its fallback identity `fallback` (type, source, mount point: recorded before
 * hashall could read a stable identity for its type) takes the stable identity `uuid` now read from the same mount —
 * when that row is on the same device number still and no row has `uuid` yet. Every file, root and torrent row keeps
 * pointing at it; the caller bumps the serial when it returns true (plans made before then are stale).
 */
export function adoptStableIdentity(db: Db, fallback: string, uuid: string, dev: string): boolean {
  if (fallback === uuid || db.prepare(`SELECT 1 FROM filesystems WHERE uuid = ?`).get(uuid)) return false;
  return db.prepare(`UPDATE filesystems SET uuid = ? WHERE uuid = ? AND dev = ?`).run(uuid, fallback, dev).changes > 0;
}

/** Exact path-prefix range for "everything under directory `rel`" (never LIKE): `path >= lo AND path < hi`. */
export function prefixRange(rel: string): { lo: string; hi: string } | null {
  if (rel === '') return null;
  return { lo: rel + '/', hi: rel + '0' };
}

/** Canonical absolute path of a catalog row: its filesystem's preferred mount joined with the row's relative path. */
export function absoluteCatalogPath(preferredMount: string, rel: string): string {
  if (rel === '') return preferredMount;
  return preferredMount === '/' ? '/' + rel : preferredMount + '/' + rel;
}

/** The catalog rows of the filesystem configured as `name` (none before its first scan). */
export function filesystemsNamed(db: Db, name: string): FilesystemRow[] {
  return filesystemsNamedReader(db)(name);
}

/** filesystemsNamed with its statement prepared once, for a caller that asks many times (apply's filesystem guard). */
export function filesystemsNamedReader(db: Db): (name: string) => FilesystemRow[] {
  const st = db.prepare(`SELECT * FROM filesystems WHERE name = ?`);
  return (name) => st.all(name) as FilesystemRow[];
}

/** The catalog id of the filesystem configured as `name` (undefined before its first scan). */
export function filesystemIdNamed(db: Db, name: string): number | undefined {
  return db.prepare(`SELECT id FROM filesystems WHERE name = ?`).pluck().get(name) as number | undefined;
}

/** Each catalog filesystem's label by id: its configured name, or null (or its identity, with `orIdentity`) when it has none. */
export function filesystemLabels(db: Db, opts: { orIdentity?: boolean } = {}): Map<number, string | null> {
  const rows = db.prepare(`SELECT id, ${opts.orIdentity ? 'coalesce(name, uuid)' : 'name'} AS name FROM filesystems`).all() as { id: number; name: string | null }[];
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** The id and preferred mount of each catalog row of the filesystem configured as `name` (the statement compiled once). */
export function filesystemMountsReader(db: Db): (name: string) => { id: number; preferred_mount: string }[] {
  const mountsOf = db.prepare(`SELECT id, preferred_mount FROM filesystems WHERE name = ?`);
  return (name) => mountsOf.all(name) as { id: number; preferred_mount: string }[];
}

/**
 * Every recorded filesystem as the planner sees it for `config`: the rows (by id), those whose name `config` declares,
 * and the snapshot's view of each (a name the config no longer declares reads as null).
 */
export function readSnapshotFilesystems(db: Db, config: HashallConfig): { rows: FilesystemRow[]; named: FilesystemRow[]; filesystems: SnapshotFilesystem[] } {
  const rows = db.prepare(`SELECT * FROM filesystems ORDER BY id`).all() as FilesystemRow[];
  const named = rows.filter((r) => r.name !== null && config.filesystems[r.name] !== undefined);
  const filesystems: SnapshotFilesystem[] = rows.map((r) => ({
    id: r.id,
    name: r.name !== null && config.filesystems[r.name] ? r.name : null,
    uuid: r.uuid,
    mountPoint: r.preferred_mount,
    fsType: r.fs_type,
    freeBytes: r.free_bytes,
  }));
  return { rows, named, filesystems };
}
