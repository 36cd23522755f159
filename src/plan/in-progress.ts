// Which catalog paths a torrent client may still write (pure): content decisions — dedupe, reuse donors — never use them.
//
// Two unfinished downloads whose files are zero-filled placeholders (preallocated, interrupted) hash alike; linking
// them makes one inode of two torrents' data, and the client's writes for one then overwrite the other. So a path is
// usable for a content decision only when it is proven that no client writes it:
// - its name is not a client's in-progress name (`.!qB`, `.part`, `.!ut`);
// - the client was synced (when one is configured) and not before the scan of the root holding the path — a torrent
//   added after the sync may be writing files the scan saw;
// - no torrent that is not complete and healthy (seeding or paused-complete at progress 1, nothing left) has its
//   content path or download (incomplete) folder at or above the path;
// - no such unfinished torrent has a content path with no host spelling (it could be writing anywhere);
// - it does not lie in a folder a client writes its own files to (session, configuration, .torrent copies, watched,
//   incomplete) unless a torrent's content path nearer to it claims it as payload (src/plan/nearest-claim.ts, as the
//   orphan classifier reads it: a content path that is the client folder itself does not, nor does the save path of a
//   torrent without a root folder — its file list is not at hand here); and every synced client said which folders
//   those are (a sync by an older hashall did not ask).
import type { HashallConfig } from '../config/types.js';
import type { CatalogSnapshot, SnapshotTorrent } from '../domain/snapshot.js';
import { baseName, dirName, isAtOrUnder } from '../domain/path-string.js';
import { hostSpelling } from '../domain/path-map.js';
import { mapsOf } from './client-spelling.js';
import { isSettled } from '../domain/torrent-phase.js';
import { describeClientFolder } from '../domain/client-folder.js';
import { contentRelOf } from '../domain/listing.js';
import { NearestClaims } from './nearest-claim.js';

/** Returns why a client may still write `path` (canonical host path of a catalog file), or null when none does. */
export type WriteGuard = (path: string) => string | null;

const IN_PROGRESS_SUFFIXES = ['.!qB', '.part', '.!ut'];

function describe(t: SnapshotTorrent): string {
  const pct = `${(Math.min(1, Math.max(0, t.progress)) * 100).toFixed(1)}%`;
  return `torrent "${t.name}" is ${t.phase} (${t.rawState}, ${pct} complete)`;
}

export function clientWriteGuard(config: HashallConfig, snapshot: CatalogSnapshot): WriteGuard {
  const hostOf = (t: SnapshotTorrent, clientPath: string): string | null => {
    const maps = mapsOf(config, t.client);
    return hostSpelling(maps, clientPath);
  };
  // Unfinished torrents by every host place they may write (content path, download folder); all torrents' content paths.
  const unfinished = new Map<string, SnapshotTorrent>();
  const placed = new Set<string>();
  let unplaced: SnapshotTorrent | null = null;
  for (const t of snapshot.torrents) {
    const content = t.hostContentPath ?? (t.clientContentPath === '' ? null : hostOf(t, t.clientContentPath));
    if (content !== null) placed.add(content);
    if (isSettled(t)) continue;
    if (content === null) unplaced ??= t;
    else if (!unfinished.has(content)) unfinished.set(content, t);
    const dl = t.clientDownloadPath === '' ? null : hostOf(t, t.clientDownloadPath);
    if (dl !== null && !unfinished.has(dl)) unfinished.set(dl, t);
  }
  const roots = snapshot.roots;
  // The oldest last sync of the instances: a torrent added to any of them since may be writing what the scan saw.
  const synced = snapshot.lastSyncAt;
  const anyClient = Object.keys(config.clients).length > 0;
  // What the walk up from a directory finds (memoized: donors and dedupe candidates share a few directories): the
  // nearest unfinished torrent at or above it, else whether some torrent's content path is at or above it.
  const above = new Map<string, { t: SnapshotTorrent | undefined; known: boolean }>();
  const walkUp = (dir: string): { t: SnapshotTorrent | undefined; known: boolean } => {
    let hit = above.get(dir);
    if (hit !== undefined) return hit;
    const t = unfinished.get(dir);
    if (t !== undefined || dir === '/' || dir === '') hit = { t, known: placed.has(dir) };
    else {
      const up = walkUp(dirName(dir));
      hit = { t: up.t, known: placed.has(dir) || up.known };
    }
    above.set(dir, hit);
    return hit;
  };
  // The longest root at or above a directory (the first of equal ones), memoized the same way.
  const rootAbove = new Map<string, (typeof roots)[number] | undefined>();
  const longestRoot = (p: string): (typeof roots)[number] | undefined => {
    let root: (typeof roots)[number] | undefined;
    for (const r of roots) if (isAtOrUnder(p, r.path) && (!root || r.path.length > root.path.length)) root = r;
    return root;
  };
  const rootOf = (path: string): (typeof roots)[number] | undefined => {
    const own = roots.find((r) => r.path === path);
    if (own !== undefined || path === '/' || path === '') return own ?? longestRoot(path);
    const dir = dirName(path);
    if (!rootAbove.has(dir)) rootAbove.set(dir, longestRoot(dir));
    return rootAbove.get(dir);
  };
  // The clients' own folders (the first instance and role named for a folder two report), and an instance that was
  // synced without being asked for them; then the torrents' content paths, as the orphan classifier claims them: the
  // nearest of those at or above a path claims it (memoized: donors and dedupe candidates share a few directories).
  const claims = new NearestClaims({ memo: true });
  let foldersUnasked: string | null = null;
  for (const [client, state] of Object.entries(snapshot.clients ?? {})) {
    if (state.ownFolders === null) {
      if (state.syncedAt !== null) foldersUnasked ??= client;
      continue;
    }
    for (const f of state.ownFolders) claims.set(f.path, { cls: 'client', why: describeClientFolder(f.role, client) });
  }
  if (claims.size > 0) {
    for (const t of snapshot.torrents) {
      const content = t.hostContentPath ?? (t.clientContentPath === '' ? null : hostOf(t, t.clientContentPath));
      // Without a root folder its save path holds other files too: only its listed files are its own.
      if (content !== null && contentRelOf(t) !== '') claims.set(content, { cls: isSettled(t) ? 'payload' : 'in-progress', why: '' });
    }
  }
  const folderClaim = (path: string): string | null => {
    if (claims.size === 0) return null;
    const c = claims.of(path);
    return c?.cls === 'client' ? c.why : null;
  };
  return (path) => {
    const name = baseName(path);
    const suffix = IN_PROGRESS_SUFFIXES.find((s) => name.endsWith(s));
    if (suffix !== undefined) return `${path} has a download-in-progress name (${suffix}); a client may still write it`;
    if (anyClient && synced === null) {
      return `the torrent client has never been synced, so nothing proves no torrent is writing ${path} (refresh, or run \`hashall sync\`)`;
    }
    const self = unfinished.get(path);
    const up = self !== undefined || path === '/' || path === '' ? { t: self, known: placed.has(path) } : walkUp(dirName(path));
    const t = self ?? up.t;
    if (t !== undefined) return `${path} belongs to an unfinished download: ${describe(t)}, so the client may still write it`;
    const folder = folderClaim(path);
    if (folder !== null) return `${path} lies in ${folder}, which the client writes itself`;
    if (foldersUnasked !== null) {
      return `client "${foldersUnasked}" was last synced by a hashall that did not ask which folders it writes its own files to, so ${path} may be one of them (refresh, or run \`hashall sync\`)`;
    }
    const known = placed.has(path) || up.known;
    if (unplaced !== null) {
      return `${describe(unplaced)} and its path ${unplaced.clientContentPath || '(empty)'} has no host spelling, so it may be writing ${path}`;
    }
    if (!known && anyClient && synced !== null) {
      const root = rootOf(path);
      if (root?.lastScanAt != null && synced < root.lastScanAt) {
        return `the torrent client was last synced before ${root.path} was scanned: a torrent added since may be writing ${path} (refresh: scan, then sync)`;
      }
    }
    return null;
  };
}
