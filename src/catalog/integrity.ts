// Owner of the integrity_problems table and files.verified_at: corrupted or unreadable inodes, kept until resolved.
// Rules: a recorded SHA-256 is never replaced while a problem of its inode is open (a scan keeps the old hash); every
// change to the open set bumps the catalog serial, so a saved plan made before it is stale.
import type { CatalogDb } from './db.js';
import { filesystemIdNamed } from './filesystems.js';

export type IntegrityKind = 'corrupted' | 'unreadable';
export type IntegrityResolution = 'verified-ok' | 'changed' | 'missing' | 'repaired';

export interface IntegrityFinding {
  fsId: number;
  ino: number;
  kind: IntegrityKind;
  /** Canonical absolute path the inode was found through. */
  path: string;
  /** The recorded SHA-256 (kept) and what was read (null when unreadable). */
  expected: string | null;
  found: string | null;
  size: number;
  mtimeNs: string;
  detail: string | null;
  source: 'verify' | 'scan' | 'purge';
}

export interface IntegrityProblem extends IntegrityFinding {
  id: number;
  detectedAt: number;
}

/** integrity_problems columns as IntegrityProblem names them. */
const PROBLEM_COLS = `id, fs_id AS fsId, ino, kind, path, expected, found, size, mtime_ns AS mtimeNs, detail, source, detected_at AS detectedAt`;

/** The integrity statements (kept compiled by the connection: catalog.statement). Writes must run inside the caller's transaction. */
export function integrityStore(catalog: CatalogDb) {
  const findOpen = catalog.statement(`SELECT id FROM integrity_problems WHERE fs_id = ? AND ino = ? AND kind = ? AND resolved_at IS NULL`, 'pluck');
  const insert = catalog.statement(
    `INSERT INTO integrity_problems (fs_id, ino, kind, path, expected, found, size, mtime_ns, detail, source, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const refresh = catalog.statement(`UPDATE integrity_problems SET path = ?, found = ?, detail = ? WHERE id = ?`);
  const resolve = catalog.statement(`UPDATE integrity_problems SET resolved_at = ?, resolution = ? WHERE fs_id = ? AND ino = ? AND resolved_at IS NULL`);
  const openOfInode = catalog.statement(`SELECT count(*) FROM integrity_problems WHERE fs_id = ? AND ino = ? AND resolved_at IS NULL`, 'pluck');
  const verified = catalog.statement(`UPDATE files INDEXED BY files_fs_ino SET verified_at = ? WHERE fs_id = ? AND ino = ? AND size = ? AND mtime_ns = ? AND status = 'active'`);
  return {
    /** Record (or refresh) an open problem; true when it is new (the caller's transaction then bumps the serial). */
    record(f: IntegrityFinding, now: number): boolean {
      const id = findOpen.get(f.fsId, f.ino, f.kind) as number | undefined;
      if (id !== undefined) {
        refresh.run(f.path, f.found, f.detail, id);
        return false;
      }
      insert.run(f.fsId, f.ino, f.kind, f.path, f.expected, f.found, f.size, f.mtimeNs, f.detail, f.source, now);
      return true;
    },
    /** Close every open problem of an inode; true when one was open. */
    resolve(fsId: number, ino: number, resolution: IntegrityResolution, now: number): boolean {
      return resolve.run(now, resolution, fsId, ino).changes > 0;
    },
    hasOpen(fsId: number, ino: number): boolean {
      return (openOfInode.get(fsId, ino) as number) > 0;
    },
    /** Every active row of the inode (with this size and mtime) was just proven to hold its recorded bytes. */
    markVerified(fsId: number, ino: number, size: number, mtimeNs: string, now: number): void {
      verified.run(now, fsId, ino, size, mtimeNs);
    },
  };
}

export type IntegrityStore = ReturnType<typeof integrityStore>;

/** One file read again in full by hashall outside `hashall verify` (the trash purge reading a retire's kept copy). */
export interface FileReRead {
  /** The configured filesystem name, the path read (absolute) and the stamp the read was taken under. */
  fsName: string;
  path: string;
  ino: number;
  size: number;
  mtimeNs: string;
  /** The SHA-256 the file must hold (proven before) and the one read now: null when the read failed (the device or filesystem could not return its bytes, `detail` says how). */
  expected: string;
  found: string | null;
  detail?: string;
  source: 'purge';
}

/**
 * Record a re-read as `hashall verify` records one — only where the catalog agrees on what the file should hold: an
 * active row of its inode with this size, mtime and SHA-256 `expected` (else the catalog has nothing to say about it
 * and nothing is recorded: null). The same bytes stamp verified_at (closing a problem the inode had); other bytes are
 * an open `corrupted` problem, a failed read an open `unreadable` one (plans then block whatever would use it, doctor
 * lists it, `verify --repair` repairs it). Returns the catalogued path the verdict was recorded through.
 */
export function recordReRead(catalog: CatalogDb, f: FileReRead, now: number): string | null {
  const fsId = filesystemIdNamed(catalog.db, f.fsName);
  if (fsId === undefined) return null;
  const paths = catalog
    .statement(`SELECT abs_path FROM file_paths WHERE fs_id = ? AND ino = ? AND size = ? AND mtime_ns = ? AND sha256 = ? AND status = 'active' ORDER BY abs_path`, 'pluck')
    .all(fsId, f.ino, f.size, f.mtimeNs, f.expected) as string[];
  if (paths.length === 0) return null;
  const at = paths.includes(f.path) ? f.path : paths[0]!;
  const store = integrityStore(catalog);
  catalog.db.transaction(() => {
    if (f.found === f.expected) {
      store.markVerified(fsId, f.ino, f.size, f.mtimeNs, now);
      if (store.resolve(fsId, f.ino, 'verified-ok', now)) catalog.bumpSerial();
      return;
    }
    const kind: IntegrityKind = f.found === null ? 'unreadable' : 'corrupted';
    const finding: IntegrityFinding = { fsId, ino: f.ino, kind, path: at, expected: f.expected, found: f.found, size: f.size, mtimeNs: f.mtimeNs, detail: f.detail ?? null, source: f.source };
    if (store.record(finding, now)) catalog.bumpSerial();
  })();
  return at;
}

/** Open problems, oldest first. */
export function openIntegrityProblems(catalog: CatalogDb): IntegrityProblem[] {
  return catalog.statement(`SELECT ${PROBLEM_COLS} FROM integrity_problems WHERE resolved_at IS NULL ORDER BY detected_at, id`).all() as IntegrityProblem[];
}

/** (fs_id, ino) keys of inodes with an open problem, for scans that must not absorb their bytes. */
export function openProblemInodes(catalog: CatalogDb): Set<string> {
  const rows = catalog.statement(`SELECT fs_id, ino FROM integrity_problems WHERE resolved_at IS NULL`, 'raw').all() as [number, number][];
  return new Set(rows.map(([fs, ino]) => `${fs}:${ino}`));
}

/**
 * Canonical absolute paths of every active row whose inode has an open problem (all links of a bad inode are bad),
 * with the problem kind — what the planner needs to block groups that would copy, link or retire with them.
 */
export function openProblemPaths(catalog: CatalogDb): { path: string; kind: IntegrityKind }[] {
  return catalog.db
    .prepare(
      `SELECT DISTINCT f.abs_path AS path, p.kind AS kind FROM integrity_problems p
       JOIN file_paths f ON f.fs_id = p.fs_id AND f.ino = p.ino AND f.status = 'active'
       WHERE p.resolved_at IS NULL ORDER BY f.abs_path`,
    )
    .all() as { path: string; kind: IntegrityKind }[];
}

/** Verification coverage for `catalog stats`: hashed inodes, how many were verified since `since`, the oldest proof. */
export function verificationCoverage(catalog: CatalogDb, since: number): { inodes: number; verifiedSince: number; oldestProofAt: number | null; open: number } {
  const r = catalog.db
    .prepare(
      `SELECT count(*) AS inodes, sum(CASE WHEN last >= ? THEN 1 ELSE 0 END) AS recent, min(last) AS oldest FROM (
         SELECT max(coalesce(verified_at, hashed_at, 0)) AS last FROM files WHERE status = 'active' AND sha256 IS NOT NULL GROUP BY fs_id, ino)`,
    )
    .get(since) as { inodes: number; recent: number | null; oldest: number | null };
  const open = catalog.statement(`SELECT count(*) FROM integrity_problems WHERE resolved_at IS NULL`, 'pluck').get() as number;
  return { inodes: r.inodes, verifiedSince: r.recent ?? 0, oldestProofAt: r.inodes > 0 ? r.oldest : null, open };
}
