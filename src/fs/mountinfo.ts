// Parses /proc/self/mountinfo into mount entries (with the device number files on a btrfs mount really report) and finds the mount that holds a path (read-only).
import { anchoredPath } from '../domain/anchored-path.js';
import { isAtOrUnder } from '../domain/path-string.js';
import { closeSync, constants, fstatSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface MountEntry {
  mountId: number;
  parentId: number;
  /**
   * `major:minor` that files on this mount report as st_dev. Mountinfo's own field, except on btrfs, where every
   * subvolume has a device number of its own and mountinfo names the filesystem's: there `readMountInfo` puts the
   * device of the mounted subvolume's root here (and mountinfo's in `superMajorMinor`).
   */
  majorMinor: string;
  /** Mountinfo's `major:minor` where `majorMinor` was replaced by the mounted subvolume's (btrfs); else absent. */
  superMajorMinor?: string;
  /** Directory of the filesystem that is mounted here ("/" for a whole filesystem, a subdir for a bind mount). */
  root: string;
  /** Where it is mounted, as seen by this process. */
  mountPoint: string;
  options: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

/** Undo the kernel's octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash). */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    if (left.length < 6 || right.length < 2) continue;
    out.push({
      mountId: Number(left[0]),
      parentId: Number(left[1]),
      majorMinor: left[2] ?? '',
      root: unescapeMountField(left[3] ?? '/'),
      mountPoint: unescapeMountField(left[4] ?? '/'),
      options: (left[5] ?? '').split(','),
      fsType: right[0] ?? '',
      source: unescapeMountField(right[1] ?? ''),
      superOptions: (right[2] ?? '').split(','),
    });
  }
  return out;
}

export function readMountInfo(file = '/proc/self/mountinfo'): MountEntry[] {
  const entries = parseMountInfo(readFileSync(file, 'utf8'));
  for (const e of entries) if (SUBVOLUME_FS.has(e.fsType)) useSubvolumeDevice(e);
  return entries;
}

/** The mount points this process sees now, as mountinfo spells them (no device is probed: cheap enough for every tree operation). */
export async function currentMountPoints(file = '/proc/self/mountinfo'): Promise<string[]> {
  return parseMountInfo(await readFile(file, 'utf8')).map((m) => m.mountPoint);
}

/** The btrfs subvolume holding a mount's root, from its super options (`subvol=/@pool`), or null. */
export function subvolumeOf(entry: MountEntry): string | null {
  const opt = entry.superOptions.find((o) => o.startsWith('subvol='));
  return opt === undefined ? null : unescapeMountField(opt.slice('subvol='.length));
}

/** The btrfs subvolume id of a mount's root (`subvolid=256`), or null; 5 is the top level. */
export function subvolumeIdOf(entry: MountEntry): string | null {
  const opt = entry.superOptions.find((o) => o.startsWith('subvolid='));
  return opt === undefined ? null : opt.slice('subvolid='.length);
}

/**
 * Why `path` (whose files report device `dev`) cannot be used through `mount`: it lies in a btrfs subvolume that is not
 * mounted by itself — or null when that is not the case. Scan's refusal and doctor's check say it in these words.
 */
export function unmountedSubvolume(path: string, dev: string, mount: MountEntry): { why: string; hint: string } | null {
  if (mount.fsType !== 'btrfs' || mount.superMajorMinor === undefined || dev === mount.majorMinor) return null;
  return {
    why: `${path} lies in a btrfs subvolume that is not mounted on its own (its files have device ${dev}; the mount at ${mount.mountPoint} has ${mount.majorMinor}): to hashall, as to hardlinks, every subvolume is a filesystem of its own`,
    hint: `mount that subvolume by itself (fstab: subvol=<its path>, e.g. \`mount -o subvol=/@data /dev/… /mnt/data\`) and name that mount as the filesystem's path in hashall.yaml; keep a torrent's payload and the library links to it in one subvolume`,
  };
}

/** Filesystems whose subvolumes each have their own st_dev, which mountinfo's field is not. */
const SUBVOLUME_FS = new Set(['btrfs', 'bcachefs']);

/**
 * Sets `entry.majorMinor` to the st_dev of the directory mounted there — proven to be that mount's root: opened without
 * following a last symlink, its descriptor's mount id (fdinfo) is the entry's and the kernel spells its path as the
 * mount point (a swapped-in symlink higher up leads elsewhere and fails one of the two). Left as mountinfo says when it
 * cannot be proven (mounted over, unreadable, gone): then no file matches it and every check refuses, as it should.
 */
function useSubvolumeDevice(entry: MountEntry): void {
  let fd: number;
  try {
    fd = openSync(entry.mountPoint, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch {
    return;
  }
  try {
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    const id = /^mnt_id:\s*(\d+)$/m.exec(info)?.[1];
    if (id === undefined || Number(id) !== entry.mountId) return;
    if (readlinkSync(anchoredPath(fd)) !== entry.mountPoint) return;
    const dev = devToMajorMinor(fstatSync(fd, { bigint: true }).dev);
    if (dev !== entry.majorMinor) {
      entry.superMajorMinor = entry.majorMinor;
      entry.majorMinor = dev;
    }
    // Paths inside a subvolume are the subvolume's own (it is the filesystem hashall sees): `/@pool/torrents` → `/torrents`.
    const subvol = subvolumeOf(entry);
    if (subvol !== null && subvol !== '/') {
      if (entry.root === subvol) entry.root = '/';
      else if (entry.root.startsWith(`${subvol}/`)) entry.root = entry.root.slice(subvol.length);
    }
  } catch {
    /* not proven: mountinfo's value stays */
  } finally {
    closeSync(fd);
  }
}

/** `st_dev` (as Node's Stats.dev number) → `major:minor` as mountinfo spells it. */
export function devToMajorMinor(dev: number | bigint): string {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/**
 * The mount whose mount point is the longest whole-segment prefix of the absolute, symlink-free `path`.
 * Later entries win on equal mount points (they are mounted over earlier ones).
 */
export function findMountFor(entries: MountEntry[], path: string): MountEntry | null {
  let best: MountEntry | null = null;
  for (const m of entries) {
    const mp = m.mountPoint;
    if (!isAtOrUnder(path, mp)) continue;
    if (!best || mp.length >= best.mountPoint.length) best = m;
  }
  return best;
}
