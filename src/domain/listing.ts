// File listings: a torrent's client file list relative to its content root, and a digest telling two listings equal (pure).
import { createHash } from 'node:crypto';
import { compareBytes } from './payload-hash.js';
import { relativeTo, segments } from './path-string.js';

export interface ListedFile {
  relpath: string;
  size: number;
}

function trimSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/** content_path relative to save_path ('' = the content is the save path), null when it is not inside it. */
export function contentRelOf(t: { clientSavePath: string; clientContentPath: string }): string | null {
  return relativeTo(trimSlash(t.clientContentPath), trimSlash(t.clientSavePath));
}

export type ClientListing =
  | { ok: true; contentRel: string; files: Map<string, number> }
  | { ok: false; kind: 'empty' | 'not-inside' | 'outside' | 'duplicate'; names: string[] };

/**
 * A client file list relative to the payload root. Client names are relative to the save path and include the
 * content root (the top folder of a multi-file torrent, the file itself of a single-file one); stripping it gives
 * paths relative to the payload root, so cross-seed siblings with different top folders list the same relpaths.
 */
export function clientListing(t: { clientSavePath: string; clientContentPath: string; files: readonly { name: string; size: number }[] }): ClientListing {
  if (t.files.length === 0) return { ok: false, kind: 'empty', names: [] };
  const contentRel = contentRelOf(t);
  if (contentRel === null) return { ok: false, kind: 'not-inside', names: [] };
  const files = new Map<string, number>();
  const outside: string[] = [];
  const dup: string[] = [];
  for (const f of t.files) {
    let rel: string | null;
    if (contentRel === '') rel = f.name;
    else if (f.name === contentRel) rel = segments(f.name).pop() ?? null;
    else rel = f.name.startsWith(contentRel + '/') ? f.name.slice(contentRel.length + 1) : null;
    if (rel === null || rel === '') {
      outside.push(f.name);
      continue;
    }
    if (files.has(rel)) dup.push(rel);
    files.set(rel, f.size);
  }
  if (outside.length > 0) return { ok: false, kind: 'outside', names: outside };
  if (dup.length > 0) return { ok: false, kind: 'duplicate', names: dup };
  return { ok: true, contentRel, files };
}

/**
 * SHA-256 over the (relpath, size) pairs of a listing in relpath byte order, one JSON line each (so no name can
 * forge a line break). Equal digests ⇔ equal listings; a listing naming one path twice never equals one that does not.
 */
export function listingDigest(files: Iterable<ListedFile>): string {
  const lines: { relpath: string; line: string }[] = [];
  for (const f of files) lines.push({ relpath: f.relpath, line: `${JSON.stringify([f.relpath, f.size])}\n` });
  lines.sort((a, b) => compareBytes(a.relpath, b.relpath) || compareBytes(a.line, b.line));
  const h = createHash('sha256');
  for (const l of lines) h.update(l.line, 'utf8');
  return h.digest('hex');
}

/** The digest of a torrent's client file list relative to its content root; null when the list does not map (see clientListing). */
export function clientListingDigest(t: { clientSavePath: string; clientContentPath: string; files: readonly { name: string; size: number }[] }): string | null {
  const l = clientListing(t);
  if (!l.ok) return null;
  return listingDigest([...l.files].map(([relpath, size]) => ({ relpath, size })));
}
