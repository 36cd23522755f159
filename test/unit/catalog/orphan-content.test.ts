// orphanContent: what the catalog knows of an orphan inode's content — unhashed, also held elsewhere, or the only copy (counted once however many orphan trees hold it).
import { describe, expect, it } from 'vitest';
import { orphanContent } from '../../../src/catalog/orphan-rows.js';
import { useQueryPlanner } from '../../support/query-plan.js';

const { catalog } = useQueryPlanner('hashall-orphan-content-');

function seed(): void {
  const db = catalog().db;
  db.prepare(
    `INSERT INTO filesystems (uuid, dev, fs_type, source, mount_point, preferred_mount, name, first_seen, last_seen) VALUES ('u1', '1', 'ext4', '/dev/a', '/mnt/a', '/mnt/a', 'stash', 0, 0), ('u2', '2', 'ext4', '/dev/b', '/mnt/b', '/mnt/b', 'pool', 0, 0)`,
  ).run();
  const ins = db.prepare(`INSERT INTO files (fs_id, path, ino, size, mtime_ns, nlink, sha256, status, first_seen, last_seen) VALUES (?, ?, ?, 1, '1', 1, ?, 'active', 0, 0)`);
  ins.run(1, 'seeding/Flip/f.mkv', 10, 'a'.repeat(64)); // a move's source, its torrent removed
  ins.run(2, 'seeding/Flip/f.mkv', 20, 'a'.repeat(64)); // the move's target
  ins.run(1, 'seeding/Old/o.mkv', 11, 'b'.repeat(64)); // an orphan whose content a payload holds
  ins.run(1, 'seeding/Live/o.mkv', 12, 'b'.repeat(64));
  ins.run(1, 'seeding/Lone/l.nfo', 13, 'c'.repeat(64));
  ins.run(1, 'seeding/New/n.bin', 14, null);
}

describe('orphanContent', () => {
  it('two orphan trees of one content: the first asked is its only copy, the other a copy of it; a payload copy, no copy, no hash', () => {
    seed();
    const content = orphanContent(catalog(), new Set(['1:10', '2:20', '1:11', '1:13', '1:14']));
    expect(content({ fsId: 1, ino: 10 })).toBe('unique');
    expect(content({ fsId: 2, ino: 20 })).toBe('duplicated');
    expect(content({ fsId: 1, ino: 11 })).toBe('duplicated');
    expect(content({ fsId: 1, ino: 13 })).toBe('unique');
    expect(content({ fsId: 1, ino: 14 })).toBe('unhashed');
  });
});
