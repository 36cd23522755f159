// The one place that turns Deluge's torrent state string (and its message) into a TorrentPhase (pure).
import type { TorrentPhase } from '../types.js';

/**
 * Deluge 1.3–2.x `state`: Allocating, Checking, Downloading, Seeding, Paused, Error, Queued, Moving. Deluge's own
 * `paused` flag is libtorrent's: where it disagrees with `state` (stateIsStale), the phase is unknown. `progress` is 0..1
 * here (Deluge sends percent).
 */
export function phaseOfDeluge(state: string, progress: number, message: string, ltPaused?: boolean): TorrentPhase {
  if (stateIsStale(state, ltPaused)) return 'unknown';
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

/**
 * Deluge rewrites `state` only when libtorrent's alerts arrive, while `paused` is libtorrent's flag as read (afresh by
 * core.get_torrent_status). A force-rechecked paused torrent is run by libtorrent to check it and reads "Paused" with
 * its progress climbing, then "Paused" at progress 1 before Deluge pauses it again; a paused session reads "Paused"
 * for torrents libtorrent runs. When the two disagree, what the torrent is doing is not known.
 */
export function stateIsStale(state: string, ltPaused: boolean | undefined): boolean {
  if (ltPaused === undefined) return false;
  if (state === 'Paused') return !ltPaused;
  if (state === 'Seeding' || state === 'Downloading') return ltPaused;
  return false;
}

/** True for the states in which Deluge is (or will be, once its queue lets it) exchanging data. */
export function runningInDeluge(state: string): boolean {
  return state === 'Seeding' || state === 'Downloading' || state === 'Queued' || state === 'Allocating';
}
