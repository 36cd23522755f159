// The hash worker pool on real files: documented quick-hash format at the small/sampled boundary, full SHA-256, changes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { HashPool, QUICK_BLOCK } from '../../../src/fs/hash.js';

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
});
