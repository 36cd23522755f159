// clientListing / listingDigest: a torrent's file list relative to its content root, and the digest comparing it with a payload's.
import { describe, expect, it } from 'vitest';
import { clientListing, clientListingDigest, listingDigest } from '../../../src/domain/listing.js';

const t = (files: { name: string; size: number }[], save = '/data/movies', content = '/data/movies/Foo') => ({ clientSavePath: save, clientContentPath: content, files });

describe('listing digests', () => {
  it('a torrent equals its payload whatever the order and the top folder; a size or a name differs → another digest', () => {
    const payload = listingDigest([
      { relpath: 'b/2.mkv', size: 2 },
      { relpath: 'a.nfo', size: 1 },
    ]);
    expect(clientListingDigest(t([{ name: 'Foo/a.nfo', size: 1 }, { name: 'Foo/b/2.mkv', size: 2 }]))).toBe(payload);
    expect(clientListingDigest(t([{ name: 'Foo 2020/b/2.mkv', size: 2 }, { name: 'Foo 2020/a.nfo', size: 1 }], '/x', '/x/Foo 2020/'))).toBe(payload);
    expect(clientListingDigest(t([{ name: 'Foo/a.nfo', size: 1 }, { name: 'Foo/b/2.mkv', size: 3 }]))).not.toBe(payload);
    expect(clientListingDigest(t([{ name: 'Foo/a.nfo', size: 1 }, { name: 'Foo/b/3.mkv', size: 2 }]))).not.toBe(payload);
    expect(clientListingDigest(t([{ name: 'Foo/a.nfo', size: 1 }]))).not.toBe(payload);
  });

  it('a single-file torrent lists its file name; names holding a newline cannot forge another listing', () => {
    expect(clientListingDigest(t([{ name: 'Foo.mkv', size: 5 }], '/d', '/d/Foo.mkv'))).toBe(listingDigest([{ relpath: 'Foo.mkv', size: 5 }]));
    const forged = listingDigest([{ relpath: 'a"\n["b', size: 1 }]);
    expect(forged).not.toBe(listingDigest([{ relpath: 'a', size: 1 }, { relpath: 'b', size: 1 }]));
  });

  it('lists that do not map have no digest: empty, outside the content root, a path twice, content outside the save path', () => {
    expect(clientListing(t([]))).toMatchObject({ ok: false, kind: 'empty' });
    expect(clientListing(t([{ name: 'Other/a', size: 1 }]))).toMatchObject({ ok: false, kind: 'outside', names: ['Other/a'] });
    expect(clientListing(t([{ name: 'Foo/a', size: 1 }, { name: 'Foo/a', size: 2 }]))).toMatchObject({ ok: false, kind: 'duplicate' });
    expect(clientListing(t([{ name: 'Foo/a', size: 1 }], '/data/tv', '/data/movies/Foo'))).toMatchObject({ ok: false, kind: 'not-inside' });
    for (const bad of [t([]), t([{ name: 'Other/a', size: 1 }])]) expect(clientListingDigest(bad)).toBeNull();
  });
});
