// Host path ↔ a torrent client instance's spelling: each instance's own path maps, for repoint steps (pure).
import type { HashallConfig, PathMap } from '../config/types.js';
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

/** The path maps of instance `client` (none when it is not configured: its torrents are not planned). */
export function mapsOf(config: Pick<HashallConfig, 'clients'>, client: string): readonly PathMap[] {
  return config.clients[client]?.pathMaps ?? [];
}
