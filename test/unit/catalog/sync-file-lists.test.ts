// A first sync asks the file lists of many torrents in few requests where the client answers several in one (Transmission, rTorrent; Deluge sends them with the torrents' status, read in pages of ids: none asked again; wire-level fakes counting requests), one per torrent where it cannot (qBittorrent), and records every torrent either way.
import { describe, expect, it } from 'vitest';
import { syncFromFake } from '../../../bench/sync.js';

const N = 230;

describe('sync: file lists of many torrents', () => {
  it.each([
    // the torrent list and the file lists share the method: 1 list + ⌈230 / 50⌉ = 5 file-list requests
    ['transmission', 'torrent-get', 1 + 5],
    // the status read of every torrent carries its file list (the content path comes from it): no list asked again;
    // read as the hash list + ⌈230 / 200⌉ = 2 pages of ids (one read of them all passes the answer bound at ~300k files)
    ['deluge', 'core.get_torrents_status', 1 + 2],
    // the list is a d.multicall2; the file lists are system.multicall, 3 calls per torrent
    ['rtorrent', 'system.multicall', 5],
  ] as const)('%s: every torrent recorded, their file lists in at most the batched number of requests', async (type, method, most) => {
    const s = await syncFromFake(type, N);
    expect(s.torrents).toBe(N);
    expect(s.requests(method)).toBeGreaterThan(0);
    expect(s.requests(method)).toBeLessThanOrEqual(most);
  });

  it('qbittorrent: one file-list request per torrent (its API takes one hash)', async () => {
    const s = await syncFromFake('qbittorrent', N);
    expect(s.torrents).toBe(N);
    expect(s.requests('/torrents/files')).toBe(N);
  });
});
