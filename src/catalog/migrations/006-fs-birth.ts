// Catalog migration 6: the birth time of each filesystem's root directory, telling two instances with one identity apart (additive).
import type { Migration } from './index.js';

/**
 * filesystems.root_birth — statx birth time (ns, decimal) of the directory at the filesystem's preferred mount, as the
 *   last scan saw it; NULL where the filesystem reports none. The fallback identity of a tmpfs (or overlay, nfs …) is
 *   its type, source and mount point, and the kernel hands a re-created one the same device number: a tmpfs replaced
 *   by another at the same place is told apart only by this. Apply refuses a path whose filesystem's root was born
 *   at another time than the catalog recorded (src/apply/on-filesystem.ts).
 */
export const m006FsBirth: Migration = {
  version: 6,
  name: 'fs-birth',
  up: `ALTER TABLE filesystems ADD COLUMN root_birth TEXT;`,
};
