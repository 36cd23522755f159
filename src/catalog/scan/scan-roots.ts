// Incremental scanner entry: resolves the roots, scans each (root-scan.ts) under one scan session, and records the
// roots a completed scan covered. Hashes each inode once, writes in batches, never mass-deletes.
import { systemProbes } from '../../fs/filesystem-identity.js';
import { HashPool } from '../../fs/hash.js';
import { readMountInfo, type MountEntry } from '../../fs/mountinfo.js';
import { aliasesFromConfig, canonicalize } from '../../fs/canonical-path.js';
import type { FindProcess } from '../../fs/find-walk.js';
import { startWalk } from '../../fs/walk.js';
import { pageCacheRaiser, withWalCheckpointEvery, type CatalogDb } from '../db.js';
import { configuredIdentities, pruneStaleFilesystems } from '../stale-filesystems.js';
import { configuredMounts, resolveRoots, rootSummary, walkSpelling, type ResolvedRoot } from './resolve-roots.js';
import { scanOneRoot, walkMountPoints, type HeldFile } from './root-scan.js';
import { SizeGate, type SizeRows } from './size-gate.js';
import { hashMissing } from '../hash-missing.js';
import { pruneDeletedRows, unhashedCount } from '../files-table.js';
import { finishSession, markRootsScanned, openSession } from './session.js';
import { underScanJit } from './jit-scope.js';
import type { ScanOptions, ScanRootSpec, ScanSummary } from './types.js';

/** WAL pages between automatic checkpoints while a scan writes (64 MiB of 4 KiB pages; SQLite's default is 1,000). */
const SCAN_WAL_PAGES = 16_384;
/** Page cache (KiB) of the catalog connection once the scan writes rows (see pageCacheRaiser): a no-change rescan keeps the default. */
const SCAN_WRITE_CACHE_KIB = 32 * 1024;

/** Scan `roots` into the catalog. Throws CatalogError (session marked failed) when a guard refuses; never mass-deletes. */
export async function scanRoots(catalog: CatalogDb, roots: ScanRootSpec[], opts: ScanOptions): Promise<ScanSummary> {
  return underScanJit(() =>
    withWalCheckpointEvery(catalog.db, SCAN_WAL_PAGES, async () => {
      const started = opts.now();
      const mounts = readMountInfo(opts.mountInfoFile);
      // The first root's stat walk starts before anything is recorded: find lists on the other core while the session
      // and the roots are recorded and the walk's statements prepared. That root's walk takes it (same directory and
      // mount points), else it is stopped; the guards still decide whether the root is walked at all.
      const early = startFirstWalk(roots[0], mounts, opts);
      const cache = pageCacheRaiser(catalog.db, SCAN_WRITE_CACHE_KIB);
      try {
        return await scanAll(catalog, roots, opts, started, mounts, early, cache.raise);
      } finally {
        cache.restore();
        await early?.stop();
      }
    }),
  );
}

async function scanAll(catalog: CatalogDb, roots: ScanRootSpec[], opts: ScanOptions, started: number, mounts: MountEntry[], early: FindProcess | null, writing: () => void): Promise<ScanSummary> {
  let unused = early;
  const probes = opts.probes ?? systemProbes();
  const sessionId = openSession(catalog, started, opts.drift, roots);
  const summary: ScanSummary = {
    sessionId,
    status: 'completed',
    drift: opts.drift,
    roots: [],
    filesSeen: 0,
    added: 0,
    changed: 0,
    unchanged: 0,
    deleted: 0,
    symlinks: 0,
    special: 0,
    skippedMounts: [],
    problems: [],
    bytesSeen: 0,
    bytesHashed: 0,
    filesHashed: 0,
    unhashed: 0,
    hashedLater: 0,
    durationMs: 0,
    serial: catalog.serial(),
  };
  const pool = new HashPool({ workers: opts.hashWorkers ?? 2 });
  // A first scan (the catalog holds no file yet) reads what it finds: its hashing threads boot (~30–50 ms of a thread
  // each) while the roots are resolved and the walk starts, rather than when the walk hands over its first file.
  if (catalog.db.prepare(`SELECT 1 FROM files LIMIT 1`).get() === undefined) pool.warm();
  const sizeFirst = opts.hash === 'shared-sizes' && !opts.quickOnly && opts.drift !== 'full';
  // Other connections' commits since the gate loaded the catalog's sizes (PRAGMA data_version moves only for those).
  const dataVersion = (): number => catalog.db.pragma('data_version', { simple: true }) as number;
  let loadedAt: number | null = null;
  const sizes = new SizeGate<HeldFile>(
    sizeFirst
      ? () => {
          loadedAt = dataVersion();
          return catalog.db.prepare(`SELECT size, fs_id, ino FROM files WHERE status = 'active'`).raw(true).iterate() as SizeRows;
        }
      : null,
    opts.maxHeld,
  );
  try {
    const resolved = resolveRoots(catalog, roots, mounts, probes, opts);
    // A walk started for a root that is not walked (covered by another root, or resolved elsewhere) ends now.
    if (unused !== null && !resolved.some((r) => r.coveredBy === null && r.walkPath === unused?.root)) {
      await unused.stop();
      unused = null;
    }
    // Active rows under each root a walk completed, as its deletion pass counted them (not counted again).
    const activeUnder = new Map<ResolvedRoot, number>();
    pruneStaleFilesystems(catalog, new Set([...configuredIdentities(opts.filesystems, mounts, probes), ...resolved.map((r) => r.fs.uuid)]));
    // The event loop reads what the early walk's find wrote meanwhile (its socket holds ~100 KB; then it would wait).
    if (unused !== null) await new Promise<void>((resolve) => setImmediate(resolve));
    for (const r of resolved) {
      if (opts.signal?.aborted) break;
      if (r.coveredBy) {
        summary.roots.push(rootSummary(r, 0, 0));
        continue;
      }
      const walk = unused !== null && unused.root === r.walkPath ? unused : undefined;
      if (walk) unused = null;
      const active = await scanOneRoot({ catalog, all: resolved, mounts, pool, opts, summary, sizes, writing }, r, walk);
      if (active !== null) activeUnder.set(r, active);
    }
    if (!opts.signal?.aborted) await hashNowShared(catalog, sizes, pool, opts, summary, loadedAt !== null && loadedAt === dataVersion());
    // Nothing is read from here on: the threads end (~15–50 ms) while the session and the roots are recorded.
    void pool.close();
    summary.unhashed = unhashedCount(catalog.db);
    if (opts.signal?.aborted) summary.status = 'interrupted';
    finishSession(catalog, sessionId, summary, opts.now(), null);
    if (summary.status === 'completed') {
      markRootsScanned(catalog, resolved, sessionId, opts.now(), activeUnder);
      pruneDeletedRows(catalog.db, opts.now());
    }
  } catch (err) {
    finishSession(catalog, sessionId, summary, opts.now(), err as Error);
    throw err;
  } finally {
    await pool.close();
  }
  summary.durationMs = opts.now() - started;
  summary.serial = catalog.serial();
  return summary;
}

/**
 * The stat walk of `root`'s directory by the spelling resolveRoots will walk it by (walkSpelling), started now (see
 * startWalk); null for a Node walk or a root that does not resolve to a directory.
 */
function startFirstWalk(root: ScanRootSpec | undefined, mounts: MountEntry[], opts: ScanOptions): FindProcess | null {
  if (root === undefined || opts.findProgram === null || opts.signal?.aborted) return null;
  let walkPath: string | null;
  try {
    const loc = canonicalize(root.path, { mounts, aliases: aliasesFromConfig(opts.filesystems), preferredPaths: configuredMounts(opts.filesystems, mounts).preferredPaths });
    if (loc === null) return null;
    walkPath = walkSpelling(loc);
  } catch {
    return null; // resolveRoots reports it
  }
  if (walkPath === null) return null;
  return startWalk(walkPath, { mountPoints: walkMountPoints(mounts, walkPath), ...(opts.findProgram !== undefined ? { find: opts.findProgram } : {}) });
}

/**
 * After the walk: every catalogued file without a full hash whose size another inode now has — in any root, on any
 * filesystem — is read, so two files of one size are never left one hashed and one unknown (a duplicate, a reuse
 * donor, a copy would go unseen). Runs when the scan recorded a new or changed file (the only way a size becomes
 * shared); unhashed rows are found from the content index alone (sha256 IS NULL sorts first).
 *
 * `allKnown`: the gate loaded every active row's size and no other connection committed since (size-first), so each
 * unhashed row is one the gate knows — the rows of its shared sizes are all there is to read, looked up size by size
 * when those are fewer than the unhashed rows. Otherwise every unhashed row is judged, and a row of a size one other
 * inode alone has (recorded elsewhere meanwhile, or before a hash-all scan) gets that inode's unhashed rows read too.
 */
async function hashNowShared(catalog: CatalogDb, sizes: SizeGate<HeldFile>, pool: HashPool, opts: ScanOptions, summary: ScanSummary, allKnown: boolean): Promise<void> {
  if (!sizes.used) return;
  const ids: number[] = [];
  const shared = allKnown ? sizes.sharedSizes() : null;
  const nullKeys = catalog.db.prepare(`SELECT count(*) FROM files INDEXED BY files_sha WHERE sha256 IS NULL`).pluck();
  if (shared !== null && shared.length < (nullKeys.get() as number)) {
    // One statement for every size (their JSON array, ascending), not one per size: the same ids in the same order.
    const ofSizes = catalog.db.prepare(`SELECT id FROM files INDEXED BY files_sha WHERE sha256 IS NULL AND size IN (SELECT value FROM json_each(?)) AND status = 'active' ORDER BY size, id`).pluck();
    for (const id of ofSizes.iterate(JSON.stringify(shared)) as Iterable<number>) ids.push(id);
  } else {
    const unhashed = catalog.db.prepare(`SELECT id, size, fs_id, ino FROM files INDEXED BY files_sha WHERE sha256 IS NULL AND status = 'active'`).raw(true);
    const owners = new Map<number, number[]>();
    const nowShared = new Set<number>();
    for (const [id, size, fsId, ino] of unhashed.iterate() as Iterable<[number, number, number, number]>) {
      const standing = sizes.standing(size, fsId, ino);
      if (standing === 'shared') ids.push(id);
      else if (standing === 'other') {
        ids.push(id);
        nowShared.add(size);
      } else if (standing === 'owner') {
        const list = owners.get(size);
        if (list === undefined) owners.set(size, [id]);
        else list.push(id);
      }
    }
    for (const size of nowShared) ids.push(...(owners.get(size) ?? []));
  }
  if (ids.length === 0) return;
  const res = await hashMissing(catalog, { fileIds: ids }, { now: opts.now, pool, ...(opts.signal ? { signal: opts.signal } : {}) });
  summary.bytesHashed += res.bytesHashed;
  summary.filesHashed += res.hashed.length;
  summary.hashedLater += res.hashed.length;
  const reported = new Set(summary.problems.map((p) => p.path));
  for (const f of res.failed) if (!reported.has(f.path)) summary.problems.push({ path: f.path, code: f.code, message: f.message });
}

/**
 * A scan's first phase alone: record the filesystems holding `roots` (identity, device, mounts, root birth time) with
 * every guard of a scan, without walking them. For callers that need the catalog to know a filesystem before any of
 * its files (the apply test worlds).
 */
export function recordRootFilesystems(catalog: CatalogDb, roots: ScanRootSpec[], opts: Pick<ScanOptions, 'filesystems' | 'now' | 'probes' | 'mountInfoFile'>): void {
  resolveRoots(catalog, roots, readMountInfo(opts.mountInfoFile), opts.probes ?? systemProbes(), opts);
}
