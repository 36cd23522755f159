// The one place that turns qBittorrent's raw state strings (4.x and 5.x) into a TorrentPhase (pure).
import type { TorrentPhase } from '../types.js';

/**
 * Every state string qBittorrent 4.x/5.x documents. 5.0 renamed `pausedUP`/`pausedDL` to
 * `stoppedUP`/`stoppedDL`; `forcedMetaDL` and `checkingResumeData` appear in both generations.
 */
const PHASE_OF_RAW: Readonly<Record<string, TorrentPhase>> = {
  uploading: 'seeding',
  stalledUP: 'seeding',
  forcedUP: 'seeding',
  queuedUP: 'seeding',
  pausedUP: 'paused-complete',
  stoppedUP: 'paused-complete',
  pausedDL: 'paused-incomplete',
  stoppedDL: 'paused-incomplete',
  downloading: 'downloading',
  stalledDL: 'downloading',
  metaDL: 'downloading',
  forcedMetaDL: 'downloading',
  forcedDL: 'downloading',
  queuedDL: 'downloading',
  allocating: 'downloading',
  checkingUP: 'checking',
  checkingDL: 'checking',
  checkingResumeData: 'checking',
  moving: 'moving',
  missingFiles: 'missing-files',
  error: 'error',
  unknown: 'unknown',
};

/** Raw states this module knows; anything else normalizes to `unknown` (never to a safe phase). */
export const KNOWN_QBITTORRENT_STATES: readonly string[] = Object.keys(PHASE_OF_RAW);

export function phaseOfState(raw: string): TorrentPhase {
  return Object.prototype.hasOwnProperty.call(PHASE_OF_RAW, raw) ? (PHASE_OF_RAW[raw] as TorrentPhase) : 'unknown';
}

/**
 * True only when the state proves the torrent is started (seeding or downloading). Transitional and
 * failed states (checking, moving, missing files, error, unknown) do not prove it and give false.
 */
export function isRunningState(raw: string): boolean {
  const phase = phaseOfState(raw);
  return phase === 'seeding' || phase === 'downloading';
}
