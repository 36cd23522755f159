// One syncfs(2) of the filesystem holding a file hashall wrote: everything written there made durable in one call, through coreutils' `sync --file-system` on the held descriptor (Node has no syncfs).
import { spawn } from 'node:child_process';
import { closeSync, constants, existsSync, fstatSync, openSync, statfsSync } from 'node:fs';
import { anchoredPath } from '../domain/anchored-path.js';
import { FsError } from '../errors.js';
import { fsPathArg } from './path-encoding.js';

/**
 * Filesystems (statfs f_type) whose syncfs writes back every dirty file's data and commits the metadata — new names,
 * folders — before it returns, as an fdatasync of each file and an fsync of each folder would. Anything else (a FUSE
 * driver, a network share) is synced file by file: its syncfs may return before its own buffers reach the disk.
 */
const SYNCFS_COVERS_ALL = new Set<number>([
  0xef53, // ext2, ext3, ext4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0xf2f52010, // f2fs
  0x2fc12fc1, // zfs
  0x01021994, // tmpfs (nothing to write)
]);

/** coreutils' sync, where Debian installs it (a root-owned system folder; PATH is not consulted). */
const SYNC_PROGRAMS = ['/usr/bin/sync', '/bin/sync'];

export interface SyncFilesystemOptions {
  /** The sync program (tests); default: coreutils' in /usr/bin or /bin. null: none, every call answers 'unsupported'. */
  program?: string | null;
}

/**
 * syncfs of the filesystem holding `p`, which must be the very inode `expect` names (opened without following a
 * symlink: anything else at the path is an error — the file hashall wrote is no longer there).
 *
 * 'synced': every file and folder written to that filesystem before the call is durable. 'unsupported': no sync
 * program, or a filesystem not in SYNCFS_COVERS_ALL. 'failed': syncfs reported an error — it may belong to any file
 * of the filesystem, so the caller syncs its own files one by one, which report their own errors (a file's write-back
 * error stays unseen for a new descriptor of that file until an fsync reads it).
 */
export async function syncFilesystemOf(p: string, expect: { ino: number; dev: number }, opts: SyncFilesystemOptions = {}): Promise<'synced' | 'unsupported' | 'failed'> {
  const program = opts.program !== undefined ? opts.program : (SYNC_PROGRAMS.find((f) => existsSync(f)) ?? null);
  if (program === null) return 'unsupported';
  const fd = openSync(fsPathArg(p), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (st.ino !== expect.ino || st.dev !== expect.dev) {
      throw new FsError(`${p} is not the file hashall wrote there (inode ${st.ino}, expected ${expect.ino})`, { path: p, hint: 'something replaced it; the group is rolled back' });
    }
    // The descriptor's own filesystem (the magic link names the open file, not a path looked up again).
    if (!SYNCFS_COVERS_ALL.has(statfsSync(anchoredPath(fd)).type)) return 'unsupported';
    // The child syncs the filesystem of its standard input: this descriptor, reopened through /proc (no path lookup).
    const ok = await new Promise<boolean>((resolve) => {
      const child = spawn(program, ['--file-system', '/dev/stdin'], { stdio: [fd, 'ignore', 'ignore'] });
      child.once('error', () => resolve(false));
      child.once('close', (code) => resolve(code === 0));
    });
    return ok ? 'synced' : 'failed';
  } finally {
    closeSync(fd);
  }
}
