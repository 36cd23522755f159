// File listings: a torrent's client file list relative to its content root, and a digest telling two listings equal (pure).
import { createHash } from 'node:crypto';
import { compareBytes } from './payload-hash.js';
import { relativeTo, segments, trimSlash } from './path-string.js';

export interface ListedFile {
  relpath: string;
  size: number;
}

/**
 * A padding file: zeros that only align the next file to a piece, no content. Two spellings:
 * - BEP 47: `.pad/N` right below a multi-file torrent's root, N its length in decimal (the path the BEP recommends and
 *   libtorrent 2 writes into hybrid torrents; requiring N to be the length keeps a user's own file from passing for one);
 * - BitComet's older padding, from before BEP 47: `_____padding_file_K_…` (any text after it) in any folder of the
 *   torrent, with no attribute marking it — libtorrent's clients recognise it by that name alone.
 * libtorrent's clients (qBittorrent, Deluge) never write a pad file to disk — qBittorrent does not list it, Deluge does —
 * while clients without pad support (Transmission 3, rTorrent 0.9) download and keep it. So absent, it is not missing;
 * present, it belongs to its payload (moved with it) without being asked for. `relpath` is relative to the payload root.
 * Measured on qbittorrent-nox 4.5.2 (libtorrent 2.0.8): a BitComet pad file is left out of the file list, never
 * written, and the torrent is complete without it.
 */
export function isPadFile(relpath: string, size: number): boolean {
  // Called for every file of every payload: one character rules out nearly all of them.
  if (relpath.charCodeAt(0) === 0x2e && relpath.startsWith('.pad/')) {
    const n = relpath.slice(5);
    return PAD_LENGTH.test(n) && Number(n) === size;
  }
  const at = relpath.indexOf(BITCOMET_PAD);
  return at >= 0 && (at === 0 || relpath.charCodeAt(at - 1) === 0x2f) && relpath.indexOf('/', at) < 0;
}

/** The start of BitComet's padding file names. */
const BITCOMET_PAD = '_____padding_file_';

const PAD_LENGTH = /^[1-9][0-9]{0,15}$/;

/** content_path relative to save_path ('' = the content is the save path), null when it is not inside it. */
export function contentRelOf(t: { clientSavePath: string; clientContentPath: string }): string | null {
  return relativeTo(trimSlash(t.clientContentPath), trimSlash(t.clientSavePath));
}

/**
 * The torrent's own root below its save path, from its FILE LIST (never from content_path): the first path segment
 * every file shares — the root folder, or the file itself of a one-file torrent without a folder. Null when there is
 * none: the files lie directly in the save path (qBittorrent's "don't create subfolder" layout), beside whatever else
 * is there, or the list is empty.
 */
export function rootRelOf(files: readonly { name: string }[]): string | null {
  const first = files[0];
  if (first === undefined) return null;
  const root = segments(first.name)[0];
  if (root === undefined) return null;
  if (files.length === 1) return root;
  for (const f of files) {
    const s = segments(f.name);
    if (s.length < 2 || s[0] !== root) return null;
  }
  return root;
}

export type ClientListing =
  | {
      ok: true;
      /** The torrent's root below the save path (rootRelOf). */ rootRel: string;
      /** content_path below the save path. */ contentRel: string;
      /** Its content files below the root → size (pad files left out). */ files: Map<string, number>;
      /** The BEP 47 pad files it lists (isPadFile) → size: optional on disk; one name may be listed more than once. */ pads: Map<string, number>;
      /**
       * Files the client is told not to download (`wanted: false`) → size: absent on disk, not missing; present, part
       * of the payload like any file (moved with it). Left out of `files` and of the listing digest.
       */
      unwanted: Map<string, number>;
    }
  | { ok: false; kind: 'empty' | 'not-inside' | 'outside' | 'duplicate' | 'no-root'; names: string[] };

/**
 * A client file list relative to the payload root. Client names are relative to the save path; the payload root is
 * the torrent's root from its file list (rootRelOf: the top folder, or the file of a one-file torrent without one).
 * Stripping it gives paths relative to the payload root, so cross-seed siblings with different top folders — and a
 * one-file torrent with or without a folder — list the same relpaths. content_path must agree with the file list:
 * it names the root (folder or only file), or the file of a one-file torrent inside its folder (qBittorrent reports
 * that; Transmission and rTorrent report the folder); when it does not, the list does not map ('outside').
 */
export function clientListing(t: { clientSavePath: string; clientContentPath: string; files: readonly { name: string; size: number; wanted?: boolean }[] }): ClientListing {
  if (t.files.length === 0) return { ok: false, kind: 'empty', names: [] };
  const contentRel = contentRelOf(t);
  if (contentRel === null) return { ok: false, kind: 'not-inside', names: [] };
  const rootRel = rootRelOf(t.files);
  if (rootRel === null) return { ok: false, kind: 'no-root', names: t.files.map((f) => f.name) };
  // qBittorrent names the file of a one-file torrent even inside its folder; Transmission and rTorrent name the folder.
  const only = t.files.length === 1 ? segments(t.files[0]!.name).join('/') : null;
  if (contentRel !== rootRel && contentRel !== only) return { ok: false, kind: 'outside', names: t.files.map((f) => f.name) };
  const files = new Map<string, number>();
  const pads = new Map<string, number>();
  const unwanted = new Map<string, number>();
  const dup: string[] = [];
  for (const f of t.files) {
    const s = segments(f.name);
    // A one-file torrent without a folder lists its file name; every other name loses its root folder.
    const rel = s.length === 1 ? s[0]! : s.slice(1).join('/');
    if (s.length > 1 && isPadFile(rel, f.size)) pads.set(rel, f.size);
    else {
      if (files.has(rel) || unwanted.has(rel)) dup.push(rel);
      (f.wanted === false ? unwanted : files).set(rel, f.size);
    }
  }
  if (dup.length > 0) return { ok: false, kind: 'duplicate', names: dup };
  return { ok: true, rootRel, contentRel, files, pads, unwanted };
}

/**
 * SHA-256 over the (relpath, size) pairs of a listing in relpath byte order, one JSON line each (so no name can
 * forge a line break), BEP 47 pad files left out (isPadFile: whether a client lists them or keeps them on disk says
 * nothing about the content). Equal digests ⇔ equal content listings; a listing naming one path twice never equals
 * one that does not.
 */
export function listingDigest(files: Iterable<ListedFile>): string {
  const lines: { relpath: string; line: string }[] = [];
  for (const f of files) if (!isPadFile(f.relpath, f.size)) lines.push({ relpath: f.relpath, line: `${JSON.stringify([f.relpath, f.size])}\n` });
  lines.sort((a, b) => compareBytes(a.relpath, b.relpath) || compareBytes(a.line, b.line));
  const h = createHash('sha256');
  for (const l of lines) h.update(l.line, 'utf8');
  return h.digest('hex');
}

/** The digest of a torrent's client file list relative to its content root; null when the list does not map (see clientListing). */
export function clientListingDigest(t: { clientSavePath: string; clientContentPath: string; files: readonly { name: string; size: number; wanted?: boolean }[] }): string | null {
  const l = clientListing(t);
  if (!l.ok) return null;
  return listingDigest([...l.files].map(([relpath, size]) => ({ relpath, size })));
}
