// Catalog migration 16: the symlinks a scan found under the seeding and library roots, with the path each names, so a symlink into a payload holds it like a hardlink does.
import type { Migration } from './index.js';

/**
 * symlinks — one row per symbolic link a completed walk found under a scanned root (owner: src/catalog/symlinks.ts).
 * `path` is the link's own path relative to its filesystem's preferred mount (as files.path); `target` is what
 * readlink(2) returned, as written; `seen_at` when the row was written (the link first seen, or found changed); `resolved` the canonical absolute host path it names (its directories resolved on
 * the host, configured aliases and bind mounts mapped to the preferred spelling), or the lexically resolved spelling
 * when nothing is there. A walk that completes replaces the rows under its root; an interrupted or incomplete walk
 * only adds rows, never drops one (a link it did not see may still be there).
 *
 * scan_roots.links_known — 1 once a completed scan of the root recorded its links (every scan from this version on);
 * a root last scanned by an older version (0) may hold links nobody recorded: until it is scanned again, no payload is
 * known to be free of them.
 */
export const m016Symlinks: Migration = {
  version: 16,
  name: 'symlinks',
  up: `
CREATE TABLE symlinks (
  fs_id INTEGER NOT NULL REFERENCES filesystems (id),
  path TEXT NOT NULL,
  target TEXT NOT NULL,
  resolved TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (fs_id, path)
) STRICT;
ALTER TABLE scan_roots ADD COLUMN links_known INTEGER NOT NULL DEFAULT 0;
`,
};
