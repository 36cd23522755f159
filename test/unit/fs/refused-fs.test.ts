// Which filesystems hashall refuses: pooling ones by mount type, those without hardlinks by type or (fuseblk) by boot sector; NTFS through ntfs-3g, unknown or unreadable fuseblk devices are not refused.
import { describe, expect, it } from 'vitest';
import { refusedFs } from '../../../src/fs/refused-fs.js';

function bootSector(oem: string, fatLabelAt?: number, fatLabel?: string): Buffer {
  const b = Buffer.alloc(512);
  b.write(oem, 3, 'latin1');
  if (fatLabelAt !== undefined) b.write(fatLabel!, fatLabelAt, 'latin1');
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}
const on = (b: Buffer | null) => (device: string, offset: number, length: number) => (device === '/dev/sdz1' && offset === 0 && b ? b.subarray(0, length) : null);
const fuseblk = { fsType: 'fuseblk', source: '/dev/sdz1' };

describe('refusedFs', () => {
  it.each([
    ['exfat', 'exFAT (exfat)'],
    ['vfat', 'FAT (vfat)'],
    ['msdos', 'FAT (msdos)'],
    ['fuse.rclone', 'an rclone mount (fuse.rclone)'],
  ])('refuses %s by its mount type: no hardlinks', (fsType, named) => {
    const r = refusedFs({ fsType, source: 'x' });
    expect(r?.what).toMatch(new RegExp(`^${named.replace(/[()]/g, '\\$&')}: it cannot hold a hardlink`));
    expect(r?.hint).toMatch(/ext4, XFS, btrfs, ZFS or NTFS/);
  });

  it('refuses a pooling filesystem with its own reason', () => {
    expect(refusedFs({ fsType: 'fuse.mergerfs', source: 'a:b' })?.what).toMatch(/^a mergerfs pool \(fuse\.mergerfs\): its inode numbers do not identify files/);
  });

  it('tells a fuseblk by its boot sector: exFAT and FAT refused; NTFS, another, an unreadable device or no reader not', () => {
    expect(refusedFs(fuseblk, on(bootSector('EXFAT   ')))?.what).toMatch(/^exFAT \(fuseblk\)/);
    expect(refusedFs(fuseblk, on(bootSector('MSWIN4.1', 0x52, 'FAT32   ')))?.what).toMatch(/^FAT \(fuseblk\)/);
    expect(refusedFs(fuseblk, on(bootSector('MSDOS5.0', 0x36, 'FAT16   ')))?.what).toMatch(/^FAT \(fuseblk\)/);
    expect(refusedFs(fuseblk, on(bootSector('NTFS    ')))).toBeNull();
    expect(refusedFs(fuseblk, on(Buffer.alloc(512)))).toBeNull();
    expect(refusedFs(fuseblk, on(null))).toBeNull();
    expect(refusedFs(fuseblk)).toBeNull();
    expect(refusedFs({ fsType: 'fuseblk', source: 'not-a-device' }, on(bootSector('EXFAT   ')))).toBeNull();
  });

  it('does not refuse ordinary filesystems', () => {
    for (const fsType of ['ext4', 'xfs', 'btrfs', 'zfs', 'tmpfs', 'nfs4', 'ntfs3']) expect(refusedFs({ fsType, source: '/dev/sda1' })).toBeNull();
  });
});
