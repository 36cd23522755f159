// Bit rot on a real file for tests: one byte flipped in place with the mtime put back (`touch -r`), or flipped on the disk underneath the filesystem (every stamp kept), or a real read error (EIO) from the disk.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

/** Overwrite one byte in place and put the mtime back exactly: what bit rot looks like to size + mtime checks. */
export function rot(file: string, offset: number): void {
  const ref = `${file}.mtime-ref`;
  execFileSync('touch', ['-r', file, ref]);
  const fd = openSync(file, 'r+');
  const byte = Buffer.alloc(1);
  byte[0] = (readFileSync(file)[offset]! ^ 0x5a) & 0xff;
  writeSync(fd, byte, 0, 1, offset);
  closeSync(fd);
  execFileSync('touch', ['-r', ref, file]);
  execFileSync('rm', [ref]);
}

/**
 * Real bit rot, underneath the filesystem: the ext4 on loop device `device` mounted at `mountpoint` is unmounted, one
 * byte of file `rel` (relative to the mountpoint) is flipped in its data block on the device itself (debugfs
 * zap_block, as a failing disk or controller would change it), and it is mounted again at the same place. Nothing
 * goes through the filesystem, so the file keeps its device, inode, size, mtime and ctime to the nanosecond — a
 * change no stamp can show (from user space, ctime cannot be kept across a write).
 */
export function rotOnDisk(device: string, mountpoint: string, rel: string, offset: number): void {
  const file = `${mountpoint}/${rel}`;
  const blockSize = Number(execFileSync('stat', ['-f', '-c', '%S', mountpoint], { encoding: 'utf8' }).trim());
  const flipped = (readFileSync(file)[offset]! ^ 0x5a) & 0xff;
  execFileSync('umount', [mountpoint]); // not lazy: the filesystem must be gone before its blocks are written
  const inFs = `/${rel}`;
  const block = Math.floor(offset / blockSize);
  execFileSync('debugfs', ['-w', '-R', `zap_block -f ${inFs} -o ${offset % blockSize} -l 1 -p ${flipped} ${block}`, device], { stdio: 'ignore' });
  execFileSync('mount', [device, mountpoint]);
}

/**
 * A real read error (EIO) on file `rel` of the ext4 on loop device `device` mounted at `mountpoint`: the device is cut
 * short at the file's first data block (its image file truncated there, the loop device told its new size), and the
 * file's cached pages dropped, so the next read of it reaches the device and fails as a dead sector does — the
 * kernel's "attempt to access beyond end of device", EIO to the reader. Its stamps (device, inode, size, mtime, ctime)
 * are unchanged. Everything on the device past that block is gone too: other files whose pages are cached still read.
 */
export function unreadableOnDisk(device: string, mountpoint: string, rel: string): void {
  const file = `${mountpoint}/${rel}`;
  execFileSync('sync', ['-f', file]);
  const blockSize = Number(execFileSync('stat', ['-f', '-c', '%S', mountpoint], { encoding: 'utf8' }).trim());
  const block = Number(execFileSync('debugfs', ['-R', `bmap /${rel} 0`, device], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  if (!Number.isInteger(block) || block <= 0) throw new Error(`no data block found for ${file}`);
  const image = execFileSync('losetup', ['-n', '-O', 'BACK-FILE', device], { encoding: 'utf8' }).trim();
  execFileSync('truncate', ['-s', String(block * blockSize), image]);
  execFileSync('losetup', ['-c', device]);
  execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}
