// The catalog database: migrations run once, lineage is stable, serial increments, newer schemas are refused.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCatalog, schemaVersion, withWalCheckpointEvery } from '../../../src/catalog/db.js';

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
});
