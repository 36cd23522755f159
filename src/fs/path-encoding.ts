// Reversible text form of raw path bytes for the catalog (pure): valid UTF-8 verbatim, other bytes escaped.
import { isUtf8 } from 'node:buffer';

/**
 * Linux names are bytes. The catalog stores paths as TEXT:
 *  - bytes that are valid UTF-8 and contain no U+FFFD are stored as that UTF-8 text (the normal case);
 *  - otherwise every byte that is not part of a valid UTF-8 sequence, and every byte of a literal U+FFFD,
 *    becomes U+FFFD followed by two lowercase hex digits.
 * A text containing U+FFFD is therefore always an escaped form, which makes the mapping injective and reversible.
 */
const REPLACEMENT = '\uFFFD';
const REPLACEMENT_BYTES = Buffer.from(REPLACEMENT, 'utf8');

export function bytesToPathText(bytes: Buffer): string {
  if (isUtf8(bytes) && !bytes.includes(REPLACEMENT_BYTES)) return bytes.toString('utf8');
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len > 0 && i + len <= bytes.length) {
      const seq = bytes.subarray(i, i + len);
      if (isUtf8(seq) && !(len === 3 && seq.equals(REPLACEMENT_BYTES))) {
        out += seq.toString('utf8');
        i += len;
        continue;
      }
    }
    out += REPLACEMENT + b.toString(16).padStart(2, '0');
    i += 1;
  }
  return out;
}

export function pathTextToBytes(text: string): Buffer {
  if (!text.includes(REPLACEMENT)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = text.indexOf(REPLACEMENT); i >= 0; i = text.indexOf(REPLACEMENT, start)) {
    parts.push(Buffer.from(text.slice(start, i), 'utf8'));
    const hex = text.slice(i + 1, i + 3);
    if (!/^[0-9a-f]{2}$/.test(hex)) throw new Error(`malformed escaped path text at offset ${i}: ${JSON.stringify(text)}`);
    parts.push(Buffer.from([parseInt(hex, 16)]));
    start = i + 3;
  }
  parts.push(Buffer.from(text.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/** The argument to pass to node:fs for a catalog path text: the string itself when it needs no escape, else its bytes. */
export function fsPathArg(text: string): string | Buffer {
  return text.includes(REPLACEMENT) ? pathTextToBytes(text) : text;
}
