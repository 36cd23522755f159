// Catalog migration 23: an integrity problem may be found by the trash purge (source 'purge'), which reads a retire's kept copy again before deleting the staged source.
import type { Migration } from './index.js';

/**
 * integrity_problems — rebuilt with `source` allowing 'purge' besides 'verify' and 'scan' (SQLite cannot change a
 *   CHECK in place; every row and column is copied in the same transaction, ids kept). The purge reads each kept file
 *   in full and compares it with the SHA-256 its retire proved; a kept file with the same device, inode, size, mtime
 *   and ctime but other bytes is recorded here as `corrupted` (src/apply/trash.ts), so plans, doctor and
 *   `verify --repair` see it as they see a problem `hashall verify` found.
 */
export const m023IntegrityPurgeSource: Migration = {
  version: 23,
  name: 'integrity-purge-source',
  up: `
CREATE TABLE integrity_problems_v23 (
  id INTEGER PRIMARY KEY,
  fs_id INTEGER NOT NULL REFERENCES filesystems (id),
  ino INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('corrupted', 'unreadable')),
  path TEXT NOT NULL,
  expected TEXT,
  found TEXT,
  size INTEGER NOT NULL,
  mtime_ns TEXT NOT NULL,
  detail TEXT,
  source TEXT NOT NULL CHECK (source IN ('verify', 'scan', 'purge')),
  detected_at INTEGER NOT NULL,
  resolved_at INTEGER,
  resolution TEXT
) STRICT;
INSERT INTO integrity_problems_v23 (id, fs_id, ino, kind, path, expected, found, size, mtime_ns, detail, source, detected_at, resolved_at, resolution)
  SELECT id, fs_id, ino, kind, path, expected, found, size, mtime_ns, detail, source, detected_at, resolved_at, resolution FROM integrity_problems;
DROP TABLE integrity_problems;
ALTER TABLE integrity_problems_v23 RENAME TO integrity_problems;
CREATE INDEX integrity_open ON integrity_problems (fs_id, ino) WHERE resolved_at IS NULL;
`,
};
