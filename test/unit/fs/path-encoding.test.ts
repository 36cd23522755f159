// Path text encoding: verbatim UTF-8, reversible escapes for other bytes, no collisions with literal U+FFFD.
import { describe, expect, it } from 'vitest';
import { bytesToPathText, fsPathArg, pathTextToBytes } from '../../../src/fs/path-encoding.js';

describe('path encoding', () => {
  it('keeps valid UTF-8 verbatim and round-trips arbitrary bytes', () => {
    expect(bytesToPathText(Buffer.from('a b/%_/ü\n'))).toBe('a b/%_/ü\n');
    const cases = [Buffer.from([0x61, 0xff, 0x62]), Buffer.from([0xc3]), Buffer.from([0xe2, 0x82]), Buffer.from('x\uFFFDff', 'utf8'), Buffer.from([0xed, 0xa0, 0x80])];
    const texts = cases.map(bytesToPathText);
    expect(texts[0]).toBe('a\uFFFDffb');
    for (let i = 0; i < cases.length; i++) expect(pathTextToBytes(texts[i] as string).equals(cases[i] as Buffer)).toBe(true);
    // A literal U+FFFD followed by "ff" is not confused with the escaped byte 0xff.
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts[3]).not.toBe(bytesToPathText(Buffer.from([0x78, 0xff])));
    expect(fsPathArg('plain')).toBe('plain');
    expect(fsPathArg('a\uFFFDffb')).toEqual(Buffer.from([0x61, 0xff, 0x62]));
  });
});
