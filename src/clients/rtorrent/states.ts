// The one place that turns rTorrent's d.* state numbers into a TorrentPhase (pure).
import type { TorrentPhase } from '../types.js';

export interface RtorrentStateFields {
  state: number; // d.state: 1 started, 0 stopped
  isOpen: number; // d.is_open
  isActive: number; // d.is_active: 0 while started-but-paused (ruTorrent "pause")
  complete: number; // d.complete
  hashing: number; // d.hashing: 0 idle, 1 initial, 2 last check, 3 re-check (also while queued)
  isHashChecking: number; // d.is_hash_checking
  hashingFailed: number; // d.hashing_failed
}

/** Raw state string stored in the catalog and shown to users, e.g. `started/complete` or `closed/incomplete`. */
export function rawStateOf(s: RtorrentStateFields): string {
  if (s.hashing !== 0 || s.isHashChecking !== 0) return 'hashing';
  if (s.hashingFailed !== 0) return 'hash-failed';
  const run = s.state === 1 ? (s.isActive === 1 ? 'started' : 'paused') : s.isOpen === 1 ? 'stopped' : 'closed';
  return `${run}/${s.complete === 1 ? 'complete' : 'incomplete'}`;
}

/** rTorrent has no "missing files" state: a check over missing data just ends incomplete (d.complete 0). */
export function phaseOfRtorrent(s: RtorrentStateFields): TorrentPhase {
  if (s.hashing !== 0 || s.isHashChecking !== 0) return 'checking';
  if (s.hashingFailed !== 0) return 'error';
  const running = s.state === 1 && s.isActive === 1;
  if (s.complete === 1) return running ? 'seeding' : 'paused-complete';
  return running ? 'downloading' : 'paused-incomplete';
}
