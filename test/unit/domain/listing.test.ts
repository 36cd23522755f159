// clientListing / listingDigest: a torrent's file list relative to its content root, and the digest comparing it with a payload's.
import { describe, expect, it } from 'vitest';
import { clientListing, clientListingDigest, isPadFile, listingDigest, rootRelOf } from '../../../src/domain/listing.js';

const t = (files: { name: string; size: number; wanted?: boolean }[], save = '/data/movies', content = '/data/movies/Foo') => ({ clientSavePath: save, clientContentPath: content, files });

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

  it('the payload root comes from the file list: a one-file torrent in its folder has the FOLDER as root though content_path names the file', () => {
    expect(rootRelOf([{ name: 'X.2024/X.2024.mkv' }])).toBe('X.2024');
    expect(rootRelOf([{ name: 'X.2024/extras/X.mkv' }])).toBe('X.2024');
    expect(rootRelOf([{ name: 'X.2024.mkv' }])).toBe('X.2024.mkv');
    expect(rootRelOf([{ name: 'Show/e1.mkv' }, { name: 'Show/sub/e2.mkv' }])).toBe('Show');
    expect(rootRelOf([{ name: 'a.bin' }, { name: 'b.bin' }])).toBeNull(); // "don't create subfolder": no root of its own
    expect(rootRelOf([{ name: 'A/a.bin' }, { name: 'B/b.bin' }])).toBeNull();
    expect(rootRelOf([{ name: 'A/a.bin' }, { name: 'A' }])).toBeNull();
    expect(rootRelOf([])).toBeNull();
    const inFolder = clientListing(t([{ name: 'X.2024/X.2024.mkv', size: 5 }], '/d', '/d/X.2024/X.2024.mkv'));
    expect(inFolder).toMatchObject({ ok: true, rootRel: 'X.2024', contentRel: 'X.2024/X.2024.mkv' });
    // The same content with and without its folder lists the same relpaths: siblings.
    expect(clientListingDigest(t([{ name: 'X.2024/X.2024.mkv', size: 5 }], '/d', '/d/X.2024/X.2024.mkv'))).toBe(clientListingDigest(t([{ name: 'X.2024.mkv', size: 5 }], '/e', '/e/X.2024.mkv')));
    // content_path must agree with the list: the file (qBittorrent) or the folder (Transmission, rTorrent), nothing else.
    expect(clientListing(t([{ name: 'X.2024/X.2024.mkv', size: 5 }], '/d', '/d/X.2024'))).toMatchObject({ ok: true, rootRel: 'X.2024', contentRel: 'X.2024' });
    expect(clientListing(t([{ name: 'X.2024/X.2024.mkv', size: 5 }], '/d', '/d/Other'))).toMatchObject({ ok: false, kind: 'outside' });
    expect(clientListing(t([{ name: 'X/a.mkv', size: 5 }, { name: 'X/b.mkv', size: 5 }], '/d', '/d/X/a.mkv'))).toMatchObject({ ok: false, kind: 'outside' });
    expect(clientListing(t([{ name: 'a.bin', size: 1 }, { name: 'b.bin', size: 1 }], '/d', '/d'))).toMatchObject({ ok: false, kind: 'no-root' });
  });

  it('lists that do not map have no digest: empty, outside the content root, a path twice, content outside the save path', () => {
    expect(clientListing(t([]))).toMatchObject({ ok: false, kind: 'empty' });
    expect(clientListing(t([{ name: 'Other/a', size: 1 }]))).toMatchObject({ ok: false, kind: 'outside', names: ['Other/a'] });
    expect(clientListing(t([{ name: 'Foo/a', size: 1 }, { name: 'Foo/a', size: 2 }]))).toMatchObject({ ok: false, kind: 'duplicate' });
    expect(clientListing(t([{ name: 'Foo/a', size: 1 }], '/data/tv', '/data/movies/Foo'))).toMatchObject({ ok: false, kind: 'not-inside' });
    for (const bad of [t([]), t([{ name: 'Other/a', size: 1 }])]) expect(clientListingDigest(bad)).toBeNull();
  });
});

describe('pad files', () => {
  it('a pad file is `.pad/N` right below the root with N its length; anything else is content', () => {
    expect(isPadFile('.pad/9152', 9152)).toBe(true);
    expect(isPadFile('.pad/9152', 9153)).toBe(false); // a user's own file of another length
    expect(isPadFile('.pad/09152', 9152)).toBe(false);
    expect(isPadFile('.pad/0', 0)).toBe(false);
    expect(isPadFile('sub/.pad/12', 12)).toBe(false);
    expect(isPadFile('.pad/12/x', 12)).toBe(false);
    expect(isPadFile('.pad', 0)).toBe(false);
    expect(isPadFile('.padding/12', 12)).toBe(false);
  });

  it("BitComet's older padding: a file named `_____padding_file_…` in any folder, whatever its length; the name elsewhere in a path is content", () => {
    const name = '_____padding_file_0_if you see this file, please update to BitComet 0.85 or above____';
    expect(isPadFile(name, 12_768)).toBe(true);
    expect(isPadFile(`CD1/${name}`, 1)).toBe(true);
    expect(isPadFile('_____padding_file_3', 9)).toBe(true);
    expect(isPadFile(`x${name}`, 9)).toBe(false);
    expect(isPadFile(`CD1/x${name}`, 9)).toBe(false);
    expect(isPadFile(`${name}/movie.mkv`, 9)).toBe(false);
    expect(isPadFile('____padding_file_0', 9)).toBe(false);
  });

  it('pads are listed apart (one name may repeat), left out of the digest: lists with, without or with other pads equal the payload', () => {
    const files = [{ name: 'Foo/a.r00', size: 40_000 }, { name: 'Foo/.pad/9152', size: 9152 }, { name: 'Foo/a.r01', size: 40_000 }, { name: 'Foo/.pad/9152', size: 9152 }, { name: 'Foo/a.sfv', size: 300 }];
    const l = clientListing(t(files));
    expect(l).toMatchObject({ ok: true, rootRel: 'Foo' });
    if (!l.ok) return;
    expect([...l.files.keys()]).toEqual(['a.r00', 'a.r01', 'a.sfv']);
    expect([...l.pads]).toEqual([['.pad/9152', 9152]]);
    const content = listingDigest([{ relpath: 'a.r00', size: 40_000 }, { relpath: 'a.r01', size: 40_000 }, { relpath: 'a.sfv', size: 300 }]);
    expect(clientListingDigest(t(files))).toBe(content);
    expect(clientListingDigest(t(files.filter((f) => !f.name.includes('.pad'))))).toBe(content);
    expect(listingDigest([{ relpath: 'a.r00', size: 40_000 }, { relpath: '.pad/9152', size: 9152 }, { relpath: 'a.r01', size: 40_000 }, { relpath: 'a.sfv', size: 300 }])).toBe(content);
    // A content file that only looks like a pad still counts, and still may not repeat.
    expect(clientListingDigest(t([...files, { name: 'Foo/.pad/7', size: 8 }]))).not.toBe(content);
    expect(clientListing(t([{ name: 'Foo/.pad/7', size: 8 }, { name: 'Foo/.pad/7', size: 8 }]))).toMatchObject({ ok: false, kind: 'duplicate' });
  });

  it('files the client will not download are listed apart and left out of the digest: absent or not, the listing equals the files on disk', () => {
    const files = [{ name: 'Foo/e01.mkv', size: 100 }, { name: 'Foo/Sample/s.mkv', size: 9, wanted: false }];
    const l = clientListing(t(files));
    expect(l).toMatchObject({ ok: true, rootRel: 'Foo' });
    if (!l.ok) return;
    expect([...l.files]).toEqual([['e01.mkv', 100]]);
    expect([...l.unwanted]).toEqual([['Sample/s.mkv', 9]]);
    expect(clientListingDigest(t(files))).toBe(listingDigest([{ relpath: 'e01.mkv', size: 100 }]));
    // Wanted or not, a name still may not repeat.
    expect(clientListing(t([...files, { name: 'Foo/Sample/s.mkv', size: 9 }]))).toMatchObject({ ok: false, kind: 'duplicate' });
  });
});
