// Payload hash: SHA-256 over the sorted `relpath|size|sha256\n` lines of a payload's files (pure).
import { createHash } from 'node:crypto';

export interface HashableFile {
  relpath: string;
  size: number;
  sha256: string | null;
}

/** UTF-16 code unit → a key whose order is Unicode code point order (surrogates sort above U+E000–U+FFFF). */
function unitKey(c: number): number {
  return c < 0xd800 ? c : c >= 0xe000 ? c - 0x800 : c + 0x2000;
}

/**
 * Bytewise (UTF-8) comparison: the same order on every machine and locale. UTF-8 byte order equals code point
 * order, so this compares code points without allocating (lone surrogates, which UTF-8 cannot carry, sort last).
 * Only the first differing code unit decides; below U+D800 its code unit order already is code point order.
 */
export function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x < 0xd800 && y < 0xd800 ? x - y : unitKey(x) - unitKey(y);
  }
  return a.length - b.length;
}

/** One file's line of the payload hash (`relpath|size|sha256\n`); a stream of them in relpath byte order, hashed, is the payload hash. */
export function payloadLine(f: HashableFile): string {
  return `${f.relpath}|${f.size}|${f.sha256}\n`;
}

/**
 * The payload hash of a file set, or null when it is unknown (no files, or any file lacks a full SHA-256).
 * Lines are sorted by relpath bytes (whole line as tie-break), so the input order never matters.
 * Names are NOT Unicode-normalized: `é` as NFC and as NFD are different file names on Linux, so they give
 * different hashes — normalizing would make two different trees look identical.
 */
export function payloadHash(files: readonly HashableFile[]): string | null {
  if (files.length === 0) return null;
  const lines: string[] = [];
  for (const f of files) {
    if (f.sha256 === null || f.sha256 === '') return null;
    lines.push(payloadLine(f));
  }
  const keyed = lines.map((line, i) => ({ line, rel: files[i]!.relpath }));
  keyed.sort((a, b) => compareBytes(a.rel, b.rel) || compareBytes(a.line, b.line));
  const h = createHash('sha256');
  for (const k of keyed) h.update(k.line, 'utf8');
  return h.digest('hex');
}
