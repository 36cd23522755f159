// Migration 18: the temp-file sweep at every apply finds hashall's `.hashall-*.part` rows from a small partial index, not by reading every path.
import { describe, expect, it } from 'vitest';
import { catalogedTempFiles, TEMP_FILES_SQL } from '../../../src/catalog/files-table.js';
import { useQueryPlanner } from '../../support/query-plan.js';

const { plan, catalog } = useQueryPlanner('hashall-tempidx-');

function seed(): void {
  const db = catalog().db;
  db.prepare(
    `INSERT INTO filesystems (uuid, dev, fs_type, source, mount_point, preferred_mount, name, first_seen, last_seen) VALUES ('u1', '1', 'ext4', '/dev/a', '/mnt/a', '/mnt/a', 'stash', 0, 0), ('u2', '2', 'ext4', '/dev/b', '/mnt/b', '/mnt/b', 'pool', 0, 0)`,
  ).run();
  const ins = db.prepare(`INSERT INTO files (fs_id, path, ino, size, mtime_ns, nlink, status, first_seen, last_seen) VALUES (?, ?, ?, 1, '1', 1, ?, 0, 0)`);
  let ino = 1;
  for (const [fs, p, status] of [
    [1, '.hashall-r1-g1-0-i.part', 'active'],
    [1, 'torrents/tv/.hashall-r1-g2-0-i.part', 'active'],
    [1, 'torrents/tv/.hashall-r1-g3-0-i.part', 'deleted'],
    [1, 'torrents/tv/x.hashall-r1-g3-0-i.part', 'active'],
    [1, 'torrents/tv/.hashall-r1-g3-0-i.partial', 'active'],
    [1, 'torrents/tv/show.mkv', 'active'],
    [2, 'pool/.hashall-r2-g1-0-probe.part', 'active'],
  ] as const)
    ins.run(fs, p, ino++, status);
}

describe('the temp-file index (files_hashall_temp)', () => {
  it('answers the sweep query without reading every row of a filesystem', () => {
    const p = plan(TEMP_FILES_SQL(1), 'stash', 10_000);
    expect(p).toContain('files_hashall_temp');
    expect(p).not.toContain('files_fs_path_cover');
  });

  it('returns exactly the active rows named like a temp file, by filesystem and path, on the filesystems named', () => {
    seed();
    expect(catalogedTempFiles(catalog().db, ['stash'], 100).map((r) => r.path)).toEqual(['.hashall-r1-g1-0-i.part', 'torrents/tv/.hashall-r1-g2-0-i.part']);
    expect(catalogedTempFiles(catalog().db, ['pool', 'stash'], 100).map((r) => `${r.fs_name}:${r.path}`)).toEqual([
      'pool:pool/.hashall-r2-g1-0-probe.part',
      'stash:.hashall-r1-g1-0-i.part',
      'stash:torrents/tv/.hashall-r1-g2-0-i.part',
    ]);
    expect(catalogedTempFiles(catalog().db, ['stash'], 1)).toHaveLength(1);
    expect(catalogedTempFiles(catalog().db, [], 100)).toEqual([]);
  });

  it('follows a row that becomes a temp name, stops being one, or is marked deleted', () => {
    seed();
    const db = catalog().db;
    db.prepare(`UPDATE files SET path = 'torrents/tv/.hashall-r9-g1-0-i.part' WHERE path = 'torrents/tv/show.mkv'`).run();
    db.prepare(`UPDATE files SET status = 'deleted' WHERE path = '.hashall-r1-g1-0-i.part'`).run();
    expect(catalogedTempFiles(db, ['stash'], 100).map((r) => r.path)).toEqual(['torrents/tv/.hashall-r1-g2-0-i.part', 'torrents/tv/.hashall-r9-g1-0-i.part']);
  });
});
