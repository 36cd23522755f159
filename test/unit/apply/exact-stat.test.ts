// apply's lstat (fs-port.ts exactStatReader, the real FsPort's lstat and lstatId) answers exactly what fs.lstatSync with bigint answers, and asks it whatever it cannot answer exactly.
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsBinding } from '../../../src/catalog/live-check.js';
import { bigintStat, exactStatReader, realFsPort, type StatReader } from '../../../src/apply/fs-port.js';

/** An answer as a value to compare: the FsStat, no file, or the error code. */
function seen(f: StatReader, p: string | Buffer): unknown {
  try {
    return f(p) ?? 'none';
  } catch (e) {
    return { code: (e as { code?: unknown }).code };
  }
}

describe('exactStatReader', () => {
  let dir: string;
  const paths: (string | Buffer)[] = [];
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hashall-exact-stat-'));
    const file = path.join(dir, 'file');
    writeFileSync(file, 'some bytes', { mode: 0o640 });
    // Nanoseconds a double of milliseconds cannot hold (what fs.lstatSync without bigint rounds).
    const ns = path.join(dir, 'ns');
    writeFileSync(ns, 'x');
    execFileSync('touch', ['-m', '-d', '@1600000000.123456789', ns]);
    writeFileSync(path.join(dir, 'linked'), 'y');
    linkSync(path.join(dir, 'linked'), path.join(dir, 'linked-2'));
    writeFileSync(path.join(dir, 'before-1970'), 'z');
    execFileSync('touch', ['-m', '-d', '@-1.5', path.join(dir, 'before-1970')]);
    writeFileSync(path.join(dir, 'epoch'), '');
    execFileSync('touch', ['-m', '-d', '@0', path.join(dir, 'epoch')]);
    mkdirSync(path.join(dir, 'sub'));
    symlinkSync('file', path.join(dir, 'link'));
    symlinkSync('nowhere', path.join(dir, 'dangling'));
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    paths.push(
      ...['file', 'ns', 'linked', 'before-1970', 'epoch', 'sub', 'link', 'dangling', 'fifo', 'missing', 'n'.repeat(300), 'not\0text'].map((n) => path.join(dir, n)),
      path.join(file, 'below-a-file'),
      Buffer.concat([Buffer.from(dir + '/'), Buffer.from([0xff, 0x66])]),
      'relative-name-that-does-not-exist',
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers as fs.lstatSync with bigint for files, links, folders, FIFOs, missing names, errors, nanosecond and pre-1970 mtimes', () => {
    const fast = exactStatReader(fsBinding(), process.execPath);
    // On this Node the binding is there and answers as fs.lstatSync: the fast path is the one tested.
    expect(fast).not.toBe(bigintStat);
    for (const p of paths) expect(seen(fast, p), String(p)).toEqual(seen(bigintStat, p));
    expect(seen(fast, path.join(dir, 'ns'))).toMatchObject({ mtimeNs: '1600000000123456789', kind: 'file' });
    expect(seen(fast, path.join(dir, 'linked'))).toMatchObject({ nlink: 2 });
    expect(seen(fast, path.join(dir, 'file'))).toMatchObject({ size: 10, mode: 0o100640 });
    expect(seen(fast, path.join(dir, 'link'))).toMatchObject({ kind: 'symlink' });
    expect(seen(fast, path.join(dir, 'sub'))).toMatchObject({ kind: 'dir' });
    expect(seen(fast, path.join(dir, 'fifo'))).toMatchObject({ kind: 'other' });
    expect(seen(fast, path.join(dir, 'missing'))).toBe('none');
    expect(seen(fast, path.join(dir, 'file', 'below-a-file'))).toEqual({ code: 'ENOTDIR' });
  });

  it('asks fs.lstatSync for a value that is not a safe integer (never a rounded inode), a pre-1970 mtime, a name that is not text', () => {
    const binding = fsBinding() as { lstat: (...a: unknown[]) => ArrayLike<number> | undefined };
    const file = path.join(dir, 'file');
    for (const at of [0, 7]) {
      // The binding as it would answer for a device or an inode past 2^53 (a double: rounded).
      const fake = {
        lstat(p: string, ...rest: unknown[]) {
          const s = binding.lstat(p, ...rest);
          if (s === undefined || p !== file) return s;
          const a = Float64Array.from(s);
          a[at] = 2 ** 53 + 2;
          return a;
        },
      };
      const asked: unknown[] = [];
      const slow: StatReader = (p) => {
        asked.push(p);
        return bigintStat(p);
      };
      const fast = exactStatReader(fake, process.execPath, slow);
      expect(fast).not.toBe(slow);
      asked.length = 0;
      expect(seen(fast, file)).toEqual(seen(bigintStat, file));
      expect(asked).toEqual([file]);
      asked.length = 0;
      const odd = [path.join(dir, 'before-1970'), path.join(dir, 'epoch'), paths.find((p) => Buffer.isBuffer(p))!, path.join(dir, 'not\0text')];
      for (const p of odd) expect(seen(fast, p)).toEqual(seen(bigintStat, p));
      expect(asked).toEqual(odd);
    }
  });

  it('is the bigint read itself when the binding answers otherwise for the reference, or is not there', () => {
    const binding = fsBinding() as { lstat: (...a: unknown[]) => ArrayLike<number> | undefined };
    // Another layout of the stat numbers (uid and gid swapped: a difference only the full status shows).
    const swapped = {
      lstat(...args: unknown[]) {
        const s = binding.lstat(...args);
        if (s === undefined) return s;
        const a = Float64Array.from(s);
        [a[3], a[4], a[7], a[8]] = [a[4]! + 1, a[3]!, a[8]!, a[7]!];
        return a;
      },
    };
    expect(exactStatReader(swapped, process.execPath)).toBe(bigintStat);
    const throwing = {
      lstat: () => {
        throw new TypeError('not this way');
      },
    };
    expect(exactStatReader(throwing, process.execPath)).toBe(bigintStat);
    expect(exactStatReader(null, process.execPath)).toBe(bigintStat);
    expect(exactStatReader({}, process.execPath)).toBe(bigintStat);
  });

  it("is what the real FsPort's lstat and lstatId read", async () => {
    const fs = realFsPort();
    try {
      for (const name of ['file', 'ns', 'linked', 'sub', 'link', 'dangling', 'fifo', 'missing']) {
        const p = path.join(dir, name);
        const want = bigintStat(p) ?? null;
        expect(await fs.lstat(p)).toEqual(want);
        expect(await fs.lstatId(p)).toEqual(want && { dev: want.dev, ino: want.ino, nlink: want.nlink, kind: want.kind });
      }
      await expect(fs.lstat(path.join(dir, 'file', 'x'))).rejects.toMatchObject({ code: 'ENOTDIR' });
      await expect(fs.lstatId(path.join(dir, 'file', 'x'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    } finally {
      await fs.close();
    }
  });
});
