// The hash worker pool on real files: documented quick-hash format at the small/sampled boundary, full SHA-256, changes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, type BigIntStats } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { HashPool, QUICK_BLOCK, type HashJob } from '../../../src/fs/hash.js';

const sha = (...parts: (string | Buffer)[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
/** The quick hash (format v2) as documented in src/fs/hash.ts, computed independently. */
function quickOf(content: Buffer): string {
  if (content.length <= 3 * QUICK_BLOCK) return sha(content);
  const head = `hashall-quick-v1\n${content.length}\n`;
  const mid = Math.floor((content.length - QUICK_BLOCK) / 2);
  const end = content.length - QUICK_BLOCK;
  return sha(head, content.subarray(0, QUICK_BLOCK), content.subarray(mid, mid + QUICK_BLOCK), content.subarray(end));
}

let dir: string;
let pool: HashPool;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hashall-hash-'));
  pool = new HashPool({ workers: 2, batchFiles: 3 });
});
afterEach(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('HashPool', () => {
  it('computes quick and full hashes around the whole-content/sampled boundary, each file read once when small', async () => {
    const sizes = [0, 1, QUICK_BLOCK, 3 * QUICK_BLOCK - 1, 3 * QUICK_BLOCK, 3 * QUICK_BLOCK + 1, 5 * 1024 * 1024 + 3];
    const files = sizes.map((size, i) => {
      const p = path.join(dir, `f${i}`);
      const content = randomBytes(size);
      writeFileSync(p, content);
      return { p, content };
    });
    const results = await Promise.all(
      files.map((f) => pool.hash({ path: f.p, quick: true, full: true, size: f.content.length, mtimeNs: statSync(f.p, { bigint: true }).mtimeNs })),
    );
    results.forEach((r, i) => {
      const c = (files[i] as { content: Buffer }).content;
      expect(r.error).toBeUndefined();
      expect(r.changed).toBeUndefined();
      expect(r.quickHash).toBe(quickOf(c));
      expect(r.sha256).toBe(sha(c));
    });
    // Small files are read once for both hashes.
    expect(results[4]?.bytesRead).toBe(3 * QUICK_BLOCK);
    // Quick only and full only give the same values as together.
    const f5 = files[5] as { p: string; content: Buffer };
    expect((await pool.hash({ path: f5.p, quick: true, full: false })).quickHash).toBe(quickOf(f5.content));
    expect((await pool.hash({ path: f5.p, quick: false, full: true })).sha256).toBe(sha(f5.content));
    const f3 = files[3] as { p: string; content: Buffer };
    const fullOnly = await pool.hash({ path: f3.p, quick: false, full: true });
    expect(fullOnly).toMatchObject({ sha256: sha(f3.content), quickHash: null });
  });

  it('a sampled file asked both hashes is read once: its three blocks taken from the full read, across read chunks', async () => {
    const CHUNK = 4 * 1024 * 1024; // the worker's read size
    // The middle and last blocks straddle chunk boundaries; the others sit inside one chunk or span several.
    const sizes = [3 * QUICK_BLOCK + 1, 1024 * 1024 + 17, 2 * CHUNK + 1000, 2 * CHUNK - 1000, 3 * CHUNK + QUICK_BLOCK];
    for (const [i, size] of sizes.entries()) {
      const p = path.join(dir, `s${i}`);
      const content = randomBytes(size);
      writeFileSync(p, content);
      const both = await pool.hash({ path: p, quick: true, full: true, size });
      expect(both).toMatchObject({ quickHash: quickOf(content), sha256: sha(content), bytesRead: size });
      expect((await pool.hash({ path: p, quick: true, full: false })).quickHash).toBe(quickOf(content));
    }
  });

  it('warm() starts the threads once before any job (jobs then run on them) and close() ends them', async () => {
    const threads = (): number => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    const before = threads();
    const warmed = new HashPool({ workers: 2 });
    warmed.warm();
    warmed.warm();
    expect(threads() - before).toBe(2);
    const p = path.join(dir, 'w');
    const content = randomBytes(1000);
    writeFileSync(p, content);
    expect((await warmed.hash({ path: p, quick: true, full: true })).sha256).toBe(sha(content));
    expect(threads() - before).toBe(2);
    await warmed.close();
    expect(threads()).toBe(before);
    // A closed pool starts nothing.
    warmed.warm();
    expect(threads()).toBe(before);
  });

  it('reports a file whose size or mtime differs from the walk as changed, and a FIFO as not a regular file without blocking', async () => {
    const p = path.join(dir, 'small');
    writeFileSync(p, 'abc');
    const st = statSync(p, { bigint: true });
    expect(await pool.hash({ path: p, quick: true, full: true, size: 2, mtimeNs: st.mtimeNs })).toMatchObject({ changed: true });
    expect(await pool.hash({ path: p, quick: true, full: true, size: 3, mtimeNs: st.mtimeNs + 1n })).toMatchObject({ changed: true });
    expect(await pool.hash({ path: p, quick: true, full: true, size: 3, mtimeNs: st.mtimeNs })).toMatchObject({ sha256: sha('abc') });
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect((await pool.hash({ path: fifo, quick: true, full: true })).error?.code).toBe('ENOTREG');
    expect((await pool.hash({ path: path.join(dir, 'missing'), quick: true, full: true })).error?.code).toBe('ENOENT');
  });

  it('a small file as the walk saw it is hashed only if it is still that inode, unchanged: another file, an edit, a folder or a FIFO at the path since yield no hashes', async () => {
    const p = path.join(dir, 'walked');
    writeFileSync(p, 'abcd');
    const st: BigIntStats = statSync(p, { bigint: true });
    const walked: HashJob = { path: p, quick: true, full: true, size: 4, mtimeNs: st.mtimeNs, dev: st.dev, ino: st.ino };
    expect(await pool.hash(walked)).toEqual({ quickHash: sha('abcd'), sha256: sha('abcd'), bytesRead: 4 });
    expect(await pool.hash({ ...walked, quick: false })).toEqual({ quickHash: null, sha256: sha('abcd'), bytesRead: 4 });
    // The walk's record differs from the inode now: its mtime, its size, its inode number or its device.
    expect(await pool.hash({ ...walked, mtimeNs: st.mtimeNs + 1n })).toMatchObject({ changed: true });
    expect(await pool.hash({ ...walked, size: 3 })).toMatchObject({ changed: true });
    expect(await pool.hash({ ...walked, ino: st.ino + 1n })).toMatchObject({ changed: true });
    expect(await pool.hash({ ...walked, dev: st.dev + 1n })).toMatchObject({ changed: true });
    // Another file renamed over the path, same size and mtime: another inode, so no hashes for it.
    const other = path.join(dir, 'other');
    writeFileSync(other, 'wxyz');
    utimesSync(other, st.atime, st.mtime);
    renameSync(other, p);
    expect(await pool.hash(walked)).toMatchObject({ changed: true });
    expect((await pool.hash(walked)).sha256).toBeUndefined();
    // A folder or a FIFO at the path (the FIFO without blocking the worker).
    rmSync(p);
    mkdirSync(p);
    expect((await pool.hash(walked)).error?.code).toBe('ENOTREG');
    rmSync(p, { recursive: true });
    execFileSync('mkfifo', [p]);
    expect((await pool.hash(walked)).error?.code).toBe('ENOTREG');
    rmSync(p);
    expect((await pool.hash(walked)).error?.code).toBe('ENOENT');
  });

  describe('a twin (a second file of the same size read alongside and compared byte for byte)', () => {
    /** A job for `p` as the walk saw it (size, mtime, device, inode). */
    const jobOf = (p: string): HashJob => {
      const st: BigIntStats = statSync(p, { bigint: true });
      return { path: p, quick: true, full: true, size: Number(st.size), mtimeNs: st.mtimeNs, dev: st.dev, ino: st.ino };
    };
    const put = (name: string, content: Buffer): string => {
      const p = path.join(dir, name);
      writeFileSync(p, content);
      return p;
    };

    it('equal bytes: the twin gets the same hashes, for whole-content and sampled quick hashes and across read chunks', async () => {
      for (const size of [0, 1, 3 * QUICK_BLOCK, 3 * QUICK_BLOCK + 1, 9 * 1024 * 1024 + 7]) {
        const content = randomBytes(size);
        const a = put(`a${size}`, content);
        const b = put(`b${size}`, content);
        const r = await pool.hash({ ...jobOf(a), twin: jobOf(b) });
        expect(r).toMatchObject({ quickHash: quickOf(content), sha256: sha(content) });
        expect(r.twin).toMatchObject({ quickHash: quickOf(content), sha256: sha(content), bytesRead: size });
        expect(r.twin?.error).toBeUndefined();
        expect(r.twin?.changed).toBeUndefined();
      }
    });

    it('other bytes (first, middle or last byte, past the first read chunk): the twin is hashed on its own', async () => {
      const size = 9 * 1024 * 1024 + 7;
      for (const at of [0, 5 * 1024 * 1024, size - 1]) {
        const content = randomBytes(size);
        const other = Buffer.from(content);
        other[at] = (other[at] as number) ^ 1;
        const a = put(`a${at}`, content);
        const b = put(`b${at}`, other);
        const r = await pool.hash({ ...jobOf(a), twin: jobOf(b) });
        expect(r).toMatchObject({ quickHash: quickOf(content), sha256: sha(content) });
        expect(r.twin).toMatchObject({ quickHash: quickOf(other), sha256: sha(other) });
      }
      // Small files too (one read each).
      const a = put('sa', Buffer.from('abcd'));
      const b = put('sb', Buffer.from('abce'));
      const r = await pool.hash({ ...jobOf(a), twin: jobOf(b) });
      expect(r.twin).toMatchObject({ quickHash: sha('abce'), sha256: sha('abce') });
    });

    it('a twin that is gone, changed since the walk or not a regular file gets its own answer; so does a primary that fails', async () => {
      const content = randomBytes(5000);
      const a = put('a', content);
      const b = put('b', content);
      const gone = { ...jobOf(b), path: path.join(dir, 'missing') };
      expect((await pool.hash({ ...jobOf(a), twin: gone })).twin?.error?.code).toBe('ENOENT');
      expect((await pool.hash({ ...jobOf(a), twin: { ...jobOf(b), mtimeNs: jobOf(b).mtimeNs! + 1n } })).twin).toMatchObject({ changed: true });
      // The walk saw another size than the file has now: changed, even though its bytes equal the primary's.
      const grown = put('grown', Buffer.concat([content, Buffer.from('x')]));
      expect((await pool.hash({ ...jobOf(a), twin: { ...jobOf(grown), size: 5000 } })).twin).toMatchObject({ changed: true });
      const fifo = path.join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      expect((await pool.hash({ ...jobOf(a), twin: { path: fifo, quick: true, full: true } })).twin?.error?.code).toBe('ENOTREG');
      // The primary gone: its error, and the twin read on its own.
      const r = await pool.hash({ ...jobOf(a), path: path.join(dir, 'nope'), twin: jobOf(b) });
      expect(r.error?.code).toBe('ENOENT');
      expect(r.twin).toMatchObject({ quickHash: sha(content), sha256: sha(content) });
    });
  });
});
