// Inode lookups must use the (fs_id, ino) index on a catalog without statistics (no ANALYZE has ever run):
// the covering path index also starts with fs_id, and SQLite then scans a whole filesystem per lookup.
import { describe, expect, it } from 'vitest';
import { CONTENT_COPIES_SQL, INODE_LINKS_SQL } from '../../../src/catalog/payload-rows.js';
import { INODE_PATHS_SQL } from '../../../src/catalog/consumers.js';
import { SET_INODE_HASH_SQL } from '../../../src/catalog/hash-missing.js';
import { useQueryPlanner } from '../../support/query-plan.js';

const { plan, catalog } = useQueryPlanner('hashall-qp-');

describe('inode lookups on an un-analyzed catalog', () => {
  it('has no statistics to start from (the case every fresh user is in)', () => {
    const stat = catalog().db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'sqlite_stat1'`).get() as { n: number };
    expect(stat.n).toBe(0);
  });

  it.each([
    ['payload links, one file', `${INODE_LINKS_SQL} WHERE p.fs_id = ? AND p.path = ? AND p.status = 'active'`],
    ['payload links, a directory', `${INODE_LINKS_SQL} WHERE p.fs_id = ? AND p.status = 'active' AND p.path >= ? AND p.path < ?`],
    ['consumer paths of an inode', INODE_PATHS_SQL],
    ['hash update of an inode', SET_INODE_HASH_SQL],
  ])('%s searches files_fs_ino (fs_id=? AND ino=?), never a whole filesystem', (_name, sql) => {
    const p = plan(sql);
    expect(p).toMatch(/files_fs_ino \(fs_id=\? AND ino=\?\)/);
    expect(p).not.toMatch(/\(fs_id=\?\)(?! AND)/);
  });

  it.each([
    ['one file', `${CONTENT_COPIES_SQL} WHERE p.fs_id = ? AND p.path = ? AND p.status = 'active'`],
    ['a directory', `${CONTENT_COPIES_SQL} WHERE p.fs_id = ? AND p.status = 'active' AND p.path >= ? AND p.path < ?`],
  ])('content copies of %s start at the payload rows and find copies by sha256', (_name, sql) => {
    const p = plan(sql);
    expect(p).toMatch(/^SEARCH p USING (COVERING )?INDEX files_fs_path(_cover)? \(fs_id=\? AND path/);
    expect(p).toMatch(/SEARCH o USING INDEX files_sha \(sha256=\?\)/);
  });
});
