// Names what an SQLite error raised by the catalog means for the user — a full disk, a read-only or damaged catalog, a long lock — with the fix.
import { CatalogError, errnoCode } from '../errors.js';

const RECOVERY = 'an apply cut short is recovered (rolled back or finished) by the next apply or by `hashall recover`';

/**
 * The CatalogError to show for `err` when it is an SQLite error whose cause the user can act on (better-sqlite3's
 * SqliteError carries SQLite's code, e.g. SQLITE_FULL or SQLITE_IOERR_WRITE), else null: what is unknown stays an
 * unexpected error worth reporting.
 */
export function catalogErrorOf(err: unknown): CatalogError | null {
  if (!(err instanceof Error) || err.name !== 'SqliteError') return null;
  const code = errnoCode(err) ?? '';
  const said = `(SQLite: ${err.message})`;
  if (code === 'SQLITE_FULL') return catalogFullError(err);
  if (code.startsWith('SQLITE_READONLY')) {
    return new CatalogError(`the catalog cannot be written ${said}`, { cause: err, hint: 'its file or filesystem is read-only: remount it read-write or fix the file mode, then run the command again' });
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new CatalogError(`the catalog is damaged ${said}`, { cause: err, hint: '`hashall doctor` checks it; restore it from a backup, or move it aside and scan again (its run records stay in the old file)' });
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new CatalogError(`the disk holding the catalog failed a read or write ${said}`, { cause: err, hint: `check that disk (dmesg, SMART) and its free space, then run the command again; ${RECOVERY}` });
  }
  if (code.startsWith('SQLITE_BUSY')) {
    return new CatalogError(`the catalog stayed locked by another process for 10 s ${said}`, { cause: err, hint: 'another hashall command (or a tool holding the catalog open) is writing it; run this one when it ends' });
  }
  return null;
}

/** The catalog's filesystem is full: SQLite said so (SQLITE_FULL), or an I/O error met a filesystem with no free block. */
export function catalogFullError(err: Error): CatalogError {
  return new CatalogError(`the catalog's filesystem is full (SQLite: ${err.message})`, { cause: err, hint: `free space where the catalog lives (\`catalog:\` in hashall.yaml), then run the command again; ${RECOVERY}` });
}
