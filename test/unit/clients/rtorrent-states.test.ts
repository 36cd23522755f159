// rTorrent's d.* numbers → phase, raw state and "has everything it wants": a torrent with files switched off is never d.complete, yet complete once no wanted chunk is left.
import { describe, expect, test } from 'vitest';
import { phaseOfRtorrent, rawStateOf, wantedComplete, type RtorrentStateFields } from '../../../src/clients/rtorrent/states.js';
import { torrentFromRtorrent } from '../../../src/clients/rtorrent/client.js';

const base: RtorrentStateFields = { state: 1, isOpen: 1, isActive: 1, complete: 1, hashing: 0, isHashChecking: 0, hashingFailed: 0, wantedChunks: 0, completedChunks: 10 };

describe('rTorrent states', () => {
  test.each([
    ['complete, started', {}, true, 'seeding', 'started/complete'],
    ['complete, stopped', { state: 0, isActive: 0 }, true, 'paused-complete', 'stopped/complete'],
    ['files off, every wanted chunk there (7 of 10 chunks)', { complete: 0, completedChunks: 7 }, true, 'seeding', 'started/wanted-complete'],
    ['files off, every wanted chunk there, closed', { complete: 0, completedChunks: 7, state: 0, isActive: 0, isOpen: 0 }, true, 'paused-complete', 'closed/wanted-complete'],
    ['a wanted chunk left', { complete: 0, completedChunks: 6, wantedChunks: 1 }, false, 'downloading', 'started/incomplete'],
    ['every file off, nothing there: unknown, not complete', { complete: 0, completedChunks: 0 }, false, 'downloading', 'started/incomplete'],
    ['files off, checking', { complete: 0, completedChunks: 7, hashing: 3 }, false, 'checking', 'hashing'],
    ['files off, closed by rTorrent (low disk space)', { complete: 0, completedChunks: 7, hashingFailed: 1 }, false, 'error', 'hash-failed'],
  ] as const)('%s', (_what, over, wanted, phase, raw) => {
    const s = { ...base, ...over };
    expect(wantedComplete(s)).toBe(wanted);
    expect(phaseOfRtorrent(s)).toBe(phase);
    expect(rawStateOf(s)).toBe(raw);
  });

  test('progress and bytes left count the wanted files only: a pack with its sample off is complete (d.left_bytes is the sample)', () => {
    // d.hash … d.timestamp.finished, d.wanted_chunks, d.completed_chunks (the adapter's FIELDS order).
    const row = (complete: number, wanted: number, completed: number) => ['AB'.repeat(20), 'Pack', '/data/Pack', 1, 1, 1, 1, complete, 0, 0, 0, 1, '', 590324, 131572, 458752, 1_700_000_000, 0, wanted, completed, []];
    expect(torrentFromRtorrent(row(0, 0, 7))).toMatchObject({ phase: 'seeding', progress: 1, amountLeft: 0, rawState: 'started/wanted-complete' });
    expect(torrentFromRtorrent(row(0, 1, 6))).toMatchObject({ phase: 'downloading', progress: 458752 / 590324, amountLeft: 131572 });
  });
});
