// Duplicate folder trees from the catalog: the tree hash of every directory under the configured roots (the payload-hash formula over its subtree's files), grouped within and across filesystems.
// One pass over the active files in path order: the files under a directory are contiguous in that order and come in
// the byte order of their relpaths, so each open directory feeds its payload-hash lines to its own SHA-256 as they
// come (memory: the directories, never the files). A directory with a file lacking a full SHA-256 has no tree hash.
import { createHash, type Hash } from 'node:crypto';
import type { CatalogDb } from './db.js';
import { payloadLine } from '../domain/payload-hash.js';
import { dirName, longestRootOf } from '../domain/path-string.js';
import { TRASH_SEGMENT } from '../domain/trash-dir.js';

export interface TreeCopy {
  fsId: number;
  fsName: string | null;
  path: string;
  /** Directories of this group with exactly the same inodes at the same relpaths (hardlinked views) are one copy. */
  sameInodesAs: string | null;
}

export interface TreeDupeGroup {
  treeHash: string;
  files: number;
  bytes: number;
  copies: TreeCopy[];
  /** Filesystem names (or `fs#ID`) holding a copy. */
  filesystems: string[];
  /** Bytes freed on each filesystem by keeping one copy of the tree there (distinct copies − 1, each its bytes). */
  reclaimableBytes: number;
}

export interface TreeIndex {
  groups: TreeDupeGroup[];
  /** Tree hash of a directory (`fsId\0path`), for every directory below a root whose files are all fully hashed. */
  hashOf(fsId: number, dir: string): string | null;
  /** Directories with at least one file lacking a full SHA-256 (no tree hash). */
  unhashedDirs: number;
}

interface Open {
  fsId: number;
  path: string;
  hash: Hash;
  inodes: Hash;
  files: number;
  bytes: number;
  unknown: boolean;
}

interface Tree {
  fsId: number;
  path: string;
  files: number;
  bytes: number;
  inodeKey: string;
}

/**
 * Every directory strictly below one of `roots` (seeding and library roots, canonical) with its tree hash; groups of two
 * or more directories with the same tree hash and different inodes, the top-most only: a group whose every copy sits
 * directly in a distinct copy of one reported group (the subfolders of duplicate trees) is left out.
 */
export function treeDupes(catalog: CatalogDb, roots: readonly string[]): TreeIndex {
  const db = catalog.db;
  const names = new Map((db.prepare(`SELECT id, name FROM filesystems`).all() as { id: number; name: string | null }[]).map((r) => [r.id, r.name]));
  const byHash = new Map<string, Tree[]>();
  const hashes = new Map<string, string>();
  let unhashedDirs = 0;
  const stack: Open[] = [];
  const close = (): void => {
    const o = stack.pop()!;
    if (o.unknown) {
      unhashedDirs++;
      return;
    }
    const h = o.hash.digest('hex');
    hashes.set(`${o.fsId}\0${o.path}`, h);
    const list = byHash.get(h) ?? [];
    list.push({ fsId: o.fsId, path: o.path, files: o.files, bytes: o.bytes, inodeKey: `${o.fsId}:${o.inodes.digest('hex')}` });
    byHash.set(h, list);
  };
  const rows = db
    .prepare(
      `SELECT f.fs_id AS fsId, CASE WHEN fs.preferred_mount = '/' THEN '/' || f.path ELSE fs.preferred_mount || '/' || f.path END AS abs, f.ino, f.size, f.sha256
       FROM files f JOIN filesystems fs ON fs.id = f.fs_id WHERE f.status = 'active' ORDER BY f.fs_id, f.path`,
    )
    .iterate() as IterableIterator<{ fsId: number; abs: string; ino: number; size: number; sha256: string | null }>;
  for (const r of rows) {
    const root = longestRootOf(r.abs, roots);
    const dirs: string[] = [];
    if (root !== null && !r.abs.includes(TRASH_SEGMENT)) for (let d = dirName(r.abs); d.length > root.length; d = dirName(d)) dirs.push(d);
    dirs.reverse();
    let keep = 0;
    while (keep < stack.length && keep < dirs.length && stack[keep]!.fsId === r.fsId && stack[keep]!.path === dirs[keep]) keep++;
    while (stack.length > keep) close();
    for (const d of dirs.slice(keep)) stack.push({ fsId: r.fsId, path: d, hash: createHash('sha256'), inodes: createHash('sha256'), files: 0, bytes: 0, unknown: false });
    for (const o of stack) {
      o.files++;
      o.bytes += r.size;
      if (r.sha256 === null || r.sha256 === '') o.unknown = true;
      if (o.unknown) continue;
      o.hash.update(payloadLine({ relpath: r.abs.slice(o.path.length + 1), size: r.size, sha256: r.sha256 }), 'utf8');
      o.inodes.update(`${r.ino}\n`);
    }
  }
  while (stack.length) close();

  const candidates = new Map<string, Tree[]>();
  for (const [h, list] of byHash) if (new Set(list.map((t) => t.inodeKey)).size > 1) candidates.set(h, list);
  const groups: TreeDupeGroup[] = [];
  for (const [h, list] of candidates) {
    const parents = list.map((t) => hashes.get(`${t.fsId}\0${dirName(t.path)}`));
    const parentKeys = new Set(list.map((t) => `${t.fsId}\0${dirName(t.path)}`));
    const nested = parents.every((p) => p !== undefined && p === parents[0] && candidates.has(p)) && parentKeys.size === list.length;
    if (nested) continue;
    const first = new Map<string, string>();
    const copies = list.map((t) => {
      const same = first.get(t.inodeKey) ?? null;
      if (!same) first.set(t.inodeKey, t.path);
      return { fsId: t.fsId, fsName: names.get(t.fsId) ?? null, path: t.path, sameInodesAs: same };
    });
    const perFs = new Map<number, Set<string>>();
    for (const t of list) perFs.set(t.fsId, (perFs.get(t.fsId) ?? new Set()).add(t.inodeKey));
    const reclaimable = [...perFs.values()].reduce((n, keys) => n + (keys.size - 1) * list[0]!.bytes, 0);
    groups.push({
      treeHash: h,
      files: list[0]!.files,
      bytes: list[0]!.bytes,
      copies,
      filesystems: [...perFs.keys()].map((id) => names.get(id) ?? `fs#${id}`),
      reclaimableBytes: reclaimable,
    });
  }
  groups.sort((a, b) => b.bytes * (b.copies.length - 1) - a.bytes * (a.copies.length - 1) || (a.treeHash < b.treeHash ? -1 : 1));
  return { groups, hashOf: (fsId, dir) => hashes.get(`${fsId}\0${dir}`) ?? null, unhashedDirs };
}
