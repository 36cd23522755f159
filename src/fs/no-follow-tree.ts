// Fd-anchored, no-follow tree operations (Linux): hold directories open, reach children through /proc/self/fd/<fd>/<name>, never follow a symlink, cross a device or act on a tree holding a mount point.
// Node has no openat/unlinkat. A directory fd held open gives an anchored path instead: `/proc/self/fd/<fd>/<name>`
// resolves relative to the directory the fd refers to, even after its path was renamed or swapped for a symlink.
// Every child directory is opened O_NOFOLLOW|O_DIRECTORY through its held parent, fstat'ed and compared with the
// (dev, ino) seen by lstat (or recorded earlier); lstat/unlink/rmdir act on the final component only, never following it.
// A bind mount of the same filesystem has the tree's device, so the device check cannot see it: a tree is looked up
// in mountinfo before it is listed, removed or renamed (refuseMounts).
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, mkdirSync, openSync, promises as fsp, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { anchoredPath, withPlainPaths } from '../domain/anchored-path.js';
import { FsError, errnoCode } from '../errors.js';
import { currentMountPoints } from './mountinfo.js';
import { mountPointsWithin } from './mount-parents.js';
import { bytesToPathText, fsPathArg } from './path-encoding.js';
import { effectiveUser } from './trusted-place.js';

export interface Identity {
  dev: number;
  ino: number;
}

/** Why a tree operation refused to go on. */
export type UnsafeReason = 'symlink' | 'not-directory' | 'device' | 'mount' | 'identity' | 'unrecorded' | 'owner' | 'mode' | 'too-large';

/** A tree operation stopped because going on could follow, cross or delete something it must not. */
export class UnsafeTreeError extends FsError {
  readonly reason: UnsafeReason;
  constructor(reason: UnsafeReason, message: string, opts: { path?: string; hint?: string } = {}) {
    super(message, { code: reason === 'symlink' ? 'ELOOP' : reason === 'device' ? 'EXDEV' : undefined, path: opts.path, hint: opts.hint });
    this.reason = reason;
  }
}

/** An open directory. `path` is its anchored spelling (`/proc/self/fd/<fd>`), valid until `close()`. */
export interface HeldDir extends Identity {
  readonly path: string;
  /** How to name it in messages (the path it was opened by, with the anchors spelled out). */
  readonly label: string;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  /** Anchored path of a child name (a Buffer when the name is not plain UTF-8). */
  at(name: string | Buffer): string | Buffer;
  close(): Promise<void>;
}

export interface EntryStat extends Identity {
  kind: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  uid: number;
  mode: number;
  nlink: number;
  mtimeMs: number;
  ctimeMs: number;
  /** Exact mtime and ctime in ns (decimal strings): what a recorded file identity is compared with (src/apply/trash-record.ts). */
  mtimeNs: string;
  ctimeNs: string;
}

/** Test-only hooks at the points a race would hit (between the check and the act). */
export interface TreeHooks {
  /** After a child directory was lstat'ed, before it is opened. */
  beforeOpenDir?(rel: string): Promise<void> | void;
  /** After an entry was lstat'ed and judged, before it is unlinked. */
  beforeUnlink?(rel: string): Promise<void> | void;
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const MAX_DEPTH = 4096;

function toEntry(s: BigIntStats): EntryStat {
  return {
    dev: Number(s.dev),
    ino: Number(s.ino),
    kind: s.isFile() ? 'file' : s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'symlink' : 'other',
    size: Number(s.size),
    uid: Number(s.uid),
    mode: Number(s.mode),
    nlink: Number(s.nlink),
    mtimeMs: Number(s.mtimeNs / 1_000_000n),
    ctimeMs: Number(s.ctimeNs / 1_000_000n),
    mtimeNs: String(s.mtimeNs),
    ctimeNs: String(s.ctimeNs),
  };
}

function nameText(name: string | Buffer): string {
  return typeof name === 'string' ? name : bytesToPathText(name);
}

function joinRel(rel: string, name: string | Buffer): string {
  return rel ? `${rel}/${nameText(name)}` : nameText(name);
}

/** Child `name` of the folder held on `fd`, anchored; a string name is catalog text: escaped where the name is not UTF-8 (path-encoding.ts), so spelled by its bytes. */
function anchoredAt(fd: number, name: string | Buffer): string | Buffer {
  return anchoredPath(fd, typeof name === 'string' ? fsPathArg(name) : name);
}

/** withPlainPaths() for an error of a call made through held folder `dir`: its anchored spelling becomes its label. */
export function explainHeld(dir: HeldDir, err: unknown): unknown {
  return withPlainPaths(err, dir.path, dir.label);
}

/** The same inode on the same device. */
export function sameIdentity(a: Identity, b: Identity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

function wrapErr(op: string, label: string, err: unknown): never {
  if (err instanceof FsError) throw err;
  throw new FsError(`${op} ${label}: ${(err as Error).message}`, { code: errnoCode(err), path: label, cause: err });
}

/**
 * Refuses the tree at child `name` of held `parent` when it is a mount point or holds one, before anything acts on it.
 * The kernel refuses to unlink, rmdir or rename a mount point (EBUSY) but not what lies below one: through a folder
 * bound there (root's, a container runtime's — same filesystem, same st_dev) a removal would delete the bound
 * folder's own files and then stop half-way, and a rename would carry the mounts along (into the trash). A tree is
 * where the held parent is now (the kernel's spelling of its descriptor), so a path swapped above it changes nothing.
 * Mounts made in another mount namespace (a container's own) are not listed here; the kernel then detaches them on
 * unlink or rmdir instead, and what they showed is untouched.
 */
async function refuseMounts(parent: HeldDir, name: string | Buffer, label: string): Promise<void> {
  const where = (await fsp.readlink(parent.path, { encoding: 'buffer' })).toString('utf8');
  const leaf = (typeof name === 'string' ? fsPathArg(name) : name).toString();
  const tree = where === '/' ? `/${leaf}` : `${where}/${leaf}`;
  const inside = mountPointsWithin(tree, await currentMountPoints());
  if (inside.length === 0) return;
  const shown = inside.slice(0, 5).join(', ') + (inside.length > 5 ? `, … (${inside.length} in all)` : '');
  const what = inside[0] === tree && inside.length === 1 ? `is a mount point (${shown})` : `holds a mount point (${shown})`;
  throw new UnsafeTreeError(
    'mount',
    `${label} ${what}: a file or folder mounted there (a bind mount: another file or folder, of this filesystem or another) is not part of it; hashall never removes, moves or lists anything through a mount, so it is left as it is`,
    { path: label, hint: `a bind mount there is root's or a container runtime's: if it does not belong there, \`umount ${inside[0]}\`${inside.length > 1 ? ' (and each other one)' : ''} and run again; nothing was changed` },
  );
}

/** A held directory on descriptor `fd` (its identity and owner from `st`, read on that descriptor). */
function heldDir(fd: number, label: string, st: BigIntStats, close: () => Promise<void>): HeldDir {
  return {
    path: anchoredPath(fd),
    label,
    dev: Number(st.dev),
    ino: Number(st.ino),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mode: Number(st.mode),
    at: (name) => anchoredAt(fd, name),
    close,
  };
}

async function openHeld(p: string | Buffer, flags: number, label: string): Promise<HeldDir> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(p, flags);
  } catch (err) {
    const code = errnoCode(err);
    // O_NOFOLLOW|O_DIRECTORY on a symlink fails with ELOOP or ENOTDIR: tell which it was.
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      const st = await fsp.lstat(p).catch(() => null);
      if (st?.isSymbolicLink()) throw new UnsafeTreeError('symlink', `${label} is a symbolic link; hashall never follows it`, { path: label });
      if (st && !st.isDirectory()) throw new UnsafeTreeError('not-directory', `${label} is not a directory`, { path: label });
    }
    wrapErr('open', label, err);
  }
  try {
    const st = await fh.stat({ bigint: true });
    if (!st.isDirectory()) throw new UnsafeTreeError('not-directory', `${label} is not a directory`, { path: label });
    return heldDir(fh.fd, label, st, () => fh.close());
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}

/**
 * Open a directory the caller trusts by path (a configured root, or an anchored `/proc/self/fd/N/...` spelling whose
 * components are hashall's own): the path is followed, as given. Everything below it is reached without following.
 */
export function openTrustedDir(p: string): Promise<HeldDir> {
  return openHeld(fsPathArg(p), constants.O_RDONLY | constants.O_DIRECTORY, p);
}

/**
 * Open child `name` of a held directory as a directory: never a symlink, never on another device than the parent,
 * and — when `expect` is given — exactly that (dev, ino).
 */
export async function openChildDir(parent: HeldDir, name: string | Buffer, expect?: Identity): Promise<HeldDir> {
  const label = `${parent.label}/${nameText(name)}`;
  const dir = await openHeld(parent.at(name), DIR_FLAGS, label);
  if (dir.dev !== parent.dev) {
    await dir.close();
    throw new UnsafeTreeError('device', `${label} is on another filesystem (a mount point); hashall never crosses into it`, { path: label });
  }
  if (expect && !sameIdentity(dir, expect)) {
    await dir.close();
    throw new UnsafeTreeError('identity', `${label} changed while hashall was working on it (device ${dir.dev} inode ${dir.ino}, expected ${expect.dev}/${expect.ino}); stopped`, {
      path: label,
      hint: 'another process replaced it: treat it as an attack, look at what is there now',
    });
  }
  return dir;
}

/** lstat of child `name` of a held directory (never follows it); null when it does not exist. */
export async function lstatAt(parent: HeldDir, name: string | Buffer): Promise<EntryStat | null> {
  try {
    return toEntry(await fsp.lstat(parent.at(name), { bigint: true }));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    wrapErr('lstat', `${parent.label}/${nameText(name)}`, err);
  }
}

/** Names in a held directory, as raw bytes (no name is ever altered by decoding). */
export async function namesIn(dir: HeldDir): Promise<Buffer[]> {
  try {
    return await fsp.readdir(dir.path, { encoding: 'buffer' });
  } catch (err) {
    wrapErr('readdir', dir.label, err);
  }
}

/**
 * Walk down `rel` (slash-separated catalog path text, no `..`: a name that is not UTF-8 is opened as its raw bytes,
 * see path-encoding.ts) from a held directory, opening each component O_NOFOLLOW on the same device. Returns the
 * innermost directory; the caller closes it (intermediates are closed here).
 */
export async function openDirUnder(base: HeldDir, rel: string): Promise<HeldDir> {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new UnsafeTreeError('not-directory', `${rel}: '..' is not allowed in a path under ${base.label}`, { path: rel });
  let cur = base;
  try {
    for (const part of parts) {
      const next = await openChildDir(cur, fsPathArg(part));
      if (cur !== base) await cur.close();
      cur = next;
    }
    return cur;
  } catch (err) {
    if (cur !== base) await cur.close().catch(() => undefined);
    throw err;
  }
}

/**
 * Open (or with `create`, make with mode 0700) hashall's private directory `name` inside the trusted directory
 * `parent`. Refused, with the reason, when it is a symlink or no directory, lies on another device (a mount point),
 * is owned by anyone but this process's user, or is writable by group or others; a looser mode of our own directory
 * is tightened to 0700. Returns null when it does not exist and `create` is false.
 */
export async function holdPrivateDir(parent: string, name: string, opts: { create: boolean }): Promise<HeldDir | null> {
  const top = await openTrustedDir(parent);
  try {
    const label = path.join(parent, name);
    let made = false;
    if (opts.create) {
      try {
        await fsp.mkdir(top.at(name), { mode: 0o700 });
        made = true;
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') wrapErr('mkdir', label, err);
      }
    } else if (!(await lstatAt(top, name))) return null;
    const hint = `hashall keeps its own ${name} here: root-owned, mode 0700; check what ${label} holds, move it away by hand, and run again`;
    let dir: HeldDir;
    try {
      dir = await openChildDir(top, name);
    } catch (err) {
      if (err instanceof UnsafeTreeError) throw new UnsafeTreeError(err.reason, `${err.message}; refusing to use it`, { path: label, hint });
      throw err;
    }
    const { euid } = effectiveUser();
    const problem =
      dir.uid !== euid
        ? (['owner', `${label} is owned by uid ${dir.uid}, not by hashall's user (uid ${euid})`] as const)
        : dir.mode & 0o022
          ? (['mode', `${label} is writable by ${dir.mode & 0o020 ? 'its group' : 'others'} (mode ${(dir.mode & 0o7777).toString(8)})`] as const)
          : null;
    if (problem) {
      await dir.close();
      if (made) {
        // Made by this call, mode 0700, owned by this user — and it does not show so: the filesystem keeps no
        // permissions (ntfs-3g without `permissions`, FAT). Nothing private can live there; the empty folder goes.
        await fsp.rmdir(top.at(name)).catch(() => undefined);
        throw new UnsafeTreeError(
          problem[0],
          `${parent} does not keep permissions: ${name}, made there just now with mode 0700 by uid ${euid}, shows mode ${(dir.mode & 0o7777).toString(8)} and uid ${dir.uid}, ` +
            `so hashall's own folder could not be private there (any local user could change what it holds); it was removed and nothing was changed`,
          { path: label, hint: 'mount that filesystem with permission support (ntfs-3g: `-o permissions`) to let hashall stage removals there, or set safety.retire.mode: never' },
        );
      }
      throw new UnsafeTreeError(problem[0], `${problem[1]}; refusing to use it`, { path: label, hint });
    }
    if ((dir.mode & 0o7777) !== 0o700) {
      try {
        await fsp.chmod(dir.path, 0o700);
      } catch (err) {
        await dir.close();
        wrapErr('chmod', label, err);
      }
    }
    return { ...dir, label };
  } finally {
    await top.close();
  }
}

/** Make `rel` (slash-separated) under a held directory, mode `mode` for new levels; returns the levels created (relative, outermost first). */
export async function mkdirUnder(base: HeldDir, rel: string, mode = 0o755): Promise<string[]> {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  const created: string[] = [];
  let cur = base;
  try {
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part === '..') throw new UnsafeTreeError('not-directory', `${rel}: '..' is not allowed`, { path: rel });
      try {
        await fsp.mkdir(cur.at(part), { mode });
        created.push(parts.slice(0, i + 1).join('/'));
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') wrapErr('mkdir', `${cur.label}/${part}`, err);
      }
      const next = await openChildDir(cur, part);
      if (cur !== base) await cur.close();
      cur = next;
    }
    return created;
  } finally {
    if (cur !== base) await cur.close().catch(() => undefined);
  }
}

export interface TreeEntry {
  /** Path relative to the tree's root (catalog path text for names that are not UTF-8); '' for a root that is not a directory. */
  rel: string;
  stat: EntryStat;
}

export interface TreeOptions {
  /** The (dev, ino) the tree's root must have (recorded when hashall put it there). */
  expect?: Identity;
  /** Stop with 'too-large' beyond this many entries (default 1,000,000). */
  maxEntries?: number;
  hooks?: TreeHooks;
}

export interface RemoveOptions extends TreeOptions {
  /**
   * May this non-directory be removed? Default: everything. Symlinks are always unlinked (that removes the link, never
   * its target). A refused entry stops the removal with 'unrecorded', leaving it and everything not yet removed.
   */
  allow?: (entry: TreeEntry) => boolean;
}

export interface TreeResult {
  /** False when the root did not exist (nothing done). */
  found: boolean;
  /** Non-directories listed (or removed), with their sizes. */
  entries: TreeEntry[];
}

interface Frame {
  dir: HeldDir;
  rel: string;
  /** Name of this directory in the frame below (null for the root's parent frame). */
  names: Buffer[] | null;
  next: number;
  name: Buffer | string;
}

/**
 * Depth-first walk of `rel` under `base` (every component below `base` opened O_NOFOLLOW on base's device).
 * `visit` sees each non-directory; with `remove`, each is unlinked right after and each directory removed once
 * empty. Directories are opened through their held parent and compared with what lstat saw.
 */
async function walk(base: HeldDir, rel: string, opts: RemoveOptions & { remove: boolean }): Promise<TreeResult> {
  const max = opts.maxEntries ?? 1_000_000;
  const hooks = opts.hooks ?? {};
  const parentRel = path.posix.dirname(rel);
  const leafText = path.posix.basename(rel);
  const leaf = fsPathArg(leafText);
  if (!leafText || leafText === '.' || leafText === '..') throw new UnsafeTreeError('not-directory', `${rel}: not a name under ${base.label}`, { path: rel });
  const frames: Frame[] = [];
  const entries: TreeEntry[] = [];
  let parent: HeldDir;
  try {
    parent = parentRel === '.' ? base : await openDirUnder(base, parentRel);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { found: false, entries }; // a level above is gone: so is the tree
    throw err;
  }
  try {
    if (parent.dev !== base.dev) throw new UnsafeTreeError('device', `${parent.label} is on another filesystem; never crossed`, { path: parent.label });
    const top = await lstatAt(parent, leaf);
    if (!top) return { found: false, entries };
    const label = `${parent.label}/${leafText}`;
    if (opts.expect && !sameIdentity(top, opts.expect)) {
      throw new UnsafeTreeError('identity', `${label} is not what hashall put there (device ${top.dev} inode ${top.ino}, recorded ${opts.expect.dev}/${opts.expect.ino}); it is kept`, {
        path: label,
        hint: 'something replaced it; look at it and remove it by hand if it is garbage',
      });
    }
    if (top.dev !== base.dev) throw new UnsafeTreeError('device', `${label} is on another filesystem (a mount point); never crossed`, { path: label });
    await refuseMounts(parent, leaf, label);
    const judge = async (dir: HeldDir, name: Buffer | string, r: string, st: EntryStat): Promise<void> => {
      const entry = { rel: r, stat: st };
      if (opts.remove && st.kind !== 'symlink' && opts.allow && !opts.allow(entry)) {
        throw new UnsafeTreeError('unrecorded', `${dir.label}/${nameText(name)} (device ${st.dev} inode ${st.ino}) is not among what hashall recorded for this tree; removal stopped, the rest is kept`, {
          path: `${dir.label}/${nameText(name)}`,
          hint: 'something was put there after hashall recorded it; look at it and remove the tree by hand if it is garbage',
        });
      }
      entries.push(entry);
      if (!opts.remove) return;
      await hooks.beforeUnlink?.(r);
      try {
        await fsp.unlink(dir.at(name));
      } catch (err) {
        wrapErr('unlink', `${dir.label}/${nameText(name)}`, err);
      }
    };
    if (top.kind !== 'dir') {
      await judge(parent, leaf, '', top);
      return { found: true, entries };
    }
    await hooks.beforeOpenDir?.('');
    frames.push({ dir: await openChildDir(parent, leaf, top), rel: '', names: null, next: 0, name: leaf });
    let seen = 0;
    while (frames.length) {
      const f = frames[frames.length - 1]!;
      f.names ??= await namesIn(f.dir);
      if (f.next < f.names.length) {
        const name = f.names[f.next++]!;
        if (++seen > max) throw new UnsafeTreeError('too-large', `${label} holds more than ${max} entries; hashall stops here (remove it by hand)`, { path: label });
        const st = await lstatAt(f.dir, name);
        if (!st) continue;
        const r = joinRel(f.rel, name);
        if (st.dev !== base.dev) throw new UnsafeTreeError('device', `${f.dir.label}/${nameText(name)} is on another filesystem (a mount point); never crossed`, { path: `${f.dir.label}/${nameText(name)}` });
        if (st.kind === 'dir') {
          if (frames.length >= MAX_DEPTH) throw new UnsafeTreeError('too-large', `${label} is nested deeper than ${MAX_DEPTH} levels; remove it by hand`, { path: label });
          await hooks.beforeOpenDir?.(r);
          frames.push({ dir: await openChildDir(f.dir, name, st), rel: r, names: null, next: 0, name });
          continue;
        }
        await judge(f.dir, name, r, st);
        continue;
      }
      frames.pop();
      await f.dir.close();
      if (opts.remove) {
        const holder = frames.length ? frames[frames.length - 1]!.dir : parent;
        try {
          await fsp.rmdir(holder.at(f.name));
        } catch (err) {
          wrapErr('rmdir', `${holder.label}/${nameText(f.name)}`, err);
        }
      }
    }
    return { found: true, entries };
  } finally {
    for (const f of frames) await f.dir.close().catch(() => undefined);
    if (parent !== base) await parent.close().catch(() => undefined);
  }
}

/** Every non-directory of the tree `rel` under `base`, without following or crossing anything. */
export function listTree(base: HeldDir, rel: string, opts: TreeOptions = {}): Promise<TreeResult> {
  return walk(base, rel, { ...opts, remove: false });
}

/**
 * Remove the tree `rel` under `base`: files and links unlinked, directories removed once empty, depth first; never
 * follows a symlink, never crosses a device, stops at the first entry that is not what it expects. Idempotent: a
 * missing root is `found: false`.
 */
export function removeTree(base: HeldDir, rel: string, opts: RemoveOptions = {}): Promise<TreeResult> {
  return walk(base, rel, { ...opts, remove: true });
}

/**
 * Rename child `name` of held `from` to child `toName` of held `to` (both anchored: a path swapped above either cannot
 * redirect it); refused when it is or holds a mount point (see refuseMounts). rename(2) never replaces a non-empty directory nor puts a directory over a file; callers check first
 * that nothing is at the target (Node has no RENAME_NOREPLACE). Errors keep their errno code (EEXIST, ENOTEMPTY, …).
 */
export async function renameAt(from: HeldDir, name: string | Buffer, to: HeldDir, toName: string | Buffer): Promise<void> {
  await refuseMounts(from, name, `${from.label}/${nameText(name)}`);
  try {
    await fsp.rename(from.at(name), to.at(toName));
  } catch (err) {
    wrapErr('rename', `${from.label}/${nameText(name)} to ${to.label}/${nameText(toName)}`, err);
  }
}

/** Hardlink child `name` of held `from` as child `toName` of held `to`; fails with EEXIST when anything is there (never replaces). */
export async function linkAt(from: HeldDir, name: string | Buffer, to: HeldDir, toName: string | Buffer): Promise<void> {
  try {
    await fsp.link(from.at(name), to.at(toName));
  } catch (err) {
    wrapErr('link', `${from.label}/${nameText(name)} to ${to.label}/${nameText(toName)}`, err);
  }
}

/** Unlink child `name` of a held directory (the name itself, never what a symlink points to). */
export async function unlinkAt(dir: HeldDir, name: string | Buffer): Promise<void> {
  try {
    await fsp.unlink(dir.at(name));
  } catch (err) {
    wrapErr('unlink', `${dir.label}/${nameText(name)}`, err);
  }
}

/** Remove the empty directory `name` of a held directory (rmdir never removes one with anything in it, nor a symlink). */
export async function rmdirAt(dir: HeldDir, name: string | Buffer): Promise<void> {
  try {
    await fsp.rmdir(dir.at(name));
  } catch (err) {
    wrapErr('rmdir', `${dir.label}/${nameText(name)}`, err);
  }
}

/** Make child `name` of a held directory (fails with EEXIST when anything is there), private until given `owner`, then held. */
export async function mkdirAt(dir: HeldDir, name: string | Buffer, owner: { uid: number; gid: number; mode: number }): Promise<HeldDir> {
  try {
    await fsp.mkdir(dir.at(name), { mode: 0o700 });
  } catch (err) {
    wrapErr('mkdir', `${dir.label}/${nameText(name)}`, err);
  }
  const made = await openChildDir(dir, name);
  try {
    await fsp.chown(made.path, owner.uid, owner.gid).catch((err: unknown) => {
      if (errnoCode(err) !== 'EPERM') throw err;
    });
    await fsp.chmod(made.path, owner.mode & 0o7777);
    return made;
  } catch (err) {
    await made.close();
    wrapErr('chown', made.label, err);
  }
}

/**
 * Make child `name` of a held directory and hold it, with synchronous calls (metadata calls of microseconds, never
 * queued on the thread pool behind a batch's fsyncs): mkdir through the held parent (the name itself is made, never
 * followed; EEXIST, with its code, when anything is there), then opened through the parent again, O_NOFOLLOW and on
 * the parent's device. With `owner` it is made private (0700) and given the owner (chown skipped when not permitted),
 * group and mode on its descriptor before anyone else may enter it; without, 0777 less the umask.
 * What is opened is at that very name of the held parent, a real directory of its filesystem: when another user with
 * write access to the parent swapped the new folder for one of theirs in the microseconds between the mkdir and the
 * open, it is that folder — where their own folder could have been anyway —, never one reached through a symlink.
 */
export function makeChildDirSync(parent: HeldDir, name: string | Buffer, owner: { uid: number; gid: number; mode: number } | null): HeldDir {
  const label = `${parent.label}/${nameText(name)}`;
  const at = parent.at(name);
  try {
    mkdirSync(at, owner ? 0o700 : 0o777);
  } catch (err) {
    wrapErr('mkdir', label, err);
  }
  let fd: number;
  try {
    fd = openSync(at, DIR_FLAGS);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ELOOP' || code === 'ENOTDIR') throw new UnsafeTreeError(code === 'ELOOP' ? 'symlink' : 'not-directory', `${label} was replaced right after hashall made it (${code}); hashall never follows it`, { path: label });
    wrapErr('open', label, err);
  }
  try {
    let st = fstatSync(fd, { bigint: true });
    if (!st.isDirectory()) throw new UnsafeTreeError('not-directory', `${label} is not a directory`, { path: label });
    if (Number(st.dev) !== parent.dev) throw new UnsafeTreeError('device', `${label} is on another filesystem (a mount point); hashall never crosses into it`, { path: label });
    if (owner) {
      try {
        fchownSync(fd, owner.uid, owner.gid);
      } catch (err) {
        if (errnoCode(err) !== 'EPERM') throw err;
      }
      fchmodSync(fd, owner.mode & 0o7777);
      st = fstatSync(fd, { bigint: true });
    }
    const held = fd;
    return heldDir(fd, label, st, async () => closeSync(held));
  } catch (err) {
    closeSync(fd);
    wrapErr('chown', label, err);
  }
}

/** Run `fn` with a held directory and close it afterwards, whatever happens. */
export async function withDir<T>(dir: HeldDir | Promise<HeldDir>, fn: (d: HeldDir) => Promise<T>): Promise<T> {
  const d = await dir;
  try {
    return await fn(d);
  } finally {
    await d.close();
  }
}
