// Payload hash: SHA-256 over the sorted `relpath|size|sha256\n` lines of a payload's files (pure).
import { createHash } from 'node:crypto';

export interface HashableFile {
  relpath: string;
  size: number;
  sha256: string | null;
}

/** Bytewise (UTF-8) comparison: the same order on every machine and locale. */
export function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
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
    lines.push(`${f.relpath}|${f.size}|${f.sha256}\n`);
  }
  const keyed = lines.map((line, i) => ({ line, rel: Buffer.from(files[i]!.relpath, 'utf8') }));
  keyed.sort((a, b) => Buffer.compare(a.rel, b.rel) || compareBytes(a.line, b.line));
  const h = createHash('sha256');
  for (const k of keyed) h.update(k.line, 'utf8');
  return h.digest('hex');
}
