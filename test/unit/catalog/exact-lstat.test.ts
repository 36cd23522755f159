// The live check's exactLstat answers exactly what fs.lstatSync (bigint) answers, and falls back to it whatever it cannot answer exactly.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactLstat, fsBinding, type LstatFn } from '../../../src/catalog/live-check.js';

const OPTS = { bigint: true, throwIfNoEntry: false } as const;
const real = lstatSync as unknown as LstatFn;

/** What the live check reads of an answer: the four values as it compares them, or the error code, or no file. */
function seen(f: LstatFn, p: string): unknown {
  try {
    const st = f(p, OPTS);
    return st === undefined
      ? 'none'
      : { ino: Number(st.ino), nlink: Number(st.nlink), size: Number(st.size), mtimeNs: String(st.mtimeNs), uid: Number(st.uid), gid: Number(st.gid), mode: Number(st.mode) };
  } catch (e) {
    return { code: (e as { code?: unknown }).code };
  }
}

describe('exactLstat', () => {
  let dir: string;
  const paths: string[] = [];
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hashall-exact-lstat-'));
    const file = path.join(dir, 'file');
    writeFileSync(file, 'some bytes');
    // Nanoseconds that a double of milliseconds cannot hold (what fs.lstatSync without bigint would round).
    const ns = path.join(dir, 'ns');
    writeFileSync(ns, 'x');
    execFileSync('touch', ['-m', '-d', '@1600000000.123456789', ns]);
    const linked = path.join(dir, 'linked');
    writeFileSync(linked, 'y');
    linkSync(linked, path.join(dir, 'linked-2'));
    const old = path.join(dir, 'before-1970');
    writeFileSync(old, 'z');
    execFileSync('touch', ['-m', '-d', '@-1.5', old]);
    const epoch = path.join(dir, 'epoch');
    writeFileSync(epoch, '');
    execFileSync('touch', ['-m', '-d', '@0', epoch]);
    // Another owner, group and mode (the dedupe planner links only files that agree on all three: withLiveMeta).
    const owned = path.join(dir, 'owned');
    writeFileSync(owned, 'o');
    chownSync(owned, 1234, 5678);
    chmodSync(owned, 0o4640);
    mkdirSync(path.join(dir, 'sub'));
    symlinkSync('file', path.join(dir, 'link'));
    symlinkSync('nowhere', path.join(dir, 'dangling'));
    paths.push(
      file,
      ns,
      linked,
      owned,
      old,
      epoch,
      path.join(dir, 'sub'),
      path.join(dir, 'link'),
      path.join(dir, 'dangling'),
      path.join(dir, 'missing'),
      path.join(file, 'below-a-file'),
      path.join(dir, 'n'.repeat(300)),
      path.join(dir, 'not\0text'),
      'relative-name-that-does-not-exist',
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers as fs.lstatSync for files, links, folders, missing names, errors, nanosecond and pre-1970 mtimes', () => {
    const fast = exactLstat(fsBinding(), real, process.execPath);
    // On this Node the binding is there and answers as fs.lstatSync: the fast path is the one tested.
    expect(fast).not.toBe(real);
    for (const p of paths) expect(seen(fast, p), p).toEqual(seen(real, p));
    expect(seen(fast, path.join(dir, 'ns'))).toMatchObject({ mtimeNs: '1600000000123456789' });
    expect(seen(fast, path.join(dir, 'linked'))).toMatchObject({ nlink: 2 });
    expect(seen(fast, path.join(dir, 'before-1970'))).toMatchObject({ mtimeNs: '-1500000000' });
    expect(seen(fast, path.join(dir, 'epoch'))).toMatchObject({ mtimeNs: '0' });
    expect(seen(fast, path.join(dir, 'owned'))).toMatchObject({ uid: 1234, gid: 5678, mode: 0o104640 });
  });

  it('asks fs.lstatSync for a number that is not a safe integer (never a rounded inode)', () => {
    const binding = fsBinding() as { lstat: (...a: unknown[]) => ArrayLike<number> | undefined };
    const huge = path.join(dir, 'file');
    // The binding as it would answer for an inode past 2^53 (a double: rounded).
    const fake = {
      lstat(p: string, ...rest: unknown[]) {
        const s = binding.lstat(p, ...rest);
        if (s === undefined || p !== huge) return s;
        const a = Float64Array.from(s);
        a[7] = 2 ** 53 + 2;
        return a;
      },
    };
    const asked: string[] = [];
    const spy: LstatFn = (p, o) => {
      asked.push(p);
      return real(p, o);
    };
    const fast = exactLstat(fake, spy, process.execPath);
    expect(fast).not.toBe(spy);
    asked.length = 0;
    expect(seen(fast, huge)).toEqual(seen(real, huge));
    expect(asked).toEqual([huge]);
    // Seconds at or before the epoch are asked of fs.lstatSync too.
    asked.length = 0;
    expect(seen(fast, path.join(dir, 'before-1970'))).toEqual(seen(real, path.join(dir, 'before-1970')));
    expect(seen(fast, path.join(dir, 'epoch'))).toEqual(seen(real, path.join(dir, 'epoch')));
    expect(asked).toEqual([path.join(dir, 'before-1970'), path.join(dir, 'epoch')]);
  });

  it('is fs.lstatSync itself when the binding answers otherwise for the reference, or is not there', () => {
    const binding = fsBinding() as { lstat: (...a: unknown[]) => ArrayLike<number> | undefined };
    // Another layout of the stat numbers (inode and size swapped).
    const swapped = {
      lstat(...args: unknown[]) {
        const s = binding.lstat(...args);
        if (s === undefined) return s;
        const a = Float64Array.from(s);
        [a[7], a[8]] = [a[8]!, a[7]!];
        return a;
      },
    };
    expect(exactLstat(swapped, real, process.execPath)).toBe(real);
    // A binding that throws what fs.lstatSync would not.
    const throwing = { lstat: () => { throw new TypeError('not this way'); } };
    expect(exactLstat(throwing, real, process.execPath)).toBe(real);
    expect(exactLstat(null, real, process.execPath)).toBe(real);
    expect(exactLstat({}, real, process.execPath)).toBe(real);
  });
});
