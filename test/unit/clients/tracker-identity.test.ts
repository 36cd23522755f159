// Every adapter reports the same tracker identity for the same trackers (the clients' own answer shapes), and qBittorrent asks /torrents/trackers only where its list does not say.
import { afterAll, describe, expect, test } from 'vitest';
import { createQbittorrentClient, magnetTrackers, trackersFromApi, torrentFromApi } from '../../../src/clients/qbittorrent/client.js';
import { torrentFromDeluge } from '../../../src/clients/deluge/client.js';
import { torrentFromTransmission } from '../../../src/clients/transmission/client.js';
import { torrentFromRtorrent } from '../../../src/clients/rtorrent/client.js';
import { fakeTorrent, startFakeQbt, type FakeQbt } from '../../support/fake-qbt.js';

const PK = '0123456789abcdef0123456789abcdef';
const FIRST = `https://Tracker.Example.org:443/${PK}/announce`;
const BACKUP = `udp://backup.example.net:6969/announce?passkey=${PK}`;

const fakes: FakeQbt[] = [];
afterAll(async () => {
  for (const f of fakes) await f.close();
});

describe('every adapter reports the same identity for the same trackers', () => {
  test('qBittorrent (magnet_uri, whatever `tracker` says), Transmission, Deluge (not its base-domain tracker_host) and rTorrent', () => {
    const enc = (u: string) => encodeURIComponent(u).toLowerCase();
    const qbt = (over: Record<string, unknown>) =>
      torrentFromApi({ hash: 'ab'.repeat(20), name: 'X', state: 'pausedUP', save_path: '/s', content_path: '/s/X', progress: 1, amount_left: 0, size: 1, ...over }).tracker;
    const magnet = `magnet:?xt=urn:btih:${'ab'.repeat(20)}&dn=X&tr=${enc(FIRST)}&tr=${enc(BACKUP)}`;
    // Paused: `tracker` is "" (seen on 4.5.2); the first tier down: `tracker` is the backup's URL.
    expect(qbt({ tracker: '', trackers_count: 2, magnet_uri: magnet })).toBe('tracker.example.org');
    expect(qbt({ tracker: BACKUP, trackers_count: 2, magnet_uri: magnet })).toBe('tracker.example.org');
    // An answer without magnet_uri trackers: `tracker` where the torrent has none counted, else left to /torrents/trackers.
    expect(qbt({ tracker: FIRST })).toBe('tracker.example.org');
    expect(qbt({ tracker: '', trackers_count: 2, magnet_uri: `magnet:?xt=urn:btih:${'ab'.repeat(20)}` })).toBeNull();

    const tr = torrentFromTransmission({
      hashString: 'ab'.repeat(20), name: 'X', downloadDir: '/s', status: 0, error: 0, errorString: '', percentDone: 1, leftUntilDone: 0, totalSize: 1,
      trackers: [{ announce: BACKUP, id: 1, tier: 1 }, { announce: FIRST, id: 0, tier: 0 }],
    }).tracker;
    expect(tr).toBe('tracker.example.org');

    // Deluge 2.0.3's tracker_host for these trackers is "example.org" (Torrent.get_tracker_host keeps the last two labels).
    const de = torrentFromDeluge('ab'.repeat(20), {
      name: 'X', save_path: '/s', state: 'Paused', progress: 100, message: 'OK', total_size: 1, total_wanted: 1, total_done: 1,
      tracker_host: 'example.org', files: [{ index: 0, path: 'X', size: 1, offset: 0 }], trackers: [{ url: FIRST, tier: 0, fails: 0 }, { url: BACKUP, tier: 1, fails: 0 }],
    }, (t) => t).tracker;
    expect(de).toBe('tracker.example.org');

    const rt = torrentFromRtorrent(['AB'.repeat(20), 'X', '/s', 0, 0, 1, 0, 1, 0, 0, 0, 1, '', 1, 0, 1, 1_700_000_000, 0, 0, 1, [[FIRST, 0], [BACKUP, 1]]]).tracker;
    expect(rt).toBe('tracker.example.org');
  });

  test('qBittorrent: magnet trackers are decoded in order; /torrents/trackers entries keep their tiers', () => {
    expect(magnetTrackers(`magnet:?xt=urn:btih:${'ab'.repeat(20)}&tr=http%3a%2f%2f127.0.0.1%3a1%2fannounce&tr=udp%3a%2f%2fb.example%3a1`)).toEqual(['http://127.0.0.1:1/announce', 'udp://b.example:1']);
    expect(magnetTrackers('http://x/?tr=a')).toEqual([]);
    expect(trackersFromApi([{ url: '** [DHT] **', tier: -1, status: 0 }, { url: FIRST, tier: 0, status: 1 }])).toEqual([{ url: '** [DHT] **', tier: -1 }, { url: FIRST, tier: 0 }]);
  });
});

describe('qBittorrent: /torrents/trackers only for torrents whose entry does not list their trackers', () => {
  test('one request each for those, none for the rest; an unknown torrent has none', async () => {
    const f = await startFakeQbt();
    fakes.push(f);
    const [A, B, C, D] = ['a', 'b', 'c', 'd'].map((x) => x.repeat(40)) as [string, string, string, string];
    f.torrents.set(A, fakeTorrent(A, { trackers_count: 1, magnet_uri: `magnet:?xt=urn:btih:${A}&tr=${encodeURIComponent(FIRST)}` }));
    f.torrents.set(B, fakeTorrent(B, { trackers_count: 2, magnet_uri: `magnet:?xt=urn:btih:${B}` }));
    f.torrents.set(C, fakeTorrent(C, { trackers_count: 0, magnet_uri: `magnet:?xt=urn:btih:${C}` }));
    f.script('/torrents/trackers', { json: [{ url: '** [DHT] **', tier: -1 }, { url: BACKUP, tier: 1 }, { url: FIRST, tier: 0 }] });
    const qb = createQbittorrentClient({ url: f.url, timeoutMs: 2_000 });
    try {
      const byHash = new Map((await qb.listTorrents()).map((t) => [t.hash, t.tracker]));
      expect(byHash).toEqual(new Map([[A, 'tracker.example.org'], [B, 'tracker.example.org'], [C, null]]));
      expect(f.requests.filter((r) => r.path === '/torrents/trackers').map((r) => r.query.get('hash'))).toEqual([B]);
      // Gone between the two reads (404): no tracker, not an error; the read of one torrent asks the same way.
      f.torrents.set(D, fakeTorrent(D, { trackers_count: 1 }));
      f.script('/torrents/trackers', { status: 404, body: 'Not Found' });
      expect((await qb.getTorrent(D))?.tracker).toBeNull();
      expect(f.requests.filter((r) => r.path === '/torrents/trackers').map((r) => r.query.get('hash'))).toEqual([B, D]);
    } finally {
      await qb.close();
    }
  });
});
