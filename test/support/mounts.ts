// Test helpers for real mounts inside the private test mount namespace (tmpfs, bind) and temp directories.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** True inside `npm test`'s private mount namespace (mounts made here vanish when the run ends). */
export function inMountNamespace(): boolean {
  return process.env.HASHALL_TEST_MOUNTNS === '1';
}

function requireNamespace(what: string): void {
  if (!inMountNamespace()) throw new Error(`${what} needs the private test mount namespace: run via \`npm test\` or \`unshare -m --propagation private env HASHALL_TEST_MOUNTNS=1 npx vitest run ...\``);
}

/** Mount a fresh tmpfs of `sizeBytes` at `dir` (created if missing). A small size gives a real ENOSPC. */
export function mountTmpfs(dir: string, sizeBytes: number, source = 'hashall-test'): void {
  requireNamespace('mountTmpfs');
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, source, dir]);
}

/** Bind-mount directory `src` at `dst` (created if missing): one filesystem, two spellings. */
export function bindMount(src: string, dst: string): void {
  requireNamespace('bindMount');
  mkdirSync(dst, { recursive: true });
  execFileSync('mount', ['--bind', src, dst]);
}

/** Join `branches` into one tree at `dir` with mergerfs (FUSE; its process ends when the pool is unmounted). */
export function mountMergerfs(branches: string[], dir: string, options = 'category.create=mfs,minfreespace=1M'): void {
  requireNamespace('mountMergerfs');
  mkdirSync(dir, { recursive: true });
  execFileSync('mergerfs', ['-o', options, branches.join(':'), dir]);
}

/**
 * A new btrfs in the image file `image` (`sizeBytes`, sparse), loop-mounted at `dir` (its top-level subvolume);
 * returns the loop device, for mounting a subvolume of the same filesystem elsewhere (`mountBtrfsSubvolume`).
 */
export function mountBtrfsImage(image: string, dir: string, sizeBytes = 256 * 1024 * 1024): string {
  requireNamespace('mountBtrfsImage');
  mkdirSync(dir, { recursive: true });
  execFileSync('truncate', ['-s', String(sizeBytes), image]);
  execFileSync('mkfs.btrfs', ['-q', image], { stdio: 'ignore' });
  execFileSync('mount', ['-o', 'loop', image, dir]);
  return execFileSync('findmnt', ['-n', '-o', 'SOURCE', '--mountpoint', dir], { encoding: 'utf8' }).trim();
}

/**
 * A new NTFS in the image file `image` (`sizeBytes`, sparse) on a loop device, mounted at `dir` by ntfs-3g (FUSE, type
 * fuseblk, default options: as a USB disk from Windows is mounted on a Linux server — every file shows mode 0777 and
 * owner root whatever chmod and chown say, and times keep 100 ns). Unmounting ends ntfs-3g; the loop device stays:
 * returned, for `detachLoop` after the unmount.
 */
export function mountNtfsImage(image: string, dir: string, sizeBytes = 64 * 1024 * 1024): string {
  requireNamespace('mountNtfsImage');
  mkdirSync(dir, { recursive: true });
  execFileSync('truncate', ['-s', String(sizeBytes), image]);
  execFileSync('mkntfs', ['-F', '-q', '-f', image], { stdio: 'ignore' });
  const device = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
  execFileSync('ntfs-3g', [device, dir]);
  return device;
}

/**
 * A new exFAT in the image file `image` on a loop device, mounted at `dir` by exfat-fuse (type fuseblk: as a camera
 * card or a USB stick formatted on another system is mounted). Returns the loop device, for `detachLoop`.
 */
export function mountExfatImage(image: string, dir: string, sizeBytes = 32 * 1024 * 1024): string {
  requireNamespace('mountExfatImage');
  mkdirSync(dir, { recursive: true });
  execFileSync('truncate', ['-s', String(sizeBytes), image]);
  execFileSync('mkfs.exfat', [image], { stdio: 'ignore' });
  const device = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
  execFileSync('mount.exfat-fuse', [device, dir], { stdio: 'ignore' });
  return device;
}

/**
 * A new ext4 in the image file `image` (`sizeBytes`, sparse) on a loop device, mounted at `dir`. Returns the loop
 * device: unmounted, its blocks can be written underneath the filesystem (bit rot, see test/support/bit-rot.ts), and
 * mounted again at the same place it is the same device, so files keep their device, inode and every timestamp.
 */
export function mountExt4Image(image: string, dir: string, sizeBytes = 32 * 1024 * 1024): string {
  requireNamespace('mountExt4Image');
  mkdirSync(dir, { recursive: true });
  execFileSync('truncate', ['-s', String(sizeBytes), image]);
  execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'ignore' });
  const device = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
  execFileSync('mount', [device, dir]);
  return device;
}

/** Detach loop device `device` (after its filesystem was unmounted); a device already gone is fine. */
export function detachLoop(device: string): void {
  try {
    execFileSync('losetup', ['-d', device], { stdio: 'ignore' });
  } catch {
    /* already detached */
  }
}

/** Mount the subvolume `subvol` of the btrfs on `device` at `dir`, as `mount -o subvol=…` in fstab does. */
export function mountBtrfsSubvolume(device: string, subvol: string, dir: string): void {
  requireNamespace('mountBtrfsSubvolume');
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-o', `subvol=${subvol}`, device, dir]);
}

/** Unmount `dir` (lazily, so a lingering open file cannot fail the test's cleanup). */
export function unmount(dir: string): void {
  execFileSync('umount', ['-l', dir]);
}

/**
 * Unmount a target as `findmnt -r` prints it (`\xHH` escapes) by its exact bytes: a name that is not UTF-8 cannot be
 * passed as a string argument, so bash's printf makes the bytes (the trailing x keeps a final newline).
 */
function unmountEscaped(escaped: string): void {
  execFileSync('bash', ['-c', 'p=$(printf "%bx" "$1"); umount -l -- "${p%x}"', 'bash', escaped]);
}

export interface TempDir {
  path: string;
  /** Unmount everything mounted below it (deepest first), then remove it. */
  cleanup(): void;
}

/** A fresh directory under the OS temp dir; `cleanup()` unmounts what tests mounted inside and deletes it. */
export function makeTempDir(prefix = 'hashall-test-'): TempDir {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    path: dir,
    cleanup() {
      if (inMountNamespace()) {
        const mounted = execFileSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' })
          .split('\n')
          .map((escaped) => ({ escaped, target: escaped.replace(/\\x([0-9a-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))) }))
          .filter(({ target: t }) => t === dir || t.startsWith(dir + '/'))
          .sort((a, b) => b.target.length - a.target.length);
        for (const { escaped } of mounted) unmountEscaped(escaped);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
