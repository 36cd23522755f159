// The anchored spelling of a held folder (`/proc/self/fd/N[/name]`) and the rewrite putting the folder's path back into its errors (src/domain/anchored-path.ts).
import { closeSync, constants, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { anchoredPath, withPlainPaths } from '../../../src/domain/anchored-path.js';

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): Error & { path?: unknown; dest?: unknown } {
  try {
    fn();
  } catch (err) {
    return err as Error & { path?: unknown; dest?: unknown };
  }
  throw new Error('expected a throw');
}

describe('anchoredPath', () => {
  test('the descriptor itself, and a name or relative path below it, as given (spaces, dots kept)', () => {
    expect(anchoredPath(7)).toBe('/proc/self/fd/7');
    expect(anchoredPath(7, 'a b.mkv')).toBe('/proc/self/fd/7/a b.mkv');
    expect(anchoredPath(0, '.')).toBe('/proc/self/fd/0/.');
    expect(anchoredPath(12, 'x/y z')).toBe('/proc/self/fd/12/x/y z');
  });

  test('a name of bytes that are not UTF-8 gives a Buffer with those very bytes', () => {
    const name = Buffer.from([0x66, 0xff, 0x20, 0xc3, 0x28]); // f, a lone 0xff, a space, a broken 2-byte sequence
    const p = anchoredPath(3, name);
    expect(Buffer.isBuffer(p)).toBe(true);
    expect(p.equals(Buffer.concat([Buffer.from('/proc/self/fd/3/'), name]))).toBe(true);
  });

  test('anything not a descriptor number is refused, never spelled (`/proc/self/fd/NaN` would name no held folder)', () => {
    for (const fd of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => anchoredPath(fd, 'x')).toThrow(RangeError);
  });
});

describe('withPlainPaths', () => {
  test('one anchor never touches another whose number it starts (`…/fd/1` vs `…/fd/12`), either way round', () => {
    const one = anchoredPath(1);
    const twelve = anchoredPath(12);
    const text = () => `open '${twelve}/a' then '${one}/b', '${one}' and ${twelve}`;
    const e1 = withPlainPaths(new Error(text()), one, '/stash/one') as Error;
    expect(e1.message).toBe(`open '${twelve}/a' then '/stash/one/b', '/stash/one' and ${twelve}`);
    const e12 = withPlainPaths(new Error(text()), twelve, '/pool/twelve') as Error;
    expect(e12.message).toBe(`open '/pool/twelve/a' then '${one}/b', '${one}' and /pool/twelve`);
  });

  test('the path shown is put in as written: spaces and `$` patterns kept', () => {
    const err = withPlainPaths(new Error(`x ${anchoredPath(5, 'f')}`), anchoredPath(5), "/media/a $& b $' $1") as Error;
    expect(err.message).toBe("x /media/a $& b $' $1/f");
  });

  test('message, path and dest of the error and of the errors it wraps are rewritten; the same object returned', () => {
    const inner = Object.assign(new Error(`link '${anchoredPath(9, 'a')}' -> '${anchoredPath(9, 'b')}'`), { path: anchoredPath(9, 'a'), dest: anchoredPath(9, 'b') });
    const outer = new Error(`swap in ${anchoredPath(9)}: ${inner.message}`, { cause: inner });
    expect(withPlainPaths(outer, anchoredPath(9), '/seed/d')).toBe(outer);
    expect(outer.message).toBe("swap in /seed/d: link '/seed/d/a' -> '/seed/d/b'");
    expect(inner.path).toBe('/seed/d/a');
    expect(inner.dest).toBe('/seed/d/b');
  });

  test('a read-only path (a getter-less own property made unwritable) is still put right', () => {
    const err = new Error('e');
    Object.defineProperty(err, 'path', { value: anchoredPath(4, 'n'), writable: false, configurable: true });
    withPlainPaths(err, anchoredPath(4), '/x');
    expect((err as Error & { path: string }).path).toBe('/x/n');
  });

  test('anything not an Error comes back as it is; an Error naming no anchor is left alone', () => {
    expect(withPlainPaths('text /proc/self/fd/3', anchoredPath(3), '/x')).toBe('text /proc/self/fd/3');
    expect(withPlainPaths(undefined, anchoredPath(3), '/x')).toBeUndefined();
    const err = Object.assign(new Error('no such file'), { path: Buffer.from('/proc/self/fd/3/a') });
    withPlainPaths(err, anchoredPath(3), '/x');
    expect(err.message).toBe('no such file');
    expect(Buffer.isBuffer(err.path)).toBe(true);
  });
});

describe('on real calls through a held folder', () => {
  let tmp: string | null = null;
  afterEach(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    tmp = null;
  });

  test('an error of a call by a non-UTF-8 name below a folder with a space in its path names the folder, not the descriptor', () => {
    tmp = mkdtempSync('/var/tmp/hashall-anchored-');
    const dir = path.join(tmp, 'a folder');
    mkdirSync(dir);
    const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      const err = thrown(() => lstatSync(anchoredPath(fd, Buffer.from([0x6d, 0xff, 0x2e, 0x62]))));
      expect(err.message).toContain(anchoredPath(fd));
      withPlainPaths(err, anchoredPath(fd), dir);
      expect(err.message).not.toContain('/proc/self/fd');
      expect(err.message).toContain(`'${dir}/m`);
      expect(String(err.path).startsWith(`${dir}/m`)).toBe(true);
      const link = thrown(() => linkSync(anchoredPath(fd, 'gone'), anchoredPath(fd, 'new one')));
      withPlainPaths(link, anchoredPath(fd), dir);
      expect(link.message).toBe(`ENOENT: no such file or directory, link '${dir}/gone' -> '${dir}/new one'`);
      expect([link.path, link.dest]).toEqual([`${dir}/gone`, `${dir}/new one`]);
    } finally {
      closeSync(fd);
    }
  });
});
