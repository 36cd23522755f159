// Migration 14: the files table's indexes a scan maintains per row, and the plans of the content lookups that used the
// two content indexes it replaced with one (same or better plans, never a scan of the table per lookup).
import { describe, expect, it } from 'vitest';
import { LOCAL_DUPE_MEMBERS_SQL } from '../../../src/catalog/reports.js';
import { useQueryPlanner } from '../../support/query-plan.js';

const { plan, catalog } = useQueryPlanner('hashall-content-index-');

describe('files indexes (migration 14)', () => {
  it('a row is written to four indexes: path (unique), inode, the covering path index and one content index (and the partial temp-name and part-file indexes of migrations 18 and 20 only when named like one)', () => {
    const idx = catalog().db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'files' AND sql IS NOT NULL ORDER BY name`).all() as { name: string; sql: string }[];
    expect(idx.map((i) => i.name)).toEqual(['files_fs_ino', 'files_fs_path', 'files_fs_path_cover', 'files_hashall_temp', 'files_part_files', 'files_sha']);
    expect(idx.find((i) => i.name === 'files_hashall_temp')?.sql).toContain("WHERE status = 'active' AND (path GLOB '.hashall-*.part' OR path GLOB '*/.hashall-*.part')");
    expect(idx.find((i) => i.name === 'files_sha')?.sql).toBe('CREATE INDEX files_sha ON files (sha256, size)');
  });

  it.each([
    // catalog/files-table.ts sameContentPaths, whereis.ts bySha, reports.ts group members.
    ['same content, other inodes', `SELECT f.fs_id FROM file_paths f JOIN filesystems fs ON fs.id = f.fs_id WHERE f.sha256 = ? AND f.size = ? AND f.status = 'active' AND NOT (f.fs_id = ? AND f.ino = ?)`],
    ['whereis by content', `SELECT id, fs_id, path, ino, size, mtime_ns, nlink, sha256 FROM files WHERE sha256 = ? AND size = ? AND status = 'active'`],
    ['cross-filesystem group members', `SELECT fs_id, abs_path FROM file_paths WHERE size = ? AND sha256 = ? AND status = 'active' ORDER BY fs_id, abs_path`],
    ['local duplicate group members (reports.ts)', LOCAL_DUPE_MEMBERS_SQL],
    ['payload copies on a filesystem', `SELECT ino, nlink, mtime_ns, path FROM files INDEXED BY files_sha WHERE sha256 = ? AND fs_id = ? AND size = ? AND status = 'active' ORDER BY ino, path`],
  ])('%s searches files_sha by (sha256, size)', (_name, sql) => {
    expect(plan(sql)).toMatch(/USING INDEX files_sha \(sha256=\? AND size=\?\)/);
  });

  it('the duplicate reports group in index order (no sort for GROUP BY size, sha256) and the reclaim read stays covered', () => {
    const cross = plan(`SELECT size, sha256 FROM files WHERE status = 'active' AND sha256 IS NOT NULL AND size > 0 GROUP BY size, sha256 HAVING count(DISTINCT fs_id) > 1 ORDER BY size DESC, sha256`);
    expect(cross).toContain('USING INDEX files_sha');
    expect(cross).not.toContain('TEMP B-TREE FOR GROUP BY');
    const dupes = plan(`SELECT sha256 FROM files INDEXED BY files_sha WHERE sha256 IS NOT NULL GROUP BY sha256 HAVING count(*) > 1`);
    expect(dupes).toContain('USING COVERING INDEX files_sha');
    expect(dupes).not.toContain('TEMP B-TREE');
  });
});
