// payloadHash: order independence, null rules, exact line format, Unicode names kept as given (no normalization).
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { payloadHash } from '../../../src/domain/payload-hash.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('payloadHash', () => {
  it('is SHA-256 over sorted `relpath|size|sha256\\n` lines', () => {
    const expected = createHash('sha256').update(`dir/a.mkv|10|${A}\ndir/b.nfo|2|${B}\n`).digest('hex');
    expect(payloadHash([{ relpath: 'dir/b.nfo', size: 2, sha256: B }, { relpath: 'dir/a.mkv', size: 10, sha256: A }])).toBe(expected);
  });

  it('does not depend on input order', () => {
    const files = [
      { relpath: 'z', size: 1, sha256: A },
      { relpath: 'Z', size: 2, sha256: B },
      { relpath: 'a/b', size: 3, sha256: A },
      { relpath: 'a-b', size: 4, sha256: B },
    ];
    const h = payloadHash(files);
    expect(payloadHash([...files].reverse())).toBe(h);
    expect(payloadHash([files[2]!, files[0]!, files[3]!, files[1]!])).toBe(h);
  });

  it('sorts by UTF-8 bytes, not by UTF-16 code units or locale', () => {
    // U+FF21 (EF BC A1) sorts before U+1F600 (F0 9F 98 80) in UTF-8, but after it in UTF-16 units.
    const wide = '\uFF21';
    const emoji = '\u{1F600}';
    const expected = createHash('sha256').update(`${wide}|1|${A}\n${emoji}|1|${B}\n`).digest('hex');
    expect(payloadHash([{ relpath: emoji, size: 1, sha256: B }, { relpath: wide, size: 1, sha256: A }])).toBe(expected);
  });

  it('is null when there are no files or any file lacks a full SHA-256', () => {
    expect(payloadHash([])).toBeNull();
    expect(payloadHash([{ relpath: 'a', size: 1, sha256: A }, { relpath: 'b', size: 1, sha256: null }])).toBeNull();
  });

  it('changes with any name, size or content change', () => {
    const base = payloadHash([{ relpath: 'a', size: 1, sha256: A }]);
    expect(payloadHash([{ relpath: 'b', size: 1, sha256: A }])).not.toBe(base);
    expect(payloadHash([{ relpath: 'a', size: 2, sha256: A }])).not.toBe(base);
    expect(payloadHash([{ relpath: 'a', size: 1, sha256: B }])).not.toBe(base);
  });

  it('treats NFC and NFD spellings as different names (Linux names are bytes; never normalize)', () => {
    const nfc = 'Am\u00e9lie.mkv';
    const nfd = 'Ame\u0301lie.mkv';
    expect(nfc.normalize('NFC')).toBe(nfd.normalize('NFC'));
    expect(payloadHash([{ relpath: nfc, size: 1, sha256: A }])).not.toBe(payloadHash([{ relpath: nfd, size: 1, sha256: A }]));
  });
});

describe('compareBytes', () => {
  it('orders exactly like Buffer.compare on UTF-8 bytes', async () => {
    const { compareBytes } = await import('../../../src/domain/payload-hash.js');
    const words = ['', 'a', 'B', 'a/b', 'a-b', 'ab', '\u00e9', 'e\u0301', '\uFF21', '\u{1F600}', '\u{10FFFF}', '\uE000', 'z\u{1F600}', 'z\uFFFF'];
    for (const x of words) {
      for (const y of words) {
        const want = Math.sign(Buffer.compare(Buffer.from(x, 'utf8'), Buffer.from(y, 'utf8')));
        expect([x, y, Math.sign(compareBytes(x, y))]).toEqual([x, y, want]);
      }
    }
  });
});
