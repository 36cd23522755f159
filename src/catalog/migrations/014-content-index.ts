// Catalog migration 14: one content index, files_sha on (sha256, size), instead of two; the unused files_verified goes.
import type { Migration } from './index.js';

/**
 * Every row a scan inserts went into six indexes; two of them keyed by the random SHA-256 (files_size_sha on
 * (size, sha256) and files_sha on (sha256)) touched a page each per row, which dominated an initial scan's writes
 * (200k rows: 5.3 s of CPU with both, 3.3 s with one). files_sha now holds (sha256, size): every lookup by content
 * (sha256 = ? AND size = ?, sha256 = ? alone, GROUP BY sha256 and GROUP BY size, sha256) searches it with the same or a
 * better plan than before (test/unit/catalog/content-index.test.ts), and queries naming it (INDEXED BY files_sha)
 * keep working. files_verified (verified_at) served no query: `verify` orders by coalesce(verified_at, hashed_at),
 * which no index on verified_at can answer.
 */
export const m014ContentIndex: Migration = {
  version: 14,
  name: 'content-index',
  up: `
DROP INDEX files_size_sha;
DROP INDEX files_verified;
DROP INDEX files_sha;
CREATE INDEX files_sha ON files (sha256, size);
`,
};
