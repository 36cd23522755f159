// The sync view names the client once: its version string as each adapter reports it (qBittorrent "v4.5.2", the others "Transmission 3.00 (…)").
import { describe, expect, it } from 'vitest';
import { renderSync } from '../../../src/render/sync-text.js';
import type { SyncSummary } from '../../../src/catalog/sync.js';

function summary(clientVersion: string | null): SyncSummary {
  return {
    client: 'tr', sessionId: 3, clientVersion, torrents: 1, added: 1, changed: 0, unchanged: 0, removed: 0, movesUndone: 0, movesUnsettled: 0,
    byStatus: { ok: 1, incomplete: 0, missing: 0, 'not-in-catalog': 0, unmapped: 0 } as SyncSummary['byStatus'],
    hashUnknown: 0, hashed: null, filesystems: [], problems: [], serial: 9, durationMs: 20,
  };
}

describe('sync view', () => {
  it('says each client by its name once, whatever its version string carries', () => {
    const first = (type: Parameters<typeof renderSync>[1], v: string | null) => renderSync(summary(v), type).split('\n')[0];
    // As the adapters report them on the real daemons (doctor prints the same strings).
    expect(first('qbittorrent', 'v4.5.2')).toBe('synced 1 torrent(s) from qBittorrent v4.5.2 "tr" in <1m (session 3, catalog serial 9)');
    expect(first('transmission', 'Transmission 3.00 (bb6b5a062e)')).toBe('synced 1 torrent(s) from Transmission 3.00 (bb6b5a062e) "tr" in <1m (session 3, catalog serial 9)');
    expect(first('rtorrent', 'rTorrent 0.9.8')).toBe('synced 1 torrent(s) from rTorrent 0.9.8 "tr" in <1m (session 3, catalog serial 9)');
    expect(first('deluge', 'Deluge 2.0.3')).toBe('synced 1 torrent(s) from Deluge 2.0.3 "tr" in <1m (session 3, catalog serial 9)');
    expect(first('deluge', null)).toBe('synced 1 torrent(s) from Deluge ? "tr" in <1m (session 3, catalog serial 9)');
    expect(first(undefined, 'Deluge 2.0.3')).toBe('synced 1 torrent(s) from Deluge 2.0.3 "tr" in <1m (session 3, catalog serial 9)');
  });
});
