// The sync benchmark still runs end to end against every client type's fake (small): a client that learns a new call must teach the bench's fakes too.
import { describe, expect, it } from 'vitest';
import { run } from '../../../bench/sync.js';

describe('bench/sync', () => {
  it('syncs every torrent of each client type (it throws when a sync fails or misses one)', async () => {
    const out = await run(40);
    expect(Object.keys(out).sort()).toEqual(['deluge.msPer1k', 'qbittorrent.msPer1k', 'rtorrent.msPer1k', 'transmission.msPer1k']);
    for (const v of Object.values(out)) expect(Number.isFinite(v)).toBe(true);
  }, 60_000);
});
