// The one place that turns Deluge's torrent state string (and its message) into a TorrentPhase (pure).
import type { TorrentPhase } from '../types.js';

/**
 * Deluge 1.3–2.x `state`: Allocating, Checking, Downloading, Seeding, Paused, Error, Queued, Moving. Deluge's own
 * `paused` flag is libtorrent's and disagrees with `state` (a paused torrent after a check reads paused:false), so
 * only `state` counts. `progress` is 0..1 here (Deluge sends percent).
 */
export function phaseOfDeluge(state: string, progress: number, message: string): TorrentPhase {
  switch (state) {
    case 'Seeding':
      return progress >= 1 ? 'seeding' : 'downloading';
    case 'Downloading':
    case 'Allocating':
      return 'downloading';
    case 'Queued':
      return progress >= 1 ? 'seeding' : 'downloading';
    case 'Paused':
      return progress >= 1 ? 'paused-complete' : 'paused-incomplete';
    case 'Checking':
      return 'checking';
    case 'Moving':
      return 'moving';
    case 'Error':
      return /no such file|not found|missing/i.test(message) ? 'missing-files' : 'error';
    default:
      return 'unknown';
  }
}

/** True for the states in which Deluge is (or will be, once its queue lets it) exchanging data. */
export function runningInDeluge(state: string): boolean {
  return state === 'Seeding' || state === 'Downloading' || state === 'Queued' || state === 'Allocating';
}
