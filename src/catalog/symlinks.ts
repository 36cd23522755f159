// The symlinks table's owner: records the symbolic links a scan finds under its roots and what each names (src/domain/symlink-holds.ts says what they hold).
import { readlinkSync } from 'node:fs';
import path from 'node:path';
import type { SymlinkTarget } from '../domain/symlink-holds.js';
import { bytesToPathText } from '../fs/path-encoding.js';
import type { CatalogDb } from './db.js';
import { absoluteCatalogPath } from './filesystems.js';
import { locateHostPath, type HostPathContext } from './host-paths.js';
import { applyAliases } from '../fs/canonical-path.js';
import { isAtOrUnder } from '../domain/path-string.js';

/** One link a walk found: its path below the filesystem's preferred mount, what readlink returned, what that names. */
export interface SeenSymlink {
  rel: string;
  target: string;
  resolved: string;
}

/** Filesystems whose calls can hang for good on a dead server: a link's target there is never resolved on the host. */
const REMOTE_TYPES = /^(nfs4?|cifs|smb3|smbfs|ncpfs|9p|ceph|glusterfs|afs|sshfs|fuse(\..*)?|fuseblk)$/;

/**
 * Whether resolving `p` on the host could wait on another machine: the mount holding it (by its spelling) is a network
 * or FUSE filesystem that is none of the configured ones (those the scan walks anyway). A link another user plants
 * must not stall an unattended scan on a dead NFS server.
 */
function remoteUnconfigured(ctx: HostPathContext, p: string): boolean {
  let best: { mountPoint: string; fsType: string } | null = null;
  for (const m of ctx.mounts) if (isAtOrUnder(p, m.mountPoint) && (best === null || m.mountPoint.length > best.mountPoint.length)) best = m;
  if (best === null || !REMOTE_TYPES.test(best.fsType)) return false;
  const mount = best.mountPoint;
  return !ctx.preferredPaths.some((fs) => isAtOrUnder(fs, mount) || isAtOrUnder(mount, fs));
}

/**
 * What a link at `linkAbs` (canonical absolute) with contents `target` names on this host, canonically spelled: its
 * directories (and, when there, the named entry itself, through any chain of links) resolved on the host, aliases and
 * bind mounts mapped to the preferred spelling. Nothing is opened or written; what cannot be resolved (nothing is
 * there), or lies on a network or FUSE mount that is no configured filesystem, keeps its lexical spelling with the
 * configured aliases applied.
 */
export function resolveSymlink(ctx: HostPathContext, linkAbs: string, target: string): string {
  const lexical = path.posix.resolve(path.posix.dirname(linkAbs), target);
  const spelled = applyAliases(lexical, ctx.aliases);
  if (remoteUnconfigured(ctx, spelled)) return spelled;
  const full = locateHostPath(ctx, lexical, { followLast: true });
  if (full.ok) return full.loc.path;
  const dirOnly = locateHostPath(ctx, lexical, { followLast: false });
  return dirOnly.ok ? dirOnly.loc.path : full.spelled;
}

/** readlink of a link the walk found (by its exact bytes when not plain UTF-8); null when it is no link any more. */
export function readLink(abs: string | Buffer): string | null {
  try {
    const t = readlinkSync(abs, { encoding: 'buffer' });
    return bytesToPathText(t);
  } catch {
    return null;
  }
}

/**
 * Record the links one root's walk found. A complete walk replaces every row under the root (`rootRel`, '' = the whole
 * filesystem; an exact path-prefix range, never LIKE); an incomplete or interrupted one only adds and updates rows.
 * Returns whether anything changed (the caller bumps the serial in the same transaction).
 */
export function recordSymlinks(catalog: CatalogDb, fsId: number, rootRel: string, seen: readonly SeenSymlink[], complete: boolean, now: number): boolean {
  const under = rootRel === '' ? { lo: '', hi: '\u{10FFFF}' } : { lo: rootRel + '/', hi: rootRel + '0' };
  const before = catalog.statement(`SELECT path, target, resolved FROM symlinks WHERE fs_id = ? AND (path = ? OR (path >= ? AND path < ?))`).all(fsId, rootRel, under.lo, under.hi) as { path: string; target: string; resolved: string }[];
  const old = new Map(before.map((r) => [r.path, r]));
  let changed = false;
  const upsert = catalog.statement(
    `INSERT INTO symlinks (fs_id, path, target, resolved, seen_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (fs_id, path) DO UPDATE SET target = excluded.target, resolved = excluded.resolved, seen_at = excluded.seen_at`,
  );
  for (const s of seen) {
    const o = old.get(s.rel);
    old.delete(s.rel);
    if (o && o.target === s.target && o.resolved === s.resolved) continue;
    upsert.run(fsId, s.rel, s.target, s.resolved, now);
    changed = true;
  }
  if (complete && old.size > 0) {
    const del = catalog.statement(`DELETE FROM symlinks WHERE fs_id = ? AND path = ?`);
    for (const p of old.keys()) del.run(fsId, p);
    changed = true;
  }
  return changed;
}

/** Every recorded link with the host path it names, by canonical absolute paths; links in hashall's trash are not holders. */
export function readSymlinkTargets(catalog: CatalogDb): SymlinkTarget[] {
  const rows = catalog.statement(`SELECT fs.preferred_mount AS mount, s.path AS path, s.resolved AS resolved FROM symlinks s JOIN filesystems fs ON fs.id = s.fs_id ORDER BY s.fs_id, s.path`).all() as {
    mount: string;
    path: string;
    resolved: string;
  }[];
  const out: SymlinkTarget[] = [];
  for (const r of rows) {
    const link = absoluteCatalogPath(r.mount, r.path);
    if (link.includes('/.hashall-trash/')) continue;
    out.push({ link, resolved: r.resolved });
  }
  return out;
}
