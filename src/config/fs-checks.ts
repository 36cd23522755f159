// Config checks that need the real filesystem: existence, and identity by realpath, mount and device/inode.
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { devToMajorMinor, findMountFor, readMountInfo, type MountEntry } from '../fs/mountinfo.js';
import type { HashallConfig } from './types.js';
import type { KeyPath, RawProblem } from './problem.js';
import { isAtOrUnder } from '../domain/path-string.js';
import { canonicalizeByAliases } from './normalize.js';

/** Where a directory really is: the filesystem (mount `major:minor`) and its path inside that filesystem. */
export interface Place {
  real: string;
  dev: string;
  /** Path inside the filesystem (mount root + path below the mount point): equal for every bind-mount spelling. */
  inner: string;
  ino: bigint;
  isDir: boolean;
}

export function locate(p: string, mounts: MountEntry[]): Place | 'missing' | { error: string } {
  let real: string;
  try {
    real = realpathSync(p);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return 'missing';
    return { error: `${errnoCode(e) ?? 'error'}: ${(e as Error).message}` };
  }
  const st = statSync(real, { bigint: true });
  const mount = findMountFor(mounts, real);
  if (!mount) return { real, dev: devToMajorMinor(st.dev), inner: real, ino: st.ino, isDir: st.isDirectory() };
  const below = path.posix.relative(mount.mountPoint, real);
  return { real, dev: mount.majorMinor, inner: below ? path.posix.join(mount.root, below) : mount.root, ino: st.ino, isDir: st.isDirectory() };
}

// Same device and same inode (directories cannot be hardlinked) or the same path inside the filesystem.
const samePlace = (a: Place, b: Place): boolean => a.dev === b.dev && (a.inner === b.inner || a.ino === b.ino);
const nests = (a: Place, b: Place): boolean => a.dev === b.dev && (isAtOrUnder(a.inner, b.inner) || isAtOrUnder(b.inner, a.inner));

/**
 * Two entries on one device are one filesystem to everything below the config: the catalog knows a filesystem by its
 * identity and gives it one name (the first entry's), so the second entry's files are recorded as the first's, it never
 * gets a catalog row (moves to it block for good, its free space is never measured), and a plan linking its files with
 * the first's (dedupe, a view's donor) is refused by apply, whose scope check names each filesystem's roots by entry —
 * every run. Two bind mounts of one filesystem cannot even be scanned (only one mount is its preferred spelling), and
 * link() between them fails with EXDEV. So this is an error, with the way out: one entry, several seeding roots.
 */
function sameDevice(a: { name: string; value: string; place: Place }, b: { name: string; value: string; at: KeyPath; place: Place }, mounts: MountEntry[]): RawProblem {
  const ma = findMountFor(mounts, a.place.real);
  const mb = findMountFor(mounts, b.place.real);
  const oneMount = ma !== null && mb !== null && ma.mountId === mb.mountId;
  const merge = oneMount
    ? `make them one entry whose path holds both (e.g. ${ma.mountPoint}, where that filesystem is mounted) and list the seeding roots of both under it`
    : `they are two mounts (bind mounts?) of one filesystem: mount it once, make that one entry and list the seeding roots of both under it`;
  return {
    severity: 'error',
    path: b.at,
    message: `filesystem "${b.name}" (${b.value}) is on the same device ${a.place.dev} as filesystem "${a.name}" (${a.value}): one filesystem cannot be two entries`,
    hint: `hashall knows a filesystem by its identity, so the files of "${b.name}" would be recorded as "${a.name}"'s and apply would refuse every step joining them; ${merge} — or, if "${b.name}" is a disk of its own, it is not mounted: mount it`,
  };
}

export interface FsCheckOptions {
  /** Mount table to use (default: read /proc/self/mountinfo now). */
  mounts?: MountEntry[];
}

/**
 * Warns about configured directories that do not exist yet, and finds overlaps that strings cannot show:
 * filesystems that are the same directory, nest (symlinks, bind mounts) or share a device, aliases that are not the same
 * directory as their path, seeding roots on another filesystem than their entry, libraries inside seeding roots.
 */
export function checkFilesystemPaths(config: HashallConfig, opts: FsCheckOptions = {}): RawProblem[] {
  const out: RawProblem[] = [];
  let mounts: MountEntry[];
  try {
    mounts = opts.mounts ?? readMountInfo();
  } catch (_e) {
    mounts = [];
  }
  const places = new Map<string, Place | null>();
  const look = (p: string, at: KeyPath, what: string): Place | null => {
    if (places.has(p)) return places.get(p) ?? null; // reported once already
    const r = locate(p, mounts);
    let place: Place | null = null;
    if (r === 'missing') {
      out.push({ severity: 'warning', path: at, message: `${what} ${p} does not exist (yet)`, hint: 'create it or fix the path; hashall will block anything that depends on it until it exists' });
    } else if ('error' in r) {
      out.push({ severity: 'error', path: at, message: `${what} ${p} cannot be read: ${r.error}`, hint: 'check permissions' });
    } else if (!r.isDir) {
      out.push({ severity: 'error', path: at, message: `${what} ${p} is not a directory`, hint: 'give a directory' });
    } else {
      place = r;
    }
    places.set(p, place);
    return place;
  };

  const fsPlaces: { name: string; value: string; at: KeyPath; place: Place }[] = [];
  for (const fs of Object.values(config.filesystems)) {
    const main = look(fs.path, ['filesystems', fs.name, 'path'], `filesystem "${fs.name}" path`);
    if (main) fsPlaces.push({ name: fs.name, value: fs.path, at: ['filesystems', fs.name, 'path'], place: main });
    fs.aliases.forEach((alias, i) => {
      const at: KeyPath = ['filesystems', fs.name, 'aliases', i];
      const p = look(alias, at, `alias of "${fs.name}"`);
      if (!p) return;
      fsPlaces.push({ name: fs.name, value: alias, at, place: p });
      if (main && !samePlace(main, p)) {
        out.push({ severity: 'error', path: at, message: `alias ${alias} is not the same directory as ${fs.path} (it resolves to ${p.real} on device ${p.dev})`, hint: 'an alias must be another spelling of the same directory (a bind mount or symlink); fix or remove it' });
      }
    });
  }
  for (let i = 0; i < fsPlaces.length; i++) {
    for (let j = i + 1; j < fsPlaces.length; j++) {
      const a = fsPlaces[i];
      const b = fsPlaces[j];
      if (!a || !b || a.name === b.name) continue;
      if (isAtOrUnder(a.value, b.value) || isAtOrUnder(b.value, a.value)) continue; // already reported by the string rules
      if (samePlace(a.place, b.place)) {
        out.push({ severity: 'error', path: b.at, message: `filesystem "${b.name}" (${b.value}) is the same directory as filesystem "${a.name}" (${a.value}): both are ${a.place.inner} on device ${a.place.dev}`, hint: `if ${b.value} is a bind mount or symlink of ${a.value}, list it under filesystems.${a.name}.aliases instead` });
      } else if (nests(a.place, b.place)) {
        const how = isAtOrUnder(b.place.inner, a.place.inner) ? 'is inside' : 'contains';
        out.push({ severity: 'error', path: b.at, message: `filesystem "${b.name}" (${b.value}) ${how} filesystem "${a.name}" (${a.value}) on device ${a.place.dev} (${b.place.inner} vs ${a.place.inner})`, hint: 'each filesystem entry must name a distinct place; a bind mount or symlink of another entry belongs in its aliases' });
      } else if (a.place.dev === b.place.dev && a.at[2] === 'path' && b.at[2] === 'path') {
        out.push(sameDevice(a, b, mounts));
      }
    }
  }

  // A root whose spelling (its filesystem's aliases taken as that filesystem) passes through a symlink: the catalog
  // holds its files under the real path, and apply, which writes only below real directories (src/apply/scope.ts),
  // would refuse every step there.
  // `place` is the root's own (look() resolved it): resolved again only when an alias spelling differs from it.
  const throughSymlink = (root: string, place: Place, at: KeyPath, what: string): void => {
    const spelled = canonicalizeByAliases(root, config.filesystems);
    let real: string;
    try {
      real = spelled === root ? place.real : realpathSync(spelled);
    } catch {
      return; // an alias that does not resolve is reported on its own
    }
    if (real === spelled) return;
    out.push({ severity: 'error', path: at, message: `${what} ${root} is reached through a symbolic link: it is really ${real}`, hint: `write the real path ${real} (and the filesystem's path likewise); hashall never writes through a symlink, so every step there would be refused — another spelling of a filesystem belongs in its aliases` });
  };

  const seedPlaces: { value: string; at: KeyPath; place: Place }[] = [];
  for (const [name, roots] of Object.entries(config.seeding)) {
    const fs = config.filesystems[name];
    const fsPlace = fs ? fsPlaces.find((f) => f.name === name && f.value === fs.path)?.place : undefined;
    roots.forEach((root, i) => {
      const at: KeyPath = ['seeding', name, i];
      const p = look(root, at, 'seeding root');
      if (!p) return;
      seedPlaces.push({ value: root, at, place: p });
      throughSymlink(root, p, at, 'seeding root');
      if (fsPlace && fs && isAtOrUnder(root, fs.path) && !(p.dev === fsPlace.dev && isAtOrUnder(p.inner, fsPlace.inner))) {
        out.push({ severity: 'error', path: at, message: `seeding root ${root} is not on filesystem "${name}": it resolves to ${p.real} on device ${p.dev}, outside ${fs.path} (device ${fsPlace.dev})`, hint: 'a symlink or a separate mount (e.g. another dataset) leads elsewhere; configure that filesystem separately' });
      }
    });
  }
  const libPlaces: { value: string; place: Place }[] = [];
  config.libraries.forEach((lib, i) => {
    const at: KeyPath = ['libraries', i];
    const p = look(lib, at, 'library root');
    if (!p) return;
    libPlaces.push({ value: lib, place: p });
    throughSymlink(lib, p, at, 'library root');
    // On a filesystem's device but outside its path: consumers are still seen (same filesystem + inode), but apply
    // links only inside the roots the entry holds (src/config/filesystem-roots.ts), so nothing there is deduplicated or
    // lends its bytes to a view.
    for (const f of fsPlaces) {
      if (f.at[2] !== 'path' || f.place.dev !== p.dev || isAtOrUnder(p.inner, f.place.inner) || isAtOrUnder(lib, f.value)) continue;
      out.push({ severity: 'warning', path: at, message: `library root ${lib} is on the device of filesystem "${f.name}" (${p.dev}) but not under its path ${f.value}`, hint: `hashall still sees its hardlinks, but never links files there (dedupe, views); to have them linked, make filesystems.${f.name}.path a folder holding both` });
    }
    for (const s of seedPlaces) {
      if (isAtOrUnder(lib, s.value) || isAtOrUnder(s.value, lib)) continue; // reported by the string rules
      if (nests(p, s.place)) {
        out.push({ severity: 'error', path: at, message: `library root ${lib} overlaps seeding root ${s.value} (both on device ${p.dev}: ${p.inner} vs ${s.place.inner})`, hint: 'a symlink or bind mount makes them the same tree; list the library directories themselves' });
      }
    }
  });
  // The catalog's folder inside a seeding or library root reached by another spelling (a bind mount or symlink of the
  // folder, or of one above it): the string rule cannot see it, the scan would walk hashall's own database.
  const catalogDir = path.dirname(config.catalog);
  const cat = locate(catalogDir, mounts);
  if (cat !== 'missing' && !('error' in cat)) {
    const inside = [...seedPlaces.map((r) => ({ ...r, what: 'seeding root' })), ...libPlaces.map((r) => ({ ...r, what: 'library root' }))].find(
      (r) => !isAtOrUnder(config.catalog, r.value) && cat.dev === r.place.dev && isAtOrUnder(cat.inner, r.place.inner),
    );
    if (inside) {
      out.push({
        severity: 'error',
        path: ['catalog'],
        message: `catalog ${config.catalog} is inside ${inside.what} ${inside.value}: its folder ${catalogDir} is ${cat.inner} on device ${cat.dev}, within ${inside.place.inner} (a bind mount or symlink makes them one tree)`,
        hint: 'keep the catalog outside every seeding and library root (the default is ~/.local/state/hashall/catalog.db)',
      });
    }
  }
  return out;
}
