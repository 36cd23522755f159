// External consumers of a payload: hardlinks (same filesystem + inode) outside every seeding root — none / some / unknown.
//
// The rule (decided on catalog rows, which the scanner stores under canonical spellings, so aliases and bind
// mounts of a library compare equal):
//   links(f)   = the canonical paths of every ACTIVE catalog row with f's (filesystem, inode), f itself excluded
//   consumer   = a path in links(f) outside every (canonical) seeding root
//   status     = 'some' when at least one consumer is known (reasons may still list unknown parts — one
//                library link is enough to stay warm, so knowing more cannot change the decision);
//                else 'unknown' when ANY of these holds, else 'none':
//     - the payload has no files in the catalog;
//     - a configured library root on the payload's filesystem (or on a filesystem that cannot be told) has
//       never been completely scanned;
//     - for some file, nlink (the larger of the catalog's and, when checked, the live lstat's) exceeds the
//       number of active catalog paths of that inode: a link lives outside every scanned root. This is unknown,
//       never none, even when every library root was scanned — it may be a library hashall.yaml does not list;
//     - a payload file cannot be lstat'ed, or its inode, size or mtime on disk differs from the catalog (changed since
//       the scan: its catalog hash is no longer evidence of what is on disk).
//   Names in hashall's own trash (`<filesystem>/.hashall-trash/…`, what a retire staged) are hashall's, never consumers:
//   counted on disk when a file has more links than catalog paths, they explain that many of its links.
import { lstatSync } from 'node:fs';
import type { CatalogFile, InodeMeta, SnapshotPayload } from '../domain/snapshot.js';
import { isAtOrUnder } from '../domain/path-string.js';
import { TRASH_DIR, TRASH_SEGMENT } from '../domain/trash-dir.js';
import { inodeNamesInPrivateDir } from '../fs/private-dir-inodes.js';
import { compareBytes } from '../domain/payload-hash.js';
import { fsPathArg } from '../fs/path-encoding.js';
import type { CatalogDb } from './db.js';
import type { HashallConfig } from '../config/types.js';
import { absoluteCatalogPath } from './filesystems.js';

export type Consumers = SnapshotPayload['consumers'];

export interface LibraryScanState {
  /** Canonical path (or best spelling when it cannot be resolved). */
  path: string;
  /** Catalog filesystem id, null when unknown. */
  fsId: number | null;
  scanned: boolean;
}

export interface LiveInode {
  ino: number;
  nlink: number;
  /** Size and mtime (ns, decimal) on disk; compared with the catalog row when present. */
  size?: number;
  mtimeNs?: string;
  /** Owner, group and permission bits on disk (set by liveInode). */
  meta?: InodeMeta;
}

export interface ConsumerInput {
  fsId: number;
  /** The payload's files — or only those whose inode has other rows or links (then give fileCount). */
  files: readonly CatalogFile[];
  /** Number of files of the payload when `files` holds only some of them (default: files.length). */
  fileCount?: number;
  /** Active catalog paths per inode of the payload's files (every path, the file's own included). */
  linksOf: (file: CatalogFile) => readonly string[];
  seedingRoots: readonly string[];
  libraries: readonly LibraryScanState[];
  /** Live inode of a payload file, or an errno code; omitted = not checked. */
  live?: (file: CatalogFile) => LiveInode | { code: string };
  /** Names of an inode of the payload's filesystem that hashall's trash holds, counted on disk now (0 when it cannot be told); omitted = none. */
  trashNames?: (ino: number) => number;
}

/** The three-valued verdict for one payload (see the rule at the top of this file). */
export function consumerVerdict(input: ConsumerInput): Consumers {
  const reasons: string[] = [];
  const paths = new Set<string>();
  if ((input.fileCount ?? input.files.length) === 0) reasons.push('the payload has no files in the catalog');
  for (const lib of input.libraries) {
    if (lib.scanned) continue;
    if (lib.fsId === null || lib.fsId === input.fsId) reasons.push(`library root ${lib.path} has never been scanned`);
  }
  const outside = (p: string) => !input.seedingRoots.some((r) => isAtOrUnder(p, r));
  for (const f of input.files) {
    const links = input.linksOf(f);
    for (const p of links) if (p !== f.path && outside(p) && !p.includes(TRASH_SEGMENT)) paths.add(p);
    let nlink = f.nlink;
    const live = input.live?.(f);
    if (live && 'code' in live) {
      reasons.push(`cannot read ${f.path} (${live.code})`);
      continue;
    }
    if (live) {
      if (live.ino !== f.ino) {
        reasons.push(`${f.path} is inode ${live.ino} on disk but ${f.ino} in the catalog (changed since the scan)`);
        continue;
      }
      if ((live.size !== undefined && live.size !== f.size) || (live.mtimeNs !== undefined && live.mtimeNs !== f.mtimeNs)) {
        reasons.push(`${f.path} changed since the scan (size or modification time differs from the catalog; scan again)`);
        continue;
      }
      nlink = Math.max(nlink, live.nlink);
    }
    const trashNames = input.trashNames;
    const { known, staged } = knownLinks(links, nlink, trashNames && (() => trashNames(f.ino)));
    if (nlink > known) {
      const trash = staged > 0 ? ` and hashall's trash holds ${staged}` : '';
      reasons.push(`${f.path} has ${nlink} links but the catalog knows ${known - staged}${trash}: a link lives outside every scanned root`);
    }
  }
  const list = [...paths].sort(compareBytes);
  if (list.length > 0) return { status: 'some', paths: list, reasons };
  return { status: reasons.length > 0 ? 'unknown' : 'none', paths: [], reasons };
}

/**
 * How many of an inode's `nlink` links hashall knows: its distinct catalog paths — and when they fall short of nlink,
 * the names hashall's trash holds of it, counted on disk (`trashNames`), in place of the trash paths the catalog may
 * also hold (a scanned root containing the trash: each counted once, from the disk). `staged`: the trash's count used.
 */
export function knownLinks(paths: readonly string[], nlink: number, trashNames?: () => number): { known: number; staged: number } {
  const distinct = new Set(paths);
  if (nlink <= distinct.size || trashNames === undefined) return { known: distinct.size, staged: 0 };
  const staged = trashNames();
  if (staged === 0) return { known: distinct.size, staged: 0 };
  let catalogued = 0;
  for (const p of distinct) if (!p.includes(TRASH_SEGMENT)) catalogued += 1;
  return { known: catalogued + staged, staged };
}

/**
 * Per filesystem id, the names hashall's trash (`<configured path>/.hashall-trash`) holds of an inode — consumerVerdict's
 * trashNames — counted on disk when first asked (only a file with more links than catalog paths asks), once per reader.
 * A trash that cannot be read for sure counts no names (the verdict stays unknown).
 */
export function trashNameReader(catalog: CatalogDb, config: HashallConfig): (fsId: number) => (ino: number) => number {
  const names = new Map((catalog.db.prepare(`SELECT id, name FROM filesystems WHERE name IS NOT NULL`).raw(true).all() as [number, string][]).map(([id, n]) => [id, n]));
  const counts = new Map<number, Map<number, number> | null>();
  return (fsId) => (ino) => {
    if (!counts.has(fsId)) {
      const name = names.get(fsId);
      const p = name === undefined ? undefined : config.filesystems[name]?.path;
      counts.set(fsId, p === undefined ? null : inodeNamesInPrivateDir(p, TRASH_DIR));
    }
    return counts.get(fsId)?.get(ino) ?? 0;
  };
}

/** lstat a catalog path: its inode, link count, size and mtime now, or the errno code. */
export function liveInode(file: CatalogFile): LiveInode | { code: string } {
  try {
    const st = lstatSync(fsPathArg(file.path), { bigint: true });
    return {
      ino: Number(st.ino),
      nlink: Number(st.nlink),
      size: Number(st.size),
      mtimeNs: String(st.mtimeNs),
      meta: { uid: Number(st.uid), gid: Number(st.gid), mode: Number(st.mode) & 0o7777 },
    };
  } catch (err) {
    return { code: (err as NodeJS.ErrnoException).code ?? 'EIO' };
  }
}

/** Every active path of one inode. INDEXED BY: without statistics SQLite would scan the filesystem's rows per inode. */
export const INODE_PATHS_SQL = `SELECT f.path AS path, fs.preferred_mount AS mount FROM files f INDEXED BY files_fs_ino JOIN filesystems fs ON fs.id = f.fs_id WHERE f.fs_id = ? AND f.ino = ? AND f.status = 'active'`;

/** A links-per-inode lookup over active catalog rows (prepared once per read; memoized per inode). */
export function inodeLinks(catalog: CatalogDb): (file: CatalogFile) => string[] {
  const stmt = catalog.db.prepare(INODE_PATHS_SQL);
  const memo = new Map<string, string[]>();
  return (file) => {
    const key = `${file.fsId}:${file.ino}`;
    let out = memo.get(key);
    if (!out) {
      out = (stmt.all(file.fsId, file.ino) as { path: string; mount: string }[]).map((r) => absoluteCatalogPath(r.mount, r.path));
      memo.set(key, out);
    }
    return out;
  };
}
