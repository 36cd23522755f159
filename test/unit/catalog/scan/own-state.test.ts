// A scan of a folder that holds hashall's own catalog never catalogues the catalog, its WAL, its lock files: they are hashall's state, not content (were recorded, with an ECHANGED problem for the WAL written while it was hashed) — also when the folder is reached through a bind mount (judged by its device and inode, not its path).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../support/cli.js';
import { bindMount, makeTempDir, mountTmpfs } from '../../../support/mounts.js';

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

describe("hashall's own state reached through a bind mount of its folder", () => {
  /** Active rows named like the catalog's files (not the user's look-alike), by path relative to the filesystem. */
  const ownRows = (catalog: string): string[] => {
    const db = new Database(catalog, { readonly: true });
    try {
      return (db.prepare(`SELECT path FROM files WHERE status = 'active' ORDER BY path`).pluck().all() as string[]).filter((p) => /(^|\/)catalog\.db($|-|\.lock)/.test(p));
    } finally {
      db.close();
    }
  };

  // A seeding root configured at the alias never gets this far: the config check refuses it (test/unit/config/fs-checks.test.ts),
  // said once more here, end to end.
  it('a seeding root whose filesystem is configured at the bind alias: the config is refused (exit 3) naming the catalog, nothing scanned', async () => {
    const tmp = makeTempDir('hashall-own-bind-');
    try {
      const disk = path.join(tmp.path, 'disk');
      mountTmpfs(disk, 16 << 20, 'hashall-own-bind');
      mkdirSync(path.join(disk, 'state'));
      const alias = path.join(tmp.path, 'alias');
      bindMount(path.join(disk, 'state'), alias);
      const catalog = path.join(disk, 'state', 'catalog.db');
      const conf = path.join(tmp.path, 'hashall.yaml');
      writeFileSync(conf, `version: 1\ncatalog: ${catalog}\nfilesystems:\n  disk: { path: ${alias} }\nseeding:\n  disk: [${alias}]\n`);
      const r = await runCli(['scan', '--config', conf], { cwd: tmp.path, env: { NO_COLOR: '1' } });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(`catalog ${catalog} is inside seeding root ${alias}`);
      expect(existsSync(catalog)).toBe(false);
    } finally {
      tmp.cleanup();
    }
  });

  {
    it(`a scan root that is the bind alias itself: no row for the catalog, its -wal/-shm or lock files; a look-alike user file and the rest are catalogued`, async () => {
      const tmp = makeTempDir('hashall-own-bind-');
      try {
        const disk = path.join(tmp.path, 'disk');
        mountTmpfs(disk, 16 << 20, 'hashall-own-bind');
        mkdirSync(path.join(disk, 'state'));
        writeFileSync(path.join(disk, 'state', 'catalog.dbx-notes.txt'), 'mine');
        writeFileSync(path.join(disk, 'state', 'payload.bin'), 'payload');
        mkdirSync(path.join(disk, 'seeding'));
        writeFileSync(path.join(disk, 'seeding', 'a.bin'), 'seeded');
        // The catalog's folder, seen again at another path (same device and inode).
        const alias = path.join(tmp.path, 'alias');
        bindMount(path.join(disk, 'state'), alias);
        const catalog = path.join(disk, 'state', 'catalog.db');
        const conf = path.join(tmp.path, 'hashall.yaml');
        writeFileSync(conf, `version: 1\ncatalog: ${catalog}\nfilesystems:\n  disk: { path: ${disk} }\nseeding:\n  disk: [${path.join(disk, 'seeding')}]\n`);
        const first = await runCli(['scan', '--config', conf], { cwd: tmp.path });
        expect(first.code, first.stderr).toBe(0);
        // Every own file exists now (the WAL while a connection is open): the scan that matters is this one.
        const r = await runCli(['scan', alias, '--config', conf, '--json'], { cwd: tmp.path, env: { NO_COLOR: '1' } });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).not.toMatch(/ECHANGED|catalog\.db(-wal)?:/);
        expect(ownRows(catalog)).toEqual([]);
        const db = new Database(catalog, { readonly: true });
        try {
          const names = (db.prepare(`SELECT path FROM files WHERE status = 'active'`).pluck().all() as string[]).map((p) => p.slice(p.lastIndexOf('/') + 1));
          expect(names).toEqual(expect.arrayContaining(['payload.bin', 'catalog.dbx-notes.txt']));
        } finally {
          db.close();
        }
      } finally {
        tmp.cleanup();
      }
    });
  }
});
