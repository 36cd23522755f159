// printable(): the one escape of untrusted text in human output — controls, ESC, bidi overrides, backslash.
import { describe, expect, it } from 'vitest';
import { printable, printableLines } from '../../../src/render/escape.js';

describe('printable', () => {
  it('leaves ordinary names (spaces, unicode, the catalog escape of non-UTF-8 bytes) alone', () => {
    for (const s of ['/pool/seeding/Movie (2024) [1080p]/a b.mkv', 'Amélie 映画 🎬', 'bad\uFFFDff.bin']) expect(printable(s)).toBe(s);
  });

  it('escapes newlines, carriage returns, tabs, ESC sequences, DEL and C1 controls', () => {
    expect(printable('a\nb\rc\td')).toBe('a\\nb\\rc\\td');
    expect(printable('x\x1b[2K\x1b[1A+ fake line')).toBe('x\\x1b[2K\\x1b[1A+ fake line');
    expect(printable('\x00\x7f\x9b')).toBe('\\x00\\x7f\\x9b');
  });

  it('escapes bidirectional overrides and line separators, and the backslash so the form is unambiguous', () => {
    expect(printable('evil\u202Evkm.exe')).toBe('evil\\u202evkm.exe');
    expect(printable('a\u2028b\u2066c')).toBe('a\\u2028b\\u2066c');
    expect(printable('a\\nb')).toBe('a\\\\nb');
    expect(printable('a\\nb')).not.toBe(printable('a\nb'));
  });

  it('printableLines keeps the intended line breaks and escapes inside each line', () => {
    expect(printableLines('stale:\n  - /a\x1bb')).toBe('stale:\n  - /a\\x1bb');
  });
});
