// Filesystems that join other filesystems' folders into one tree (mergerfs and its kin): their inode numbers do not identify files, so hashall refuses them.

/**
 * Mount types (mountinfo's fstype) of union and pooling filesystems. Measured with mergerfs 2.33 over two tmpfs
 * branches: by default a hardlink made through the pool shows another inode number than the file it links (the
 * numbers are FUSE node ids, one per path), and with `inodecalc=passthrough` two files on different branches show the
 * same device and inode — so neither "same inode" nor "another inode" says whether two paths hold the same bytes;
 * with `use_ino` the numbers are 64-bit hashes past what hashall keeps exactly. mhddfs and unionfs-fuse pass the
 * branches' numbers through as passthrough does.
 */
const POOLED_TYPES: ReadonlyMap<string, string> = new Map([
  ['fuse.mergerfs', 'mergerfs'],
  ['fuse.mhddfs', 'mhddfs'],
  ['fuse.unionfs', 'unionfs-fuse'],
  ['fuse.unionfs-fuse', 'unionfs-fuse'],
  // Unraid's user shares (/mnt/user): one tree over the array disks and the cache pools, as mergerfs does; the disks
  // and pools themselves (/mnt/disk1, /mnt/cache) are ordinary filesystems.
  ['fuse.shfs', 'Unraid user-share'],
]);

/** "a mergerfs pool", "an Unraid user-share pool". */
export function aPool(name: string): string {
  return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name} pool`;
}

/** The name of the pooling filesystem a mount type is, or null for any other filesystem. */
export function pooledFsName(fsType: string): string | null {
  return POOLED_TYPES.get(fsType) ?? null;
}

/** Why hashall refuses a path on a pooling filesystem, in one sentence after "X is on …". */
export function pooledFsWhy(name: string, fsType: string): string {
  return (
    `${aPool(name)} (${fsType}): its inode numbers do not identify files — a hardlink made through it can show another ` +
    'inode, and files on different branches can show the same one — so hashall could not tell a hardlink from a copy ' +
    'there, which every decision it makes depends on'
  );
}

/** What to do instead. */
export const POOLED_FS_HINT =
  'configure the branch disks themselves as filesystems (each disk is where its hardlinks live), with seeding roots ' +
  'and client path maps that name them, or leave the pool out of hashall.yaml (Unraid: the disks and pools under ' +
  '/mnt/diskN and /mnt/<pool>, e.g. /mnt/cache — or a share set to exclusive access, which Unraid mounts straight from its pool)';
