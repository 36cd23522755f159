// Judges whether another local user could change what lies at a path: owners and write bits of a file and every folder above it.
// The one check behind hashall's own files (the catalog) and the files that steer it (hashall.yaml, saved plans): whoever can replace
// either decides what hashall, often run as root, renames, links and removes — so both must sit where only trusted
// users can write, as ssh judges ~/.ssh and logrotate its configs.
import { existsSync, lstatSync, readFileSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { anchoredPath } from '../domain/anchored-path.js';

/** What another user could change, said as `<subject> is owned by uid N, not root` / `is writable by other users`. */
export interface PlaceProblem {
  /** The file or folder at fault. */
  at: string;
  /** Whether it is the file itself, its own folder, a folder above that, or a symlink on the way (see linkProblem). */
  where: 'file' | 'folder' | 'above' | 'link';
  /** What is wrong: its owner (fixed by chown) or who else may write it (fixed by chmod go-w). */
  kind: 'owner' | 'writable';
  problem: string;
}

/** The user hashall runs as (effective uid; 0 where there is none) and how messages name it: `root` or `uid N`. */
export function effectiveUser(): { euid: number; who: string } {
  const euid = process.geteuid?.() ?? 0;
  return { euid, who: euid === 0 ? 'root' : `uid ${euid}` };
}

/** The path as it really is: symlinks in its existing part resolved, the part not made yet appended as spelled. */
export function realPlace(p: string): string {
  const rest: string[] = [];
  let at = path.resolve(p);
  while (!existsSync(at)) {
    const up = path.dirname(at);
    if (up === at) break;
    rest.unshift(path.basename(at));
    at = up;
  }
  return path.join(realpathSync(at), ...rest);
}

/**
 * Whether group `gid` holds only `owners`: every user whose primary group it is (/etc/passwd) and every member listed
 * in /etc/group. A user private group (Debian's and Ubuntu's umask 002 makes files 0664 `alice:alice`) lets nobody else
 * write. A group not found in /etc/group (NSS, LDAP) is not known to be private: false.
 */
function groupHoldsOnly(gid: number, owners: ReadonlySet<number>): boolean {
  let group: string[] | undefined;
  let passwd: string[][];
  try {
    group = readFileSync('/etc/group', 'utf8').split('\n').map((l) => l.split(':')).find((f) => f.length >= 4 && Number(f[2]) === gid);
    passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).filter((f) => f.length >= 4);
  } catch {
    return false;
  }
  if (!group) return false;
  const uidOf = new Map(passwd.map((f) => [f[0]!, Number(f[2])]));
  const members = group[3]!.split(',').filter((m) => m !== '');
  if (members.some((m) => !owners.has(uidOf.get(m) ?? -1))) return false;
  return passwd.every((f) => Number(f[3]) !== gid || owners.has(Number(f[2])));
}

/** Who besides the owner may write a file or folder of this stat: 'other users', 'its group', or null. */
function writers(st: { mode: number; gid: number }, owners: ReadonlySet<number>): string | null {
  if ((st.mode & 0o002) !== 0) return 'other users';
  return (st.mode & 0o020) !== 0 && !groupHoldsOnly(st.gid, owners) ? 'its group' : null;
}

/**
 * The first place in `real` (a real path, see realPlace) another user could change, or null: the file (its `stat`, if it
 * exists; `fileWritable` judges its write bits too) or a folder owned by anyone outside `owners`; the file's own folder
 * writable by others or by a group that holds anyone outside `owners` — even sticky when `strictFolder` (they could plant a companion name beside it); a
 * folder above writable by them without the sticky bit (they could rename the folders below away). Folders not made
 * yet are not judged.
 */
export function placeProblem(real: string, file: { uid: number; gid: number; mode: number } | undefined, opts: { owners: ReadonlySet<number>; who: string; fileWritable: boolean; strictFolder: boolean }): PlaceProblem | null {
  if (file && !opts.owners.has(file.uid)) return { at: real, where: 'file', kind: 'owner', problem: `is owned by uid ${file.uid}, not ${opts.who}` };
  const fileWriters = file && opts.fileWritable ? writers(file, opts.owners) : null;
  if (fileWriters) return { at: real, where: 'file', kind: 'writable', problem: `is writable by ${fileWriters}` };
  const folder = path.dirname(real);
  for (let d = folder; ; d = path.dirname(d)) {
    const st = statSync(d, { throwIfNoEntry: false });
    if (st) {
      const where = d === folder ? 'folder' : 'above';
      if (!opts.owners.has(st.uid)) return { at: d, where, kind: 'owner', problem: `is owned by uid ${st.uid}, not ${opts.who}` };
      const sticky = (st.mode & 0o1000) !== 0;
      const by = writers(st, opts.owners);
      if (by && !(sticky && (where === 'above' || !opts.strictFolder))) return { at: d, where, kind: 'writable', problem: `is writable by ${by}` };
    }
    if (path.dirname(d) === d) return null;
  }
}

/** Symlinks followed before the path is given up on (Linux's own limit, past which opening it fails with ELOOP). */
const MAX_LINKS = 40;

/**
 * The first symlink on the way to `p` (its components as spelled, then as each link leads) that another user could
 * have planted or could swap (linkRule), or null. placeProblem judges where the path really is;
 * this judges the links that lead there — a link in a folder another user writes is theirs to point anywhere (at an
 * empty root file, at /etc), and realPlace would then judge that place, root's, fine. The part not made yet ends it.
 */
export function linkProblem(p: string, opts: { owners: ReadonlySet<number>; who: string }): PlaceProblem | null {
  let todo = path.resolve(p).split('/').filter((n) => n !== '');
  let at = '/'; // real: every link before it resolved
  for (let links = 0; todo.length > 0; ) {
    const name = todo.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      at = path.dirname(at);
      continue;
    }
    const next = path.join(at, name);
    const st = lstatSync(next, { throwIfNoEntry: false });
    if (st === undefined) return null;
    if (!st.isSymbolicLink()) {
      at = next;
      continue;
    }
    if (++links > MAX_LINKS) return null; // opening it fails (ELOOP)
    const found = linkRule(next, st, at, statSync(at), opts);
    if (found !== null) return found;
    const target = readlinkSync(next);
    todo = [...target.split('/').filter((n) => n !== ''), ...todo];
    if (target.startsWith('/')) at = '/';
  }
  return null;
}

/**
 * Whether symlink `link` (its lstat `st`) in folder `folder` (its stat) is one another user planted or could swap: owned
 * by anyone outside `owners`, or in a folder owned by one of them (its owner may replace any name in it) or writable by
 * others (or a group holding anyone outside `owners`) without the sticky bit. The one rule linkProblem and
 * openJudged (judged-open.ts, on held folders) apply to every link on the way.
 */
export function linkRule(link: string, st: { uid: number }, folder: string, folderSt: { uid: number; gid: number; mode: number }, opts: { owners: ReadonlySet<number>; who: string }): PlaceProblem | null {
  if (!opts.owners.has(st.uid)) return { at: link, where: 'link', kind: 'owner', problem: `is owned by uid ${st.uid}, not ${opts.who}` };
  if (!opts.owners.has(folderSt.uid)) return { at: link, where: 'link', kind: 'owner', problem: `lies in folder ${folder}, owned by uid ${folderSt.uid} (they could point it anywhere)` };
  const by = writers(folderSt, opts.owners);
  if (by && (folderSt.mode & 0o1000) === 0) return { at: link, where: 'link', kind: 'writable', problem: `lies in folder ${folder}, writable by ${by} (they could point it anywhere)` };
  return null;
}

/** Why another user could have changed a file that steers hashall, and what fixes it. */
export interface UntrustedInput extends PlaceProblem {
  /** `chown root /x` or `chmod go-w /x`. */
  fix: string;
  /** Who may write it: root, this user and (as root under sudo) SUDO_UID — `root` or `uid N` in messages. */
  who: string;
}

/**
 * Whether a file hashall acts on — hashall.yaml, a saved plan — as opened (`st`, its fstat) could have been written by
 * someone other than root, this user or, as root under sudo, SUDO_UID: a symlink on the way to `file` that another
 * user planted or could swap (linkProblem: the link decides what is read, wherever it leads; with `fd`, opened by
 * openInput in judged-open.ts, the links were judged as they were followed), the file's owner and
 * write bits, and every folder above it as placeProblem judges them. With `fd` (the descriptor `st` was read on) the
 * folders judged are those of the file that descriptor holds, where it is now (the kernel's spelling of it), never
 * where its name leads a second time. A pipe (`apply <(…)`) has no folder: only its owner and mode count.
 */
export function untrustedInput(file: string, st: Stats, env: Record<string, string | undefined>, fd?: number): UntrustedInput | null {
  const { owners, who, euid } = inputOwners(env);
  // Opened through openJudged (judged-open.ts), its links were judged as they were followed; else judged here by name.
  const link = fd === undefined ? linkProblem(file, { owners, who }) : null;
  const found = link ?? (st.isFIFO() ? pipeProblem(file, st, owners, who) : placeProblem(openedPlace(file, fd), st, { owners, who, fileWritable: st.isFile(), strictFolder: false }));
  return found === null ? null : asUntrusted(found, who, euid);
}

/** Who may have written a file that steers hashall: root, this user and, as root under sudo, SUDO_UID; `who` names this user. */
export function inputOwners(env: Record<string, string | undefined>): { owners: Set<number>; who: string; euid: number } {
  const { euid, who } = effectiveUser();
  const owners = new Set([0, euid]);
  const sudoUid = Number(env.SUDO_UID);
  if (euid === 0 && Number.isInteger(sudoUid) && sudoUid > 0) owners.add(sudoUid);
  return { owners, who, euid };
}

/** A problem of a file that steers hashall, with the command that fixes it. */
export function asUntrusted(found: PlaceProblem, who: string, euid: number): UntrustedInput {
  const fix = found.where === 'link' ? (found.kind === 'owner' ? `give its real path, not through ${found.at}` : `chmod go-w ${path.dirname(found.at)}`) : found.kind === 'owner' ? `chown ${who === 'root' ? 'root' : euid} ${found.at}` : `chmod go-w ${found.at}`;
  return { ...found, who, fix };
}

/**
 * Where the file open on `fd` is now (`/proc/self/fd/N`, the kernel's spelling: symlinks resolved, renames followed);
 * without a descriptor, or where /proc cannot tell, where `file` leads now (realPlace). A file removed since it was
 * opened is judged where it was.
 */
function openedPlace(file: string, fd: number | undefined): string {
  if (fd !== undefined) {
    try {
      const at = readlinkSync(anchoredPath(fd));
      if (at.startsWith('/')) return at.endsWith(' (deleted)') ? at.slice(0, -' (deleted)'.length) : at;
    } catch {
      // no /proc: by name
    }
  }
  return realPlace(file);
}

/** A pipe's own owner and write bits (an anonymous one has no folder to judge; a named one is judged as opened). */
function pipeProblem(file: string, st: Stats, owners: ReadonlySet<number>, who: string): PlaceProblem | null {
  if (!owners.has(st.uid)) return { at: file, where: 'file', kind: 'owner', problem: `is owned by uid ${st.uid}, not ${who}` };
  const by = writers(st, owners);
  return by ? { at: file, where: 'file', kind: 'writable', problem: `is writable by ${by}` } : null;
}
