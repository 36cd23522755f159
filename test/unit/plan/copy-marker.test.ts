// Copy markers in file names: which names dedupe avoids as its keeper.
import { describe, expect, it } from 'vitest';
import { hasCopyMarker } from '../../../src/plan/copy-marker.js';

describe('hasCopyMarker', () => {
  it.each([
    'trailer (copy).mkv',
    'trailer (Copy 2).mkv',
    'Copy of trailer.mkv',
    'copy (3) of trailer.mkv',
    'trailer - Copy.mkv',
    'trailer - Copy (2).mkv',
    'trailer copy.mkv',
    'trailer copy 2.mkv',
    'trailer (1).mkv',
    'trailer(12).mkv',
    'trailer_copy.mkv',
    'trailer.1.mkv',
    'trailer.mkv.1',
  ])('%s carries a marker', (name) => expect(hasCopyMarker(name)).toBe(true));

  it.each(['trailer.mkv', 'Movie.2019.1080p.mkv', 'Movie.2019.mkv', 'Copycat (2019).mkv', 'The Copy.mkv', 'track 01.flac', 'README'])('%s carries none', (name) =>
    expect(hasCopyMarker(name)).toBe(false),
  );
});
