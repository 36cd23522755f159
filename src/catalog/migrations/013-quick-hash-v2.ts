// Catalog migration 13: recorded quick hashes of small files move to format v2 (their full SHA-256; see src/fs/hash.ts).
import type { Migration } from './index.js';

/**
 * Quick hash v2 hashes a file of at most 3 × 64 KiB once: its quick hash is its full SHA-256 (v1 hashed the content a
 * second time behind a header). Larger files keep the v1 sampling. A drift check compares a recorded quick hash with
 * a fresh read, so every recorded small-file value must be v2 from now on, or each unchanged small file would look
 * corrupted: where the full hash is known it is the v2 value; where it is not (a `--quick-only` scan), the quick hash
 * is forgotten — unknown — and the next scan reads the file again. Hashes stay per inode: every row of an inode has
 * the same size and sha256, so its rows get the same value.
 */
export const m013QuickHashV2: Migration = {
  version: 13,
  name: 'quick-hash-v2',
  up: `
UPDATE files SET quick_hash = sha256 WHERE size <= 196608 AND quick_hash IS NOT NULL AND quick_hash IS NOT sha256;
`,
};
