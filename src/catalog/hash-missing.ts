// Computes full SHA-256 on demand for catalog files that lack one (e.g. payload files after a --quick-only scan).
import { HashPool } from '../fs/hash.js';
import { fsPathArg } from '../fs/path-encoding.js';
import { isAtOrUnder } from '../domain/path-string.js';
import type { CatalogDb } from './db.js';
import type { FilePathRow } from './files-table.js';


/** Give every active row of one unchanged inode its new hashes. INDEXED BY: without statistics SQLite would scan the filesystem's rows. */
export const SET_INODE_HASH_SQL = `UPDATE files INDEXED BY files_fs_ino SET sha256 = ?, quick_hash = coalesce(quick_hash, ?), hashed_at = ? WHERE fs_id = ? AND ino = ? AND size = ? AND mtime_ns = ? AND status = 'active'`;

export interface HashMissingTarget {
  /** files.id values. */
  fileIds?: number[];
  /** Canonical absolute paths (as the catalog spells them). */
  paths?: string[];
}

export interface HashMissingResult {
  /** File ids whose sha256 is now set (including ids that already had one). */
  hashed: number[];
  /** Files that could not be hashed: unreadable, vanished, or changed since the scan (code ECHANGED: rescan first). */
  failed: { id: number | null; path: string; code: string; message: string }[];
  bytesHashed: number;
}

interface Target extends FilePathRow {
  id: number;
}

/**
 * Fill in missing full hashes for the given active catalog files. The file must still be the recorded inode, with its
 * recorded size and mtime (else ECHANGED, nothing written). Every active row of the same inode with the same metadata gets the hash.
 * Bumps the catalog serial when anything was written.
 */
export async function hashMissing(
  catalog: CatalogDb,
  target: HashMissingTarget,
  opts: { now: () => number; hashWorkers?: number; signal?: AbortSignal; /** A pool to share (the scan's); else one is started and closed here. */ pool?: HashPool },
): Promise<HashMissingResult> {
  const db = catalog.db;
  const out: HashMissingResult = { hashed: [], failed: [], bytesHashed: 0 };
  const byId = db.prepare(`SELECT id, fs_id, ino, size, mtime_ns, sha256, abs_path FROM file_paths WHERE id = ? AND status = 'active'`);
  const byPath = db.prepare(`SELECT id, fs_id, ino, size, mtime_ns, sha256, abs_path FROM file_paths WHERE fs_id = ? AND path = ? AND status = 'active'`);
  const filesystems = db.prepare(`SELECT id, preferred_mount FROM filesystems`).all() as { id: number; preferred_mount: string }[];
  const targets: Target[] = [];
  for (const id of target.fileIds ?? []) {
    const t = byId.get(id) as Target | undefined;
    if (t) targets.push(t);
    else out.failed.push({ id, path: '', code: 'ENOENT', message: `no active catalog file with id ${id}` });
  }
  for (const p of target.paths ?? []) {
    let found: Target | undefined;
    for (const fs of filesystems) {
      if (!isAtOrUnder(p, fs.preferred_mount) || p === fs.preferred_mount) continue;
      const rel = fs.preferred_mount === '/' ? p.slice(1) : p.slice(fs.preferred_mount.length + 1);
      found = byPath.get(fs.id, rel) as Target | undefined;
      if (found) break;
    }
    if (found) targets.push(found);
    else out.failed.push({ id: null, path: p, code: 'ENOENT', message: 'not an active file in the catalog (scan its root first)' });
  }
  const todo = new Map<string, Target[]>();
  for (const t of targets) {
    if (t.sha256 !== null) {
      out.hashed.push(t.id);
      continue;
    }
    const key = `${t.fs_id}:${t.ino}:${t.size}:${t.mtime_ns}`;
    todo.set(key, [...(todo.get(key) ?? []), t]);
  }
  if (todo.size === 0) return out;
  const pool = opts.pool ?? new HashPool({ workers: opts.hashWorkers ?? 2 });
  const update = db.prepare(SET_INODE_HASH_SQL);
  try {
    const results = await Promise.all(
      [...todo.values()].map(async (group) => {
        const t = group[0] as Target;
        if (opts.signal?.aborted) return { group, res: { bytesRead: 0, error: { code: 'EINTR', message: 'aborted' } } };
        // The recorded inode too: another file put at the path since (same size, mtime kept: `cp -p`, `rsync -t`) is not
        // hashed for the inode — its hash would go to every row of it, the other links holding the old bytes.
        const res = await pool.hash({ path: fsPathArg(t.abs_path), quick: true, full: true, size: t.size, mtimeNs: BigInt(t.mtime_ns), ino: BigInt(t.ino) });
        return { group, res };
      }),
    );
    const now = opts.now();
    db.transaction(() => {
      let wrote = false;
      for (const { group, res } of results) {
        out.bytesHashed += res.bytesRead;
        const t = group[0] as Target;
        if (res.error || res.changed || !res.sha256) {
          for (const g of group)
            out.failed.push({
              id: g.id,
              path: g.abs_path,
              code: res.changed ? 'ECHANGED' : (res.error?.code ?? 'EIO'),
              message: res.changed ? 'file changed since it was scanned; rescan it' : (res.error?.message ?? 'unreadable'),
            });
          continue;
        }
        update.run(res.sha256, res.quickHash ?? null, now, t.fs_id, t.ino, t.size, t.mtime_ns);
        wrote = true;
        for (const g of group) out.hashed.push(g.id);
      }
      if (wrote) catalog.bumpSerial();
    })();
  } finally {
    if (!opts.pool) await pool.close();
  }
  return out;
}
