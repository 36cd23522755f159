// syncFilesystemOf on real filesystems: an ext4 image on a loop device (the data reaches the image only when synced), a FUSE mount it declines, a swapped path it refuses.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { syncFilesystemOf } from '../../../src/fs/sync-filesystem.js';
import { makeTempDir, mountMergerfs, type TempDir } from '../../support/mounts.js';

let tmp: TempDir | null = null;
afterEach(() => {
  tmp?.cleanup();
  tmp = null;
});

const idOf = (p: string): { ino: number; dev: number } => {
  const st = statSync(p);
  return { ino: st.ino, dev: st.dev };
};

describe('syncFilesystemOf', () => {
  it("writes a file's data to the disk: an ext4 image on a loop device holds the bytes only after the syncfs", async () => {
    tmp = makeTempDir();
    const image = path.join(tmp.path, 'disk.img');
    const mnt = path.join(tmp.path, 'mnt');
    mkdirSync(mnt);
    execFileSync('truncate', ['-s', '32M', image]);
    execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'ignore' });
    execFileSync('mount', ['-o', 'loop', image, mnt]);
    // A marker no other block of the image holds, written through the page cache of the mounted filesystem.
    const marker = Buffer.from(`hashall-syncfs-marker-${process.pid}-${Date.now()}-`.repeat(64));
    const file = path.join(mnt, 'a', 'data.bin');
    mkdirSync(path.dirname(file));
    const fd = openSync(file, 'w');
    writeSync(fd, marker);
    closeSync(fd);
    // Dirty pages are written back after 30 s (vm.dirty_expire_centisecs) unless synced: not on the image yet.
    expect(readFileSync(image).includes(marker), 'the marker reached the image before any sync').toBe(false);
    expect(await syncFilesystemOf(file, idOf(file))).toBe('synced');
    expect(readFileSync(image).includes(marker), 'the marker is on the image after the syncfs').toBe(true);
  });

  it('declines a FUSE filesystem (its syncfs may return before its own buffers reach the disk) and a missing sync program', async () => {
    tmp = makeTempDir();
    const branch = path.join(tmp.path, 'branch');
    const pool = path.join(tmp.path, 'pool');
    mkdirSync(branch);
    mountMergerfs([branch], pool);
    const onFuse = path.join(pool, 'f.bin');
    writeFileSync(onFuse, 'x');
    expect(await syncFilesystemOf(onFuse, idOf(onFuse))).toBe('unsupported');
    const local = path.join(tmp.path, 'g.bin');
    writeFileSync(local, 'y');
    expect(await syncFilesystemOf(local, idOf(local), { program: null })).toBe('unsupported');
  });

  it("says 'failed' when syncfs reports an error (the caller then fsyncs its files one by one)", async () => {
    tmp = makeTempDir();
    const f = path.join(tmp.path, 'f.bin');
    writeFileSync(f, 'x');
    expect(await syncFilesystemOf(f, idOf(f), { program: '/bin/false' })).toBe('failed');
    expect(await syncFilesystemOf(f, idOf(f), { program: path.join(tmp.path, 'no-such-program') })).toBe('failed');
  });

  it('refuses a path that is no longer the file hashall wrote: another inode, or a symlink put in its place', async () => {
    tmp = makeTempDir();
    const f = path.join(tmp.path, 'f.bin');
    writeFileSync(f, 'x');
    const other = path.join(tmp.path, 'other.bin');
    writeFileSync(other, 'z');
    await expect(syncFilesystemOf(other, idOf(f))).rejects.toThrow(/is not the file hashall wrote there/);
    const link = path.join(tmp.path, 'link.bin');
    symlinkSync(f, link);
    await expect(syncFilesystemOf(link, idOf(f))).rejects.toMatchObject({ code: 'ELOOP' });
  });
});
