// The catalog database: migrations run once, lineage is stable, serial increments, newer schemas are refused, and a `catalog:` path holding anything but hashall's catalog is refused before anything is written to it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCatalog, pageCacheRaiser, schemaVersion, withWalCheckpointEvery } from '../../../src/catalog/db.js';
import { MIGRATIONS, type Migration } from '../../../src/catalog/migrations/index.js';

describe('openCatalog', () => {
  it('creates a catalog with a lineage, keeps it across reopen, and counts serial changes', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hashall-db-'));
    try {
      const file = path.join(dir, 'sub', 'catalog.db');
      const a = openCatalog(file);
      const lineage = a.lineage;
      expect(lineage).toMatch(/^[0-9a-f-]{36}$/);
      expect(a.serial()).toBe(0);
      a.db.transaction(() => a.bumpSerial())();
      expect(a.serial()).toBe(1);
      a.close();
      const b = openCatalog(file);
      expect(b.lineage).toBe(lineage);
      expect(b.serial()).toBe(1);
      expect(schemaVersion(b.db)).toBeGreaterThanOrEqual(3);
      b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a new catalog is created whole in one transaction: a creation cut short leaves no table, and the next open creates it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hashall-db-'));
    try {
      const file = path.join(dir, 'catalog.db');
      const broken: Migration = { version: MIGRATIONS.length + 1, name: 'broken', up: 'CREATE TABLE later_table (a INTEGER); SELECT * FROM no_such_table;' };
      expect(() => openCatalog(file, { migrations: [...MIGRATIONS, broken] })).toThrow(/no_such_table/);
      const raw = new Database(file, { readonly: true });
      const tables = raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all();
      raw.close();
      expect(tables).toEqual([]);
      const c = openCatalog(file);
      expect(schemaVersion(c.db)).toBe(MIGRATIONS.length);
      c.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a catalog created by any older hashall and upgraded has the schema of one created new', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hashall-db-'));
    const schemaOf = (file: string): string[] => {
      const raw = new Database(file, { readonly: true });
      const rows = raw.prepare(`SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name`).pluck().all() as string[];
      raw.close();
      return rows;
    };
    try {
      const fresh = path.join(dir, 'fresh.db');
      openCatalog(fresh).close();
      const expected = schemaOf(fresh);
      for (let v = 1; v < MIGRATIONS.length; v++) {
        const file = path.join(dir, `v${v}.db`);
        openCatalog(file, { migrations: MIGRATIONS.filter((m) => m.version <= v) }).close();
        const c = openCatalog(file);
        expect(schemaVersion(c.db)).toBe(MIGRATIONS.length);
        c.close();
        expect(schemaOf(file), `upgraded from version ${v}`).toEqual(expected);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a catalog whose schema is newer than this program', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hashall-db-'));
    try {
      const file = path.join(dir, 'catalog.db');
      const a = openCatalog(file);
      a.db.prepare(`UPDATE meta SET value = '999' WHERE key = 'schema_version'`).run();
      a.close();
      expect(() => openCatalog(file)).toThrow(/newer than this hashall understands/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bulk writer checkpoints the WAL less often only while it runs, whether it ends or throws', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hashall-db-'));
    const c = openCatalog(path.join(dir, 'catalog.db'));
    try {
      const every = (): unknown => c.db.pragma('wal_autocheckpoint', { simple: true });
      expect(every()).toBe(1000);
      expect(await withWalCheckpointEvery(c.db, 16_384, async () => every())).toBe(16_384);
      expect(every()).toBe(1000);
      await expect(
        withWalCheckpointEvery(c.db, 4_096, async () => {
          throw new Error(`inside at ${String(every())}`);
        }),
      ).rejects.toThrow('inside at 4096');
      expect(every()).toBe(1000);
    } finally {
      c.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bulk writer has the larger page cache from its first raise until restored; without a raise the default stays', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hashall-db-'));
    const c = openCatalog(path.join(dir, 'catalog.db'));
    try {
      const size = (): unknown => c.db.pragma('cache_size', { simple: true });
      const before = size();
      const unused = pageCacheRaiser(c.db, 32 * 1024);
      unused.restore();
      expect(size()).toBe(before);
      const cache = pageCacheRaiser(c.db, 32 * 1024);
      cache.raise();
      expect(size()).toBe(-32 * 1024);
      cache.raise();
      cache.restore();
      expect(size()).toBe(before);
      cache.restore();
      expect(size()).toBe(before);
    } finally {
      c.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('a catalog path that holds something else', () => {
    let dir = '';
    beforeEach(() => void (dir = mkdtempSync(path.join(tmpdir(), 'hashall-db-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    /** The file's bytes and mode, and whether SQLite side files appeared beside it. */
    const state = (f: string) => ({ sha: createHash('sha256').update(readFileSync(f)).digest('hex'), mode: statSync(f).mode & 0o7777, wal: existsSync(`${f}-wal`), shm: existsSync(`${f}-shm`), journal: existsSync(`${f}-journal`) });

    it("another program's SQLite database (a *arr app's): refused, read-only or not, with nothing written, no mode changed, no side file made", () => {
      const file = path.join(dir, 'sonarr.db');
      const other = new Database(file);
      other.exec(`CREATE TABLE Series (Id INTEGER PRIMARY KEY, Title TEXT); INSERT INTO Series (Title) VALUES ('Show');`);
      other.close();
      chmodSync(file, 0o664);
      const before = state(file);
      expect(() => openCatalog(file)).toThrow(/SQLite database hashall did not create.*Series/);
      expect(() => openCatalog(file, { readonly: true })).toThrow(/SQLite database hashall did not create/);
      expect(state(file)).toEqual(before);
    });

    it('a file that is not an SQLite database: refused as such (not an unexpected error), unchanged', () => {
      const file = path.join(dir, 'notes.txt');
      writeFileSync(file, 'my notes, not a database\n'.repeat(100));
      chmodSync(file, 0o644);
      const before = state(file);
      for (const readonly of [false, true]) expect(() => openCatalog(file, { readonly })).toThrow(expect.objectContaining({ name: 'CatalogError', message: expect.stringMatching(/is not an SQLite database/) }));
      expect(state(file)).toEqual(before);
    });

    it('a folder: refused as not a file', () => {
      const folder = path.join(dir, 'catalog.db');
      mkdirSync(folder);
      for (const readonly of [false, true]) expect(() => openCatalog(folder, { readonly })).toThrow(expect.objectContaining({ name: 'CatalogError', message: expect.stringMatching(/is not a file/) }));
    });

    it('a symlink to nothing: refused as such (it was an unexpected EEXIST), nothing created at its target', () => {
      const file = path.join(dir, 'catalog.db');
      const target = path.join(dir, 'elsewhere', 'catalog.db');
      symlinkSync(target, file);
      for (const readonly of [false, true]) {
        expect(() => openCatalog(file, { readonly })).toThrow(expect.objectContaining({ name: 'CatalogError', message: expect.stringMatching(/symlink to .*elsewhere\/catalog\.db.*does not exist/) }));
      }
      expect(existsSync(path.join(dir, 'elsewhere'))).toBe(false);
      expect(readlinkSync(file)).toBe(target);
    });

    it('an empty file becomes a new catalog; read-only, it is named empty', () => {
      const file = path.join(dir, 'catalog.db');
      writeFileSync(file, '');
      expect(() => openCatalog(file, { readonly: true })).toThrow(expect.objectContaining({ name: 'CatalogError', message: expect.stringMatching(/empty/) }));
      const c = openCatalog(file);
      expect(c.lineage).toMatch(/^[0-9a-f-]{36}$/);
      c.close();
    });
  });
});

