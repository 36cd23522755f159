// Where a payload goes on another filesystem: seeding-root substitution, category folders, unique roots (pure).
import { trackerHost } from '../domain/tracker.js';
import type { HashallConfig } from '../config/types.js';
import type { CatalogSnapshot, SnapshotPayload, SnapshotTorrent } from '../domain/snapshot.js';
import { baseName, isAtOrUnder, joinPath, relativeTo } from '../domain/path-string.js';

/**
 * The seeding root payloads go to on `fsName`: the FIRST seeding root listed for it in hashall.yaml (the
 * config order is the user's stated preference). Null when the filesystem has none.
 */
export function targetSeedingRoot(config: HashallConfig, fsName: string): string | null {
  return config.seeding[fsName]?.[0] ?? null;
}

/**
 * The folder name `{tracker}` stands for: the host name of the torrent's first tracker in tier order, as every client
 * adapter reports it (src/domain/tracker.ts trackerIdentity; the catalog keeps nothing else). Null when the torrent has
 * no tracker.
 */
export function trackerFolder(tracker: string | null): string | null {
  return trackerHost(tracker);
}

export type TargetRoot = { root: string; problem: null } | { root: null; problem: string };

/**
 * The canonical host path a torrent's content root gets on `fsName`: when the torrent's category is mapped in
 * `categories`, target seeding root + category path (`{tracker}` substituted) + payload name; otherwise target
 * seeding root + the payload's path relative to its source seeding root (layout kept verbatim).
 */
export function targetRoot(
  config: HashallConfig,
  torrent: Pick<SnapshotTorrent, 'name' | 'category' | 'tracker'>,
  payload: Pick<SnapshotPayload, 'rootPath' | 'seedingRoot'>,
  fsName: string,
): TargetRoot {
  const seed = targetSeedingRoot(config, fsName);
  if (seed === null) return { root: null, problem: `filesystem ${fsName} has no seeding root in hashall.yaml` };
  const cat = config.categories[torrent.category];
  let root: string;
  if (cat) {
    let folder = cat.path;
    if (folder.includes('{tracker}')) {
      const tf = trackerFolder(torrent.tracker);
      if (tf === null) {
        return { root: null, problem: `category "${torrent.category}" needs {tracker}, but the client reports no tracker for "${torrent.name}"` };
      }
      folder = folder.split('{tracker}').join(tf);
    }
    root = joinPath(seed, folder, baseName(payload.rootPath));
  } else {
    if (payload.seedingRoot === null) return { root: null, problem: `payload ${payload.rootPath} is outside every seeding root` };
    const rel = relativeTo(payload.rootPath, payload.seedingRoot);
    if (rel === null || rel === '') return { root: null, problem: `payload ${payload.rootPath} is a seeding root itself, not a payload inside one` };
    root = joinPath(seed, rel);
  }
  const segs = root.split('/');
  if (!isAtOrUnder(root, seed) || root === seed || segs.includes('..') || segs.includes('.')) {
    return { root: null, problem: `target ${root} would not be inside the seeding root ${seed}` };
  }
  return { root, problem: null };
}

/**
 * The deterministic place for content whose normal target is taken by different content: a unique save
 * directory next to it, holding the torrent's own root name (the client must still find its top folder):
 * `<target>.hashall-<first 12 hex of the payload hash>/<name>`.
 */
export function uniqueRoot(root: string, payloadHash: string): string {
  return `${root}.hashall-${payloadHash.slice(0, 12)}/${baseName(root)}`;
}

/**
 * Every path whose occupancy the planner may consult: for each torrent payload inside a seeding root whose files
 * are loaded or left to the catalog (SnapshotPayload.filesInCatalog; only such groups get as far as choosing a target
 * root), its target root on every other filesystem with a seeding root, and the unique root beside it. The snapshot reader fills `occupiedPaths`
 * for exactly these (sorted, unique).
 */
export function targetCandidates(config: HashallConfig, snapshot: CatalogSnapshot): string[] {
  const out = new Set<string>();
  const fsName = new Map(snapshot.filesystems.map((f) => [f.id, f.name]));
  const targets = Object.keys(config.seeding).filter((n) => (config.seeding[n]?.length ?? 0) > 0);
  for (const t of snapshot.torrents) {
    if (t.hostContentPath === null) continue;
    const p = snapshot.payloads[t.hostContentPath];
    if (!p || p.seedingRoot === null || (p.files === null && !p.filesInCatalog)) continue;
    for (const fs of targets) {
      if (fsName.get(p.fsId) === fs) continue;
      const r = targetRoot(config, t, p, fs);
      if (r.root === null) continue;
      out.add(r.root);
      if (p.payloadHash !== null) out.add(uniqueRoot(r.root, p.payloadHash));
    }
  }
  return [...out].sort();
}
