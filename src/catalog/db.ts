// Opens the SQLite catalog (WAL), applies numbered migrations, and tracks the lineage id and change serial.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { CatalogError } from '../errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

export type Db = Database.Database;

export interface CatalogDb {
  db: Db;
  path: string;
  /** Random id fixed when the catalog file was created. */
  lineage: string;
  /** Current change serial (increments with every committed change via bumpSerial). */
  serial(): number;
  /** Increment the serial; call inside the transaction that changed catalog content. Returns the new value. */
  bumpSerial(): number;
  close(): void;
}

const META = `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;`;

export function openCatalog(file: string, opts: { migrations?: Migration[]; readonly?: boolean } = {}): CatalogDb {
  const migrations = opts.migrations ?? MIGRATIONS;
  if (!opts.readonly) mkdirSync(path.dirname(file), { recursive: true });
  let db: Db;
  try {
    db = new Database(file, { readonly: Boolean(opts.readonly), fileMustExist: Boolean(opts.readonly) });
  } catch (cause) {
    throw new CatalogError(`cannot open catalog ${file}: ${(cause as Error).message}`, {
      cause,
      hint: opts.readonly ? 'run `hashall scan` first to create the catalog' : 'check the `catalog` path in hashall.yaml and its permissions',
    });
  }
  db.pragma('busy_timeout = 10000');
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('foreign_keys = ON');
  if (!opts.readonly) migrate(db, migrations);
  const lineage = (db.prepare(`SELECT value FROM meta WHERE key = 'lineage'`).get() as { value: string } | undefined)?.value;
  if (!lineage) throw new CatalogError(`catalog ${file} has no lineage; it was not created by hashall`);
  const getSerial = db.prepare(`SELECT value FROM meta WHERE key = 'serial'`);
  const setSerial = db.prepare(`UPDATE meta SET value = ? WHERE key = 'serial'`);
  return {
    db,
    path: file,
    lineage,
    serial: () => Number((getSerial.get() as { value: string }).value),
    bumpSerial: () => {
      const next = Number((getSerial.get() as { value: string }).value) + 1;
      setSerial.run(String(next));
      return next;
    },
    close: () => db.close(),
  };
}

/** Apply pending migrations in order, each in its own transaction; refuse a catalog newer than this program. */
export function migrate(db: Db, migrations: Migration[]): void {
  db.exec(META);
  const init = db.transaction(() => {
    db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('lineage', ?)`).run(randomUUID());
    db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('serial', '0')`).run();
    db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '0')`).run();
  });
  init();
  const current = Number((db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string }).value);
  const newest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  if (current > newest) {
    throw new CatalogError(`catalog schema version ${current} is newer than this hashall understands (${newest})`, {
      hint: 'upgrade hashall; never open a catalog with an older version',
    });
  }
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    const step = db.transaction(() => {
      if (m.up.trim()) db.exec(m.up);
      db.prepare(`UPDATE meta SET value = ? WHERE key = 'schema_version'`).run(String(m.version));
    });
    step();
  }
}

export function schemaVersion(db: Db): number {
  return Number((db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string }).value);
}
