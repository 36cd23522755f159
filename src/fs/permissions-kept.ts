// Whether a mount keeps file permissions: a FUSE block filesystem (NTFS through ntfs-3g) mounted without the kernel's permission checks shows every file as mode 0777, owner root, whatever chmod and chown say.
import type { MountEntry } from './mountinfo.js';

/**
 * True when files on mount `m` keep no permissions of their own: `fuseblk` without `default_permissions` in its super
 * options (ntfs-3g without `-o permissions`; probed: with it, mountinfo shows `default_permissions` and chmod 700
 * holds). hashall's private trash (mode 0700, its own user) cannot live there, so nothing on it can be retired.
 */
export function keepsNoPermissions(m: Pick<MountEntry, 'fsType' | 'superOptions'>): boolean {
  return m.fsType === 'fuseblk' && !m.superOptions.includes('default_permissions');
}
