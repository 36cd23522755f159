// Read-only reports over the catalog: per-filesystem statistics and duplicate groups (within and across filesystems).
import type { CatalogDb } from './db.js';
import { summaryState, type SummaryStats } from './payload-summary.js';

export interface FilesystemStats {
  id: number;
  name: string | null;
  uuid: string;
  fsType: string;
  mountPoint: string;
  files: number;
  /** Sum of sizes over active paths (hardlinks counted per path). */
  bytes: number;
  /** Sum of sizes over distinct inodes (what the files occupy). */
  uniqueBytes: number;
  /** Fraction of active files with a full SHA-256 (1 when there are none). */
  hashedFraction: number;
  deletedFiles: number;
  /** Epoch ms of the last completed scan of any root on this filesystem; null = never. */
  lastScanAt: number | null;
}

export function catalogStats(catalog: CatalogDb): { lineage: string; serial: number; filesystems: FilesystemStats[]; summaries: SummaryStats } {
  const rows = catalog.db
    .prepare(
      `SELECT fs.id, fs.name, fs.uuid, fs.fs_type, fs.preferred_mount,
         (SELECT count(*) FROM files f WHERE f.fs_id = fs.id AND f.status = 'active') AS files,
         (SELECT coalesce(sum(size), 0) FROM files f WHERE f.fs_id = fs.id AND f.status = 'active') AS bytes,
         (SELECT coalesce(sum(size), 0) FROM (SELECT max(size) AS size FROM files f WHERE f.fs_id = fs.id AND f.status = 'active' GROUP BY ino)) AS unique_bytes,
         (SELECT count(*) FROM files f WHERE f.fs_id = fs.id AND f.status = 'active' AND f.sha256 IS NOT NULL) AS hashed,
         (SELECT count(*) FROM files f WHERE f.fs_id = fs.id AND f.status = 'deleted') AS deleted,
         (SELECT max(last_completed_at) FROM scan_roots r WHERE r.fs_id = fs.id) AS last_scan
       FROM filesystems fs ORDER BY fs.name IS NULL, fs.name, fs.preferred_mount`,
    )
    .all() as {
    id: number;
    name: string | null;
    uuid: string;
    fs_type: string;
    preferred_mount: string;
    files: number;
    bytes: number;
    unique_bytes: number;
    hashed: number;
    deleted: number;
    last_scan: number | null;
  }[];
  return {
    lineage: catalog.lineage,
    serial: catalog.serial(),
    filesystems: rows.map((r) => ({
      id: r.id,
      name: r.name,
      uuid: r.uuid,
      fsType: r.fs_type,
      mountPoint: r.preferred_mount,
      files: r.files,
      bytes: r.bytes,
      uniqueBytes: r.unique_bytes,
      hashedFraction: r.files === 0 ? 1 : r.hashed / r.files,
      deletedFiles: r.deleted,
      lastScanAt: r.last_scan,
    })),
    summaries: summaryState(catalog),
  };
}

export interface DupeInode {
  ino: number;
  nlink: number;
  paths: string[];
}
export interface LocalDupeGroup {
  fsId: number;
  fsName: string | null;
  size: number;
  sha256: string;
  inodes: DupeInode[];
  /** Bytes freed by hardlinking every inode to one keeper: size × (inodes − 1). */
  reclaimableBytes: number;
}
export interface CrossDupeGroup {
  size: number;
  sha256: string;
  copies: { fsId: number; fsName: string | null; paths: string[] }[];
}

/**
 * The rows of one local duplicate group (fs_id, size, sha256), found by content (files_sha): `+fs_id` keeps SQLite from
 * choosing the inode index on fs_id alone, which read every row of the filesystem per group.
 */
export const LOCAL_DUPE_MEMBERS_SQL = `SELECT ino, nlink, abs_path FROM file_paths WHERE +fs_id = ? AND size = ? AND sha256 = ? AND status = 'active' ORDER BY ino, abs_path`;

/** Same size + full SHA-256 with different inodes on one filesystem (active rows, size > 0). */
export function localDupes(catalog: CatalogDb, opts: { fsId?: number } = {}): LocalDupeGroup[] {
  const groups = catalog.db
    .prepare(
      `SELECT fs_id, size, sha256 FROM files WHERE status = 'active' AND sha256 IS NOT NULL AND size > 0 ${opts.fsId === undefined ? '' : 'AND fs_id = @fsId'}
       GROUP BY fs_id, size, sha256 HAVING count(DISTINCT ino) > 1 ORDER BY size * (count(DISTINCT ino) - 1) DESC, sha256`,
    )
    .all(opts.fsId === undefined ? {} : { fsId: opts.fsId }) as { fs_id: number; size: number; sha256: string }[];
  const members = catalog.db.prepare(LOCAL_DUPE_MEMBERS_SQL);
  const names = fsNames(catalog);
  return groups.map((g) => {
    const inodes = new Map<number, DupeInode>();
    for (const m of members.all(g.fs_id, g.size, g.sha256) as { ino: number; nlink: number; abs_path: string }[]) {
      const e = inodes.get(m.ino) ?? { ino: m.ino, nlink: m.nlink, paths: [] };
      e.paths.push(m.abs_path);
      inodes.set(m.ino, e);
    }
    return { fsId: g.fs_id, fsName: names.get(g.fs_id) ?? null, size: g.size, sha256: g.sha256, inodes: [...inodes.values()], reclaimableBytes: g.size * (inodes.size - 1) };
  });
}

/** The same content (size + full SHA-256) present on more than one filesystem. */
export function crossDupes(catalog: CatalogDb): CrossDupeGroup[] {
  const groups = catalog.db
    .prepare(
      `SELECT size, sha256 FROM files WHERE status = 'active' AND sha256 IS NOT NULL AND size > 0
       GROUP BY size, sha256 HAVING count(DISTINCT fs_id) > 1 ORDER BY size DESC, sha256`,
    )
    .all() as { size: number; sha256: string }[];
  const members = catalog.db.prepare(`SELECT fs_id, abs_path FROM file_paths WHERE size = ? AND sha256 = ? AND status = 'active' ORDER BY fs_id, abs_path`);
  const names = fsNames(catalog);
  return groups.map((g) => {
    const copies = new Map<number, { fsId: number; fsName: string | null; paths: string[] }>();
    for (const m of members.all(g.size, g.sha256) as { fs_id: number; abs_path: string }[]) {
      const e = copies.get(m.fs_id) ?? { fsId: m.fs_id, fsName: names.get(m.fs_id) ?? null, paths: [] };
      e.paths.push(m.abs_path);
      copies.set(m.fs_id, e);
    }
    return { size: g.size, sha256: g.sha256, copies: [...copies.values()] };
  });
}

function fsNames(catalog: CatalogDb): Map<number, string | null> {
  return new Map((catalog.db.prepare(`SELECT id, name FROM filesystems`).all() as { id: number; name: string | null }[]).map((r) => [r.id, r.name]));
}
