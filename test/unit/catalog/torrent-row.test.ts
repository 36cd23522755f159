// readActiveTorrents: every SnapshotTorrent field is its column's value exactly — odd text, REAL and large integers included.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCatalog } from '../../../src/catalog/db.js';
import { readActiveTorrents } from '../../../src/catalog/torrent-row.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const COLUMNS = `client, hash, name, category, tags, tracker, raw_state, phase, running, progress, amount_left, size, auto_tmm, added_on, completion_on,
  seeding_time, client_save_path, client_content_path, client_download_path, host_content_path, fs_id, unmapped_reason, data_status, status, first_seen,
  synced_at, listing_digest`;

describe('readActiveTorrents', () => {
  it('gives each column as it is stored: text with quotes, escapes, control characters, NUL and non-ASCII; REAL to the last bit; integers past 2^53; NULLs', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hashall-torrent-row-'));
    const c = openCatalog(path.join(dir, 'catalog.db'));
    const fsId = Number(c.db.prepare(`INSERT INTO filesystems (uuid, dev, fs_type, source, mount_point, preferred_mount, first_seen, last_seen) VALUES ('u1', '0:1', 'tmpfs', 's', '/s', '/s', 1, 1)`).run().lastInsertRowid);
    const odd = `Ein "Film" \\ mit\ttab\u0001\u001f\u007f é 中文 😀 </script> \u2028 \0end`;
    const ins = c.db.prepare(`INSERT INTO torrents (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?, 1, ?, ?)`);
    ins.run('default', 'b'.repeat(40), odd, 'movies', '["a \\"b\\"","ü"]', null, 'stalledUP', 'seeding', 1, 0.9999999999999999, 9007199254740993n, 2n ** 62n, 0, null, 1700000100, 5, '/d', `/d/${odd}`, '', `/s/${odd}`, fsId, null, 'active', 2, null);
    ins.run('default', 'a'.repeat(40), 'T', 'tv', '[]', 'https://t.example/announce', 'pausedUP', 'paused', 0, 1 / 3, 0, 7, 1, 1700000000, null, 0, '/d', '/d/T', '/inc', null, null, 'no path map', 'active', 3, 'dig');
    ins.run('tr', 'c'.repeat(40), 'R', 'tv', '[]', null, 'stalledUP', 'seeding', 2, 0, -5, 0, 2, null, null, 0, '/d', '/d/R', '', '/s/R', fsId, null, 'active', 4, null);
    ins.run('default', 'd'.repeat(40), 'Gone', 'tv', '[]', null, 'stalledUP', 'seeding', 1, 1, 0, 1, 0, null, null, 0, '/d', '/d/G', '', '/s/G', fsId, null, 'removed', 5, null);

    const { torrents, rows } = readActiveTorrents(c, ['default', 'tr']);
    expect(torrents.map((t) => `${t.client}/${t.hash[0]}`)).toEqual(['default/a', 'default/b', 'tr/c']);
    expect(torrents[1]).toEqual({
      client: 'default', hash: 'b'.repeat(40), name: odd, category: 'movies', tags: ['a "b"', 'ü'], tracker: null, phase: 'seeding', rawState: 'stalledUP',
      running: true, progress: 0.9999999999999999, amountLeft: 9007199254740992, size: 2 ** 62, autoTmm: false, addedOn: null, completionOn: 1700000100,
      seedingTimeSec: 5, clientSavePath: '/d', clientContentPath: `/d/${odd}`, clientDownloadPath: '', hostContentPath: `/s/${odd}`, unmappedReason: null,
      files: null, listingDigest: null, syncedAt: 2,
    });
    expect(Object.keys(torrents[1]!)).toEqual(Object.keys(torrents[0]!));
    expect(torrents[0]).toMatchObject({ tags: [], tracker: 'https://t.example/announce', running: false, autoTmm: true, progress: 1 / 3, addedOn: 1700000000, hostContentPath: null, unmappedReason: 'no path map', listingDigest: 'dig' });
    // Only 1 is true.
    expect(torrents[2]).toMatchObject({ running: false, autoTmm: false, amountLeft: -5, progress: 0 });
    expect(rows).toEqual([{ host_content_path: null, fs_id: null }, { host_content_path: `/s/${odd}`, fs_id: fsId }, { host_content_path: '/s/R', fs_id: fsId }]);
    expect(readActiveTorrents(c, ['nobody'])).toEqual({ torrents: [], rows: [] });
    c.close();
  });
});
