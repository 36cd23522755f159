// Catalog migration 1: files, filesystems, scan roots and scan sessions (owned by the catalog/scanner).
import type { Migration } from './index.js';

/**
 * Schema (all times are epoch milliseconds, INTEGER):
 *
 * filesystems — one row per filesystem/dataset ever seen, keyed by a STABLE identity.
 *   uuid             stable id: `uuid:<fs uuid>` (ext*, xfs, btrfs), `zfs:<dataset guid>`, or
 *                    `fallback:<fstype>:<source>:<mount point of its root>` (tmpfs, overlay, unknown; see src/fs/filesystem-identity.ts)
 *   dev              current `major:minor` (st_dev); updated in place when it changes (reboot, remount)
 *   preferred_mount  absolute host path where catalog paths of this filesystem are rooted (canonical spelling)
 *   preferred_root   directory of the filesystem shown at preferred_mount ('/' unless only a bind of a subdir is visible)
 *   name             config name (`filesystems.<name>`) when configured, else NULL
 *
 * files — one row per (filesystem, path). Hashes are per inode: every active row of one (fs_id, ino) carries the same hashes.
 *   path        relative to the filesystem's preferred_mount, no leading '/', never ''. Canonical absolute path =
 *               preferred_mount + '/' + path (see view file_paths). TEXT: names that are valid UTF-8 without U+FFFD are
 *               stored verbatim; others use the reversible escape of src/fs/path-encoding.ts (U+FFFD + 2 hex digits per raw byte).
 *   ino, size, nlink  INTEGER
 *   mtime_ns    TEXT, decimal nanoseconds since the epoch (exceeds 2^53; compare as strings for equality)
 *   quick_hash  hex SHA-256 over size + sampled blocks (src/fs/hash.ts), NULL if not computed
 *   sha256      hex full-content SHA-256, NULL until computed
 *   status      'active' | 'deleted' (a deleted row is kept 30 days after a scan found it gone, then removed: files-table.ts pruneDeletedRows; only active rows count anywhere)
 *   first_seen, last_seen (of a deleted row: when a scan found it gone), hashed_at (when sha256 was last computed)
 *   Range queries for "everything under directory D" use `path >= D || '/' AND path < D || '0'` (never LIKE).
 *
 * scan_roots — every root ever scanned, by canonical absolute path: its filesystem, kind and last completed scan.
 * scan_sessions — one row per `hashall scan`: status running|completed|failed|interrupted, counts, bytes hashed, timings.
 * scan_problems — unreadable files/dirs of a session (path + errno); never treated as deletions.
 */
export const m001Catalog: Migration = {
  version: 1,
  name: 'catalog',
  up: `
CREATE TABLE filesystems (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  dev TEXT NOT NULL,
  fs_type TEXT NOT NULL,
  source TEXT NOT NULL,
  mount_point TEXT NOT NULL,
  preferred_mount TEXT NOT NULL,
  preferred_root TEXT NOT NULL DEFAULT '/',
  name TEXT,
  free_bytes INTEGER,
  total_bytes INTEGER,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
) STRICT;
CREATE INDEX filesystems_dev ON filesystems (dev);
CREATE INDEX filesystems_name ON filesystems (name);

CREATE TABLE files (
  id INTEGER PRIMARY KEY,
  fs_id INTEGER NOT NULL REFERENCES filesystems (id),
  path TEXT NOT NULL,
  ino INTEGER NOT NULL,
  size INTEGER NOT NULL,
  mtime_ns TEXT NOT NULL,
  nlink INTEGER NOT NULL,
  quick_hash TEXT,
  sha256 TEXT,
  hashed_at INTEGER,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX files_fs_path ON files (fs_id, path);
CREATE INDEX files_fs_ino ON files (fs_id, ino);
CREATE INDEX files_size_sha ON files (size, sha256);
CREATE INDEX files_sha ON files (sha256);

CREATE VIEW file_paths AS
  SELECT f.*, CASE WHEN fs.preferred_mount = '/' THEN '/' || f.path ELSE fs.preferred_mount || '/' || f.path END AS abs_path
  FROM files f JOIN filesystems fs ON fs.id = f.fs_id;

CREATE TABLE scan_sessions (
  id INTEGER PRIMARY KEY,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
  drift TEXT NOT NULL,
  roots TEXT NOT NULL,
  files_seen INTEGER NOT NULL DEFAULT 0,
  added INTEGER NOT NULL DEFAULT 0,
  changed INTEGER NOT NULL DEFAULT 0,
  unchanged INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0,
  symlinks INTEGER NOT NULL DEFAULT 0,
  problems INTEGER NOT NULL DEFAULT 0,
  bytes_seen INTEGER NOT NULL DEFAULT 0,
  bytes_hashed INTEGER NOT NULL DEFAULT 0,
  files_hashed INTEGER NOT NULL DEFAULT 0,
  error TEXT
) STRICT;

CREATE TABLE scan_roots (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  fs_id INTEGER NOT NULL REFERENCES filesystems (id),
  rel_path TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('seeding', 'library', 'adhoc')),
  last_session_id INTEGER REFERENCES scan_sessions (id),
  last_completed_at INTEGER,
  file_count INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE scan_problems (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES scan_sessions (id),
  path TEXT NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL
) STRICT;
CREATE INDEX scan_problems_session ON scan_problems (session_id);
`,
};
