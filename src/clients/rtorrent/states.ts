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
  wantedChunks: number; // d.wanted_chunks: chunks of the files not switched off that are not complete yet
  completedChunks: number; // d.completed_chunks
}

/**
 * Everything the torrent wants is there: d.complete, or — files switched off (f.priority 0), which d.complete counts
 * — no wanted chunk left and at least one chunk complete (a torrent with every file off has nothing to be complete
 * with: unknown, so not complete). Not while a hash check runs or after one failed.
 */
export function wantedComplete(s: RtorrentStateFields): boolean {
  if (s.hashing !== 0 || s.isHashChecking !== 0 || s.hashingFailed !== 0) return false;
  return s.complete === 1 || (s.wantedChunks === 0 && s.completedChunks > 0);
}

/** Raw state string stored in the catalog and shown to users, e.g. `started/complete` or `closed/incomplete`. */
export function rawStateOf(s: RtorrentStateFields): string {
  if (s.hashing !== 0 || s.isHashChecking !== 0) return 'hashing';
  if (s.hashingFailed !== 0) return 'hash-failed';
  const run = s.state === 1 ? (s.isActive === 1 ? 'started' : 'paused') : s.isOpen === 1 ? 'stopped' : 'closed';
  return `${run}/${s.complete === 1 ? 'complete' : wantedComplete(s) ? 'wanted-complete' : 'incomplete'}`;
}

/** rTorrent has no "missing files" state: a check over missing data just ends incomplete (d.complete 0). */
export function phaseOfRtorrent(s: RtorrentStateFields): TorrentPhase {
  if (s.hashing !== 0 || s.isHashChecking !== 0) return 'checking';
  if (s.hashingFailed !== 0) return 'error';
  const running = s.state === 1 && s.isActive === 1;
  if (wantedComplete(s)) return running ? 'seeding' : 'paused-complete';
  return running ? 'downloading' : 'paused-incomplete';
}
