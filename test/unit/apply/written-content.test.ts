// The catalog refresh after a move records the files the copy wrote from what the copy proved (no second read of their
// bytes), and reads a file again whenever anything about it differs from what the copy saw.
import { afterEach, describe, expect, it } from 'vitest';
import { utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { scanRoots } from '../../../src/catalog/scan/scan-roots.js';
import { makeRescanRoot } from '../../../src/reconcile/refresh.js';
import type { RescanRoot } from '../../../src/apply/bookkeeping.js';
import { WrittenContent } from '../../../src/apply/written-content.js';
import { bytesFor, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { testDeps } from '../../support/apply-deps.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

interface Row {
  path: string;
  size: number;
  quick_hash: string | null;
  sha256: string | null;
}
/** The active rows under `dir` (paths relative to it); the catalog keeps paths relative to their filesystem's root. */
const rowsUnder = (dir: string): Row[] => {
  const [fs, root] = dir.startsWith(w.pool) ? ['pool', w.pool] : ['stash', w.stash];
  const rel = path.relative(root, dir);
  const rows = w.catalog.db
    .prepare(`SELECT path, size, quick_hash, sha256 FROM files WHERE fs_id = (SELECT id FROM filesystems WHERE name = ?) AND status = 'active' AND path LIKE ? ORDER BY path`)
    .all(fs, `${rel}/%`) as Row[];
  return rows.map((r) => ({ ...r, path: path.relative(rel, r.path) }));
};
const lastScan = () => w.catalog.db.prepare(`SELECT files_hashed AS files, bytes_hashed AS bytes, added FROM scan_sessions ORDER BY id DESC LIMIT 1`).get() as { files: number; bytes: number; added: number };

async function seedAndScan(): Promise<{ src: string; dst: string }> {
  const src = path.join(w.stash, 'seeding', 'movies', 'Film.2020');
  const dst = path.join(w.pool, 'seeding', 'movies', 'Film.2020');
  // Large (quick hash ≠ full hash), small, and two files of one content.
  writeTree(src, { 'film.mkv': bytesFor('film', 900_000), 'film.nfo': bytesFor('nfo', 300), 'extras/a.bin': bytesFor('twin', 250_000), 'extras/b.bin': bytesFor('twin', 250_000) });
  await scanRoots(w.catalog, [{ path: w.stash, kind: 'adhoc' }], { drift: 'metadata', hash: 'all', filesystems: w.config.filesystems, now: () => Date.now() });
  return { src, dst };
}

describe('refresh after a move: the copies are recorded from what the copy proved', () => {
  it('records every copied file with the source content hashes and reads none of their bytes again', async () => {
    w = makeApplyFixture();
    const { src, dst } = await seedAndScan();
    const before = hashTreeSync(src);
    const deps = testDeps(w, { rescanRoot: makeRescanRoot(w.config, () => Date.now()) });
    const res = await applyPlan(deps, makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(res.status, JSON.stringify(res)).toBe('succeeded');
    expect(hashTreeSync(dst)).toEqual(before);
    const refresh = lastScan();
    expect(refresh.added).toBe(4);
    expect(refresh).toMatchObject({ files: 0, bytes: 0 }); // no byte of the copies read again
    expect(rowsUnder(src)).toHaveLength(4);
    expect(rowsUnder(dst)).toEqual(rowsUnder(src)); // same names, sizes, quick and full hashes
    expect(rowsUnder(dst).every((r) => r.sha256 !== null && r.quick_hash !== null)).toBe(true);
  });

  it('reads a copy again when it changed after the copy (other mtime, or other size) before the refresh', async () => {
    w = makeApplyFixture();
    const { src, dst } = await seedAndScan();
    const real = makeRescanRoot(w.config, () => Date.now());
    // Between the copy and the refresh: one file edited in place (same size, mtime moved), another one appended to.
    const meddle = (): void => {
      writeFileSync(path.join(dst, 'film.mkv'), bytesFor('edited', 900_000));
      utimesSync(path.join(dst, 'film.mkv'), new Date(), new Date(Date.now() + 5_000));
      writeFileSync(path.join(dst, 'film.nfo'), bytesFor('nfo', 301));
    };
    const rescanRoot: RescanRoot = Object.assign(
      async (...a: Parameters<RescanRoot>) => {
        meddle();
        await real(...a);
      },
      {
        many: async (...a: Parameters<NonNullable<RescanRoot['many']>>) => {
          meddle();
          await real.many!(...a);
        },
      },
    );
    const res = await applyPlan(testDeps(w, { rescanRoot }), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(res.status, JSON.stringify(res)).toBe('succeeded');
    const now = hashTreeSync(dst);
    const rows = new Map(rowsUnder(dst).map((r) => [r.path, r]));
    expect(rows.get('film.mkv')!.sha256).toBe(now['film.mkv']); // the edited bytes, read
    expect(rows.get('film.nfo')).toMatchObject({ size: 301, sha256: null }); // a size no other file has: unknown until one does, never the copy's hash
    expect(rows.size).toBe(4);
    expect(rows.get('extras/a.bin')!.sha256).toBe(now['extras/a.bin']);
    expect(now['film.nfo']).not.toBe(rowsUnder(src).find((r) => r.path === 'film.nfo')!.sha256);
    expect(lastScan().files).toBe(1); // only the edited file was read
  });
});

describe('WrittenContent', () => {
  it('answers only for the very path, inode, size and mtime the copy saw', () => {
    const k = new WrittenContent();
    k.add({ path: '/p/a', dev: 7, ino: 11, size: 5, mtimeNs: 123n, sha256: 'aa' });
    expect(k.take('/p/b', 7n, 11n, 5, 123n)).toBeNull();
    expect(k.take('/p/a', 8n, 11n, 5, 123n)).toBeNull();
    expect(k.take('/p/a', 7n, 12n, 5, 123n)).toBeNull();
    expect(k.take('/p/a', 7n, 11n, 6, 123n)).toBeNull();
    expect(k.take('/p/a', 7n, 11n, 5, 124n)).toBeNull();
    expect(k.take('/p/a', 7n, 11n, 5, 123n)).toBe('aa');
    expect(k.take('/p/a', 7n, 11n, 5, 123n)).toBeNull(); // answered once
  });
});
