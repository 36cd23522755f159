// How many names each inode has inside one of hashall's private directories, read synchronously through held directory descriptors (never a symlink followed, never another device, never a directory anyone else may write).
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { anchoredPath } from '../domain/anchored-path.js';
import { fsPathArg } from './path-encoding.js';
import { effectiveUser } from './trusted-place.js';

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * Names per inode of the regular files at and under `<parent>/<name>`, or null when they cannot be told for sure: the
 * directory is absent, a symlink, not a directory, on another device than `parent`, owned by anyone but this process's
 * user, writable by its group or others, changed while it was opened, holds more than `maxEntries` entries, or a read
 * failed. Below the checked top nobody else can add, rename or swap anything, and each level is opened O_NOFOLLOW
 * through its held parent and compared with what lstat saw; inode numbers that are not safe integers are not counted.
 */
export function inodeNamesInPrivateDir(parent: string, name: string, maxEntries = 1_000_000): Map<number, number> | null {
  const top = path.join(parent, name);
  const { euid } = effectiveUser();
  let fd: number;
  try {
    const above = lstatSync(fsPathArg(parent), { bigint: true });
    const st = lstatSync(fsPathArg(top), { bigint: true });
    if (!st.isDirectory() || st.dev !== above.dev || Number(st.uid) !== euid || (Number(st.mode) & 0o022) !== 0) return null;
    fd = openSync(fsPathArg(top), DIR_FLAGS);
    const held = fstatSync(fd, { bigint: true });
    if (held.dev !== st.dev || held.ino !== st.ino) {
      closeSync(fd);
      return null;
    }
  } catch {
    return null;
  }
  const counts = new Map<number, number>();
  let entries = 0;
  const walk = (dirFd: number, dev: bigint): boolean => {
    for (const child of readdirSync(anchoredPath(dirFd), { encoding: 'buffer' })) {
      if (++entries > maxEntries) return false;
      const at = anchoredPath(dirFd, child);
      const st = lstatSync(at, { bigint: true, throwIfNoEntry: false });
      if (st === undefined || st.dev !== dev) continue;
      if (st.isFile()) {
        const ino = Number(st.ino);
        if (Number.isSafeInteger(ino)) counts.set(ino, (counts.get(ino) ?? 0) + 1);
      } else if (st.isDirectory()) {
        const sub = openSync(at, DIR_FLAGS);
        try {
          const held = fstatSync(sub, { bigint: true });
          if (held.dev !== st.dev || held.ino !== st.ino) return false;
          if (!walk(sub, dev)) return false;
        } finally {
          closeSync(sub);
        }
      }
    }
    return true;
  };
  try {
    return walk(fd, fstatSync(fd, { bigint: true }).dev) ? counts : null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
