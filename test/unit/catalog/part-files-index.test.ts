// Migration 20: every snapshot finds the rows named like libtorrent's part files (`.<hex>.parts`) from a small partial index, not by reading every path.
import { describe, expect, it } from 'vitest';
import { catalogedPartFiles, PART_FILES_SQL } from '../../../src/catalog/files-table.js';
import { useQueryPlanner } from '../../support/query-plan.js';

const { plan, catalog } = useQueryPlanner('hashall-partidx-');
const H = 'ab'.repeat(20);

describe('the part-file index (files_part_files)', () => {
  it('answers the snapshot query without reading every row', () => {
    const p = plan(PART_FILES_SQL);
    expect(p).toContain('files_part_files');
    expect(p).not.toContain('files_fs_path_cover');
  });

  it('returns exactly the active rows named like a part file', () => {
    const db = catalog().db;
    db.prepare(`INSERT INTO filesystems (uuid, dev, fs_type, source, mount_point, preferred_mount, name, first_seen, last_seen) VALUES ('u1', '1', 'ext4', '/dev/a', '/mnt/a', '/mnt/a', 'stash', 0, 0)`).run();
    const ins = db.prepare(`INSERT INTO files (fs_id, path, ino, size, mtime_ns, nlink, status, first_seen, last_seen) VALUES (1, ?, ?, 1, '1', 1, ?, 0, 0)`);
    let ino = 1;
    for (const [p, status] of [
      [`.${H}.parts`, 'active'],
      [`torrents/movies/.${H}.parts`, 'active'],
      [`torrents/tv/.${H}.parts`, 'deleted'],
      [`torrents/tv/x.${H}.parts`, 'active'],
      [`torrents/tv/.${H}.part`, 'active'],
      ['torrents/tv/show.mkv', 'active'],
    ] as const)
      ins.run(p, ino++, status);
    expect(catalogedPartFiles(db).map((r) => r.path).sort()).toEqual([`.${H}.parts`, `torrents/movies/.${H}.parts`]);
  });
});
