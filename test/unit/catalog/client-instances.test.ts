// Migration 12: torrents are keyed by (client instance, info-hash); rows of older catalogs become the instance `default`.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCatalog } from '../../../src/catalog/db.js';
import { MIGRATIONS } from '../../../src/catalog/migrations/index.js';
import { readRelocations } from '../../../src/catalog/relocations.js';
import { readClientStates } from '../../../src/catalog/snapshot.js';
import { activeTorrentsWithPayloadReader, readActiveTorrents } from '../../../src/catalog/torrent-row.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const H = 'a'.repeat(40);
const insertTorrent = (client: string | null) =>
  `INSERT INTO torrents (${client === null ? '' : 'client, '}hash, name, category, tags, tracker, raw_state, phase, running, progress, amount_left, size, auto_tmm, added_on, completion_on, seeding_time,
     client_save_path, client_content_path, client_download_path, host_content_path, fs_id, unmapped_reason, data_status, data_detail, status, first_seen, synced_at, listing_digest)
   VALUES (${client === null ? '' : `'${client}', `}'${H}', 'T', 'movies', '[]', 'tracker.example.org', 'stalledUP', 'seeding', 1, 1, 0, 7, 0, NULL, NULL, 5, '/d', '/d/T', '', '/srv/T', NULL, NULL, 'ok', NULL, 'active', 1, 2, 'dig')`;

describe('migration 12: client instances', () => {
  it('moves every torrent, file list, sync session and relocation of an older catalog to the instance `default`, column for column', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hashall-m11-'));
    const file = path.join(dir, 'catalog.db');
    const old = openCatalog(file, { migrations: MIGRATIONS.filter((m) => m.version < 12) });
    old.db.prepare(insertTorrent(null)).run();
    old.db.prepare(`INSERT INTO torrent_files (torrent_hash, idx, name, size, progress) VALUES (?, 0, 'T/a.mkv', 7, 1)`).run(H);
    old.db
      .prepare(`INSERT INTO sync_sessions (started_at, finished_at, client_version, torrents, added, changed, removed, unmapped, hash_unknown, serial) VALUES (1, 2, 'v4.5.2', 1, 1, 0, 0, 0, 0, 1)`)
      .run();
    old.db
      .prepare(`INSERT INTO relocations (payload_hash, source_fs, source_root, target_fs, target_root, torrent_hashes, run_id, repointed_at) VALUES ('p', 'stash', '/s/T', 'pool', '/p/T', ?, 'r', 3)`)
      .run(JSON.stringify([H]));
    const before = old.db.prepare(`SELECT * FROM torrents`).get() as Record<string, unknown>;
    old.close();

    const c = openCatalog(file);
    expect(c.db.prepare(`SELECT * FROM torrents`).get()).toEqual({ ...before, client: 'default' });
    expect(c.db.prepare(`SELECT client, torrent_hash, idx, name FROM torrent_files`).all()).toEqual([{ client: 'default', torrent_hash: H, idx: 0, name: 'T/a.mkv' }]);
    expect(c.db.prepare(`SELECT client FROM sync_sessions`).all()).toEqual([{ client: 'default' }]);
    expect(readClientStates(c, ['default', 'tr'])).toEqual({ default: { syncedAt: 2, failedAt: null, failure: null, ownFolders: null }, tr: { syncedAt: null, failedAt: null, failure: null, ownFolders: null } });
    expect(readRelocations(c, [])[0]).toMatchObject({ torrentHashes: [H], torrentClients: ['default'] });
    expect(c.db.pragma('foreign_key_check')).toEqual([]);

    // The same info-hash seeded by a second instance is a second torrent, not a conflict.
    c.db.prepare(insertTorrent('tr')).run();
    expect(() => c.db.prepare(insertTorrent('tr')).run()).toThrow(/UNIQUE/);
    c.db.prepare(`INSERT INTO torrent_files (client, torrent_hash, idx, name, size, progress) VALUES ('tr', ?, 0, 'T/a.mkv', 7, 1)`).run(H);
    expect(() => c.db.prepare(`INSERT INTO torrent_files (client, torrent_hash, idx, name, size, progress) VALUES ('nobody', ?, 0, 'x', 1, 1)`).run(H)).toThrow(/FOREIGN KEY/);
    // The snapshot carries only the configured instances' torrents: a renamed instance's rows are history.
    expect(readActiveTorrents(c, ['default', 'tr']).torrents.map((t) => t.client)).toEqual(['default', 'tr']);
    expect(readActiveTorrents(c, ['tr']).torrents.map((t) => `${t.client}/${t.hash.slice(0, 8)}`)).toEqual(['tr/aaaaaaaa']);
    c.close();
  });
});

describe('donors: the torrents holding a payload hash', () => {
  it('are keyed by (instance, info-hash) and only of the configured instances, by name, instance, hash', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hashall-donor-torrents-'));
    const c = openCatalog(path.join(dir, 'catalog.db'));
    const P = 'p'.repeat(64);
    const row = (client: string, hash: string, name: string, payload: string) =>
      c.db
        .prepare(
          `INSERT INTO torrents (client, hash, name, category, tags, raw_state, phase, running, progress, amount_left, size, auto_tmm, seeding_time, client_save_path, client_content_path,
             client_download_path, host_content_path, data_status, payload_hash, status, first_seen, synced_at) VALUES (?, ?, ?, '', '[]', 'stalledUP', 'seeding', 1, 1, 0, 7, 0, 5, '/d', ?, '', ?, 'ok', ?, 'active', 1, 2)`,
        )
        .run(client, hash, name, `/d/${name}`, `/srv/${client}/${name}`, payload);
    // The same info-hash in two instances, another torrent with the same payload, and a row of an instance no longer configured.
    row('two', H, 'Movie', P);
    row('one', H, 'Movie', P);
    row('one', 'b'.repeat(40), 'Movie [xseed]', P);
    row('gone', 'c'.repeat(40), 'Movie', P);
    row('one', 'd'.repeat(40), 'Other', 'q'.repeat(64));
    const torrentsOf = activeTorrentsWithPayloadReader(c.db, ['one', 'two']);
    expect(torrentsOf(P).map((t) => [t.name, t.client, t.hash.slice(0, 1), t.contentPath])).toEqual([
      ['Movie', 'one', 'a', '/srv/one/Movie'],
      ['Movie', 'two', 'a', '/srv/two/Movie'],
      ['Movie [xseed]', 'one', 'b', '/srv/one/Movie [xseed]'],
    ]);
    expect(activeTorrentsWithPayloadReader(c.db, [])(P)).toEqual([]);
    c.close();
  });
});

describe('the snapshot read of active torrents', () => {
  it('orders them by hash, then instance, as SQLite orders the text (UTF-8 bytes), whatever order the rows were written in', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hashall-torrent-order-'));
    const c = openCatalog(path.join(dir, 'catalog.db'));
    // Instance names whose UTF-16 order is not their UTF-8 byte order (U+FF5E against U+1F600, a surrogate pair).
    const clients = ['tr', 'default', '\uff5e', '\u{1f600}', 'Tr', 'tr2'];
    for (const cl of clients) c.db.prepare(`INSERT INTO client_status (client) VALUES (?)`).run(cl);
    const hashes = ['b'.repeat(40), 'a'.repeat(40), 'B'.repeat(40), 'a'.repeat(39) + 'b'];
    const insert = c.db.prepare(insertTorrent('x').replace(`'x'`, '?').replace(`'${H}'`, '?'));
    for (const h of hashes) for (const cl of [...clients].reverse()) insert.run(cl, h);
    const want = c.db.prepare(`SELECT client, hash FROM torrents WHERE status = 'active' ORDER BY hash, client`).all() as { client: string; hash: string }[];
    expect(readActiveTorrents(c, clients).torrents.map((t) => `${t.hash}/${t.client}`)).toEqual(want.map((r) => `${r.hash}/${r.client}`));
    c.close();
  });
});
