// Incremental scanner: walks roots, hashes each inode once, writes the catalog in batches, detects deletions safely.
import { lstatSync } from 'node:fs';
import type { FilesystemConfig } from '../config/types.js';
import { CatalogError, errnoCode } from '../errors.js';
import { aliasesFromConfig, canonicalize, choosePreferredMount, type CanonicalLocation } from '../fs/canonical-path.js';
import { isAtOrUnder } from '../domain/path-string.js';
import { identifyFilesystem, rootBirthAt, systemProbes, type FilesystemIdentity, type IdentityProbes } from '../fs/filesystem-identity.js';
import { HashPool, QUICK_BLOCK, type HashResult } from '../fs/hash.js';
import { devToMajorMinor, readMountInfo, type MountEntry } from '../fs/mountinfo.js';
import { spaceOf } from '../fs/statfs.js';
import { walkTree, type WalkFile } from '../fs/walk.js';
import type { CatalogDb } from './db.js';
import type { Statement } from 'better-sqlite3';
import { prefixRange, recordFilesystem, type FilesystemRow } from './filesystems.js';
import { integrityStore, openProblemInodes } from './integrity.js';
import { configuredIdentities, pruneStaleFilesystems, refuseShadow } from './stale-filesystems.js';

export type DriftPolicy = 'metadata' | 'quick' | 'full';

export interface ScanRootSpec {
  path: string;
  kind: 'seeding' | 'library' | 'adhoc';
}

export interface ScanProgress {
  root: string;
  filesSeen: number;
  bytesSeen: number;
  filesHashed: number;
  bytesHashed: number;
  /** Bytes queued for hashing so far (grows while walking). */
  bytesToHash: number;
  walking: boolean;
}

export interface ScanOptions {
  /** `metadata`: same inode+size+mtime keeps hashes; `quick`: re-check the quick hash; `full`: re-hash everything. */
  drift: DriftPolicy;
  /** Defer full SHA-256 of new/changed files (quick hash only). */
  quickOnly?: boolean;
  /** Config filesystems: names, preferred spellings and aliases. */
  filesystems: Record<string, FilesystemConfig>;
  /** Called after every walked batch (a few hundred entries); throttle display in the caller. */
  progress?: (p: ScanProgress) => void;
  signal?: AbortSignal;
  now: () => number;
  hashWorkers?: number;
  /**
   * Every root must be on the filesystem the catalog already knows under this config name (identity, device, root birth
   * time), else the scan is refused before anything is recorded (apply's bookkeeping after a group).
   */
  expectFilesystem?: string;
  /** Injection points for tests. */
  probes?: IdentityProbes;
  mountInfoFile?: string;
}

export interface ScanProblem {
  path: string;
  code: string;
  message: string;
}

export interface ScanRootSummary {
  input: string;
  path: string;
  kind: ScanRootSpec['kind'];
  filesystem: { id: number; uuid: string; name: string | null };
  /** Canonical path of the root that already covers this one, if any. */
  coveredBy: string | null;
  files: number;
  deleted: number;
}

export interface ScanSummary {
  sessionId: number;
  status: 'completed' | 'interrupted';
  drift: DriftPolicy;
  roots: ScanRootSummary[];
  filesSeen: number;
  added: number;
  changed: number;
  unchanged: number;
  deleted: number;
  symlinks: number;
  special: number;
  /** Directories not entered because they are other mounts/filesystems (canonical paths). */
  skippedMounts: string[];
  problems: ScanProblem[];
  bytesSeen: number;
  bytesHashed: number;
  filesHashed: number;
  durationMs: number;
  serial: number;
}

interface FileRow {
  id: number;
  ino: number;
  size: number;
  mtime_ns: string;
  nlink: number;
  quick_hash: string | null;
  sha256: string | null;
  hashed_at: number | null;
  status: 'active' | 'deleted';
}

/** What the per-directory lookup keeps of a row: its metadata and whether its hashes are known (read on demand). */
interface RowMeta {
  id: number;
  ino: number;
  size: number;
  mtime_ns: string;
  nlink: number;
  status: 'active' | 'deleted';
  hasQuick: boolean;
  hasSha: boolean;
}

interface WriteOp {
  path: string;
  f: WalkFile;
  quick: string | null;
  sha: string | null;
  hashedAt: number | null;
  /** Same inode, size and mtime, other bytes: recorded as corrupted; the row keeps its recorded hashes. */
  corrupted?: { expected: string | null; found: string | null; detail: string };
  /** The row's previous inode had an open integrity problem and the file was edited or replaced since: it ends. */
  endsProblemOf?: number;
}

const BATCH = 1000;
/** Rows per page when reading the catalog side of a directory or a root. */
const PAGE = 1000;
const MAX_IN_FLIGHT = 512;

interface ResolvedRoot {
  spec: ScanRootSpec;
  loc: CanonicalLocation;
  fs: FilesystemRow;
  coveredBy: string | null;
  /** The root is one regular file (ad-hoc refresh of a one-file payload): never recorded as a scanned root. */
  single: boolean;
}

/** Scan `roots` into the catalog. Throws CatalogError (session marked failed) when a guard refuses; never mass-deletes. */
export async function scanRoots(catalog: CatalogDb, roots: ScanRootSpec[], opts: ScanOptions): Promise<ScanSummary> {
  const db = catalog.db;
  const started = opts.now();
  const mounts = readMountInfo(opts.mountInfoFile);
  const probes = opts.probes ?? systemProbes();
  const sessionId = Number(
    db
      .prepare(`INSERT INTO scan_sessions (started_at, status, drift, roots) VALUES (?, 'running', ?, ?)`)
      .run(started, opts.drift, JSON.stringify(roots.map((r) => r.path))).lastInsertRowid,
  );
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
    pruneStaleFilesystems(catalog, new Set([...configuredIdentities(opts.filesystems, mounts, probes), ...resolved.map((r) => r.fs.uuid)]));
    for (const r of resolved) {
      if (opts.signal?.aborted) break;
      if (r.coveredBy) {
        summary.roots.push(rootSummary(r, 0, 0));
        continue;
      }
      await scanOneRoot(catalog, r, resolved, mounts, pool, opts, summary);
    }
    if (opts.signal?.aborted) summary.status = 'interrupted';
    finishSession(catalog, sessionId, summary, opts.now(), null);
    if (summary.status === 'completed') markRootsScanned(catalog, resolved, sessionId, opts.now());
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

function rootSummary(r: ResolvedRoot, files: number, deleted: number): ScanRootSummary {
  return {
    input: r.spec.path,
    path: r.loc.path,
    kind: r.spec.kind,
    filesystem: { id: r.fs.id, uuid: r.fs.uuid, name: r.fs.name },
    coveredBy: r.coveredBy,
    files,
    deleted,
  };
}

function finishSession(catalog: CatalogDb, id: number, s: ScanSummary, now: number, err: Error | null): void {
  const status = err ? 'failed' : s.status;
  catalog.db
    .prepare(
      `UPDATE scan_sessions SET finished_at = ?, status = ?, files_seen = ?, added = ?, changed = ?, unchanged = ?, deleted = ?,
       symlinks = ?, problems = ?, bytes_seen = ?, bytes_hashed = ?, files_hashed = ?, error = ? WHERE id = ?`,
    )
    .run(now, status, s.filesSeen, s.added, s.changed, s.unchanged, s.deleted, s.symlinks, s.problems.length, s.bytesSeen, s.bytesHashed, s.filesHashed, err ? err.message : null, id);
  const ins = catalog.db.prepare(`INSERT INTO scan_problems (session_id, path, code, message) VALUES (?, ?, ?, ?)`);
  catalog.db.transaction(() => {
    for (const p of s.problems) ins.run(id, p.path, p.code, p.message);
  })();
}

function markRootsScanned(catalog: CatalogDb, resolved: ResolvedRoot[], sessionId: number, now: number): void {
  const count = catalog.db.prepare(`SELECT count(*) AS n FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ?`);
  const countAll = catalog.db.prepare(`SELECT count(*) AS n FROM files WHERE fs_id = ? AND status = 'active'`);
  const upsert = catalog.db.prepare(
    `INSERT INTO scan_roots (path, fs_id, rel_path, kind, last_session_id, last_completed_at, file_count) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (path) DO UPDATE SET fs_id = excluded.fs_id, rel_path = excluded.rel_path, kind = excluded.kind,
       last_session_id = excluded.last_session_id, last_completed_at = excluded.last_completed_at, file_count = excluded.file_count`,
  );
  catalog.db.transaction(() => {
    for (const r of resolved) {
      if (r.single) continue;
      const range = prefixRange(r.loc.rel);
      const n = range ? (count.get(r.fs.id, range.lo, range.hi) as { n: number }).n : (countAll.get(r.fs.id) as { n: number }).n;
      upsert.run(r.loc.path, r.fs.id, r.loc.rel, r.spec.kind, sessionId, now, n);
    }
  })();
}

/**
 * Refuses (before anything is recorded) a root that is not on the filesystem the catalog knows as `name`: same stable
 * identity, device and root birth time. Apply's bookkeeping scans with this, so it can never register another
 * filesystem — the disk below an unmounted pool, a tmpfs mounted in its place — under the configured name.
 */
function expectKnown(catalog: CatalogDb, name: string, root: string, ident: FilesystemIdentity, rootBirth: string | null, mountPoint: string): void {
  const known = catalog.db.prepare(`SELECT * FROM filesystems WHERE name = ?`).all(name) as FilesystemRow[];
  if (known.some((r) => r.uuid === ident.uuid && r.dev === ident.dev && r.root_birth === rootBirth)) return;
  const was = known.map((r) => `${r.uuid} at ${r.preferred_mount}, device ${r.dev}`).join('; ') || 'nothing yet';
  throw new CatalogError(`${root} is on ${ident.uuid} (device ${ident.dev}, mounted at ${mountPoint}), not on filesystem ${name} as the catalog knows it (${was}); nothing was recorded`, {
    hint: `is ${name} mounted? mount it and run \`hashall scan\``,
  });
}

/**
 * A scan's first phase alone: record the filesystems holding `roots` (identity, device, mounts, root birth time) with
 * every guard of a scan, without walking them. For callers that need the catalog to know a filesystem before any of
 * its files (the apply test worlds).
 */
export function recordRootFilesystems(catalog: CatalogDb, roots: ScanRootSpec[], opts: Pick<ScanOptions, 'filesystems' | 'now' | 'probes' | 'mountInfoFile'>): void {
  resolveRoots(catalog, roots, readMountInfo(opts.mountInfoFile), opts.probes ?? systemProbes(), { ...opts, drift: 'metadata' });
}

/** Canonicalize every root, record its filesystem, apply the guards, and mark roots covered by another root. */
function resolveRoots(catalog: CatalogDb, roots: ScanRootSpec[], mounts: MountEntry[], probes: IdentityProbes, opts: ScanOptions): ResolvedRoot[] {
  const aliases = aliasesFromConfig(opts.filesystems);
  const preferredPaths: string[] = [];
  const nameByDev = new Map<string, string>();
  for (const fs of Object.values(opts.filesystems)) {
    try {
      const loc = canonicalize(fs.path, { mounts, aliases: [], preferredPaths: [] });
      if (!loc) continue;
      preferredPaths.push(loc.realPath);
      if (!nameByDev.has(loc.mount.majorMinor)) nameByDev.set(loc.mount.majorMinor, fs.name);
    } catch {
      /* a configured filesystem path that does not exist cannot name anything */
    }
  }
  const out: ResolvedRoot[] = [];
  const now = opts.now();
  for (const spec of roots) {
    let loc: CanonicalLocation | null;
    try {
      loc = canonicalize(spec.path, { mounts, aliases, preferredPaths });
    } catch (err) {
      throw new CatalogError(`scan root ${spec.path} cannot be resolved: ${errnoCode(err) ?? (err as Error).message}`, {
        cause: err,
        hint: 'a missing root is never treated as empty; mount it, or remove it from hashall.yaml',
      });
    }
    if (!loc) throw new CatalogError(`scan root ${spec.path} is on no filesystem listed in /proc/self/mountinfo`);
    const st = lstatSync(loc.realPath, { bigint: true });
    // A one-file payload is refreshed by scanning that file (apply's catalog refresh): only ad-hoc roots may be files.
    const single = spec.kind === 'adhoc' && st.isFile();
    if (!st.isDirectory() && !single) throw new CatalogError(`scan root ${spec.path} is not a directory`, { hint: 'scan roots are directories (a single file only as an ad-hoc refresh)' });
    if (devToMajorMinor(st.dev) !== loc.mount.majorMinor) {
      throw new CatalogError(`scan root ${spec.path}: st_dev ${devToMajorMinor(st.dev)} disagrees with mountinfo (${loc.mount.majorMinor} at ${loc.mount.mountPoint})`);
    }
    const pref = choosePreferredMount(loc.mount.majorMinor, mounts, preferredPaths);
    if (pref && pref.mountId !== loc.preferred.mountId) {
      throw new CatalogError(`scan root ${spec.path} is not visible through ${pref.mountPoint}, the preferred mount of its filesystem`, {
        hint: 'configure a filesystem path on the same mount as the root, or scan through the preferred mount',
      });
    }
    const ident = identifyFilesystem(loc.mount, mounts, probes);
    const rootBirth = rootBirthAt(loc.preferred.mountPoint, loc.mount.majorMinor);
    // Checked before the filesystem is recorded: an unmounted filesystem must not leave the disk below it registered.
    const prev = catalog.db.prepare(`SELECT fs_id FROM scan_roots WHERE path = ?`).get(loc.path) as { fs_id: number } | undefined;
    const was = prev ? (catalog.db.prepare(`SELECT uuid, mount_point FROM filesystems WHERE id = ?`).get(prev.fs_id) as { uuid: string; mount_point: string } | undefined) : undefined;
    if (prev && was?.uuid !== ident.uuid) {
      throw new CatalogError(
        `scan root ${loc.path} is now on filesystem ${ident.uuid} (${loc.mount.mountPoint}) but was on ${was?.uuid ?? prev.fs_id} (${was?.mount_point ?? '?'}) at the last scan`,
        { hint: 'is a filesystem not mounted? mount it and scan again; nothing was marked deleted' },
      );
    }
    if (opts.expectFilesystem !== undefined) expectKnown(catalog, opts.expectFilesystem, spec.path, ident, rootBirth, loc.mount.mountPoint);
    const name = nameByDev.get(loc.mount.majorMinor) ?? null;
    if (name !== null) refuseShadow(catalog, name, ident.uuid, spec.path, loc.mount.mountPoint);
    let space: { freeBytes: number; totalBytes: number } | null = null;
    try {
      space = spaceOf(loc.realPath);
    } catch {
      space = null;
    }
    const rec = catalog.db.transaction(() => {
      const r = recordFilesystem(
        catalog,
        {
          uuid: ident.uuid,
          dev: ident.dev,
          fsType: ident.fsType,
          source: ident.source,
          mountPoint: loc.mount.mountPoint,
          preferredMount: loc.preferred.mountPoint,
          preferredRoot: loc.preferred.root,
          name,
          freeBytes: space?.freeBytes ?? null,
          totalBytes: space?.totalBytes ?? null,
          rootBirth,
        },
        now,
      );
      if (r.changed) catalog.bumpSerial();
      return r;
    })();
    if (rec.rootMoved) {
      throw new CatalogError(
        `filesystem ${ident.uuid} is now visible at ${loc.preferred.mountPoint} showing ${loc.preferred.root}, but the catalog recorded paths relative to ${rec.row.preferred_root}`,
        { hint: 'mount the whole filesystem again as before, or configure its path on that mount' },
      );
    }
    out.push({ spec, loc, fs: rec.row, coveredBy: null, single });
  }
  // Same directory twice (bind mount, alias) or nested on the same filesystem: scanned once, by the outermost root.
  for (const r of out) {
    for (const o of out) {
      if (o === r || o.coveredBy || o.fs.id !== r.fs.id) continue;
      if (isAtOrUnder(r.loc.path, o.loc.path) && (r.loc.path !== o.loc.path || out.indexOf(o) < out.indexOf(r))) {
        r.coveredBy = o.loc.path;
        break;
      }
    }
  }
  return out;
}

async function scanOneRoot(
  catalog: CatalogDb,
  r: ResolvedRoot,
  all: ResolvedRoot[],
  mounts: MountEntry[],
  pool: HashPool,
  opts: ScanOptions,
  summary: ScanSummary,
): Promise<void> {
  const db = catalog.db;
  const fsId = r.fs.id;
  const rootRel = r.loc.rel;
  const dirRows = directoryRowsReader(catalog, fsId);
  const getHashes = db.prepare(`SELECT quick_hash, sha256, hashed_at FROM files WHERE id = ?`);
  const withHashes = (m: RowMeta): FileRow => ({ ...m, ...(getHashes.get(m.id) as Pick<FileRow, 'quick_hash' | 'sha256' | 'hashed_at'>) });
  const getByInode = db.prepare(
    `SELECT quick_hash, sha256, hashed_at FROM files INDEXED BY files_fs_ino WHERE fs_id = ? AND ino = ? AND size = ? AND mtime_ns = ? AND status = 'active' AND quick_hash IS NOT NULL ORDER BY sha256 IS NULL LIMIT 1`,
  );
  const upsert = db.prepare(
    `INSERT INTO files (fs_id, path, ino, size, mtime_ns, nlink, quick_hash, sha256, hashed_at, status, first_seen, last_seen)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)
     ON CONFLICT (fs_id, path) DO UPDATE SET ino = excluded.ino, size = excluded.size, mtime_ns = excluded.mtime_ns, nlink = excluded.nlink,
       quick_hash = excluded.quick_hash, sha256 = excluded.sha256, hashed_at = excluded.hashed_at, status = 'active',
       first_seen = CASE WHEN files.status = 'deleted' THEN excluded.first_seen ELSE files.first_seen END, last_seen = excluded.last_seen`,
  );
  // Rows inserted by this scan get ids above this mark; rows at or below it that this scan saw on disk are in `seen`.
  const maxIdAtStart = (db.prepare(`SELECT coalesce(max(id), 0) AS m FROM files`).get() as { m: number }).m;
  const mountPoints = new Set(mounts.map((m) => m.mountPoint));
  mountPoints.delete(r.loc.realPath);
  const seen = new Set<number>();
  const protectedDirs: string[] = [];
  let writes: WriteOp[] = [];
  let rootFiles = 0;
  const now = opts.now();
  const fullOnNew = !opts.quickOnly;
  let bytesToHash = 0;
  const integrity = integrityStore(catalog);
  // Inodes with an open integrity problem: their recorded hashes are never replaced by what a scan reads.
  const troubled = openProblemInodes(catalog);

  const flush = (): void => {
    if (writes.length === 0) return;
    const batch = writes;
    writes = [];
    db.transaction(() => {
      const t = opts.now();
      for (const w of batch) {
        upsert.run(fsId, w.path, w.f.ino, w.f.size, String(w.f.mtimeNs), w.f.nlink, w.quick, w.sha, w.hashedAt, t, t);
        if (w.corrupted) {
          integrity.record(
            { fsId, ino: Number(w.f.ino), kind: 'corrupted', path: joinRel(r.loc.preferred.mountPoint, w.path), expected: w.corrupted.expected, found: w.corrupted.found, size: w.f.size, mtimeNs: String(w.f.mtimeNs), detail: w.corrupted.detail, source: 'scan' },
            t,
          );
        }
        if (w.endsProblemOf !== undefined) integrity.resolve(fsId, w.endsProblemOf, 'changed', t);
      }
      catalog.bumpSerial();
    })();
  };
  const report = (walking: boolean): void => {
    opts.progress?.({
      root: r.loc.path,
      filesSeen: summary.filesSeen,
      bytesSeen: summary.bytesSeen,
      filesHashed: summary.filesHashed,
      bytesHashed: summary.bytesHashed,
      bytesToHash,
      walking,
    });
  };

  let inFlight = 0;
  let wake: (() => void) | null = null;
  const settle = (): void => {
    inFlight--;
    if (writes.length >= BATCH) flush();
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  };
  const waitBelow = async (limit: number): Promise<void> => {
    while (inFlight > limit) await new Promise<void>((res) => (wake = res));
  };

  const inodeJobs = new Map<bigint, { full: boolean; p: Promise<HashResult> }>();
  const hashFile = (f: WalkFile, full: boolean): Promise<HashResult> => {
    const shared = f.nlink > 1 ? inodeJobs.get(f.ino) : undefined;
    if (shared && (shared.full || !full)) return shared.p;
    bytesToHash += full ? f.size : Math.min(f.size, 3 * QUICK_BLOCK);
    const p = pool.hash({ path: f.abs, quick: true, full, size: f.size, mtimeNs: f.mtimeNs }).then((res) => {
      summary.bytesHashed += res.bytesRead;
      if (!res.error && !res.changed) summary.filesHashed++;
      return res;
    });
    if (f.nlink > 1) inodeJobs.set(f.ino, { full, p });
    return p;
  };

  const processFile = (f: WalkFile, relPath: string): void => {
    summary.filesSeen++;
    summary.bytesSeen += f.size;
    rootFiles++;
    const found = dirRows(relPath);
    const meta = found && found.status === 'active' ? found : undefined;
    if (found) seen.add(found.id);
    const same = meta !== undefined && BigInt(meta.ino) === f.ino && meta.size === f.size && meta.mtime_ns === String(f.mtimeNs);

    if (same) {
      const needFull = opts.drift === 'full' || (fullOnNew && !meta.hasSha);
      if (opts.drift === 'metadata' && meta.hasQuick && !needFull) {
        summary.unchanged++;
        if (meta.nlink !== f.nlink) {
          const known = withHashes(meta);
          writes.push({ path: relPath, f, quick: known.quick_hash, sha: known.sha256, hashedAt: known.hashed_at });
        }
        return;
      }
      const row = withHashes(meta);
      inFlight++;
      void (async () => {
        let res = await hashFile(f, needFull);
        if (res.error || res.changed) return recordProblem(relPath, f, res, row);
        let changed = false;
        if (opts.drift === 'quick' && row.quick_hash !== null && res.quickHash !== row.quick_hash) {
          // The quick hash moved: escalate to a full hash (unless full hashes are deferred).
          changed = true;
          if (!res.sha256 && fullOnNew) {
            res = await hashFile(f, true);
            if (res.error || res.changed) return recordProblem(relPath, f, res, undefined);
          }
        }
        if (opts.drift === 'full' && row.sha256 !== null && res.sha256 !== row.sha256) changed = true;
        if (changed || troubled.has(`${fsId}:${meta.ino}`)) {
          // Same inode, size and mtime but other bytes: not an edit (an edit moves the mtime) — bit rot, a bad disk.
          // Never absorbed: the row keeps its recorded hashes and the inode becomes (or stays) an integrity problem.
          summary.unchanged++;
          if (changed) {
            summary.problems.push({ path: joinRel(r.loc.preferred.mountPoint, relPath), code: 'ECORRUPT', message: 'same size and mtime as recorded but different content: recorded hash kept (see `hashall verify`)' });
          }
          writes.push({
            path: relPath,
            f,
            quick: row.quick_hash,
            sha: row.sha256,
            hashedAt: row.hashed_at,
            ...(changed ? { corrupted: { expected: row.sha256, found: res.sha256 ?? null, detail: `found by a scan with --drift ${opts.drift}` } } : {}),
          });
          return;
        }
        summary.unchanged++;
        const sha = res.sha256 ?? row.sha256;
        writes.push({ path: relPath, f, quick: res.quickHash ?? null, sha, hashedAt: res.sha256 ? now : row.hashed_at });
      })().finally(settle);
      return;
    }

    const row = meta;
    const kind: 'added' | 'changed' = row ? 'changed' : 'added';
    // An edit (or a replacement) ends the integrity problem of the inode the row had.
    const ends = row && troubled.has(`${fsId}:${row.ino}`) ? { endsProblemOf: row.ino } : {};
    // New or changed: share the hashes of a known hardlink with identical metadata (unless drift is full).
    if (f.nlink > 1 && opts.drift !== 'full' && !inodeJobs.has(f.ino)) {
      const known = getByInode.get(fsId, f.ino, f.size, String(f.mtimeNs)) as { quick_hash: string; sha256: string | null; hashed_at: number | null } | undefined;
      if (known && (known.sha256 !== null || !fullOnNew)) {
        summary[kind]++;
        writes.push({ path: relPath, f, quick: known.quick_hash, sha: known.sha256, hashedAt: known.hashed_at, ...ends });
        return;
      }
    }
    inFlight++;
    void hashFile(f, fullOnNew)
      .then((res) => {
        if (res.error || res.changed) return recordProblem(relPath, f, res, row);
        summary[kind]++;
        writes.push({ path: relPath, f, quick: res.quickHash ?? null, sha: res.sha256 ?? null, hashedAt: res.sha256 ? now : null, ...ends });
      })
      .finally(settle);
  };

  const recordProblem = (relPath: string, f: WalkFile, res: HashResult, row: Pick<RowMeta, 'ino' | 'size' | 'mtime_ns'> | undefined): void => {
    const abs = joinRel(r.loc.preferred.mountPoint, relPath);
    summary.problems.push({
      path: abs,
      code: res.changed ? 'ECHANGED' : (res.error?.code ?? 'EIO'),
      message: res.changed ? 'file changed while it was being read; hashes not recorded' : (res.error?.message ?? 'unreadable'),
    });
    // The file exists: record its metadata without hashes (unknown content), never as deleted.
    if (!row || row.ino !== Number(f.ino) || row.size !== f.size || row.mtime_ns !== String(f.mtimeNs)) {
      writes.push({ path: relPath, f, quick: null, sha: null, hashedAt: null });
    }
  };

  report(true);
  try {
    for await (const batch of walkTree(r.loc.realPath, { mountPoints, signal: opts.signal })) {
      for (const ev of batch) {
        const relPath = rootRel === '' ? ev.rel : ev.rel === '' ? rootRel : rootRel + '/' + ev.rel;
        switch (ev.kind) {
          case 'file':
            processFile(ev, relPath);
            break;
          case 'symlink':
            summary.symlinks++;
            break;
          case 'special':
            summary.special++;
            break;
          case 'mount': {
            const canon = joinRel(r.loc.preferred.mountPoint, relPath);
            // A configured root inside is scanned on its own; anything else is reported and left alone.
            if (!all.some((o) => o.loc.realPath === ev.abs || o.loc.path === canon)) summary.skippedMounts.push(canon);
            protectedDirs.push(relPath);
            break;
          }
          case 'problem':
            summary.problems.push({ path: joinRel(r.loc.preferred.mountPoint, relPath), code: ev.code, message: ev.message });
            protectedDirs.push(relPath);
            break;
        }
      }
      if (writes.length >= BATCH) flush();
      await waitBelow(MAX_IN_FLIGHT);
      report(true);
    }
  } catch (err) {
    await waitBelow(0);
    flush();
    throw new CatalogError(`cannot read scan root ${r.loc.path}: ${errnoCode(err) ?? (err as Error).message}`, { cause: err });
  }
  while (inFlight > 0) {
    await waitBelow(0);
  }
  flush();
  report(false);
  if (opts.signal?.aborted) return;

  // Deletions: active rows under this root that were not seen, outside unreadable dirs and skipped mounts.
  // Read in pages of the (fs_id, path) index so memory stays bounded however large the root is.
  // Streams ids only (the index holds them): paths are read just for the few rows that were not seen.
  const range = prefixRange(rootRel);
  const ids = (
    range
      ? db.prepare(`SELECT id FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ?`).pluck().iterate(fsId, range.lo, range.hi)
      : db.prepare(`SELECT id FROM files WHERE fs_id = ? AND status = 'active'`).pluck().iterate(fsId)
  ) as IterableIterator<number>;
  const unseen: number[] = [];
  let known = 0;
  for (const id of ids) {
    known++;
    if (id <= maxIdAtStart && !seen.has(id)) unseen.push(id);
  }
  const pathOf = db.prepare(`SELECT path FROM files WHERE id = ?`).pluck();
  const gone = unseen.filter((id) => {
    const p = pathOf.get(id) as string;
    return !protectedDirs.some((d) => isAtOrUnder(p, d));
  });
  if (rootFiles === 0 && known > 0) {
    throw new CatalogError(`scan root ${r.loc.path} is empty but the catalog knows ${known} file(s) there`, {
      hint: 'is the filesystem mounted? nothing was marked deleted; if the files were really removed, delete the catalog rows with a scan of a non-empty parent',
    });
  }
  if (gone.length > 0) {
    const mark = db.prepare(`UPDATE files SET status = 'deleted' WHERE id = ?`);
    for (let i = 0; i < gone.length; i += BATCH) {
      const slice = gone.slice(i, i + BATCH);
      db.transaction(() => {
        for (const id of slice) mark.run(id);
        catalog.bumpSerial();
      })();
    }
  }
  summary.deleted += gone.length;
  summary.roots.push(rootSummary(r, rootFiles, gone.length));
}

/**
 * Columns of the per-directory lookup: path, id, ino, size, mtime_ns, nlink and flags (1 quick hash known, 2 full hash
 * known, 4 deleted). Every one is a key of the covering index files_fs_path_cover (migration 004) — the flags
 * expression verbatim — so the lookup never reads the table. Change both together.
 */
export const DIRECTORY_ROW_COLUMNS = `path, id, ino, size, mtime_ns, nlink, (quick_hash IS NOT NULL) + 2 * (sha256 IS NOT NULL) + 4 * (status = 'deleted')`;

/**
 * Catalog rows (any status) of the files directly inside one directory, looked up by path: one range query per
 * directory instead of one query per file. Returns a lookup by relative path; the directory's rows are loaded
 * when a path of another directory is asked for (the walk yields a directory's entries consecutively).
 * Rows of subdirectories are skipped with one index seek per subdirectory (`path >= 'dir/sub0'`), so a directory
 * costs its own rows plus one seek per catalogued subdirectory, never a scan of its whole subtree.
 */
function directoryRowsReader(catalog: CatalogDb, fsId: number): (relPath: string) => RowMeta | undefined {
  // Raw rows (arrays) are markedly cheaper than objects at hundreds of thousands of rows. Deleted rows are read too:
  // a path that comes back reactivates its row, which keeps its id, and the deletion pass must know it was seen.
  const cols = DIRECTORY_ROW_COLUMNS;
  const where = `fs_id = ?`;
  const prep = (cond: string): Statement => catalog.db.prepare(`SELECT ${cols} FROM files WHERE ${where} AND ${cond} ORDER BY path LIMIT ${PAGE}`).raw(true);
  const fromIncl = prep(`path >= ? AND path < ?`);
  const fromExcl = prep(`path > ? AND path < ?`);
  const topIncl = prep(`path >= ?`);
  const topExcl = prep(`path > ?`);
  type Raw = [path: string, id: number, ino: number, size: number, mtimeNs: string, nlink: number, flags: number];
  let current: string | null = null;
  let rows = new Map<string, Raw>();
  const load = (dir: string): void => {
    rows = new Map();
    const prefix = dir === '' ? '' : dir + '/';
    const hi = dir === '' ? null : dir + '0';
    let lo = prefix;
    let inclusive = true;
    for (;;) {
      const stmt = hi === null ? (inclusive ? topIncl : topExcl) : inclusive ? fromIncl : fromExcl;
      const page = (hi === null ? stmt.all(fsId, lo) : stmt.all(fsId, lo, hi)) as Raw[];
      let next: string | null = null;
      for (const row of page) {
        const slash = row[0].indexOf('/', prefix.length);
        if (slash >= 0) {
          // A row inside a subdirectory: seek past that subdirectory ('/' + 1 is '0').
          next = row[0].slice(0, slash) + '0';
          inclusive = true;
          break;
        }
        rows.set(row[0], row);
      }
      if (next === null) {
        if (page.length < PAGE) return;
        next = (page[page.length - 1] as Raw)[0];
        inclusive = false;
      }
      lo = next;
    }
  };
  return (relPath) => {
    const slash = relPath.lastIndexOf('/');
    const dir = slash < 0 ? '' : relPath.slice(0, slash);
    if (dir !== current) {
      load(dir);
      current = dir;
    }
    const r = rows.get(relPath);
    if (r === undefined) return undefined;
    return { id: r[1], ino: r[2], size: r[3], mtime_ns: r[4], nlink: r[5], status: (r[6] & 4) !== 0 ? 'deleted' : 'active', hasQuick: (r[6] & 1) !== 0, hasSha: (r[6] & 2) !== 0 };
  };
}

function joinRel(mountPoint: string, rel: string): string {
  if (rel === '') return mountPoint;
  return mountPoint === '/' ? '/' + rel : mountPoint + '/' + rel;
}

/** Canonical absolute path of a catalog row (preferred mount + relative path). */
export function absoluteCatalogPath(preferredMount: string, rel: string): string {
  return joinRel(preferredMount, rel);
}

