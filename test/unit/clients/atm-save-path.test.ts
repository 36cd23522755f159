// atmSavePath: where qBittorrent's automatic management keeps a torrent of a category, or null when not known for sure.
import { describe, expect, it } from 'vitest';
import { atmSavePath } from '../../../src/clients/qbittorrent/client.js';

const prefs = { save_path: '/data/torrents/' };

describe('atmSavePath', () => {
  it('an absolute category save path is the answer, without a trailing slash', () => {
    expect(atmSavePath({ movies: { name: 'movies', savePath: '/pool/movies/' } }, prefs, 'movies')).toBe('/pool/movies');
  });
  it('a relative one lies under the default save path; an empty one is the category name there', () => {
    expect(atmSavePath({ tv: { name: 'tv', savePath: 'shows' } }, prefs, 'tv')).toBe('/data/torrents/shows');
    expect(atmSavePath({ 'tv/anime': { name: 'tv/anime', savePath: '' } }, prefs, 'tv/anime')).toBe('/data/torrents/tv/anime');
  });
  it('no category: the default save path', () => {
    expect(atmSavePath({}, prefs, '')).toBe('/data/torrents');
    expect(atmSavePath({}, { save_path: '/' }, '')).toBe('/');
  });
  it('unknown is null: a category not listed, a name qBittorrent would rewrite, no usable default save path', () => {
    expect(atmSavePath({}, prefs, 'gone')).toBeNull();
    expect(atmSavePath({ 'a:b': { name: 'a:b', savePath: '' } }, prefs, 'a:b')).toBeNull();
    expect(atmSavePath({ x: { name: 'x' } }, prefs, 'x')).toBeNull();
    expect(atmSavePath({ x: { name: 'x', savePath: '/p' } }, {}, 'x')).toBeNull();
  });
});
