// Resolves a payload (single file or directory tree) from active catalog rows by canonical root path.
import type { CatalogFile, PayloadFile } from '../domain/snapshot.js';
import type { CatalogDb } from './db.js';
import { prefixRange } from './filesystems.js';
import { absoluteCatalogPath } from './scanner.js';

export interface FileRowOut {
  id: number;
  fs_id: number;
  path: string;
  ino: number;
  size: number;
  mtime_ns: string;
  nlink: number;
  sha256: string | null;
}

export interface ResolvedPayload {
  kind: 'file' | 'dir';
  /** Sorted by relpath bytes as SQLite orders TEXT (memcmp on UTF-8). */
  files: (PayloadFile & { id: number })[];
}

export function toCatalogFile(r: FileRowOut, mount: string): CatalogFile & { id: number } {
  return { id: r.id, fsId: r.fs_id, path: absoluteCatalogPath(mount, r.path), ino: r.ino, size: r.size, mtimeNs: r.mtime_ns, nlink: r.nlink, sha256: r.sha256 };
}

const COLS = `id, fs_id, path, ino, size, mtime_ns, nlink, sha256`;

/** Prepared lookups over `files`; one instance per read, never module state. */
export function payloadReader(catalog: CatalogDb) {
  const exact = catalog.db.prepare(`SELECT ${COLS} FROM files WHERE fs_id = ? AND path = ? AND status = 'active'`);
  const under = catalog.db.prepare(`SELECT ${COLS} FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ? ORDER BY path`);
  const all = catalog.db.prepare(`SELECT ${COLS} FROM files WHERE fs_id = ? AND status = 'active' ORDER BY path`);
  return {
    /**
     * The payload rooted at `rel` (relative to the filesystem's preferred mount `mount`): the active file at exactly
     * that path (single-file), else every active file below it (directory). Null when the catalog has neither.
     */
    resolve(fsId: number, mount: string, rel: string): ResolvedPayload | null {
      if (rel !== '') {
        const f = exact.get(fsId, rel) as FileRowOut | undefined;
        if (f) {
          const base = rel.split('/').pop() as string;
          return { kind: 'file', files: [{ ...toCatalogFile(f, mount), relpath: base }] };
        }
      }
      const range = prefixRange(rel);
      const rows = (range ? under.all(fsId, range.lo, range.hi) : all.all(fsId)) as FileRowOut[];
      if (rows.length === 0) return null;
      const cut = rel === '' ? 0 : rel.length + 1;
      return { kind: 'dir', files: rows.map((r) => ({ ...toCatalogFile(r, mount), relpath: r.path.slice(cut) })) };
    },
    /** Every active file at or below `rel` (occupancy of a target path). */
    atOrUnder(fsId: number, mount: string, rel: string): (CatalogFile & { id: number })[] {
      const out: (CatalogFile & { id: number })[] = [];
      if (rel !== '') {
        const f = exact.get(fsId, rel) as FileRowOut | undefined;
        if (f) out.push(toCatalogFile(f, mount));
      }
      const range = prefixRange(rel);
      for (const r of (range ? under.all(fsId, range.lo, range.hi) : all.all(fsId)) as FileRowOut[]) out.push(toCatalogFile(r, mount));
      return out;
    },
  };
}
