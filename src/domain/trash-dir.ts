// The name of hashall's own trash directory at the top of each configured filesystem (one owner of its spelling).

export const TRASH_DIR = '.hashall-trash';

/** A path holding this segment lies in a trash: hashall's own, never an orphan, a duplicate tree or a consumer. */
export const TRASH_SEGMENT = `/${TRASH_DIR}/`;

/** What to do about a filesystem that keeps no permissions (see src/fs/permissions-kept.ts), for a plan's reason and doctor's fix. */
export const KEEP_PERMISSIONS_HINT = 'mount it with `-o permissions` (ntfs-3g), or set safety.retire.mode: never';

/** Why nothing on filesystem `fs` is retired while its mount keeps no permissions (a plan's reason). */
export function noTrashOn(fs: string, what: string): string {
  return `${fs} is mounted without permission checks (every file shows mode 0777): hashall's private ${TRASH_DIR} cannot live there, so ${what} is not retired; ${KEEP_PERMISSIONS_HINT}`;
}
