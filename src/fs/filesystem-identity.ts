// Stable identity of a mounted filesystem: fs UUID, ZFS dataset guid, or a documented fallback (reads the world).
import { readdirSync, readlinkSync, realpathSync, openSync, readSync, closeSync, statSync, lstatSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { devToMajorMinor, subvolumeIdOf, type MountEntry } from './mountinfo.js';

export interface FilesystemIdentity {
  /**
   * `uuid:<uuid>`   ext2/3/4, xfs, btrfs, NTFS (ntfs-3g's fuseblk, the kernel's ntfs3; its 64-bit volume serial as
   *                 blkid spells it) (from /dev/disk/by-uuid, else read from the device's superblock);
   * `zfs:<guid>`    ZFS dataset guid (`zfs get -H -o value guid <dataset>`);
   * `fallback:<fstype>:<source>:<mount point of the filesystem root>` for everything else (tmpfs, overlay, nfs, ...)
   *                 and when the above cannot be read. It survives remounts at the same place and st_dev changes,
   *                 but not a move of the mount point or a changed mount source name.
   */
  uuid: string;
  fsType: string;
  source: string;
  /** Current `major:minor`. */
  dev: string;
  method: 'by-uuid' | 'superblock' | 'zfs' | 'fallback';
}

/** Effects the identity lookup needs; injectable for tests. */
export interface IdentityProbes {
  /** Map of resolved block-device path → uuid (from /dev/disk/by-uuid). */
  byUuid(): Map<string, string>;
  /** Raw bytes of a device at an offset, or null when unreadable. */
  readDevice(device: string, offset: number, length: number): Buffer | null;
  /** ZFS dataset guid or null. */
  zfsGuid(dataset: string): string | null;
  /** rdev (`major:minor`) of a block device path, or null. */
  deviceNumber(device: string): string | null;
}

export function systemProbes(): IdentityProbes {
  let byUuidCache: Map<string, string> | null = null;
  return {
    byUuid() {
      if (byUuidCache) return byUuidCache;
      const map = new Map<string, string>();
      const dir = '/dev/disk/by-uuid';
      try {
        for (const name of readdirSync(dir)) {
          try {
            map.set(realpathSync(path.resolve(dir, readlinkSync(path.join(dir, name)))), name);
          } catch {
            /* dangling link: ignore */
          }
        }
      } catch {
        /* no udev: empty */
      }
      byUuidCache = map;
      return map;
    },
    readDevice(device, offset, length) {
      let fd: number | null = null;
      try {
        fd = openSync(device, 'r');
        const buf = Buffer.alloc(length);
        const n = readSync(fd, buf, 0, length, offset);
        return n === length ? buf : null;
      } catch {
        return null;
      } finally {
        if (fd !== null) closeSync(fd);
      }
    },
    zfsGuid(dataset) {
      try {
        const out = execFileSync('zfs', ['get', '-H', '-o', 'value', 'guid', dataset], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
        return /^\d+$/.test(out) ? out : null;
      } catch {
        return null;
      }
    },
    deviceNumber(device) {
      try {
        const st = statSync(device, { bigint: true });
        if (!st.isBlockDevice()) return null;
        const d = st.rdev;
        const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
        const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
        return `${major}:${minor}`;
      } catch {
        return null;
      }
    },
  };
}

function formatUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Mount types that may hold an NTFS volume: ntfs-3g (FUSE on a block device), the kernel's ntfs3 and old ntfs drivers. */
const NTFS_TYPES = new Set(['fuseblk', 'ntfs3', 'ntfs']);

/** Block filesystems whose identity is read from the device (by-uuid link or superblock). */
const BLOCK_TYPES = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', ...NTFS_TYPES]);

/** Filesystem UUID from the on-disk superblock (ext2/3/4, xfs, btrfs, NTFS); null if unknown or unreadable. */
export function uuidFromSuperblock(fsType: string, read: (offset: number, length: number) => Buffer | null): string | null {
  if (fsType === 'ext2' || fsType === 'ext3' || fsType === 'ext4') {
    const sb = read(1024, 1024);
    if (!sb || sb.readUInt16LE(0x38) !== 0xef53) return null;
    return formatUuid(sb.subarray(0x68, 0x78));
  }
  if (fsType === 'xfs') {
    const sb = read(0, 64);
    if (!sb || sb.toString('latin1', 0, 4) !== 'XFSB') return null;
    return formatUuid(sb.subarray(32, 48));
  }
  if (fsType === 'btrfs') {
    const sb = read(0x10000, 0x100);
    if (!sb || sb.toString('latin1', 0x40, 0x48) !== '_BHRfS_M') return null;
    return formatUuid(sb.subarray(0x20, 0x30));
  }
  if (NTFS_TYPES.has(fsType)) {
    // The boot sector: OEM id "NTFS    " at 3, the volume serial (little-endian u64) at 0x48 — blkid's UUID, in
    // 16 upper-case hex digits, and /dev/disk/by-uuid's name. A fuseblk that is not NTFS (exFAT, …) is not read here.
    const bs = read(0, 0x50);
    if (!bs || bs.toString('latin1', 3, 11) !== 'NTFS    ') return null;
    const serial = bs.readBigUInt64LE(0x48);
    return serial === 0n ? null : serial.toString(16).toUpperCase().padStart(16, '0');
  }
  return null;
}

/** Where the filesystem's own root directory is mounted (an entry with root '/'), else `<mountPoint>@<root>`. */
export function rootMountSpelling(entry: MountEntry, all: MountEntry[]): string {
  const whole = all.find((m) => m.majorMinor === entry.majorMinor && m.root === '/');
  return whole ? whole.mountPoint : `${entry.mountPoint}@${entry.root}`;
}

export function identifyFilesystem(entry: MountEntry, all: MountEntry[], probes: IdentityProbes): FilesystemIdentity {
  const base = { fsType: entry.fsType, source: entry.source, dev: entry.majorMinor };
  if (entry.fsType === 'zfs') {
    const guid = probes.zfsGuid(entry.source);
    if (guid) return { ...base, uuid: `zfs:${guid}`, method: 'zfs' };
  }
  if (BLOCK_TYPES.has(entry.fsType) && entry.source.startsWith('/dev/')) {
    let real = entry.source;
    try {
      real = realpathSync(entry.source);
    } catch {
      /* keep the spelling */
    }
    // A btrfs subvolume other than the top level is a filesystem of its own to hashall (its own st_dev; no hardlink
    // crosses into another): the filesystem's UUID and the subvolume's id.
    const subvolid = entry.fsType === 'btrfs' ? subvolumeIdOf(entry) : null;
    const sub = subvolid !== null && subvolid !== '5' ? `:subvolid=${subvolid}` : '';
    // A fuseblk's by-uuid name is taken only once its superblock is NTFS's (FUSE serves other filesystems too).
    const fromLink = entry.fsType === 'fuseblk' && uuidFromSuperblock('fuseblk', (o, l) => probes.readDevice(real, o, l)) === null ? undefined : probes.byUuid().get(real);
    if (fromLink) return { ...base, uuid: `uuid:${fromLink}${sub}`, method: 'by-uuid' };
    // A non-btrfs block filesystem's st_dev is the device number: only trust a superblock of the same device.
    const devNo = probes.deviceNumber(real);
    if (entry.fsType === 'btrfs' || devNo === entry.majorMinor) {
      const sb = uuidFromSuperblock(entry.fsType, (o, l) => probes.readDevice(real, o, l));
      if (sb) return { ...base, uuid: `uuid:${sb}${sub}`, method: 'superblock' };
    }
  }
  return { ...base, uuid: fallbackIdentity(entry, all), method: 'fallback' };
}

/**
 * The fallback identity of a mount: its type, source and the mount point of its root. A catalog made before hashall
 * read a stable identity for this type (NTFS before this version) knows the filesystem by this spelling.
 */
export function fallbackIdentity(entry: MountEntry, all: MountEntry[]): string {
  return `fallback:${entry.fsType}:${entry.source}:${rootMountSpelling(entry, all)}`;
}

/**
 * Birth time (ns, decimal) of the directory `dir` — a filesystem's preferred mount point — when it lies on device
 * `majorMinor` and the filesystem reports one; else null. The fallback identity and the device number of a tmpfs
 * replaced by another at the same place are equal (the kernel reuses both); the root's birth time is not.
 */
export function rootBirthAt(dir: string, majorMinor: string): string | null {
  try {
    const st = lstatSync(dir, { bigint: true });
    if (!st.isDirectory() || devToMajorMinor(st.dev) !== majorMinor || st.birthtimeNs === 0n) return null;
    return st.birthtimeNs.toString();
  } catch {
    return null;
  }
}
