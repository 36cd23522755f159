// Canonical path spelling: configured aliases, bind mounts and symlinked directories mapped to one preferred form.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { FilesystemConfig } from '../config/types.js';
import { findMountFor, type MountEntry } from './mountinfo.js';
import { isAtOrUnder, normalizePath } from '../domain/path-string.js';

/** A configured alias prefix and the preferred spelling it stands for. */
export interface PathAlias {
  from: string;
  to: string;
}

/** Replace a whole-segment prefix; null when `p` is not under `from` (pure). */
export function rewritePrefix(path: string, prefix: string, to: string): string | null {
  if (!isAtOrUnder(path, prefix)) return null;
  const p = normalizePath(path);
  const from = normalizePath(prefix);
  const rest = p.slice(from === '/' ? 0 : from.length);
  if (to === '/') return rest === '' ? '/' : rest;
  return rest === '' || rest === '/' ? to : to + rest;
}

/** Every `filesystems.<name>.aliases` entry → its `path` (the preferred side) (pure). */
export function aliasesFromConfig(filesystems: Record<string, FilesystemConfig>): PathAlias[] {
  const out: PathAlias[] = [];
  for (const fs of Object.values(filesystems)) for (const a of fs.aliases) out.push({ from: a, to: fs.path });
  return out;
}

/** Rewrite the longest matching alias prefix to its preferred spelling (pure). */
export function applyAliases(p: string, aliases: PathAlias[]): string {
  let best: PathAlias | null = null;
  for (const a of aliases) if (isAtOrUnder(p, a.from) && (!best || a.from.length > best.from.length)) best = a;
  return best ? (rewritePrefix(p, best.from, best.to) as string) : p;
}

/** The path inside the filesystem (starting with '/') of an absolute, symlink-free path shown through `mount` (pure). */
export function fsInternalPath(realPath: string, mount: MountEntry): string {
  const rel = path.posix.relative(mount.mountPoint, realPath);
  return rel === '' ? mount.root : path.posix.join(mount.root, rel);
}

/**
 * The mount whose spelling is canonical for the filesystem `majorMinor` (pure):
 * a mount holding one of `preferredPaths` (the config's `filesystems.<name>.path`, realpath'd) wins,
 * then the mount showing the filesystem's top-most directory (shortest root), then the earliest mount.
 */
export function choosePreferredMount(majorMinor: string, mounts: MountEntry[], preferredPaths: string[]): MountEntry | null {
  const same = mounts.filter((m) => m.majorMinor === majorMinor);
  if (same.length === 0) return null;
  for (const p of preferredPaths) {
    const m = findMountFor(mounts, p);
    if (m && m.majorMinor === majorMinor) return m;
  }
  let best = same[0] as MountEntry;
  for (const m of same) if (m.root.length < best.root.length) best = m;
  return best;
}

/** Canonical absolute spelling of a filesystem-internal path through the preferred mount; null if not visible there (pure). */
export function canonicalFromFsPath(fsPath: string, preferred: MountEntry): string | null {
  return rewritePrefix(fsPath, preferred.root, preferred.mountPoint);
}

export interface CanonicalLocation {
  /** Canonical absolute path. */
  path: string;
  /** Real (symlink-free) path as this process reaches it. */
  realPath: string;
  /** The mount holding realPath, and the preferred mount of the same filesystem. */
  mount: MountEntry;
  preferred: MountEntry;
  /** Path relative to preferred.mountPoint ('' for the mount point itself). */
  rel: string;
}

/**
 * Canonicalize a directory or file path: configured aliases first, then realpath of the directory part (the final
 * component is never followed when `followLast` is false), then the bind-mount mapping to the preferred mount.
 * Throws the realpath error (ENOENT, EACCES) unchanged; returns null if the filesystem is not in `mounts`.
 */
export function canonicalize(
  input: string,
  ctx: { mounts: MountEntry[]; aliases: PathAlias[]; preferredPaths: string[]; followLast?: boolean },
): CanonicalLocation | null {
  const spelled = applyAliases(path.posix.resolve(input), ctx.aliases);
  let realPath: string;
  if (ctx.followLast === false && spelled !== '/') {
    const dir = realpathSync(path.posix.dirname(spelled));
    realPath = path.posix.join(dir, path.posix.basename(spelled));
  } else {
    realPath = realpathSync(spelled);
  }
  const mount = findMountFor(ctx.mounts, realPath);
  if (!mount) return null;
  const preferred = choosePreferredMount(mount.majorMinor, ctx.mounts, ctx.preferredPaths) ?? mount;
  const fsPath = fsInternalPath(realPath, mount);
  let canonical = canonicalFromFsPath(fsPath, preferred);
  let pref = preferred;
  if (canonical === null) {
    // Not visible through the preferred mount (a bind of another subdirectory): keep the mount it was reached by.
    canonical = realPath;
    pref = mount;
  }
  const rel = path.posix.relative(pref.mountPoint, canonical);
  return { path: canonical, realPath, mount, preferred: pref, rel };
}
