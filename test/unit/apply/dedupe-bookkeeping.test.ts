// After a dedupe group apply records the links in the catalog from what it did (new inode, links of each path), without rescanning directories: the rows equal what a full rescan finds.
import { afterEach, describe, expect, it } from 'vitest';
import { linkSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import type { RescanRoot } from '../../../src/apply/bookkeeping.js';
import { scanRoots } from '../../../src/catalog/scan/scan-roots.js';
import { bytesFor, dedupeGroup, hashTreeSync, makeApplyFixture, makePlan, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { testDeps } from '../../support/apply-deps.js';

let w: ApplyFixture | null = null;
afterEach(() => {
  w?.cleanup();
  w = null;
});

/** Every catalog row under the stash, as a rescan would write it (hashes, inode, links, metadata). */
function rows(w: ApplyFixture): unknown[] {
  return w.catalog.db
    .prepare(`SELECT path, ino, size, mtime_ns, nlink, quick_hash, sha256, status FROM files ORDER BY path`)
    .all();
}

describe('dedupe bookkeeping', () => {
  it('records the new inode and link counts of every linked path without a rescan; a full rescan then changes nothing', async () => {
    w = makeApplyFixture();
    const a = bytesFor('bk-a', 70_000);
    const b = bytesFor('bk-b', 5_000);
    const seeding = path.join(w.stash, 'seeding');
    // Group 1: a keeper with two duplicates in two other folders (one beside an unrelated file); group 2: one pair.
    writeTree(seeding, { 'm/a.bin': a, 'x/a copy.bin': a, 'y/a.bin': a, 'y/other.bin': bytesFor('other', 900), 'm/b.bin': b, 'z/b.bin': b });
    const scan = () => scanRoots(w!.catalog, [{ path: seeding, kind: 'seeding' }], { drift: 'metadata', filesystems: w!.config.filesystems, now: () => Date.now() });
    await scan();
    const before = hashTreeSync(seeding);
    const p = (r: string) => path.join(seeding, r);
    const plan = makePlan(w, [dedupeGroup('g1', p('m/a.bin'), [p('x/a copy.bin'), p('y/a.bin')], sha256(a), a.length), dedupeGroup('g2', p('m/b.bin'), [p('z/b.bin')], sha256(b), b.length)]);
    const rescanned: string[] = [];
    const rescanRoot: RescanRoot = async (catalog, root) => {
      rescanned.push(root);
      await scanRoots(catalog, [{ path: root, kind: 'adhoc' }], { drift: 'metadata', filesystems: w!.config.filesystems, now: () => Date.now() });
    };
    const serial = w.catalog.serial();
    const res = await applyPlan(testDeps(w, { rescanRoot }), plan);
    expect(res.status, res.groups.map((g) => g.error).join('; ')).toBe('succeeded');
    expect(lstatSync(p('y/a.bin')).ino).toBe(lstatSync(p('m/a.bin')).ino);
    expect(lstatSync(p('m/a.bin')).nlink).toBe(3);
    expect(hashTreeSync(seeding)).toEqual(before);
    expect(rescanned).toEqual([]); // no directory was rescanned
    expect(w.catalog.serial()).toBeGreaterThan(serial);
    const recorded = rows(w);
    const dup = recorded.find((r) => (r as { path: string }).path.endsWith('y/a.bin')) as { ino: number; nlink: number };
    expect([dup.ino, dup.nlink]).toEqual([lstatSync(p('m/a.bin')).ino, 3]);
    await scan();
    expect(rows(w)).toEqual(recorded);
  });

  it("writes only the columns that differ: a duplicate's equal hashes are not rewritten (no index entry keyed by SHA-256 is touched), a missing one is", async () => {
    w = makeApplyFixture();
    const a = bytesFor('bk-eq', 70_000);
    const b = bytesFor('bk-missing', 9_000);
    const seeding = path.join(w.stash, 'seeding');
    writeTree(seeding, { 'm/a.bin': a, 'x/a.bin': a, 'm/b.bin': b, 'x/b.bin': b });
    const scan = () => scanRoots(w!.catalog, [{ path: seeding, kind: 'seeding' }], { drift: 'metadata', filesystems: w!.config.filesystems, now: () => Date.now() });
    await scan();
    const p = (r: string) => path.join(seeding, r);
    // The duplicate x/b.bin's row lost its hashes (as a row not hashed yet would have none): the keeper's are recorded.
    w.catalog.db.prepare(`UPDATE files SET sha256 = NULL, quick_hash = NULL WHERE path = 'seeding/x/b.bin'`).run();
    const keeperHashes = (rel: string) => w!.catalog.db.prepare(`SELECT quick_hash, sha256 FROM files WHERE path = ?`).get(rel);
    const expected = keeperHashes('seeding/m/b.bin');
    // An UPDATE OF trigger fires for every statement whose SET list names one of its columns, equal values or not.
    w.catalog.db.exec(`CREATE TEMP TABLE hash_writes (path TEXT);
      CREATE TEMP TRIGGER count_hash_writes AFTER UPDATE OF sha256, quick_hash, size ON main.files BEGIN INSERT INTO hash_writes VALUES (new.path); END;`);
    const plan = makePlan(w, [dedupeGroup('g1', p('m/a.bin'), [p('x/a.bin')], sha256(a), a.length), dedupeGroup('g2', p('m/b.bin'), [p('x/b.bin')], sha256(b), b.length)]);
    const res = await applyPlan(testDeps(w), plan);
    expect(res.status, res.groups.map((g) => g.error).join('; ')).toBe('succeeded');
    expect(w.catalog.db.prepare(`SELECT path FROM hash_writes`).pluck().all()).toEqual(['seeding/x/b.bin']);
    expect(keeperHashes('seeding/x/b.bin')).toEqual(expected);
    const recorded = rows(w);
    await scan();
    expect(rows(w)).toEqual(recorded);
  });

  it("writes each row once: a duplicate's row takes its inode and link count in one write, a row whose link count is already right is left as it is, and the former inode's other names lose one link", async () => {
    w = makeApplyFixture();
    const a = bytesFor('bk-once-a', 70_000);
    const b = bytesFor('bk-once-b', 9_000);
    const seeding = path.join(w.stash, 'seeding');
    // g1: a keeper with two duplicates; g2: a pair whose duplicate has a second name outside the group (z/b-also.bin).
    writeTree(seeding, { 'm/a.bin': a, 'x/a.bin': a, 'y/a.bin': a, 'm/b.bin': b, 'x/b.bin': b });
    const p = (r: string) => path.join(seeding, r);
    linkSync(p('x/b.bin'), p('x/b-also.bin'));
    const scan = () => scanRoots(w!.catalog, [{ path: seeding, kind: 'seeding' }], { drift: 'metadata', filesystems: w!.config.filesystems, now: () => Date.now() });
    await scan();
    const before = hashTreeSync(seeding);
    // Every row an UPDATE writes, equal values or not (a row written is a page of the table and of each index it changes).
    w.catalog.db.exec(`CREATE TEMP TABLE row_writes (path TEXT);
      CREATE TEMP TRIGGER count_row_writes AFTER UPDATE ON main.files BEGIN INSERT INTO row_writes VALUES (new.path); END;`);
    const plan = makePlan(w, [dedupeGroup('g1', p('m/a.bin'), [p('x/a.bin'), p('y/a.bin')], sha256(a), a.length), dedupeGroup('g2', p('m/b.bin'), [p('x/b.bin')], sha256(b), b.length)]);
    const res = await applyPlan(testDeps(w), plan);
    expect(res.status, res.groups.map((g) => g.error).join('; ')).toBe('succeeded');
    expect(hashTreeSync(seeding)).toEqual(before);
    const writes = w.catalog.db.prepare(`SELECT path, count(*) AS n FROM row_writes GROUP BY path ORDER BY path`).all();
    expect(writes).toEqual([
      { path: 'seeding/m/a.bin', n: 1 },
      { path: 'seeding/m/b.bin', n: 1 },
      { path: 'seeding/x/a.bin', n: 1 },
      { path: 'seeding/x/b-also.bin', n: 1 },
      { path: 'seeding/x/b.bin', n: 1 },
      { path: 'seeding/y/a.bin', n: 1 },
    ]);
    const recorded = rows(w);
    const links = (rel: string) => (recorded.find((r) => (r as { path: string }).path === rel) as { nlink: number }).nlink;
    expect([links('seeding/m/a.bin'), links('seeding/x/a.bin'), links('seeding/y/a.bin'), links('seeding/m/b.bin'), links('seeding/x/b.bin'), links('seeding/x/b-also.bin')]).toEqual([3, 3, 3, 2, 2, 1]);
    // The rows are what a full rescan finds.
    await scan();
    expect(rows(w)).toEqual(recorded);
  });
});
