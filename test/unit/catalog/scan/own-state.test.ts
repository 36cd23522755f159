// A scan of a folder that holds hashall's own catalog never catalogues the catalog, its WAL, its lock files: they are hashall's state, not content (were recorded, with an ECHANGED problem for the WAL written while it was hashed).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../support/cli.js';

let dir = '';
let cfg = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hashall-own-state-'));
  mkdirSync(path.join(dir, 'seeding'));
  writeFileSync(path.join(dir, 'seeding', 'a.bin'), 'payload');
  writeFileSync(path.join(dir, 'seeding', 'b.bin'), 'payload');
  mkdirSync(path.join(dir, 'state'));
  // A user's file beside the catalog, whose name merely starts like it, is content as any other.
  writeFileSync(path.join(dir, 'state', 'catalog.dbx-notes.txt'), 'mine');
  cfg = path.join(dir, 'hashall.yaml');
  writeFileSync(cfg, `version: 1\ncatalog: ${dir}/state/catalog.db\nfilesystems:\n  disk: { path: ${dir} }\nseeding:\n  disk: [${dir}/seeding]\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a scan never catalogues hashall's own state files", () => {
  it('scan of the folder holding the catalog: no row for the catalog, its -wal/-shm or lock files, no problem; the rest is catalogued', async () => {
    expect((await runCli(['scan', '--config', cfg], { cwd: dir })).code).toBe(0);
    // The lock files exist from the first run on (the WAL while a connection is open): scan the folder holding them all.
    const r = await runCli(['scan', dir, '--config', cfg, '--json'], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/ECHANGED|catalog\.db/);
    const db = new Database(path.join(dir, 'state', 'catalog.db'), { readonly: true });
    try {
      const paths = (db.prepare(`SELECT path FROM files WHERE status = 'active' ORDER BY path`).pluck().all() as string[]).map((p) => p.slice(p.lastIndexOf('/') + 1));
      expect(paths.filter((p) => p.startsWith('catalog.db') && p !== 'catalog.dbx-notes.txt')).toEqual([]);
      expect(paths).toEqual(expect.arrayContaining(['a.bin', 'b.bin', 'hashall.yaml', 'catalog.dbx-notes.txt']));
    } finally {
      db.close();
    }
  });
});
