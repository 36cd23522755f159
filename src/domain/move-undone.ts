// When a recorded move was undone by hand: one rule for the retire planner (snapshot) and the sync that closes such moves (catalog rows).

/** Where a torrent a move relocated stands now: seeding from the move's source again, known removed, or anything else (the target, elsewhere, unknown). */
export type RelocatedTorrentState = 'at-source' | 'removed' | 'other';

/** What is known of a torrent's content: its host path, the catalog filesystem and payload hash of what lies there. */
export interface TorrentContentAt {
  hostContentPath: string | null;
  fsId: number | null | undefined;
  payloadHash: string | null | undefined;
}

/**
 * True when a torrent seeds from a move's source again: its content is the source root, which still holds the
 * relocated payload on the source filesystem (moved back in the client by hand, or removed and re-added there).
 */
export function seedsFromMoveSource(move: { sourceRoot: string; payloadHash: string }, isSourceFs: (fsId: number) => boolean, at: TorrentContentAt): boolean {
  if (at.hostContentPath !== move.sourceRoot || at.fsId == null || !isSourceFs(at.fsId)) return false;
  return at.payloadHash === move.payloadHash;
}

/**
 * The move was undone: every torrent it moved is known removed or seeds from the source again, and at least one does.
 * Its source is live, never to be retired by it; a move onto the target again, by hand, must not inherit its window.
 */
export function moveUndone(states: readonly RelocatedTorrentState[]): boolean {
  return states.some((s) => s === 'at-source') && states.every((s) => s !== 'other');
}
