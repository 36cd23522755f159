// Migrations 004 and 022: the scanner's per-directory lookup and deletion pass are answered from the covering index alone, the row text read from it rather than formatted.
import { describe, expect, it } from 'vitest';
import { schemaVersion } from '../../../src/catalog/db.js';
import { COVER_FLAGS, DIRECTORY_PAGE_SQL, ROW_TEXT_KEY } from '../../../src/catalog/scan/directory-rows.js';
import { m022RowTextKey } from '../../../src/catalog/migrations/022-row-text-key.js';
import { UNHASHED_COUNT_SQL, unhashedCount } from '../../../src/catalog/files-table.js';
import { useQueryPlanner } from '../../support/query-plan.js';

const { plan, catalog } = useQueryPlanner('hashall-cover-');

describe('files_fs_path_cover', () => {
  it('is created by migration 4', () => {
    expect(schemaVersion(catalog().db)).toBeGreaterThanOrEqual(4);
    const idx = catalog().db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'files'`).pluck().all();
    expect(idx).toContain('files_fs_path_cover');
    expect(idx).toContain('files_fs_path');
  });

  it('covers the per-directory lookup, in path order without a sort', () => {
    for (const from of ['>=', '>'] as const) {
      const p = plan(DIRECTORY_PAGE_SQL(from, true), 1, 'a/', 'a0');
      expect(p).toContain('USING COVERING INDEX files_fs_path_cover');
      expect(p).not.toContain('TEMP B-TREE');
      const top = plan(DIRECTORY_PAGE_SQL(from, false), 1, 'a');
      expect(top).toContain('USING COVERING INDEX files_fs_path_cover');
      expect(top).not.toContain('TEMP B-TREE');
    }
  });

  it('covers the deletion pass over a root and over a whole filesystem', () => {
    expect(plan(`SELECT id FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ?`, 1, 'a/', 'a0')).toContain('USING COVERING INDEX files_fs_path_cover');
    expect(plan(`SELECT id FROM files WHERE fs_id = ? AND status = 'active'`, 1)).toContain('USING COVERING INDEX files_fs_path_cover');
  });

  it('returns the same flags from the index as from the table', () => {
    const ins = catalog().db.prepare(
      `INSERT INTO files (fs_id, path, ino, size, mtime_ns, nlink, quick_hash, sha256, status, first_seen, last_seen) VALUES (1, ?, 1, 0, '1', 1, ?, ?, ?, 0, 0)`,
    );
    catalog().db.pragma('foreign_keys = OFF');
    ins.run('d/a', null, null, 'active');
    ins.run('d/b', 'q', null, 'active');
    ins.run('d/c', 'q', 's', 'active');
    ins.run('d/d', 'q', 's', 'deleted');
    const [blob] = catalog().db.prepare(DIRECTORY_PAGE_SQL('>=', true)).raw(true).get(1, 'd/', 'd0') as [Buffer];
    const rows = blob.toString('utf8').split('\0');
    expect(rows.map((r) => [r.split(' ')[6], Number(r.split(' ')[4])])).toEqual([
      ['d/a', 0],
      ['d/b', 1],
      ['d/c', 3],
      ['d/d', 7],
    ]);
  });

  it('reads the row text before the path from the index (migration 22), formatting nothing per row', () => {
    expect(m022RowTextKey.up.replace(/\s+/g, ' ')).toContain(ROW_TEXT_KEY.replace(/\s+/g, ' '));
    // SQLite calls format() for a row only when the expression is not the index's (the test's other spelling).
    const calls = (sql: string, ...params: unknown[]): string[] =>
      (catalog().db.prepare(`EXPLAIN ${sql}`).all(...params) as { opcode: string; p4: string | null }[]).filter((r) => (r.opcode === 'Function' || r.opcode === 'PureFunc') && String(r.p4).startsWith('format')).map((r) => String(r.p4));
    for (const from of ['>=', '>'] as const) {
      expect(calls(DIRECTORY_PAGE_SQL(from, true), 1, 'a/', 'a0')).toEqual([]);
      expect(calls(DIRECTORY_PAGE_SQL(from, false), 1, 'a')).toEqual([]);
    }
    expect(calls(DIRECTORY_PAGE_SQL('>=', true).replace(ROW_TEXT_KEY, ROW_TEXT_KEY.replace("%d '", "%d  '")), 1, 'a/', 'a0')).toEqual(['format(-1)']);
  });

  it('gives each row the text the scanner formatted before migration 22: numbers, flags, spaces and non-ASCII in paths', () => {
    const db = catalog().db;
    db.pragma('foreign_keys = OFF');
    const ins = db.prepare(`INSERT INTO files (fs_id, path, ino, size, mtime_ns, nlink, quick_hash, sha256, status, first_seen, last_seen) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)`);
    ins.run('d/a b', 2 ** 52 + 7, 0, '0', 1, null, null, 'active');
    ins.run('d/é.mkv', 12, 2 ** 40 + 3, '1764700000123456789', 3, 'q', null, 'active');
    ins.run('d/c', 5, 17, '-5000000000', 1, 'q', 's', 'deleted');
    ins.run('d/sub/x', 6, 1, '1', 2, 'q', 's', 'active');
    const [blob] = db.prepare(DIRECTORY_PAGE_SQL('>=', true)).raw(true).get(1, 'd/', 'd0') as [Buffer];
    const before = db.prepare(`SELECT format('%d %d %s %d %d %d %s', ino, size, mtime_ns, nlink, ${COVER_FLAGS}, id, path) FROM files NOT INDEXED WHERE fs_id = 1 ORDER BY path`).pluck().all() as string[];
    expect(blob.toString('utf8').split('\0')).toEqual(before);
  });

  it('counts the active unhashed rows from the covering index alone, the same as the table says', () => {
    expect(plan(UNHASHED_COUNT_SQL.byCover)).toContain('USING COVERING INDEX files_fs_path_cover');
    expect(plan(UNHASHED_COUNT_SQL.nullKeys)).toContain('USING COVERING INDEX files_sha');
    const db = catalog().db;
    db.pragma('foreign_keys = OFF');
    const ins = db.prepare(`INSERT INTO files (fs_id, path, ino, size, mtime_ns, nlink, quick_hash, sha256, status, first_seen, last_seen) VALUES (?, ?, 1, 0, '1', 1, ?, ?, ?, 0, 0)`);
    const truth = (): number => db.prepare(`SELECT count(*) FROM files NOT INDEXED WHERE sha256 IS NULL AND status = 'active'`).pluck().get() as number;
    expect(unhashedCount(db)).toBe(0);
    // Mostly hashed (each NULL key's row read), then mostly unhashed (the index pass): deleted and quick-only rows in both.
    for (let i = 0; i < 40; i++) ins.run(1 + (i % 2), `h/${i}`, 'q', `s${i}`, i % 7 === 0 ? 'deleted' : 'active');
    ins.run(1, 'u/active', null, null, 'active');
    ins.run(2, 'u/quick', 'q', null, 'active');
    ins.run(1, 'u/deleted', 'q', null, 'deleted');
    expect(unhashedCount(db)).toBe(2);
    expect(truth()).toBe(2);
    for (let i = 0; i < 60; i++) ins.run(1 + (i % 3), `n/${i}`, i % 2 === 0 ? 'q' : null, null, i % 5 === 0 ? 'deleted' : 'active');
    expect(unhashedCount(db)).toBe(truth());
    expect(truth()).toBe(2 + 48);
  });
});
