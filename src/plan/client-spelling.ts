// Host path → the torrent client's spelling for repoint steps, on top of the shared path maps (pure).
import type { PathMap } from '../config/types.js';
import { hostToClient as mapHostToClient } from '../domain/path-map.js';

/**
 * The client's spelling of a canonical host path. With no path maps at all the client runs on the host and
 * sees host paths as they are; with maps, the longest whole-segment prefix translates (domain/path-map.ts),
 * and a path none of them covers (or that two equal prefixes disagree on) is invisible: null, so the group blocks.
 */
export function hostToClient(maps: readonly PathMap[], hostPath: string): string | null {
  if (maps.length === 0) return hostPath;
  return mapHostToClient(maps, hostPath);
}
