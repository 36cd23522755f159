// Host path → the torrent client's spelling through the configured path maps (pure).
import type { PathMap } from '../config/types.js';
import { isAtOrUnder, joinPath, relativeTo } from '../domain/path-string.js';

/**
 * Translate a canonical host path into the client's spelling: the longest `host` prefix (whole segments)
 * wins. With no path maps at all the client sees host paths as they are; with maps, a path none of them
 * covers is invisible to the client and yields null.
 */
export function hostToClient(maps: readonly PathMap[], hostPath: string): string | null {
  if (maps.length === 0) return hostPath;
  let best: PathMap | null = null;
  for (const m of maps) if (isAtOrUnder(hostPath, m.host) && (best === null || m.host.length > best.host.length)) best = m;
  if (best === null) return null;
  const rest = relativeTo(hostPath, best.host) ?? '';
  return rest === '' ? best.client : joinPath(best.client, rest);
}
