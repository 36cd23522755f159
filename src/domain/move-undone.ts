// Where the torrents of a recorded move stand now, when the move was undone or abandoned by hand, and since when it has been observed healthy: one rule for the retire planner (snapshot), the retire step and the sync (catalog rows).
import { isAtOrUnder } from './path-string.js';
import type { SnapshotRelocation } from './snapshot.js';

/**
 * Where a torrent a move relocated stands now: seeding from the move's source again; known removed; `left` — its
 * content at a third path that overlaps neither the source nor the target (re-added or moved there by hand: it no
 * longer uses either copy, so it neither proves the target nor keeps the source); `on-target` — the relocated payload
 * on the target filesystem (what proves the move, healthy); or anything else (overlapping a copy, unknown).
 */
export type RelocatedTorrentState = 'at-source' | 'on-target' | 'removed' | 'left' | 'other';

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
function seedsFromMoveSource(move: { sourceRoot: string; payloadHash: string }, isSourceFs: (fsId: number) => boolean, at: TorrentContentAt): boolean {
  if (at.hostContentPath !== move.sourceRoot || at.fsId == null || !isSourceFs(at.fsId)) return false;
  return at.payloadHash === move.payloadHash;
}

/** Where a listed torrent of a move stands (any state but `removed`, which only its absence from a client that answered tells). */
export function relocatedTorrentState(
  move: { sourceRoot: string; targetRoot: string; payloadHash: string },
  fs: { isSource: (fsId: number) => boolean; isTarget: (fsId: number) => boolean },
  at: TorrentContentAt,
): RelocatedTorrentState {
  if (seedsFromMoveSource(move, fs.isSource, at)) return 'at-source';
  if (at.fsId != null && fs.isTarget(at.fsId) && at.payloadHash === move.payloadHash) return 'on-target';
  return leftMove(move, at.hostContentPath) ? 'left' : 'other';
}

/** True when a torrent's content lies at a known path apart from both copies of a move. */
function leftMove(move: { sourceRoot: string; targetRoot: string }, hostContentPath: string | null): boolean {
  if (hostContentPath === null) return false;
  for (const root of [move.sourceRoot, move.targetRoot]) if (isAtOrUnder(hostContentPath, root) || isAtOrUnder(root, hostContentPath)) return false;
  return true;
}

/**
 * The move was undone: every torrent it moved is known removed, has left it, or seeds from the source again, and at least one does that.
 * Its source is live, never to be retired by it; a move onto the target again, by hand, must not inherit its window.
 */
export function moveUndone(states: readonly RelocatedTorrentState[]): boolean {
  return states.some((s) => s === 'at-source') && states.every((s) => s === 'at-source' || s === 'removed' || s === 'left');
}

/** Nothing is left for the move to prove: every torrent it moved is known removed or has left it (and it has any). */
export function moveAbandoned(states: readonly RelocatedTorrentState[]): boolean {
  return states.length > 0 && states.every((s) => s === 'removed' || s === 'left');
}

/** When a move's observation window began: its repoint, or the last sync that saw one of its torrents unhealthy on the target, whichever is later. */
export function observedSince(rel: Pick<SnapshotRelocation, 'repointedAt' | 'unhealthy'>): number {
  return Math.max(rel.repointedAt, rel.unhealthy?.at ?? rel.repointedAt);
}
