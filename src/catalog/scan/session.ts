// A scan's own records: the scan_sessions row (opened running, closed with the counts), its problems, and the
// scan_roots rows of the roots a completed scan covered.
import type { CatalogDb } from '../db.js';
import { activeRowCounter } from './file-rows.js';
import type { ResolvedRoot } from './resolve-roots.js';
import type { ScanOptions, ScanRootSpec, ScanSummary } from './types.js';

export function openSession(catalog: CatalogDb, startedAt: number, drift: ScanOptions['drift'], roots: ScanRootSpec[]): number {
  return Number(
    catalog.db
      .prepare(`INSERT INTO scan_sessions (started_at, status, drift, roots) VALUES (?, 'running', ?, ?)`)
      .run(startedAt, drift, JSON.stringify(roots.map((r) => r.path))).lastInsertRowid,
  );
}

export function finishSession(catalog: CatalogDb, id: number, s: ScanSummary, now: number, err: Error | null): void {
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

/** Records the roots a completed scan covered, with their active rows (`known`, else counted). */
export function markRootsScanned(catalog: CatalogDb, resolved: ResolvedRoot[], sessionId: number, now: number, known: ReadonlyMap<ResolvedRoot, number> = new Map()): void {
  const count = activeRowCounter(catalog);
  const upsert = catalog.db.prepare(
    `INSERT INTO scan_roots (path, fs_id, rel_path, kind, last_session_id, last_completed_at, file_count, links_known) VALUES (?, ?, ?, ?, ?, ?, ?, 1)
     ON CONFLICT (path) DO UPDATE SET fs_id = excluded.fs_id, rel_path = excluded.rel_path, kind = excluded.kind,
       last_session_id = excluded.last_session_id, last_completed_at = excluded.last_completed_at, file_count = excluded.file_count, links_known = 1`,
  );
  catalog.db.transaction(() => {
    for (const r of resolved) {
      if (r.single) continue;
      upsert.run(r.loc.path, r.fs.id, r.loc.rel, r.spec.kind, sessionId, now, known.get(r) ?? count(r.fs.id, r.loc.rel));
    }
  })();
}

/** The configured (seeding and library) roots a scan ever covered, with when a scan of each last completed. */
export function configuredScanRoots(catalog: CatalogDb): { path: string; lastCompletedAt: number | null; linksKnown: boolean }[] {
  const rows = catalog.db.prepare(`SELECT path, last_completed_at, links_known FROM scan_roots WHERE kind IN ('seeding', 'library')`).all() as { path: string; last_completed_at: number | null; links_known: number }[];
  return rows.map((r) => ({ path: r.path, lastCompletedAt: r.last_completed_at, linksKnown: r.links_known === 1 }));
}
