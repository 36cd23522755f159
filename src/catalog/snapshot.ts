// readSnapshot: the CatalogSnapshot the pure planner consumes, read in one SQLite read transaction (only the rows it needs).
//
// Scale: per payload one range query for its files, one for the other links of their inodes and one for the other
// copies of their content; one grouped query per dedupe filesystem — never a scan of every file row in JS.
import type { HashallConfig } from '../config/types.js';
import type {
  CatalogFile,
  CatalogSnapshot,
  DupeGroup,
  SnapshotFilesystem,
  SnapshotPayload,
  SnapshotRelocation,
  SnapshotRoot,
  SnapshotTorrent,
} from '../domain/snapshot.js';
import type { TorrentPhase } from '../clients/types.js';
import { isAtOrUnder, longestRootOf } from '../domain/path-string.js';
import { payloadHash } from '../domain/payload-hash.js';
import { targetCandidates } from '../plan/target-path.js';
import type { CatalogDb } from './db.js';
import type { FilesystemRow } from './filesystems.js';
import { consumerVerdict, liveInode, type LibraryScanState } from './consumers.js';
import { filesystemByMount, filesystemRowFor, hostPathContext, locateHostPath, relToMount, type HostPathContext } from './host-paths.js';
import { payloadBulkReader, payloadReader, toCatalogFile } from './payload-rows.js';
import type { TorrentRow } from './torrent-row.js';

export interface ReadSnapshotOptions {
  /** Epoch ms of the read (kept for callers that plan at the same instant; the reader itself needs no clock). */
  now: number;
  /** lstat payload files for live link counts and inode drift (default true). */
  liveCheck?: boolean;
  mountInfoFile?: string;
}

interface ScanRootRow {
  path: string;
  fs_id: number;
  last_completed_at: number;
}

function tableExists(catalog: CatalogDb, name: string): boolean {
  return catalog.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

/** Configured roots in canonical spelling, each with the last completed scan of it or of an ancestor root. */
export function snapshotRoots(catalog: CatalogDb, config: HashallConfig, ctx: HostPathContext): SnapshotRoot[] {
  const scanned = catalog.db.prepare(`SELECT path, fs_id, last_completed_at FROM scan_roots WHERE last_completed_at IS NOT NULL`).all() as ScanRootRow[];
  const one = (input: string, kind: SnapshotRoot['kind'], fsName: string | null): SnapshotRoot => {
    const where = locateHostPath(ctx, input, { followLast: true });
    if (!where.ok) return { path: where.spelled, kind, fsName, fsId: null, lastScanAt: null };
    const fs = filesystemRowFor(catalog, where.loc);
    let last: number | null = null;
    if (fs) for (const s of scanned) if (s.fs_id === fs.id && isAtOrUnder(where.loc.path, s.path) && (last === null || s.last_completed_at > last)) last = s.last_completed_at;
    return { path: where.loc.path, kind, fsName, fsId: fs?.id ?? null, lastScanAt: last };
  };
  const out: SnapshotRoot[] = [];
  for (const [fsName, paths] of Object.entries(config.seeding)) for (const p of paths) out.push(one(p, 'seeding', fsName));
  for (const p of config.libraries) out.push(one(p, 'library', null));
  return out;
}

export function readSnapshot(catalog: CatalogDb, config: HashallConfig, opts: ReadSnapshotOptions): CatalogSnapshot {
  const ctx = hostPathContext(config, opts.mountInfoFile);
  const read = catalog.db.transaction(() => readInside(catalog, config, ctx, opts));
  return read();
}

function readInside(catalog: CatalogDb, config: HashallConfig, ctx: HostPathContext, opts: ReadSnapshotOptions): CatalogSnapshot {
  const db = catalog.db;
  const fsRows = db.prepare(`SELECT * FROM filesystems ORDER BY id`).all() as FilesystemRow[];
  const fsById = new Map(fsRows.map((r) => [r.id, r]));
  const named = fsRows.filter((r) => r.name !== null && config.filesystems[r.name] !== undefined);
  const filesystems: SnapshotFilesystem[] = fsRows.map((r) => ({
    id: r.id,
    name: r.name !== null && config.filesystems[r.name] ? r.name : null,
    uuid: r.uuid,
    mountPoint: r.preferred_mount,
    fsType: r.fs_type,
    freeBytes: r.free_bytes,
  }));
  const fsFor = (path: string): FilesystemRow | null => filesystemByMount(named, path) ?? filesystemByMount(fsRows, path);

  const roots = snapshotRoots(catalog, config, ctx);
  const seedingRoots = roots.filter((r) => r.kind === 'seeding').map((r) => r.path);
  const libraries: LibraryScanState[] = roots.filter((r) => r.kind === 'library').map((r) => ({ path: r.path, fsId: r.fsId, scanned: r.lastScanAt !== null }));

  // Torrents (active only) with their client file lists.
  const tRows = db.prepare(`SELECT * FROM torrents WHERE status = 'active' ORDER BY hash`).all() as TorrentRow[];
  const tFiles = db.prepare(`SELECT name, size FROM torrent_files WHERE torrent_hash = ? ORDER BY idx`);
  const torrents: SnapshotTorrent[] = tRows.map((t) => ({
    hash: t.hash,
    name: t.name,
    category: t.category,
    tags: JSON.parse(t.tags) as string[],
    tracker: t.tracker,
    phase: t.phase as TorrentPhase,
    rawState: t.raw_state,
    running: t.running === 1,
    progress: t.progress,
    amountLeft: t.amount_left,
    size: t.size,
    autoTmm: t.auto_tmm === 1,
    addedOn: t.added_on,
    completionOn: t.completion_on,
    seedingTimeSec: t.seeding_time,
    clientSavePath: t.client_save_path,
    clientContentPath: t.client_content_path,
    clientDownloadPath: t.client_download_path,
    hostContentPath: t.host_content_path,
    unmappedReason: t.unmapped_reason,
    files: tFiles.all(t.hash) as { name: string; size: number }[],
    syncedAt: t.synced_at,
  }));

  // Relocations (migration 003; absent in older catalogs). source_fs / target_fs are config names.
  const relocations: SnapshotRelocation[] = [];
  if (tableExists(catalog, 'relocations')) {
    const idOf = (name: string): number => named.find((r) => r.name === name)?.id ?? -1;
    const rows = db.prepare(`SELECT * FROM relocations ORDER BY id`).all() as {
      id: number;
      payload_hash: string;
      source_fs: string;
      source_root: string;
      target_fs: string;
      target_root: string;
      torrent_hashes: string;
      repointed_at: number;
      retired_at: number | null;
    }[];
    for (const r of rows) {
      relocations.push({
        id: r.id,
        payloadHash: r.payload_hash,
        sourceFsId: idOf(r.source_fs),
        sourceRoot: r.source_root,
        targetFsId: idOf(r.target_fs),
        targetRoot: r.target_root,
        torrentHashes: JSON.parse(r.torrent_hashes) as string[],
        repointedAt: r.repointed_at,
        retiredAt: r.retired_at,
      });
    }
  }

  // Payload roots: every torrent's content path, every unretired relocation's source (and target).
  const wanted = new Map<string, FilesystemRow | null>();
  for (const t of tRows) if (t.host_content_path !== null) wanted.set(t.host_content_path, t.fs_id !== null ? (fsById.get(t.fs_id) ?? null) : null);
  for (const r of relocations) {
    if (r.retiredAt !== null) continue;
    for (const p of [r.sourceRoot, r.targetRoot]) if (!wanted.has(p)) wanted.set(p, fsFor(p));
  }
  // Per payload: its files, the other links of their inodes and the copies of their content, one query each.
  const reader = payloadBulkReader(catalog);
  const mountOf = (id: number): string => fsById.get(id)!.preferred_mount;
  // Inodes whose disk state differs from their catalog row (changed since the scan): never offered as donors.
  const stale = new Set<string>();
  const changed = (f: CatalogFile, r: ReturnType<typeof liveInode>): boolean =>
    'code' in r || r.ino !== f.ino || (r.size !== undefined && r.size !== f.size) || (r.mtimeNs !== undefined && r.mtimeNs !== f.mtimeNs);
  const live =
    opts.liveCheck === false
      ? undefined
      : (f: CatalogFile): ReturnType<typeof liveInode> => {
          const r = liveInode(f);
          if (changed(f, r)) stale.add(`${f.fsId}:${f.ino}`);
          return r;
        };
  const payloads: Record<string, SnapshotPayload> = {};
  // Every active copy of every payload file's content, on any filesystem.
  // (A Map while reading: lookups in a record of a million keys would re-intern the key string every time.)
  const copies = new Map<string, CatalogFile[]>();
  const known = (sha: string): boolean => copies.has(sha);
  // Payload files whose content has no other active copy (left out of copiesBySha256, see its contract).
  const solos: CatalogFile[] = [];
  for (const [rootPath, fs0] of [...wanted].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const fs = fs0 && isAtOrUnder(rootPath, fs0.preferred_mount) ? fs0 : fsFor(rootPath);
    if (!fs || !isAtOrUnder(rootPath, fs.preferred_mount)) continue;
    const rel = relToMount(rootPath, fs.preferred_mount);
    const bulk = reader.resolve(fs.id, fs.preferred_mount, rel);
    if (!bulk) continue;
    const files = bulk.files;
    const linksOf = (f: CatalogFile): readonly string[] => {
      const others = bulk.otherLinks.get(f.path);
      return others ? [f.path, ...others] : [f.path];
    };
    payloads[rootPath] = {
      rootPath,
      fsId: fs.id,
      kind: bulk.kind,
      payloadHash: payloadHash(files),
      files,
      seedingRoot: longestRootOf(rootPath, seedingRoots),
      consumers: consumerVerdict({ fsId: fs.id, files, linksOf, seedingRoots, libraries, live }),
    };
    const found = reader.copies(bulk, fs.id, rel, mountOf, known);
    if (live) {
      // Copies on other inodes than this payload's (whose files consumerVerdict just checked) are checked here.
      const own = new Set(files.map((f) => f.ino));
      for (const list of found.values()) for (const c of list) if (!(c.fsId === fs.id && own.has(c.ino))) live(c);
    }
    // Keys in payload-file order, as one lookup per file would insert them. A content whose only copy is the payload
    // file itself gets no key (the contract allows it; most payload files are such): nothing to look up, no memory.
    for (const f of files) {
      if (f.sha256 === null || known(f.sha256)) continue;
      const list = found.get(f.sha256) ?? [];
      if (list.length === 1 && list[0] === f) solos.push(f);
      else copies.set(f.sha256, list);
    }
  }
  const copiesBySha256: Record<string, CatalogFile[]> = {};
  for (const [sha, list] of copies) copiesBySha256[sha] = stale.size === 0 ? list : list.filter((c) => !stale.has(`${c.fsId}:${c.ino}`));
  // A sole copy that changed on disk is no donor: its key stays, empty, so the planner does not fall back to it.
  if (stale.size > 0) for (const f of solos) if (stale.has(`${f.fsId}:${f.ino}`)) copiesBySha256[f.sha256!] = [];

  const dupes = readDupes(catalog, config, named);
  const lastSyncAt = (db.prepare(`SELECT max(finished_at) AS t FROM sync_sessions`).get() as { t: number | null }).t;
  const snapshot: CatalogSnapshot = {
    lineage: catalog.lineage,
    serial: catalog.serial(),
    filesystems,
    roots,
    torrents,
    payloads,
    copiesBySha256,
    relocations,
    dupes,
    lastSyncAt,
  };
  snapshot.occupiedPaths = readOccupancy(catalog, config, snapshot, fsFor, ctx);
  return snapshot;
}

/** Same-filesystem duplicates (equal size and full SHA-256, different inodes) on the dedupe filesystems, size ≥ minSize. */
function readDupes(catalog: CatalogDb, config: HashallConfig, named: FilesystemRow[]): DupeGroup[] {
  const out: DupeGroup[] = [];
  const groups = catalog.db.prepare(
    `SELECT size, sha256 FROM files WHERE fs_id = ? AND status = 'active' AND sha256 IS NOT NULL AND size > 0 AND size >= ?
     GROUP BY size, sha256 HAVING count(DISTINCT ino) > 1 ORDER BY size, sha256`,
  );
  const members = catalog.db.prepare(`SELECT ino, nlink, mtime_ns, path FROM files WHERE fs_id = ? AND size = ? AND sha256 = ? AND status = 'active' ORDER BY ino, path`);
  for (const name of config.dedupe.filesystems) {
    const fs = named.find((r) => r.name === name);
    if (!fs) continue;
    for (const g of groups.all(fs.id, config.dedupe.minSize) as { size: number; sha256: string }[]) {
      const inodes = new Map<number, DupeGroup['inodes'][number]>();
      for (const m of members.all(fs.id, g.size, g.sha256) as { ino: number; nlink: number; mtime_ns: string; path: string }[]) {
        const e = inodes.get(m.ino) ?? { ino: m.ino, nlink: m.nlink, mtimeNs: m.mtime_ns, paths: [] };
        e.paths.push(toCatalogFile({ id: 0, fs_id: fs.id, path: m.path, ino: m.ino, size: g.size, mtime_ns: m.mtime_ns, nlink: m.nlink, sha256: g.sha256 }, fs.preferred_mount).path);
        inodes.set(m.ino, e);
      }
      out.push({ fsId: fs.id, size: g.size, sha256: g.sha256, inodes: [...inodes.values()] });
    }
  }
  return out;
}

/** The mount that holds `p` now: the longest mount point at or above it (the later entry when one is mounted over another). */
function mountHolding(mounts: HostPathContext['mounts'], p: string): HostPathContext['mounts'][number] | null {
  let best: HostPathContext['mounts'][number] | null = null;
  for (const m of mounts) if (isAtOrUnder(p, m.mountPoint) && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  return best;
}

/**
 * What lies at each path the planner may target. A candidate is answered only when a completed scan of a root
 * at or above it on its filesystem exists, and the mount holding it now is that filesystem (another filesystem
 * mounted inside the seeding root was never scanned); otherwise it is left out (unknown), and the planner blocks.
 */
function readOccupancy(
  catalog: CatalogDb,
  config: HashallConfig,
  snapshot: CatalogSnapshot,
  fsFor: (p: string) => FilesystemRow | null,
  ctx: HostPathContext,
): Record<string, CatalogFile[]> {
  const scanned = catalog.db.prepare(`SELECT path, fs_id FROM scan_roots WHERE last_completed_at IS NOT NULL`).all() as { path: string; fs_id: number }[];
  const reader = payloadReader(catalog);
  const out: Record<string, CatalogFile[]> = {};
  for (const cand of targetCandidates(config, snapshot)) {
    const fs = fsFor(cand);
    if (!fs || !isAtOrUnder(cand, fs.preferred_mount)) continue;
    if (!scanned.some((s) => s.fs_id === fs.id && isAtOrUnder(cand, s.path))) continue;
    if (mountHolding(ctx.mounts, cand)?.majorMinor !== fs.dev) continue;
    out[cand] = reader.atOrUnder(fs.id, fs.preferred_mount, relToMount(cand, fs.preferred_mount)).map(({ id: _id, ...f }) => f);
  }
  return out;
}
