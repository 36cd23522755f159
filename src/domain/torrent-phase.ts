// The client-neutral torrent phase and the one answer to "is this torrent settled and healthy?" (pure).

/**
 * One state vocabulary for every client and version (qBittorrent 4.x `pausedUP` and 5.x `stoppedUP`
 * both become `paused-complete`). Normalized per client in its adapter (clients/<type>/states.ts).
 */
export type TorrentPhase =
  | 'seeding' // running and complete (uploading, stalledUP, forcedUP, queuedUP)
  | 'paused-complete' // pausedUP / stoppedUP
  | 'paused-incomplete' // pausedDL / stoppedDL
  | 'downloading' // downloading, stalledDL, metaDL, forcedDL, queuedDL, allocating
  | 'checking' // checkingUP, checkingDL, checkingResumeData
  | 'moving'
  | 'missing-files'
  | 'error'
  | 'unknown';

/** Busy with its data: checking it or moving it. Nothing may act on such a torrent until a wait has seen that end. */
export function isBusyPhase(phase: TorrentPhase): boolean {
  return phase === 'checking' || phase === 'moving';
}

/** At rest with its data: seeding, or paused complete. Every other phase (checking, moving, downloading, errors, unknown) is not. */
export function isSettledPhase(phase: TorrentPhase): boolean {
  return phase === 'seeding' || phase === 'paused-complete';
}

/** Settled and healthy as the client reports it: a settled phase at progress 1 (what apply checks on a live torrent). */
export function isSettledHealthy(t: { phase: TorrentPhase; progress: number }): boolean {
  return isSettledPhase(t.phase) && t.progress >= 1;
}

/** Settled, healthy and nothing left to download: the only torrents whose files the planner takes as settled content. */
export function isSettled(t: { phase: TorrentPhase; progress: number; amountLeft: number }): boolean {
  return isSettledHealthy(t) && t.amountLeft === 0;
}
