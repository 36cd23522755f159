// Deluge's state string → TorrentPhase, and the reads where its alert-driven state disagrees with libtorrent's paused flag.
import { describe, expect, test } from 'vitest';
import { phaseOfDeluge, stateIsStale } from '../../../src/clients/deluge/states.js';

describe('phaseOfDeluge', () => {
  test.each([
    ['Seeding', 1, false, 'seeding'],
    ['Paused', 1, true, 'paused-complete'],
    ['Paused', 0.4, true, 'paused-incomplete'],
    ['Checking', 0.4, false, 'checking'],
    ['Queued', 1, true, 'seeding'],
    // Mid-check of a paused torrent (libtorrent runs it) and the moment before Deluge pauses it again.
    ['Paused', 0.4, false, 'unknown'],
    ['Paused', 1, false, 'unknown'],
    // Paused by libtorrent, state not yet rewritten.
    ['Seeding', 1, true, 'unknown'],
    ['Downloading', 0.5, true, 'unknown'],
    // A read without the flag (older callers, a fake) judges by the state alone.
    ['Paused', 0.4, undefined, 'paused-incomplete'],
  ] as const)('%s at %s with libtorrent paused=%s is %s', (state, progress, ltPaused, phase) => {
    expect(phaseOfDeluge(state, progress, '', ltPaused)).toBe(phase);
    expect(stateIsStale(state, ltPaused)).toBe(phase === 'unknown');
  });
});
