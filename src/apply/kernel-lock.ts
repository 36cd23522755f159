// A kernel lock on a private, empty file beside the catalog (SQLite's fcntl lock of `BEGIN EXCLUSIVE`: Node has no
// flock/fcntl): held by one process at a time, freed by the kernel when that process ends, however it ends. The apply
// lock (lock.ts) and the lock streak's guard (lock-streak.ts) are such files.
import { chmodSync, closeSync, constants, lstatSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CatalogError } from '../errors.js';
import { effectiveUser } from '../fs/trusted-place.js';

/**
 * The lock file made (0600, never through a symlink) when it is missing, else judged: a regular, empty file of this user
 * (or root), made private again when more open. Never opened here once it exists: an fcntl lock is the process's, and
 * closing ANY descriptor of the file in a process drops every lock that process holds on it (SQLite, the only opener,
 * keeps such descriptors open while it holds a lock). Its folder is the catalog's, judged private when the catalog opened.
 */
export function ensureLockFile(file: string): void {
  let st = lstatSync(file, { throwIfNoEntry: false });
  if (st === undefined) {
    try {
      closeSync(openSync(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    st = lstatSync(file);
  }
  const { euid } = effectiveUser();
  if (!st.isFile() || st.size !== 0 || (st.uid !== euid && st.uid !== 0)) {
    throw new CatalogError(`lock file ${file} is not hashall's (${!st.isFile() ? 'not a regular file' : st.size !== 0 ? 'not empty' : `owned by uid ${st.uid}`})`, {
      hint: `hashall keeps an empty file there, owned by the user it runs as; with no hashall running, remove ${file} (hashall makes it again)`,
    });
  }
  if ((st.mode & 0o077) !== 0) chmodSync(file, 0o600);
}

/** This process's hold of the lock file; `release` lets it go (the kernel does the same when the process ends). */
export interface KernelLock {
  release(): void;
}

/** The lock file taken for this process (waiting up to `waitMs` for another holder to let go), or null when another process holds it. */
export function takeKernelLock(file: string, waitMs: number): KernelLock | null {
  const conn = new Database(file, { fileMustExist: true, timeout: waitMs });
  try {
    // An EXCLUSIVE lock of a rollback-journal database: nobody else can even read it until this connection closes.
    // Nothing is ever written: the file stays empty, so it stays in rollback-journal mode (WAL would let readers in).
    conn.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    conn.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return null;
    throw new CatalogError(`cannot take the lock file ${file}: ${(err as Error).message}`, { cause: err, hint: 'check the permissions of the catalog folder' });
  }
  return {
    release: () => {
      if (conn.open) conn.close();
    },
  };
}
