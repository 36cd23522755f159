// The one place that turns Transmission's numeric status and error code into a TorrentPhase (pure).
import type { TorrentPhase } from '../types.js';

/** tr_torrent_activity (RPC `status`), the same numbers in Transmission 2.4x–4.x. */
const STATUS_NAMES: Readonly<Record<number, string>> = { 0: 'stopped', 1: 'check-wait', 2: 'check', 3: 'download-wait', 4: 'download', 5: 'seed-wait', 6: 'seed' };

/** RPC `error`: 0 none, 1 tracker warning, 2 tracker error, 3 local error (data missing, disk error). */
export const TR_LOCAL_ERROR = 3;

/** Raw state string stored in the catalog and shown to users, e.g. `seed` or `stopped/local-error`. */
export function rawStateOf(status: number, error: number): string {
  const name = STATUS_NAMES[status] ?? `status-${status}`;
  return error === TR_LOCAL_ERROR ? `${name}/local-error` : name;
}

/**
 * A local error wins over every status: Transmission keeps `percentDone` 1 when the data vanished (it only sets
 * error 3, "No data found!"). Tracker warnings and errors (1, 2) say nothing about the data and are ignored.
 */
export function phaseOfTransmission(status: number, error: number, errorString: string, percentDone: number): TorrentPhase {
  if (error === TR_LOCAL_ERROR) return /no data found/i.test(errorString) ? 'missing-files' : 'error';
  switch (status) {
    case 0:
      return percentDone >= 1 ? 'paused-complete' : 'paused-incomplete';
    case 1:
    case 2:
      return 'checking';
    case 3:
    case 4:
      return 'downloading';
    case 5:
    case 6:
      return percentDone >= 1 ? 'seeding' : 'downloading';
    default:
      return 'unknown';
  }
}
