// The short-hash resolver of `whereis`: unique prefixes of ≥ 8 hex digits, ambiguity named, duplicates counted once.
import { describe, expect, it } from 'vitest';
import { matchHashPrefix, type HashCandidate } from '../../../src/domain/hash-prefix.js';

const c = (kind: 'torrent' | 'payload', hash: string, label = hash.slice(0, 4)): HashCandidate<'torrent' | 'payload'> => ({ kind, hash, label });
const all = [c('torrent', 'abcdef0123456789'), c('torrent', 'abcdef0199999999'), c('payload', '12345678aaaa'), c('payload', '12345678aaaa', 'twin'), c('torrent', 'ffff0000eeee')];

describe('matchHashPrefix', () => {
  it('accepts a unique prefix of 8 or more hex digits, case-insensitive', () => {
    expect(matchHashPrefix('FFFF0000', all)).toEqual({ status: 'unique', match: all[4] });
    expect(matchHashPrefix('abcdef012', all)).toMatchObject({ status: 'unique', match: { hash: 'abcdef0123456789' } });
  });

  it('names every candidate of an ambiguous prefix', () => {
    expect(matchHashPrefix('abcdef01', all)).toEqual({ status: 'ambiguous', matches: [all[0], all[1]] });
  });

  it('counts one payload hash shared by two torrents once', () => {
    expect(matchHashPrefix('12345678', all)).toEqual({ status: 'unique', match: all[2] });
  });

  it('refuses fewer than 8 digits, and reports no match and non-hex input', () => {
    expect(matchHashPrefix('abcdef0', all)).toEqual({ status: 'too-short' });
    expect(matchHashPrefix('00000000', all)).toEqual({ status: 'none' });
    expect(matchHashPrefix('movie.mkv', all)).toEqual({ status: 'not-hex' });
  });
});
