// Incremental scanner entry: resolves the roots, scans each (root-scan.ts) under one scan session, and records the
// roots a completed scan covered. Hashes each inode once, writes in batches, never mass-deletes.
import { systemProbes } from '../../fs/filesystem-identity.js';
import { HashPool } from '../../fs/hash.js';
import { readMountInfo } from '../../fs/mountinfo.js';
import { withWalCheckpointEvery, type CatalogDb } from '../db.js';
import { configuredIdentities, pruneStaleFilesystems } from '../stale-filesystems.js';
import { resolveRoots, rootSummary, type ResolvedRoot } from './resolve-roots.js';
import { scanOneRoot } from './root-scan.js';
import { finishSession, markRootsScanned, openSession } from './session.js';
import type { ScanOptions, ScanRootSpec, ScanSummary } from './types.js';

/** WAL pages between automatic checkpoints while a scan writes (64 MiB of 4 KiB pages; SQLite's default is 1,000). */
const SCAN_WAL_PAGES = 16_384;

/** Scan `roots` into the catalog. Throws CatalogError (session marked failed) when a guard refuses; never mass-deletes. */
export async function scanRoots(catalog: CatalogDb, roots: ScanRootSpec[], opts: ScanOptions): Promise<ScanSummary> {
  return withWalCheckpointEvery(catalog.db, SCAN_WAL_PAGES, () => scanAll(catalog, roots, opts));
}

async function scanAll(catalog: CatalogDb, roots: ScanRootSpec[], opts: ScanOptions): Promise<ScanSummary> {
  const started = opts.now();
  const mounts = readMountInfo(opts.mountInfoFile);
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
    durationMs: 0,
    serial: catalog.serial(),
  };
  const pool = new HashPool({ workers: opts.hashWorkers ?? 2 });
  try {
    const resolved = resolveRoots(catalog, roots, mounts, probes, opts);
    // Active rows under each root a walk completed, as its deletion pass counted them (not counted again).
    const activeUnder = new Map<ResolvedRoot, number>();
    pruneStaleFilesystems(catalog, new Set([...configuredIdentities(opts.filesystems, mounts, probes), ...resolved.map((r) => r.fs.uuid)]));
    for (const r of resolved) {
      if (opts.signal?.aborted) break;
      if (r.coveredBy) {
        summary.roots.push(rootSummary(r, 0, 0));
        continue;
      }
      const active = await scanOneRoot({ catalog, all: resolved, mounts, pool, opts, summary }, r);
      if (active !== null) activeUnder.set(r, active);
    }
    if (opts.signal?.aborted) summary.status = 'interrupted';
    finishSession(catalog, sessionId, summary, opts.now(), null);
    if (summary.status === 'completed') markRootsScanned(catalog, resolved, sessionId, opts.now(), activeUnder);
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
 * A scan's first phase alone: record the filesystems holding `roots` (identity, device, mounts, root birth time) with
 * every guard of a scan, without walking them. For callers that need the catalog to know a filesystem before any of
 * its files (the apply test worlds).
 */
export function recordRootFilesystems(catalog: CatalogDb, roots: ScanRootSpec[], opts: Pick<ScanOptions, 'filesystems' | 'now' | 'probes' | 'mountInfoFile'>): void {
  resolveRoots(catalog, roots, readMountInfo(opts.mountInfoFile), opts.probes ?? systemProbes(), opts);
}
