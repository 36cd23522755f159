// Unit tests for client↔host path translation: longest whole-segment prefix, both directions, ambiguity.
import { describe, expect, test } from 'vitest';
import { clientToHost, hostSpelling, hostToClient, normalizeAbsolute } from '../../../src/domain/path-map.js';

const maps = [
  { client: '/data', host: '/srv/data' },
  { client: '/data/media', host: '/stash/media' },
  { client: '/downloads/', host: '/pool/dl/' },
];

describe('clientToHost', () => {
  test('longest prefix wins', () => {
    expect(clientToHost(maps, '/data/media/movies/A (2001)/a.mkv')).toBe('/stash/media/movies/A (2001)/a.mkv');
    expect(clientToHost(maps, '/data/other/x')).toBe('/srv/data/other/x');
  });

  test('prefixes match whole segments only', () => {
    expect(clientToHost(maps, '/data/mediaX/a')).toBe('/srv/data/mediaX/a');
    expect(clientToHost([{ client: '/data/media', host: '/stash/media' }], '/data/mediaX/a')).toBeNull();
    expect(clientToHost(maps, '/datax/a')).toBeNull();
  });

  test('the prefix itself maps exactly, with or without trailing slashes', () => {
    expect(clientToHost(maps, '/data/media')).toBe('/stash/media');
    expect(clientToHost(maps, '/data/media/')).toBe('/stash/media');
    expect(clientToHost(maps, '/downloads')).toBe('/pool/dl');
  });

  test('no matching map, no maps, or a relative path gives null', () => {
    expect(clientToHost(maps, '/elsewhere/a')).toBeNull();
    expect(clientToHost([], '/data/media/a')).toBeNull();
    expect(clientToHost(maps, 'data/media/a')).toBeNull();
    expect(clientToHost(maps, '')).toBeNull();
  });

  test('empty and . segments are dropped before matching; a client path with a .. segment is unknown (where it leads depends on links on the client side)', () => {
    expect(clientToHost(maps, '/data//media///a')).toBe('/stash/media/a');
    expect(clientToHost(maps, '/data/./media/a/')).toBe('/stash/media/a');
    expect(clientToHost(maps, '/data/media/../media/a')).toBeNull();
    expect(clientToHost(maps, '/data/media/../other')).toBeNull();
    expect(clientToHost([{ client: '/data/media', host: '/stash/media' }], '/data/media/../../etc/passwd')).toBeNull();
    expect(hostSpelling([], '/stash/seed/link/../Movie')).toBeNull();
    expect(hostSpelling(maps, '/data/seed/link/../Movie')).toBeNull();
    expect(hostSpelling([], '/stash/seed/..Movie..')).toBe('/stash/seed/..Movie..');
    // Host paths (config, catalog) are hashall's own: the reverse direction is unchanged.
    expect(hostToClient(maps, '/stash/media/x/../a')).toBe('/data/media/a');
  });

  test('a root map translates everything; a root target keeps the tail', () => {
    expect(clientToHost([{ client: '/', host: '/mnt/ct' }], '/data/a')).toBe('/mnt/ct/data/a');
    expect(clientToHost([{ client: '/ct', host: '/' }], '/ct/data/a')).toBe('/data/a');
    expect(clientToHost([{ client: '/ct', host: '/' }], '/ct')).toBe('/');
  });

  test('two equally long prefixes that disagree give null (unknown), agreeing duplicates are fine', () => {
    expect(clientToHost([{ client: '/data', host: '/a' }, { client: '/data/', host: '/b' }], '/data/x')).toBeNull();
    expect(clientToHost([{ client: '/data', host: '/a' }, { client: '/data/', host: '/a/' }], '/data/x')).toBe('/a/x');
  });

  test('Unicode and spaces pass through unchanged', () => {
    expect(clientToHost(maps, '/data/media/Amélie ☂/f.mkv')).toBe('/stash/media/Amélie ☂/f.mkv');
  });
});

describe('hostToClient', () => {
  test('inverse direction with the same rules', () => {
    expect(hostToClient(maps, '/stash/media/movies/a.mkv')).toBe('/data/media/movies/a.mkv');
    expect(hostToClient(maps, '/srv/data/x')).toBe('/data/x');
    expect(hostToClient(maps, '/stash/mediaX/a')).toBeNull();
    expect(hostToClient(maps, '/pool/dl')).toBe('/downloads');
  });

  test('round trip for every path under a map', () => {
    for (const p of ['/data/media/a/b', '/data/x', '/downloads/y z/ü']) {
      const host = clientToHost(maps, p);
      expect(host).not.toBeNull();
      expect(hostToClient(maps, host as string)).toBe(p);
    }
  });

  test('nested host prefixes pick the longest', () => {
    const m = [
      { client: '/ct/all', host: '/stash' },
      { client: '/ct/media', host: '/stash/media' },
    ];
    expect(hostToClient(m, '/stash/media/a')).toBe('/ct/media/a');
    expect(hostToClient(m, '/stash/other/a')).toBe('/ct/all/other/a');
  });
});

test('normalizeAbsolute', () => {
  expect(normalizeAbsolute('/a/b/')).toBe('/a/b');
  expect(normalizeAbsolute('/')).toBe('/');
  expect(normalizeAbsolute('//')).toBe('/');
  expect(normalizeAbsolute('a')).toBeNull();
});
