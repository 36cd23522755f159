// symlinkHolders / symlinkHolderOf: which payloads and files a recorded symlink reaches by path (a folder above, the root, a file inside).
import { describe, expect, it } from 'vitest';
import { symlinkHolderOf, symlinkHolders } from '../../../src/domain/symlink-holds.js';

const roots = ['/stash/seed/movies/Old', '/stash/seed/movies/Older', '/stash/seed/tv/Show', '/stash/seed/music/Album.flac'];

describe('symlinkHolders', () => {
  it('a link to a file inside, to the root, or to a folder above holds the payload; a name that only shares a prefix does not', () => {
    const held = symlinkHolders(roots, [
      { link: '/lib/a.mkv', resolved: '/stash/seed/movies/Old/a.mkv' },
      { link: '/lib/album', resolved: '/stash/seed/music/Album.flac' },
      { link: '/lib/tv', resolved: '/stash/seed/tv' },
    ]);
    expect(Object.fromEntries(held)).toEqual({
      '/stash/seed/movies/Old': ['/lib/a.mkv'],
      '/stash/seed/music/Album.flac': ['/lib/album'],
      '/stash/seed/tv/Show': ['/lib/tv'],
    });
  });

  it('a link to the whole seeding root holds every payload under it; a link inside a payload holds nothing of it', () => {
    const held = symlinkHolders(roots, [
      { link: '/lib/all', resolved: '/stash/seed' },
      { link: '/stash/seed/tv/Show/extras/e01.mkv', resolved: '/stash/seed/tv/Show/e01.mkv' },
    ]);
    expect([...held.keys()].sort()).toEqual([...roots].sort());
    expect(held.get('/stash/seed/tv/Show')).toEqual(['/lib/all']);
  });

  it('no links, or links elsewhere: nothing is held', () => {
    expect(symlinkHolders(roots, []).size).toBe(0);
    expect(symlinkHolders(roots, [{ link: '/lib/x', resolved: '/pool/seed/movies/Old' }, { link: '/lib/y', resolved: '/stash/seed/movies/Ol' }]).size).toBe(0);
  });
});

describe('symlinkHolderOf', () => {
  const targets = new Map([
    ['/stash/seed/other/Kept', '/lib/Kept'],
    ['/stash/seed/other/file.bin', '/lib/file.bin'],
    ['/stash/seed/self', '/stash/seed/self/loop'],
  ]);
  it('a file at a link target or under a linked folder is reached; a sibling sharing a prefix is not', () => {
    expect(symlinkHolderOf(targets, '/stash/seed/other/Kept/a/b.mkv')).toBe('/lib/Kept');
    expect(symlinkHolderOf(targets, '/stash/seed/other/file.bin')).toBe('/lib/file.bin');
    expect(symlinkHolderOf(targets, '/stash/seed/other/Kept2/b.mkv')).toBeNull();
    expect(symlinkHolderOf(targets, '/stash/seed/other/file.bin2')).toBeNull();
  });
  it('a link inside the folder it names does not hold that folder', () => {
    expect(symlinkHolderOf(targets, '/stash/seed/self/x.bin')).toBeNull();
  });
});
