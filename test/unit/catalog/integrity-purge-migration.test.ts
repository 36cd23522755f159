// Migration 23: integrity_problems rebuilt so the trash purge may record a problem (source 'purge'); every existing row, its id and the open-problem index kept.
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { migrate } from '../../../src/catalog/db.js';
import { MIGRATIONS } from '../../../src/catalog/migrations/index.js';
import { m023IntegrityPurgeSource } from '../../../src/catalog/migrations/023-integrity-purge-source.js';

describe('migration 023 (integrity problems found by the purge)', () => {
  it('copies every problem row as it was, then accepts source purge and still refuses an unknown source', () => {
    const db = new Database(':memory:');
    const before = MIGRATIONS.slice(0, MIGRATIONS.indexOf(m023IntegrityPurgeSource));
    expect(before.at(-1)!.version).toBe(22);
    migrate(db, before);
    db.exec(`INSERT INTO filesystems (id, uuid, dev, fs_type, source, mount_point, preferred_mount, name, first_seen, last_seen) VALUES (1, 'u', '1:2', 'ext4', '/dev/x', '/p', '/p', 'pool', 0, 0)`);
    db.exec(`INSERT INTO integrity_problems (id, fs_id, ino, kind, path, expected, found, size, mtime_ns, detail, source, detected_at, resolved_at, resolution)
      VALUES (7, 1, 5, 'corrupted', '/p/a', 'e', 'f', 3, '17', NULL, 'verify', 9, NULL, NULL), (8, 1, 6, 'unreadable', '/p/b', 'e', NULL, 4, '18', 'EIO', 'scan', 10, 11, 'changed')`);
    const rows = db.prepare(`SELECT * FROM integrity_problems ORDER BY id`).all();
    migrate(db, [...before, m023IntegrityPurgeSource]);
    expect(db.prepare(`SELECT * FROM integrity_problems ORDER BY id`).all()).toEqual(rows);
    db.exec(`INSERT INTO integrity_problems (fs_id, ino, kind, path, size, mtime_ns, source, detected_at) VALUES (1, 9, 'corrupted', '/p/c', 3, '7', 'purge', 12)`);
    expect(() => db.exec(`INSERT INTO integrity_problems (fs_id, ino, kind, path, size, mtime_ns, source, detected_at) VALUES (1, 9, 'corrupted', '/p/c', 3, '7', 'other', 12)`)).toThrow(/CHECK/);
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'integrity_problems'`).pluck().all()).toEqual(['integrity_open']);
  });
});
