// The hashes a scan records for a file apply's copy wrote and proved (ScanOptions.proven): the copy's SHA-256, and the quick hash that content has in the catalog.
import type { CatalogDb } from '../db.js';
import { QUICK_BLOCK } from '../../fs/hash.js';
import type { ScanOptions } from './types.js';

/** Apply's record of the files its copies wrote (apply/written-content.ts): the SHA-256 a copy proved for the very file walked, once. */
export interface CopyProofs {
  take(path: string, dev: bigint, ino: bigint, size: number, mtimeNs: bigint): string | null;
}

/**
 * `ScanOptions.proven` over the run's record of its copies. The quick hash is a function of the content alone: the
 * SHA-256 itself for a file of up to three blocks, else the one an active catalogued file of that content and size
 * carries (the copy's source). Without one, the file is read as usual.
 */
export function provenHashes(catalog: CatalogDb, written: CopyProofs): NonNullable<ScanOptions['proven']> {
  const quickOf = catalog.db.prepare(`SELECT quick_hash FROM files INDEXED BY files_sha WHERE sha256 = ? AND size = ? AND status = 'active' AND quick_hash IS NOT NULL LIMIT 1`).pluck();
  return (path, dev, ino, size, mtimeNs) => {
    const sha256 = written.take(path, dev, ino, size, mtimeNs);
    if (sha256 === null) return null;
    const quickHash = size <= 3 * QUICK_BLOCK ? sha256 : ((quickOf.get(sha256, size) as string | undefined) ?? null);
    return quickHash === null ? null : { sha256, quickHash };
  };
}
