// Root resolution of a scan: canonicalize each root, pick the spelling it is walked by, identify and record its
// filesystem, apply the guards that refuse a root on the wrong filesystem before anything is recorded, and mark roots
// already covered by another root.
import { KERNEL_PSEUDO_FS } from '../../fs/pseudo-fs.js';
import { refusedFs } from '../../fs/refused-fs.js';
import { lstatSync, realpathSync } from 'node:fs';
import { CatalogError, errnoCode } from '../../errors.js';
import { aliasesFromConfig, canonicalize, choosePreferredMount, type CanonicalLocation } from '../../fs/canonical-path.js';
import { isAtOrUnder } from '../../domain/path-string.js';
import { fallbackIdentity, identifyFilesystem, rootBirthAt, type FilesystemIdentity, type IdentityProbes } from '../../fs/filesystem-identity.js';
import { devToMajorMinor, unmountedSubvolume, type MountEntry } from '../../fs/mountinfo.js';
import { spaceOf } from '../../fs/statfs.js';
import type { CatalogDb } from '../db.js';
import { adoptStableIdentity, recordFilesystem, type FilesystemRow } from '../filesystems.js';
import { refuseShadow } from '../stale-filesystems.js';
import type { ScanOptions, ScanRootSpec, ScanRootSummary } from './types.js';
import { errnoWords } from '../../domain/errno-words.js';


export interface ResolvedRoot {
  spec: ScanRootSpec;
  loc: CanonicalLocation;
  fs: FilesystemRow;
  coveredBy: string | null;
  /** The directory (or file) the walk reads: its canonical path, which may differ from how the root was spelled (see walkSpelling). */
  walkPath: string;
  /** The root is one regular file (ad-hoc refresh of a one-file payload): never recorded as a scanned root. */
  single: boolean;
}

export function rootSummary(r: ResolvedRoot, files: number, deleted: number): ScanRootSummary {
  return {
    input: r.spec.path,
    path: r.loc.path,
    kind: r.spec.kind,
    filesystem: { id: r.fs.id, uuid: r.fs.uuid, name: r.fs.name },
    coveredBy: r.coveredBy,
    files,
    deleted,
  };
}

/**
 * Refuses (before anything is recorded) a root that is not on the filesystem the catalog knows as `name`: same stable
 * identity, device and root birth time. Apply's bookkeeping scans with this, so it can never register another
 * filesystem — the disk below an unmounted pool, a tmpfs mounted in its place — under the configured name.
 */
function expectKnown(catalog: CatalogDb, name: string, root: string, ident: FilesystemIdentity, rootBirth: string | null, mountPoint: string): void {
  const known = catalog.statement(`SELECT * FROM filesystems WHERE name = ?`).all(name) as FilesystemRow[];
  if (known.some((r) => r.uuid === ident.uuid && r.dev === ident.dev && r.root_birth === rootBirth)) return;
  const was = known.map((r) => `${r.uuid} at ${r.preferred_mount}, device ${r.dev}`).join('; ') || 'nothing yet';
  throw new CatalogError(`${root} is on ${ident.uuid} (device ${ident.dev}, mounted at ${mountPoint}), not on filesystem ${name} as the catalog knows it (${was}); nothing was recorded`, {
    hint: `is ${name} mounted? mount it and run \`hashall scan\``,
  });
}

/** The configured filesystems' paths as mounted now (realpath'd: what picks a preferred mount), and their names by device. */
export function configuredMounts(filesystems: ScanOptions['filesystems'], mounts: MountEntry[]): { preferredPaths: string[]; nameByDev: Map<string, string> } {
  const preferredPaths: string[] = [];
  const nameByDev = new Map<string, string>();
  for (const fs of Object.values(filesystems)) {
    try {
      const loc = canonicalize(fs.path, { mounts, aliases: [], preferredPaths: [] });
      if (!loc) continue;
      preferredPaths.push(loc.realPath);
      if (!nameByDev.has(loc.mount.majorMinor)) nameByDev.set(loc.mount.majorMinor, fs.name);
    } catch {
      /* a configured filesystem path that does not exist cannot name anything */
    }
  }
  return { preferredPaths, nameByDev };
}

/**
 * The path a root is walked by: its canonical path, where the catalog records its files. A root reached through another
 * mount of its filesystem (a bind alias) is walked through the preferred mount instead, when that path is the very same
 * directory: a bind made without --rbind shows the directories that sub-mounts of the canonical tree cover, so walking
 * the alias would record rows at canonical paths that hold something else (and, skipped there as "under a mount",
 * they would stay active for good). Null when the canonical path is not that directory — a mount covers it there, and
 * the root's files have no canonical spelling at all.
 */
export function walkSpelling(loc: CanonicalLocation): string | null {
  if (loc.mount.mountId === loc.preferred.mountId) return loc.realPath;
  try {
    // Symlink-free as well: a mount over a folder above could hold a symlink leading back to the same directory.
    if (realpathSync(loc.path) !== loc.path) return null;
    const reached = lstatSync(loc.realPath, { bigint: true });
    const canonical = lstatSync(loc.path, { bigint: true });
    return reached.dev === canonical.dev && reached.ino === canonical.ino ? loc.path : null;
  } catch {
    return null;
  }
}

/** Why root `spec` could not be resolved, in words; the hint fits where it came from (hashall.yaml, or a path given to `scan`). */
function unresolvedRoot(spec: ScanRootSpec, err: unknown): CatalogError {
  const code = errnoCode(err);
  const what = errnoWords(code, (err as Error).message);
  const hint =
    spec.kind === 'adhoc'
      ? 'check the path given to `hashall scan` (nothing was read or recorded)'
      : 'a missing root is never treated as empty; mount its filesystem or create the folder, or remove it from hashall.yaml';
  return new CatalogError(`scan root ${spec.path} ${what}`, { cause: err, hint });
}

/** Canonicalize every root, record its filesystem, apply the guards, and mark roots covered by another root. */
export function resolveRoots(
  catalog: CatalogDb,
  roots: ScanRootSpec[],
  mounts: MountEntry[],
  probes: IdentityProbes,
  opts: Pick<ScanOptions, 'filesystems' | 'now' | 'expectFilesystem'>,
): ResolvedRoot[] {
  const aliases = aliasesFromConfig(opts.filesystems);
  const { preferredPaths, nameByDev } = configuredMounts(opts.filesystems, mounts);
  const out: ResolvedRoot[] = [];
  const now = opts.now();
  // What a mount gives every root on it, read, checked and recorded once per call (apply's refresh resolves hundreds
  // of payload folders of one filesystem at a time): its identity, root birth time, guards and filesystems row.
  const perMount = new Map<string, { ident: FilesystemIdentity; row: FilesystemRow }>();
  for (const spec of roots) {
    let loc: CanonicalLocation | null;
    try {
      loc = canonicalize(spec.path, { mounts, aliases, preferredPaths });
    } catch (err) {
      throw unresolvedRoot(spec, err);
    }
    if (!loc) throw new CatalogError(`scan root ${spec.path} is on no filesystem listed in /proc/self/mountinfo`);
    if (KERNEL_PSEUDO_FS.has(loc.mount.fsType)) {
      throw new CatalogError(`scan root ${spec.path} is on ${loc.mount.fsType}, a kernel pseudo filesystem: it holds no torrent or library data`, {
        hint: 'scan a seeding or library folder, or another folder of a filesystem that stores files; nothing was read or recorded',
      });
    }
    const refused = refusedFs(loc.mount, probes.readDevice);
    if (refused !== null) throw new CatalogError(`scan root ${spec.path} is on ${refused.what}; nothing was read or recorded`, { hint: refused.hint });
    const st = lstatSync(loc.realPath, { bigint: true });
    // A file that is a mount point (`mount --bind /a/x /root/y`) shows another file — of this filesystem or of another
    // one, often root's — over the one that lives at its path. A walk of its folder skips it as a mount (walk.ts);
    // read as a one-file root it would be recorded under the bound file's spelling, its filesystem registered with
    // the file as its mount point, and the file the path names never refreshed.
    if (!st.isDirectory() && loc.mount.mountPoint === loc.realPath) {
      throw new CatalogError(
        `scan root ${spec.path} is a mount point: a file is bind-mounted there (${loc.mount.root} of ${loc.mount.source}, ${loc.mount.fsType}), hiding the file of that folder; hashall never catalogues a mounted file (a scan of its folder skips it as a mount too); nothing was read or recorded`,
        { hint: `scan the bound file where it lives, on its own filesystem; or, if the mount should not be there, \`umount ${loc.realPath}\` and scan again` },
      );
    }
    // A one-file payload is refreshed by scanning that file (apply's catalog refresh): only ad-hoc roots may be files.
    const single = spec.kind === 'adhoc' && st.isFile();
    if (!st.isDirectory() && !single) throw new CatalogError(`scan root ${spec.path} is not a directory`, { hint: 'scan roots are directories (a single file only as an ad-hoc refresh)' });
    const dev = devToMajorMinor(st.dev);
    if (dev !== loc.mount.majorMinor) {
      const subvolume = unmountedSubvolume(`scan root ${spec.path}`, dev, loc.mount);
      if (subvolume) throw new CatalogError(`${subvolume.why}; nothing was read or recorded`, { hint: subvolume.hint });
      throw new CatalogError(`scan root ${spec.path}: st_dev ${dev} disagrees with mountinfo (${loc.mount.majorMinor} at ${loc.mount.mountPoint})`);
    }
    const pref = choosePreferredMount(loc.mount.majorMinor, mounts, preferredPaths);
    if (pref && pref.mountId !== loc.preferred.mountId) {
      throw new CatalogError(`scan root ${spec.path} is not visible through ${pref.mountPoint}, the preferred mount of its filesystem`, {
        hint: 'configure a filesystem path on the same mount as the root, or scan through the preferred mount',
      });
    }
    const walkPath = walkSpelling(loc);
    if (walkPath === null) {
      throw new CatalogError(
        `scan root ${spec.path} is hidden at its canonical spelling ${loc.path} (through ${loc.preferred.mountPoint}, the preferred mount of its filesystem): something else is mounted there, and its files could be recorded only under paths that name other files; nothing was read or recorded`,
        { hint: 'a bind mount made without --rbind shows folders that mounts on the filesystem cover; scan the canonical path, or move the data out from under that mount' },
      );
    }
    const mountKey = `${loc.mount.mountId}\0${loc.preferred.mountId}`;
    const known = perMount.get(mountKey);
    const ident = known?.ident ?? identifyFilesystem(loc.mount, mounts, probes);
    // A catalog from before hashall read this type's stable identity (NTFS) knows it by its fallback spelling: the same
    // mount on the same device is the same filesystem, now known by its UUID (which survives a new device number).
    if (!known && ident.method !== 'fallback') {
      const fallback = fallbackIdentity(loc.mount, mounts);
      catalog.db.transaction(() => {
        if (adoptStableIdentity(catalog.db, fallback, ident.uuid, ident.dev)) catalog.bumpSerial();
      })();
    }
    // Checked before the filesystem is recorded: an unmounted filesystem must not leave the disk below it registered.
    const prev = catalog.statement(`SELECT fs_id FROM scan_roots WHERE path = ?`).get(loc.path) as { fs_id: number } | undefined;
    const was = prev ? (catalog.statement(`SELECT uuid, mount_point FROM filesystems WHERE id = ?`).get(prev.fs_id) as { uuid: string; mount_point: string } | undefined) : undefined;
    if (prev && was?.uuid !== ident.uuid) {
      throw new CatalogError(
        `scan root ${loc.path} is now on filesystem ${ident.uuid} (${loc.mount.mountPoint}) but was on ${was?.uuid ?? prev.fs_id} (${was?.mount_point ?? '?'}) at the last scan`,
        { hint: 'is a filesystem not mounted? mount it and scan again; nothing was marked deleted' },
      );
    }
    if (known) {
      out.push({ spec, loc, fs: known.row, coveredBy: null, walkPath, single });
      continue;
    }
    const rootBirth = rootBirthAt(loc.preferred.mountPoint, loc.mount.majorMinor);
    if (opts.expectFilesystem !== undefined) expectKnown(catalog, opts.expectFilesystem, spec.path, ident, rootBirth, loc.mount.mountPoint);
    const name = nameByDev.get(loc.mount.majorMinor) ?? null;
    if (name !== null) refuseShadow(catalog, name, ident.uuid, spec.path, loc.mount.mountPoint);
    let space: { freeBytes: number; totalBytes: number } | null = null;
    try {
      space = spaceOf(loc.realPath);
    } catch {
      space = null;
    }
    const rec = catalog.db.transaction(() => {
      const r = recordFilesystem(
        catalog,
        {
          uuid: ident.uuid,
          dev: ident.dev,
          fsType: ident.fsType,
          source: ident.source,
          mountPoint: loc.mount.mountPoint,
          preferredMount: loc.preferred.mountPoint,
          preferredRoot: loc.preferred.root,
          name,
          freeBytes: space?.freeBytes ?? null,
          totalBytes: space?.totalBytes ?? null,
          rootBirth,
        },
        now,
      );
      if (r.changed) catalog.bumpSerial();
      return r;
    })();
    if (rec.rootMoved) {
      throw new CatalogError(
        `filesystem ${ident.uuid} is now visible at ${loc.preferred.mountPoint} showing ${loc.preferred.root}, but the catalog recorded paths relative to ${rec.row.preferred_root}`,
        { hint: 'mount the whole filesystem again as before, or configure its path on that mount' },
      );
    }
    perMount.set(mountKey, { ident, row: rec.row });
    out.push({ spec, loc, fs: rec.row, coveredBy: null, walkPath, single });
  }
  // Same directory twice (bind mount, alias) or nested on the same filesystem: scanned once, by the outermost root; of
  // two spellings of one directory, by the one reached through the preferred mount (whatever the order in the config),
  // else by the first.
  const direct = (r: ResolvedRoot): boolean => r.loc.mount.mountId === r.loc.preferred.mountId;
  const walksBefore = (o: ResolvedRoot, r: ResolvedRoot): boolean => (direct(o) !== direct(r) ? direct(o) : out.indexOf(o) < out.indexOf(r));
  for (const r of out) {
    for (const o of out) {
      if (o === r || o.coveredBy || o.fs.id !== r.fs.id) continue;
      if (isAtOrUnder(r.loc.path, o.loc.path) && (r.loc.path !== o.loc.path || walksBefore(o, r))) {
        r.coveredBy = o.loc.path;
        break;
      }
    }
  }
  return out;
}
