// isAtOrUnder / normalizePath / trimSlash / relativeTo: the one containment check every deleting and writing path uses.
import { describe, expect, it } from 'vitest';
import { isAtOrUnder, normalizePath, relativeTo, trimSlash } from '../../../src/domain/path-string.js';

describe('isAtOrUnder', () => {
  it('whole segments only: prefix siblings are not inside', () => {
    expect(isAtOrUnder('/data/foo', '/data/foo')).toBe(true);
    expect(isAtOrUnder('/data/foo/x', '/data/foo')).toBe(true);
    expect(isAtOrUnder('/data/foo/x/y z', '/data/foo')).toBe(true);
    for (const sibling of ['/data/foo bar', '/data/foo_', '/data/foo.bak', '/data/foo-1', '/data/fo', '/data/foobar/x', '/data']) {
      expect(isAtOrUnder(sibling, '/data/foo'), sibling).toBe(false);
    }
  });

  it('trailing slashes on either side change nothing', () => {
    expect(isAtOrUnder('/data/foo/', '/data/foo')).toBe(true);
    expect(isAtOrUnder('/data/foo', '/data/foo/')).toBe(true);
    expect(isAtOrUnder('/data/foo/x//', '/data/foo///')).toBe(true);
    expect(isAtOrUnder('/data/foo bar/', '/data/foo/')).toBe(false);
  });

  it('the root directory holds every absolute path and nothing relative', () => {
    expect(isAtOrUnder('/', '/')).toBe(true);
    expect(isAtOrUnder('/x', '/')).toBe(true);
    expect(isAtOrUnder('/x/y', '//')).toBe(true);
    expect(isAtOrUnder('x/y', '/')).toBe(false);
    expect(isAtOrUnder('/', '/x')).toBe(false);
  });

  it('`..` can never make a path look inside a root it leaves', () => {
    expect(isAtOrUnder('/data/foo/../bar', '/data/foo')).toBe(false);
    expect(isAtOrUnder('/data/foo/..', '/data/foo')).toBe(false);
    expect(isAtOrUnder('/data/foo/x/../../../etc/passwd', '/data/foo')).toBe(false);
    expect(isAtOrUnder('/data/foo/x/../y', '/data/foo')).toBe(true);
    expect(isAtOrUnder('/data/bar/../foo/x', '/data/foo')).toBe(true);
    // a root spelled with `..` is the directory it names
    expect(isAtOrUnder('/data/foo/x', '/data/bar/../foo')).toBe(true);
    expect(isAtOrUnder('/data/bar/x', '/data/bar/../foo')).toBe(false);
    expect(isAtOrUnder('/../../data/foo/x', '/data/foo')).toBe(true);
  });

  it('unnormalized spellings (`.`, `//`) compare as the path they name', () => {
    expect(isAtOrUnder('/data/./foo/x', '/data/foo')).toBe(true);
    expect(isAtOrUnder('/data//foo', '/data/foo')).toBe(true);
    expect(isAtOrUnder('/data/foo', '/data/./foo/.')).toBe(true);
    expect(isAtOrUnder('/data/.foo', '/data/foo')).toBe(false);
    expect(isAtOrUnder('/data/foo/.hidden', '/data/foo')).toBe(true);
    expect(isAtOrUnder('/data/foo/...', '/data/foo')).toBe(true);
  });

  it('relative and absolute never contain each other; relative paths compare among themselves', () => {
    expect(isAtOrUnder('data/foo/x', '/data/foo')).toBe(false);
    expect(isAtOrUnder('/data/foo/x', 'data/foo')).toBe(false);
    expect(isAtOrUnder('a/b', 'a')).toBe(true);
    expect(isAtOrUnder('a/../b', 'a')).toBe(false);
    expect(isAtOrUnder('../a', '.')).toBe(false);
    expect(isAtOrUnder('..a', '.')).toBe(true);
    expect(isAtOrUnder('a', '.')).toBe(true);
  });
});

describe('normalizePath, trimSlash, relativeTo', () => {
  it('normal forms', () => {
    expect(normalizePath('/a/b')).toBe('/a/b');
    expect(normalizePath('/a//b/./c/../d/')).toBe('/a/b/d');
    expect(normalizePath('/..')).toBe('/');
    expect(normalizePath('//')).toBe('/');
    expect(normalizePath('a/../..')).toBe('..');
    expect(normalizePath('./')).toBe('.');
    expect(normalizePath('/a/.b/..c')).toBe('/a/.b/..c');
    expect(trimSlash('/a/b///')).toBe('/a/b');
    expect(trimSlash('/')).toBe('/');
    expect(trimSlash('///')).toBe('/');
    expect(trimSlash('')).toBe('');
  });

  it('relativeTo answers in normal form, or null outside', () => {
    expect(relativeTo('/data/foo/x/y', '/data/foo')).toBe('x/y');
    expect(relativeTo('/data/foo/', '/data/foo')).toBe('');
    expect(relativeTo('/data/foo/x/../y', '/data/foo/')).toBe('y');
    expect(relativeTo('/x', '/')).toBe('x');
    expect(relativeTo('/data/foo bar', '/data/foo')).toBeNull();
    expect(relativeTo('/data/foo/../bar', '/data/foo')).toBeNull();
  });
});

describe('normalizePath and isAtOrUnder on plain and odd spellings alike', () => {
  it('a plain absolute path is its own normal form; every odd one still goes through the segments', () => {
    for (const p of ['/', '/a', '/a/b c/d', '/a/b.c/d', '/a/b..', '/a/.b', '/a/./b', '/a/../b', '/a//b', '/a/b/', '//', '/.', '/..', 'a/b', './a', '../a', '.', '..', '']) {
      const n = normalizePath(p);
      expect([p, normalizePath(n)]).toEqual([p, n]);
      expect([p, relativeTo(p, n)]).toEqual([p, isAtOrUnder(p, n) ? '' : null]);
    }
    expect(normalizePath('/a/.b/../c')).toBe('/a/c');
    expect(isAtOrUnder('/a/b/../c', '/a/b')).toBe(false);
    expect(relativeTo('/a/b/./c/', '/a//b')).toBe('c');
  });
});
