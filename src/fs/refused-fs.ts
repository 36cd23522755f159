// Filesystems hashall refuses to scan or change, and why: pooling filesystems (pooled-fs.ts) and those without hardlinks whose inode numbers the driver makes up (exFAT, FAT, rclone).
import { realpathSync } from 'node:fs';
import { findMountFor, type MountEntry } from './mountinfo.js';
import { POOLED_FS_HINT, pooledFsName, pooledFsWhy } from './pooled-fs.js';

/** Why a mount is refused: `what` completes "… is on …"; `hint` says what to do instead. */
export interface RefusedFs {
  what: string;
  hint: string;
}

/** Reads `length` bytes of a block device at `offset` (null when unreadable): IdentityProbes.readDevice. */
export type ReadDevice = (device: string, offset: number, length: number) => Buffer | null;

/**
 * Mount types without hardlinks whose inode numbers are made up per mount (measured with exfat-fuse 1.3: link and
 * chown fail with EPERM, chmod succeeds and changes nothing; the kernel's exfat and vfat number inodes by position).
 */
const NO_LINK_TYPES: ReadonlyMap<string, string> = new Map([
  ['exfat', 'exFAT'],
  ['fuse.exfat', 'exFAT'],
  ['vfat', 'FAT'],
  ['msdos', 'FAT'],
  ['fat', 'FAT'],
  ['fuse.rclone', 'an rclone mount'],
]);

export const NO_LINKS_HINT =
  'keep seeding and library data on a filesystem with hardlinks (ext4, XFS, btrfs, ZFS or NTFS) and leave this one ' +
  'out of hashall.yaml; to use the disk, copy what is on it to such a filesystem, or reformat it as one';

/** The name of a FUSE block filesystem from its boot sector: exFAT or FAT (refused), else null (NTFS, unknown, unreadable). */
function fuseblkNoLinks(source: string, readDevice: ReadDevice | undefined): string | null {
  if (!readDevice || !source.startsWith('/dev/')) return null;
  let device = source;
  try {
    device = realpathSync(source);
  } catch {
    /* keep the spelling */
  }
  const bs = readDevice(device, 0, 512);
  if (!bs) return null;
  if (bs.toString('latin1', 3, 11) === 'EXFAT   ') return 'exFAT';
  const signed = bs[510] === 0x55 && bs[511] === 0xaa;
  if (signed && (bs.toString('latin1', 0x36, 0x39) === 'FAT' || bs.toString('latin1', 0x52, 0x57) === 'FAT32')) return 'FAT';
  return null;
}

function noLinksWhy(name: string, fsType: string): string {
  return (
    `${name} (${fsType}): it cannot hold a hardlink, and its driver makes up the inode numbers rather than reading them ` +
    'from the disk — the same file may show another one after a remount — so hashall could neither make the links it ' +
    'is for nor tell a hardlink from a copy there'
  );
}

/**
 * Why hashall refuses the filesystem of `mount`, or null when it does not. A FUSE block filesystem (`fuseblk`) is
 * told by its boot sector, read with `readDevice` (without it, or unreadable, it is not refused: NTFS through ntfs-3g
 * is `fuseblk` too).
 */
export function refusedFs(mount: Pick<MountEntry, 'fsType' | 'source'>, readDevice?: ReadDevice): RefusedFs | null {
  const pooled = pooledFsName(mount.fsType);
  if (pooled !== null) return { what: pooledFsWhy(pooled, mount.fsType), hint: POOLED_FS_HINT };
  const name = NO_LINK_TYPES.get(mount.fsType) ?? (mount.fsType === 'fuseblk' ? fuseblkNoLinks(mount.source, readDevice) : null);
  return name === null ? null : { what: noLinksWhy(name, mount.fsType), hint: NO_LINKS_HINT };
}

/** Why hashall refuses the filesystem `dir` (an existing path, resolved) is on; null for any other or an unreadable path. */
export function refusedFsAt(dir: string, mounts: readonly MountEntry[], readDevice?: ReadDevice): RefusedFs | null {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return null;
  }
  const mount = findMountFor(mounts as MountEntry[], real);
  return mount ? refusedFs(mount, readDevice) : null;
}
