// Bit rot on a real file for tests: one byte flipped in place with the mtime put back (`touch -r`), or flipped on the disk underneath the filesystem (every stamp kept).
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
