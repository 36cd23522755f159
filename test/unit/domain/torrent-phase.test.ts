// The one "settled and healthy" predicate: every phase, progress and amount left, as the planner and apply use it.
import { describe, expect, it } from 'vitest';
import { isSettled, isSettledHealthy, isSettledPhase, type TorrentPhase } from '../../../src/domain/torrent-phase.js';

const ALL: TorrentPhase[] = ['seeding', 'paused-complete', 'paused-incomplete', 'downloading', 'checking', 'moving', 'missing-files', 'error', 'unknown'];

describe('settled torrents', () => {
  it('only seeding and paused-complete are settled phases', () => {
    expect(ALL.filter(isSettledPhase)).toEqual(['seeding', 'paused-complete']);
  });

  it('healthy needs the whole payload (progress 1); the planner also needs nothing left to download', () => {
    for (const phase of ALL) {
      expect(isSettledHealthy({ phase, progress: 1 })).toBe(isSettledPhase(phase));
      expect(isSettledHealthy({ phase, progress: 0.999 })).toBe(false);
      expect(isSettled({ phase, progress: 1, amountLeft: 0 })).toBe(isSettledPhase(phase));
    }
    expect(isSettled({ phase: 'seeding', progress: 1, amountLeft: 1 })).toBe(false);
    // A client that reports a negative amount is not understood: not settled (unknown means blocked).
    expect(isSettled({ phase: 'seeding', progress: 1, amountLeft: -1 })).toBe(false);
  });
});
