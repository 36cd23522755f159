// A fresh, un-analyzed catalog per test and the SQLite query plan of a statement on it (for the index-choice tests).
import { afterEach, beforeEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCatalog, type CatalogDb } from '../../src/catalog/db.js';

export interface QueryPlanner {
  /** The catalog of the running test (opened in beforeEach, closed and removed in afterEach). */
  catalog(): CatalogDb;
  /** EXPLAIN QUERY PLAN details joined by ` | `; parameters default to one null per `?`. */
  plan(sql: string, ...params: unknown[]): string;
}

/** Registers the beforeEach/afterEach of a describe (or file) that looks at query plans on an empty catalog. */
export function useQueryPlanner(prefix = 'hashall-qp-'): QueryPlanner {
  let dir = '';
  let db: CatalogDb | null = null;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), prefix));
    db = openCatalog(path.join(dir, 'catalog.db'));
  });
  afterEach(() => {
    db?.close();
    db = null;
    rmSync(dir, { recursive: true, force: true });
  });
  const catalog = (): CatalogDb => {
    if (!db) throw new Error('the query planner is used outside a test');
    return db;
  };
  return {
    catalog,
    plan(sql, ...params) {
      const args = params.length > 0 ? params : Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => null);
      return (catalog().db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join(' | ');
    },
  };
}
