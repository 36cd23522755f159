// Size-first hashing on real tmpfs files and a real SQLite catalog: a file no other inode shares the size of is recorded with its hash unknown, and is read as soon as one does — in this root, another root or another filesystem.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, renameSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openCatalog, type CatalogDb } from '../../../../src/catalog/db.js';
import { orphanContent } from '../../../../src/catalog/orphan-rows.js';
import { localDupes } from '../../../../src/catalog/reports.js';
import { scanRoots } from '../../../../src/catalog/scan/scan-roots.js';
import type { ScanOptions } from '../../../../src/catalog/scan/types.js';
import type { HashJob, HashResult } from '../../../../src/fs/hash.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../../support/mounts.js';

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

let tmp: TempDir;
let stash: string;
let pool: string;
let catalog: CatalogDb;
let clock: number;

function opts(extra: Partial<ScanOptions> = {}): ScanOptions {
  return { drift: 'metadata', filesystems: {}, now: () => ++clock, hashWorkers: 2, hash: 'shared-sizes', ...extra };
}

/** sha256 (null: unknown) and quick hash of the active row at an absolute path. */
function row(abs: string): { sha256: string | null; quick_hash: string | null; ino: number } {
  const r = catalog.db.prepare(`SELECT sha256, quick_hash, ino FROM file_paths WHERE abs_path = ? AND status = 'active'`).get(abs) as
    | { sha256: string | null; quick_hash: string | null; ino: number }
    | undefined;
  if (!r) throw new Error(`no active row at ${abs}`);
  return r;
}

function write(p: string, data: string | Buffer): void {
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, data);
}

beforeEach(() => {
  tmp = makeTempDir('hashall-size-first-');
  stash = path.join(tmp.path, 'stash');
  pool = path.join(tmp.path, 'pool');
  mountTmpfs(stash, 32 * 1024 * 1024, 'stash-sf');
  mountTmpfs(pool, 32 * 1024 * 1024, 'pool-sf');
  catalog = openCatalog(path.join(tmp.path, 'catalog.db'));
  clock = 1_000;
});
afterEach(() => {
  catalog.close();
  tmp.cleanup();
});

describe('size-first hashing (hash: shared-sizes)', () => {
  it('reads only files whose size another inode has; the rest are recorded with their hash unknown, never as unique or duplicate', async () => {
    write(`${stash}/a/unique.bin`, 'u'.repeat(10));
    write(`${stash}/a/twin1.bin`, 'T'.repeat(20));
    write(`${stash}/b/twin2.bin`, 'T'.repeat(20));
    write(`${stash}/b/same-size-other.bin`, 'x'.repeat(19) + 'y'); // 20 bytes, other content
    write(`${stash}/c/solo-linked.bin`, 's'.repeat(30));
    linkSync(`${stash}/c/solo-linked.bin`, `${stash}/c/solo-link2.bin`); // one inode, two paths: still nobody else's size
    const s = await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts());
    expect(s).toMatchObject({ status: 'completed', added: 6, filesHashed: 3, unhashed: 3 });
    expect(row(`${stash}/a/unique.bin`)).toMatchObject({ sha256: null, quick_hash: null });
    expect(row(`${stash}/c/solo-linked.bin`)).toMatchObject({ sha256: null, quick_hash: null });
    expect(row(`${stash}/c/solo-link2.bin`)).toMatchObject({ sha256: null, quick_hash: null });
    expect(row(`${stash}/a/twin1.bin`).sha256).toBe(sha('T'.repeat(20)));
    expect(row(`${stash}/b/twin2.bin`).sha256).toBe(sha('T'.repeat(20)));
    expect(row(`${stash}/b/same-size-other.bin`).sha256).toBe(sha('x'.repeat(19) + 'y'));
    // Reports: the twins are the only duplicate; an unhashed file is neither a duplicate nor "unique" content.
    expect(localDupes(catalog).map((g) => g.inodes.flatMap((i) => i.paths).sort())).toEqual([[`${stash}/a/twin1.bin`, `${stash}/b/twin2.bin`]]);
    const content = orphanContent(catalog, new Set());
    expect(content({ fsId: 1, ino: row(`${stash}/a/unique.bin`).ino })).toBe('unhashed');
    expect(content({ fsId: 1, ino: row(`${stash}/b/same-size-other.bin`).ino })).toBe('unique');

    // A rescan with no change reads nothing and writes nothing, unhashed rows included.
    const serial = catalog.serial();
    const again = await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts());
    expect(again).toMatchObject({ added: 0, changed: 0, unchanged: 6, filesHashed: 0, unhashed: 3 });
    expect(catalog.serial()).toBe(serial);
  });

  it('a file whose size was unique gets a same-size twin later: the next scan reads both, in whichever root or filesystem it was recorded', async () => {
    write(`${stash}/m/movie.mkv`, 'M'.repeat(4096));
    write(`${stash}/m/other.mkv`, 'o'.repeat(5000));
    write(`${pool}/p/cold.mkv`, 'C'.repeat(7000));
    await scanRoots(catalog, [{ path: stash, kind: 'seeding' }, { path: pool, kind: 'seeding' }], opts());
    expect(row(`${stash}/m/movie.mkv`).sha256).toBeNull();
    expect(row(`${pool}/p/cold.mkv`).sha256).toBeNull();

    // Same bytes appear on pool (a cross-filesystem copy, a reuse donor): scanning pool alone reads the stash file too.
    write(`${pool}/p/movie-copy.mkv`, 'M'.repeat(4096));
    const s1 = await scanRoots(catalog, [{ path: pool, kind: 'seeding' }], opts());
    expect(s1).toMatchObject({ added: 1, hashedLater: 1 });
    expect(row(`${pool}/p/movie-copy.mkv`).sha256).toBe(sha('M'.repeat(4096)));
    expect(row(`${stash}/m/movie.mkv`).sha256).toBe(sha('M'.repeat(4096)));
    expect(row(`${stash}/m/other.mkv`).sha256).toBeNull();

    // Same size, other bytes, in the same root as the unhashed one: both read, recorded as different content.
    write(`${pool}/q/not-cold.mkv`, 'c'.repeat(7000));
    await scanRoots(catalog, [{ path: pool, kind: 'seeding' }], opts());
    expect(row(`${pool}/p/cold.mkv`).sha256).toBe(sha('C'.repeat(7000)));
    expect(row(`${pool}/q/not-cold.mkv`).sha256).toBe(sha('c'.repeat(7000)));
    expect(localDupes(catalog)).toEqual([]);

    // A twin walked in a later root of the same scan than the file it twins.
    write(`${stash}/z/other-twin.mkv`, 'o'.repeat(5000));
    const s3 = await scanRoots(catalog, [{ path: `${stash}/m`, kind: 'adhoc' }, { path: `${stash}/z`, kind: 'adhoc' }], opts());
    expect(s3.status).toBe('completed');
    expect(row(`${stash}/m/other.mkv`).sha256).toBe(sha('o'.repeat(5000)));
    expect(row(`${stash}/z/other-twin.mkv`).sha256).toBe(sha('o'.repeat(5000)));
    expect(s3.unhashed).toBe(0);
  });

  it('a renamed unhashed file keeps its inode and stays unhashed; an edit that gives it a shared size gets it read', async () => {
    write(`${stash}/a/f.bin`, 'f'.repeat(100));
    write(`${stash}/a/g.bin`, 'g'.repeat(200));
    await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts());
    renameSync(`${stash}/a/f.bin`, `${stash}/a/f2.bin`);
    const s = await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts());
    expect(s).toMatchObject({ filesHashed: 0, unhashed: 2 });
    expect(row(`${stash}/a/f2.bin`).sha256).toBeNull();
    writeFileSync(`${stash}/a/f2.bin`, 'h'.repeat(200)); // now g.bin's size, other bytes
    await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts());
    expect(row(`${stash}/a/f2.bin`).sha256).toBe(sha('h'.repeat(200)));
    expect(row(`${stash}/a/g.bin`).sha256).toBe(sha('g'.repeat(200)));
  });

  it('a catalog made by the previous code (every file hashed) keeps its hashes; --hash-all scans leave nothing unknown of a shared size', async () => {
    write(`${stash}/a/one.bin`, '1'.repeat(11));
    write(`${stash}/a/two.bin`, '2'.repeat(22));
    await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts({ hash: 'all' }));
    expect(row(`${stash}/a/one.bin`).sha256).toBe(sha('1'.repeat(11)));
    const s = await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts());
    expect(s).toMatchObject({ filesHashed: 0, unhashed: 0 });
    expect(row(`${stash}/a/one.bin`).sha256).toBe(sha('1'.repeat(11)));
    // A new file of a size only a hashed row has: read (it could be that row's duplicate).
    write(`${stash}/b/one-again.bin`, '1'.repeat(11));
    write(`${stash}/b/three.bin`, '3'.repeat(33));
    await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts());
    expect(row(`${stash}/b/one-again.bin`).sha256).toBe(sha('1'.repeat(11)));
    expect(row(`${stash}/b/three.bin`).sha256).toBeNull();
    // A later scan that hashes everything reads the unknown ones whose size it shares, elsewhere too.
    write(`${pool}/c/three-copy.bin`, '3'.repeat(33));
    await scanRoots(catalog, [{ path: pool, kind: 'seeding' }], opts({ hash: 'all' }));
    expect(row(`${stash}/b/three.bin`).sha256).toBe(sha('3'.repeat(33)));
  });

  it('a row another process records during the scan, of the size a file of this scan holds, gets both read at its end', async () => {
    write(`${pool}/known/first.bin`, 'k'.repeat(10));
    await scanRoots(catalog, [{ path: pool, kind: 'seeding' }], opts()); // the catalog knows pool's filesystem
    write(`${stash}/a/held.bin`, 'h'.repeat(50));
    write(`${stash}/a/other-size.bin`, 'o'.repeat(60));
    write(`${pool}/late/twin-size.bin`, 'H'.repeat(50)); // same size, other bytes: recorded by someone else mid-scan
    const other = openCatalog(catalog.path);
    let inserted = false;
    const progress = (p: { filesSeen: number }): void => {
      // Once this scan's gate has loaded the catalog's sizes (its first walked file), another connection commits a row.
      if (inserted || p.filesSeen === 0) return;
      inserted = true;
      const st = statSync(`${pool}/late/twin-size.bin`, { bigint: true });
      const fsId = other.db.prepare(`SELECT fs_id FROM file_paths WHERE abs_path = ?`).pluck().get(`${pool}/known/first.bin`) as number;
      other.db
        .prepare(`INSERT INTO files (fs_id, path, ino, size, mtime_ns, nlink, status, first_seen, last_seen) VALUES (?, 'late/twin-size.bin', ?, 50, ?, 1, 'active', 1, 1)`)
        .run(fsId, st.ino, String(st.mtimeNs));
    };
    try {
      const s = await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts({ progress }));
      expect(inserted).toBe(true);
      expect(s.status).toBe('completed');
    } finally {
      other.close();
    }
    // Two inodes of one size: neither is left unknown (the other process's scan may have ended before this row existed).
    expect(row(`${pool}/late/twin-size.bin`).sha256).toBe(sha('H'.repeat(50)));
    expect(row(`${stash}/a/held.bin`).sha256).toBe(sha('h'.repeat(50)));
    expect(row(`${stash}/a/other-size.bin`).sha256).toBeNull();
  });

  it('the rows of the files held back are written while the released files are still being hashed, not after', async () => {
    for (let i = 0; i < 5; i++) write(`${stash}/solo/u${i}.bin`, 'u'.repeat(10 + i));
    write(`${stash}/a/twin1.bin`, 'T'.repeat(40));
    write(`${stash}/b/twin2.bin`, 'T'.repeat(40));
    const heldRows = catalog.db.prepare(`SELECT count(*) FROM files WHERE ('/' || path) LIKE '%/solo/%' AND sha256 IS NULL`).pluck();
    // Each read of a twin waits (a bounded number of event-loop turns) for the held rows to be in the catalog.
    const seen: number[] = [];
    const wrapHash = (hash: (job: HashJob) => Promise<HashResult>) => async (job: HashJob): Promise<HashResult> => {
      for (let turn = 0; turn < 200 && (heldRows.get() as number) < 5; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
      seen.push(heldRows.get() as number);
      return hash(job);
    };
    const s = await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts({ wrapHash }));
    expect(s).toMatchObject({ status: 'completed', added: 7, filesHashed: 2, unhashed: 5 });
    expect(seen).toEqual([5]); // the twins are one read (see the next test)
    expect(row(`${stash}/a/twin1.bin`).sha256).toBe(sha('T'.repeat(40)));
    expect(row(`${stash}/solo/u3.bin`)).toMatchObject({ sha256: null, quick_hash: null });
  });

  it('a library of files of distinct sizes is written in batches while the walk goes on, not in one transaction after it', async () => {
    // 12,000 files of distinct sizes, sparse (no space used): every one held back, none read. The first batch of rows
    // (5,000) must be committed while the walk still reports progress; a scan that wrote them after the walk would
    // show none at every progress report of the walk.
    const n = 12_000;
    for (let i = 0; i < n; i++) {
      const dir = `${stash}/Show.${Math.floor(i / 1000)}/Season ${Math.floor(i / 100) % 10}`;
      if (i % 100 === 0) mkdirSync(dir, { recursive: true });
      writeFileSync(`${dir}/e${i}.mkv`, '');
      truncateSync(`${dir}/e${i}.mkv`, 1_000_000 + i);
    }
    const rows = catalog.db.prepare(`SELECT count(*) FROM files WHERE status = 'active'`).pluck();
    const duringWalk: number[] = [];
    const s = await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts({ progress: (p) => void (p.walking && duringWalk.push(rows.get() as number)) }));
    expect(s).toMatchObject({ status: 'completed', added: n, filesHashed: 0, unhashed: n });
    expect(duringWalk.length).toBeGreaterThan(1);
    expect(Math.max(...duringWalk)).toBeGreaterThanOrEqual(5_000);
    expect(rows.get()).toBe(n);
    expect(row(`${stash}/Show.7/Season 3/e7345.mkv`)).toMatchObject({ sha256: null, quick_hash: null });
  });

  it('with few files kept held, a twin met long after the first copy still gets both read: the first copy after the walk', async () => {
    // Two top folders walked one after the other, 300 files of distinct sizes each; 20 files of a walks' first folder
    // have a twin (equal bytes) or a same-size other in the second. The gate keeps 10 held: by the time the walk
    // reaches a twin its first copy was let go, recorded unhashed, and is read after the walk.
    const body = (i: number, other = false) => Buffer.alloc(1_000 + i, other ? 2 : 1);
    for (let i = 0; i < 300; i++) {
      write(`${stash}/a/f${i}.bin`, body(i));
      write(`${stash}/b/g${i}.bin`, body(300 + i));
    }
    for (let i = 0; i < 20; i++) write(`${stash}/b/twin${i}.bin`, body(i * 10, i % 4 === 3));
    const s = await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts({ maxHeld: 10 }));
    expect(s).toMatchObject({ status: 'completed', added: 620, filesHashed: 40, unhashed: 580 });
    for (let i = 0; i < 20; i++) {
      expect(row(`${stash}/a/f${i * 10}.bin`).sha256, `a/f${i * 10}.bin`).toBe(sha(body(i * 10)));
      expect(row(`${stash}/b/twin${i}.bin`).sha256, `b/twin${i}.bin`).toBe(sha(body(i * 10, i % 4 === 3)));
    }
    expect(row(`${stash}/a/f1.bin`)).toMatchObject({ sha256: null, quick_hash: null });
    // The same tree with every file kept held: the same catalog.
    const hashes = () => catalog.db.prepare(`SELECT abs_path, sha256 FROM file_paths WHERE status = 'active' ORDER BY abs_path`).all();
    const bounded = hashes();
    catalog.db.exec(`DELETE FROM files`);
    await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts());
    expect(hashes()).toEqual(bounded);
  });

  it('the first two inodes of a size are one read, the second as the first one\'s twin (equal bytes hashed once); a third is read alone', async () => {
    const big = Buffer.alloc(5 * 64 * 1024 + 3, 7); // past the whole-content quick hash
    const other = Buffer.from(big);
    other[other.length - 1] = 8; // same size, other last byte
    write(`${stash}/a/big1.bin`, big);
    write(`${stash}/b/big2.bin`, big);
    write(`${stash}/c/big3.bin`, other);
    write(`${stash}/a/s1.bin`, 'S'.repeat(40));
    write(`${stash}/b/s2.bin`, 'S'.repeat(39) + 's');
    const jobs: { path: string; twin: string | null }[] = [];
    const wrapHash = (hash: (job: HashJob) => Promise<HashResult>) => async (job: HashJob): Promise<HashResult> => {
      jobs.push({ path: path.relative(stash, String(job.path)), twin: job.twin ? path.relative(stash, String(job.twin.path)) : null });
      return hash(job);
    };
    const s = await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts({ wrapHash }));
    expect(s).toMatchObject({ status: 'completed', added: 5, filesHashed: 5, unhashed: 0 });
    // One job per pair met first (walk order decides which file leads), the third file of the big size alone.
    expect(jobs).toHaveLength(3);
    const pairs = jobs.filter((j) => j.twin !== null).map((j) => [j.path, j.twin].sort());
    expect(pairs.sort()).toEqual(expect.arrayContaining([expect.arrayContaining(['a/s1.bin', 'b/s2.bin'])]));
    expect(pairs.filter((p) => p[0]!.startsWith('a/big') || p[0]!.startsWith('b/big') || p[0]!.startsWith('c/big'))).toHaveLength(1);
    expect(jobs.filter((j) => j.twin === null)).toHaveLength(1);
    for (const f of ['a/big1.bin', 'b/big2.bin']) expect(row(`${stash}/${f}`).sha256).toBe(sha(big));
    expect(row(`${stash}/c/big3.bin`).sha256).toBe(sha(other));
    expect(row(`${stash}/a/s1.bin`)).toMatchObject({ sha256: sha('S'.repeat(40)), quick_hash: sha('S'.repeat(40)) });
    expect(row(`${stash}/b/s2.bin`)).toMatchObject({ sha256: sha('S'.repeat(39) + 's'), quick_hash: sha('S'.repeat(39) + 's') });
    // The duplicates are the equal pair only.
    expect(catalog.db.prepare(`SELECT count(DISTINCT sha256) FROM files WHERE sha256 IS NOT NULL`).pluck().get()).toBe(4);
  });

  it('a twin edited after the walk is reported changed, not recorded with the first file\'s hashes', async () => {
    write(`${stash}/a/t1.bin`, 'Q'.repeat(50));
    write(`${stash}/b/t2.bin`, 'Q'.repeat(50));
    let twinPath = '';
    const wrapHash = (hash: (job: HashJob) => Promise<HashResult>) => async (job: HashJob): Promise<HashResult> => {
      if (job.twin) {
        twinPath = String(job.twin.path);
        // The twin is edited after the walk saw it (same size, other bytes, another mtime).
        writeFileSync(twinPath, 'R'.repeat(50));
      }
      return hash(job);
    };
    const s = await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts({ wrapHash }));
    expect(twinPath).not.toBe('');
    expect(s.problems.map((p) => [p.path, p.code])).toEqual([[twinPath, 'ECHANGED']]);
    const lead = twinPath.endsWith('t1.bin') ? `${stash}/b/t2.bin` : `${stash}/a/t1.bin`;
    expect(row(lead).sha256).toBe(sha('Q'.repeat(50)));
    expect(row(twinPath).sha256).toBeNull();
  });
});
