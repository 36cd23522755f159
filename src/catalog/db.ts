// Opens the SQLite catalog (WAL), applies numbered migrations, and tracks the lineage id and change serial.
import Database from 'better-sqlite3';
import { chmodSync, closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readlinkSync, statfsSync, statSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { CatalogError, CatalogSchemaError } from '../errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { checkCatalogPlace } from './catalog-place.js';
import { catalogErrorOf, catalogFullError } from './sqlite-errors.js';
import { effectiveUser } from '../fs/trusted-place.js';

export type Db = Database.Database;
export type Statement = Database.Statement;
/** How a kept statement answers: rows as objects, the first column alone ('pluck'), or rows as arrays ('raw'). */
export type StatementMode = 'rows' | 'pluck' | 'raw';

/** Statements one connection keeps compiled (see CatalogDb.statement); the oldest is let go past it. */
const KEPT_STATEMENTS = 256;

export interface CatalogDb {
  db: Db;
  path: string;
  /** Random id fixed when the catalog file was created. */
  lineage: string;
  /** Current change serial (increments with every committed change via bumpSerial). */
  serial(): number;
  /** Increment the serial; call inside the transaction that changed catalog content. Returns the new value. */
  bumpSerial(): number;
  /**
   * The statement for `sql` answering in `mode`, compiled once per connection and kept: for statements prepared again
   * and again (a scan prepares ~25 for every root it walks, and the catalog refresh after an apply walks hundreds of
   * folders as roots — each compile costs SQLite more than most of the queries). For fixed SQL text only; never change
   * a kept statement's mode, and finish (or return) an iteration of one before anyone else can run it.
   */
  statement(sql: string, mode?: StatementMode): Statement;
  close(): void;
}

const META = `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;`;

export function openCatalog(file: string, opts: { migrations?: Migration[]; readonly?: boolean } = {}): CatalogDb {
  const migrations = opts.migrations ?? MIGRATIONS;
  // Where it lies first (nothing read or made in a place another user could change), then what it holds, read-only:
  // anything but hashall's catalog or a new one is refused before any write.
  try {
    checkCatalogPlace(file);
    const found = whatIsAt(file);
    if (opts.readonly && found === 'new') {
      throw new CatalogError(`catalog ${file} is empty`, { hint: 'run `hashall scan` first to create the catalog' });
    }
    if (!opts.readonly) {
      makePrivate(file);
      checkCatalogPlace(file); // the folders it made (0700) are judged too: one planted meanwhile is refused
    }
  } catch (err) {
    throw deniedAsCatalogError(err, file) ?? err;
  }
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
  // Deleted and rewritten content is zeroed on disk (a scrubbed passkey must not linger in a free page).
  if (!opts.readonly) db.pragma('secure_delete = ON');
  if (!opts.readonly) {
    // After an upgrade no old page version stays in the WAL (a migration may scrub what older versions stored); a new
    // catalog has none, and its pages are checkpointed with the first ones written to it.
    const { applied, created } = migrate(db, migrations);
    if (applied > 0 && !created) db.pragma('wal_checkpoint(TRUNCATE)');
  }
  if (opts.readonly) requireSchemaOf(db, file, migrations);
  const lineage = (db.prepare(`SELECT value FROM meta WHERE key = 'lineage'`).get() as { value: string } | undefined)?.value;
  if (!lineage) throw new CatalogError(`catalog ${file} has no lineage; it was not created by hashall`);
  const getSerial = db.prepare(`SELECT value FROM meta WHERE key = 'serial'`);
  const setSerial = db.prepare(`UPDATE meta SET value = ? WHERE key = 'serial'`);
  const kept = new Map<string, Statement>();
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
    statement: (sql, mode = 'rows') => {
      const key = `${mode}\0${sql}`;
      let st = kept.get(key);
      if (st === undefined) {
        st = db.prepare(sql);
        if (mode === 'pluck') st.pluck();
        else if (mode === 'raw') st.raw(true);
        if (kept.size >= KEPT_STATEMENTS) kept.delete(kept.keys().next().value as string);
        kept.set(key, st);
      }
      return st;
    },
    close: () => db.close(),
  };
}

/**
 * How durable each commit of this connection is: 'full' fsyncs the WAL on every commit (runs and recovery journal
 * writes), 'normal' is the catalog's default (durable at the next checkpoint or WAL sync).
 */
export function setDurability(db: Db, level: 'full' | 'normal'): void {
  db.pragma(level === 'full' ? 'synchronous = FULL' : 'synchronous = NORMAL');
}

/**
 * Run `fn` with the WAL checkpointed automatically only past `pages` pages (SQLite's default is 1,000) on this
 * connection, then restore the previous threshold. A bulk writer (a scan inserting hundreds of thousands of rows)
 * otherwise checkpoints after nearly every commit — each checkpoint copies pages back and syncs twice. Durability
 * is unchanged: committed pages are in the WAL either way.
 */
export async function withWalCheckpointEvery<T>(db: Db, pages: number, fn: () => Promise<T>): Promise<T> {
  const prev = db.pragma('wal_autocheckpoint', { simple: true }) as number;
  db.pragma(`wal_autocheckpoint = ${Math.max(1, Math.floor(pages))}`);
  try {
    return await fn();
  } finally {
    db.pragma(`wal_autocheckpoint = ${prev}`);
  }
}

/**
 * A larger page cache for this connection from the first `raise()` until `restore()` (which puts back the previous
 * size; SQLite's default is 2 MiB). A bulk writer raises it before its first write: the content index is keyed by a
 * random hash, so each batch of inserts touches pages all over it, and with 2 MiB they are evicted and read back (and
 * spilled mid-transaction) batch after batch — 200k scan inserts cost 2.8 s of CPU with 2 MiB, 2.0 s with 32 MiB. A
 * reader that never raises it (a no-change rescan) keeps the default's memory.
 */
export function pageCacheRaiser(db: Db, kib: number): { raise(): void; restore(): void } {
  let prev: number | null = null;
  return {
    raise: () => {
      if (prev !== null) return;
      prev = db.pragma('cache_size', { simple: true }) as number;
      db.pragma(`cache_size = ${-Math.max(1, Math.floor(kib))}`);
    },
    restore: () => {
      if (prev === null) return;
      db.pragma(`cache_size = ${prev}`);
      prev = null;
    },
  };
}

/** Checkpoint the WAL into the database file and sync it (the durable point when there is no WAL file to fsync). */
export function checkpointWal(db: Db): void {
  db.pragma('wal_checkpoint(FULL)');
}

/**
 * Copy what the WAL holds into the database file now, as far as no reader is in the way, without waiting for one
 * (PASSIVE). A writer that still waits on other work (a scan while its hashing threads finish) calls it so that the
 * copy and its two syncs happen then, not in the checkpoint SQLite runs when the last connection closes, after
 * everything else. Durability is unchanged: committed pages are in the WAL either way.
 */
export function checkpointWalPassive(db: Db): void {
  db.pragma('wal_checkpoint(PASSIVE)');
}

/** A reader of the rows this connection has inserted, updated or deleted so far (`total_changes()`), compiled once. */
export function totalChangesReader(db: Db): () => number {
  const changes = db.prepare(`SELECT total_changes() AS n`);
  return () => (changes.get() as { n: number }).n;
}

/**
 * Run `fn` inside one transaction of this connection that may span awaits (better-sqlite3's db.transaction cannot),
 * committed when `fn` ends, whether it returns or throws (unless something inside ended it already).
 */
export async function inOneCommit<T>(db: Db, fn: () => Promise<T>): Promise<T> {
  db.exec('BEGIN');
  try {
    return await fn();
  } finally {
    if (db.inTransaction) db.exec('COMMIT');
  }
}

/**
 * A permission error on the way to the catalog (its folder is another user's 0700, e.g. root's state folder while
 * hashall runs as a media user) said as such, with the fix; null for anything else.
 */
function deniedAsCatalogError(err: unknown, file: string): CatalogError | null {
  const e = err as NodeJS.ErrnoException;
  if (e?.code !== 'EACCES' && e?.code !== 'EPERM') return null;
  const at = typeof e.path === 'string' ? e.path : file;
  const uid = effectiveUser().euid;
  return new CatalogError(`catalog ${file}: permission denied (${e.syscall ?? 'access'} ${at}) for uid ${uid}`, {
    cause: err,
    hint: `run hashall as the user that owns the catalog and its folder ${path.dirname(file)} (the one that created it), or point \`catalog:\` in hashall.yaml at a place uid ${uid} can write`,
  });
}

/**
 * hashall's own files are private, whatever the umask: directories it creates for the catalog are 0700, the catalog
 * file (created here, before SQLite opens it) and its -wal/-shm companions are 0600 — an existing catalog more open
 * than that is tightened (it holds run records and, in older versions, tracker passkeys). Existing directories are
 * the user's and keep their mode.
 */
function makePrivate(file: string): void {
  const dir = path.dirname(file);
  const made = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (made !== undefined) {
    // mkdir's mode is masked by the umask: set every directory it created exactly.
    for (let d = dir; ; d = path.dirname(d)) {
      chmodSync(d, 0o700);
      if (d === made || path.dirname(d) === d) break;
    }
  }
  if (!existsSync(file)) closeSync(openSync(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    const st = lstatSync(f, { throwIfNoEntry: false });
    if (st?.isFile() && (st.mode & 0o777) !== 0o600) chmodSync(f, 0o600);
  }
}

/**
 * What the catalog path holds, read without writing anything: nothing yet ('absent'), an empty file or an SQLite
 * database with no table ('new'), or hashall's catalog ('ours': a `meta` table with a lineage — or only `meta`, left by a first open
 * that stopped half way). Anything else is refused before any write or mode change: a folder or device, a file that is
 * not an SQLite database, or another program's database (a `catalog:` pointing at a *arr app's database got hashall's
 * tables, WAL mode and mode 0600 written into it).
 */
function whatIsAt(file: string): 'absent' | 'new' | 'ours' {
  const st = statSync(file, { throwIfNoEntry: false });
  if (st === undefined) {
    // A symlink to nothing: hashall never creates its catalog through a symlink (O_NOFOLLOW), so say so.
    if (lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new CatalogError(`catalog ${file} is a symlink to ${readlinkSync(file)}, which does not exist`, {
        hint: 'hashall does not create its catalog through a symlink: point `catalog:` in hashall.yaml at the real path, or remove the symlink',
      });
    }
    return 'absent';
  }
  if (!st.isFile()) {
    throw new CatalogError(`catalog ${file} is not a file (${st.isDirectory() ? 'a folder' : 'a device, socket or pipe'})`, {
      hint: 'point `catalog:` in hashall.yaml at the path of a file (hashall creates it)',
    });
  }
  if (st.size === 0) return 'new';
  let db: Db | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all() as string[];
    if (tables.length === 0) return 'new';
    if (tables.every((t) => t === 'meta')) return 'ours';
    if (tables.includes('meta') && db.prepare(`SELECT 1 FROM meta WHERE key = 'lineage'`).get() !== undefined) return 'ours';
    const shown = tables.length > 5 ? `${tables.slice(0, 5).join(', ')}, …` : tables.join(', ');
    throw new CatalogError(`catalog ${file} is an SQLite database hashall did not create (tables ${shown}; no hashall lineage): nothing was written to it`, {
      hint: "point `catalog:` in hashall.yaml at hashall's own catalog, or at a new path",
    });
  } catch (err) {
    if (err instanceof CatalogError) throw err;
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB') {
      throw new CatalogError(`catalog ${file} is not an SQLite database: nothing was written to it`, { cause: err, hint: "point `catalog:` in hashall.yaml at hashall's own catalog, or at a new path" });
    }
    // Opening a WAL catalog makes its -shm index: on a full filesystem that is an I/O error, not a path or permission problem.
    if (typeof code === 'string' && code.startsWith('SQLITE_IOERR') && noFreeBlock(path.dirname(file))) throw catalogFullError(err as Error);
    throw catalogErrorOf(err) ?? new CatalogError(`cannot read catalog ${file}: ${(err as Error).message}`, { cause: err, hint: 'check the `catalog` path in hashall.yaml and its permissions' });
  } finally {
    db?.close();
  }
}

/** True when the filesystem holding `dir` has no block left for hashall's user (false when that cannot be read). */
function noFreeBlock(dir: string): boolean {
  try {
    return statfsSync(dir).bavail === 0;
  } catch {
    return false;
  }
}

/**
 * Apply pending migrations in order, each in its own transaction; refuse a catalog newer than this program. Returns how
 * many ran, and whether the catalog was new (none had run: it is created whole, its meta rows and every migration in
 * one transaction — a creation cut short leaves no table, and the next open starts again).
 */
export function migrate(db: Db, migrations: Migration[]): { applied: number; created: boolean } {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const step = (m: Migration): void => {
    if (m.up.trim()) db.exec(m.up);
    m.run?.(db);
    db.prepare(`UPDATE meta SET value = ? WHERE key = 'schema_version'`).run(String(m.version));
  };
  // The meta table and its first rows in one transaction: a first open stopped half way leaves nothing, or all of it.
  let created = false;
  db.transaction(() => {
    db.exec(META);
    db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('lineage', ?)`).run(randomUUID());
    db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('serial', '0')`).run();
    db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '0')`).run();
    // A new catalog runs the same migrations an old one did, in order, in this same transaction (one commit instead
    // of one per migration): its schema is the one every upgraded catalog reaches (test/unit/catalog/db.test.ts).
    if (schemaVersion(db) !== 0) return;
    created = true;
    for (const m of sorted) step(m);
  })();
  if (created) return { applied: sorted.length, created };
  const current = schemaVersion(db);
  refuseNewer(current, newestOf(migrations));
  let applied = 0;
  for (const m of sorted) {
    if (m.version <= current) continue;
    applied++;
    db.transaction(() => step(m))();
  }
  return { applied, created };
}

function newestOf(migrations: Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/** A catalog written by a newer hashall is never read or written by this one: its tables may mean something else. */
function refuseNewer(current: number, newest: number): void {
  if (current > newest) {
    throw new CatalogSchemaError(`catalog schema version ${current} is newer than this hashall understands (${newest})`, {
      hint: 'upgrade hashall; never open a catalog with an older version',
    });
  }
}

/**
 * A catalog opened read-only is read only at this hashall's schema: one left by an older hashall, or whose upgrade was
 * cut short (a full disk), lacks tables and columns the readers use, and read-only commands do not upgrade it.
 */
function requireSchemaOf(db: Db, file: string, migrations: Migration[]): void {
  const current = tableExists(db, 'meta') ? schemaVersion(db) : 0;
  const newest = newestOf(migrations);
  refuseNewer(current, newest);
  if (current < newest) {
    throw new CatalogSchemaError(`catalog ${file} is at schema version ${current}; this hashall uses ${newest} (written by an older hashall, or its upgrade was cut short)`, {
      hint: 'run `hashall scan` (or any command that writes the catalog: sync, plan, apply) once to upgrade it, then run this command again',
    });
  }
}

export function schemaVersion(db: Db): number {
  return Number((db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string }).value);
}

/** Whether the catalog has table `name` (a table a later migration adds is absent from a catalog opened read-only before it). */
export function tableExists(db: Db, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

/** SQLite's `PRAGMA quick_check`: `ok`, or what is damaged. */
export function quickCheck(db: Db): string {
  return db.pragma('quick_check', { simple: true }) as string;
}

/**
 * Whether a file named `catalogPath + suffix` is the catalog's or one hashall keeps beside it: the catalog itself, its
 * SQLite companions (-wal, -shm, -journal), the apply lock (`.lock`, src/apply/lock.ts) and the lock streak with its
 * guard and temp files (`.lock-streak…`, src/apply/lock-streak.ts). hashall's state, never content: a scan skips them.
 */
export function isCatalogOwnFile(suffix: string): boolean {
  return suffix === '' || suffix === '-wal' || suffix === '-shm' || suffix === '-journal' || suffix === '.lock' || suffix.startsWith('.lock-streak');
}
