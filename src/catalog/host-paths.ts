// Canonical host spellings for sync and snapshot: the scanner's canonicalization with the config's aliases, and catalog filesystem lookup.
import { lstatSync } from 'node:fs';
import path from 'node:path';
import type { HashallConfig } from '../config/types.js';
import { aliasesFromConfig, applyAliases, canonicalize, type CanonicalLocation, type PathAlias } from '../fs/canonical-path.js';
import { isAtOrUnder } from '../domain/path-string.js';
import { readMountInfo, type MountEntry } from '../fs/mountinfo.js';
import type { CatalogDb } from './db.js';
import type { FilesystemRow } from './filesystems.js';

export interface HostPathContext {
  mounts: MountEntry[];
  aliases: PathAlias[];
  /** Realpaths of the configured filesystem paths (they pick the preferred mount, as in the scanner). */
  preferredPaths: string[];
}

/** Read mountinfo and derive aliases / preferred paths from the config exactly as the scanner does. */
export function hostPathContext(config: Pick<HashallConfig, 'filesystems'>, mountInfoFile?: string): HostPathContext {
  const mounts = readMountInfo(mountInfoFile);
  const preferredPaths: string[] = [];
  for (const fs of Object.values(config.filesystems)) {
    try {
      const loc = canonicalize(fs.path, { mounts, aliases: [], preferredPaths: [] });
      if (loc) preferredPaths.push(loc.realPath);
    } catch {
      /* a configured path that does not exist names no mount */
    }
  }
  return { mounts, aliases: aliasesFromConfig(config.filesystems), preferredPaths };
}

export type HostLocation = { ok: true; loc: CanonicalLocation } | { ok: false; code: string; spelled: string };

/**
 * Canonicalize a host path. By default the final component is not followed (a symlinked payload is never
 * adopted); roots pass `followLast: true`, as the scanner resolves them.
 * On failure returns the errno code and the alias-rewritten spelling (the best canonical guess).
 */
export function locateHostPath(ctx: HostPathContext, hostPath: string, opts: { followLast?: boolean } = {}): HostLocation {
  const spelled = applyAliases(path.posix.resolve(hostPath), ctx.aliases);
  try {
    const loc = canonicalize(hostPath, { ...ctx, followLast: opts.followLast ?? false });
    if (!loc) return { ok: false, code: 'ENOMOUNT', spelled };
    return { ok: true, loc };
  } catch (err) {
    return { ok: false, code: (err as NodeJS.ErrnoException).code ?? 'EIO', spelled };
  }
}

/** Something is at `p` now (its last component not followed: a symlink counts). */
export function entryExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** locateHostPath (the last component not followed) for what must be there now: a location with nothing at it is ENOENT, spelled as located. */
export function locateEntry(ctx: HostPathContext, hostPath: string): HostLocation {
  const where = locateHostPath(ctx, hostPath);
  return where.ok && !entryExists(where.loc.realPath) ? { ok: false, code: 'ENOENT', spelled: where.loc.path } : where;
}

/** The catalog filesystem row a canonical location belongs to: same device and preferred mount, else same device. */
export function filesystemRowFor(catalog: CatalogDb, loc: CanonicalLocation): FilesystemRow | null {
  const rows = catalog.db.prepare(`SELECT * FROM filesystems WHERE dev = ?`).all(loc.mount.majorMinor) as FilesystemRow[];
  return rows.find((r) => r.preferred_mount === loc.preferred.mountPoint) ?? rows[0] ?? null;
}

/** The catalog filesystem whose preferred mount is the longest prefix of a canonical path (pure over the rows). */
export function filesystemByMount<T extends { preferred_mount: string }>(rows: readonly T[], canonical: string): T | null {
  let best: T | null = null;
  for (const r of rows) if (isAtOrUnder(canonical, r.preferred_mount) && (!best || r.preferred_mount.length > best.preferred_mount.length)) best = r;
  return best;
}

/** Path of a canonical absolute path relative to a preferred mount ('' for the mount itself). */
export function relToMount(canonical: string, mount: string): string {
  if (canonical === mount) return '';
  return mount === '/' ? canonical.slice(1) : canonical.slice(mount.length + 1);
}
