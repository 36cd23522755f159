// Translates paths between the torrent client's view and the host's view by longest whole-segment prefix (pure).
import { normalizePath, relativeTo } from './path-string.js';
import type { PathMap } from '../config/types.js';

/** Lexically normalized absolute path without a trailing slash; null for a relative or empty path. */
export function normalizeAbsolute(p: string): string | null {
  return p.startsWith('/') ? normalizePath(p) : null;
}

/** `path` below `prefix` with its leading slash ('' when equal; the whole path under `/`), or null outside. */
function rest(path: string, prefix: string): string | null {
  if (prefix === '/') return path;
  const rel = relativeTo(path, prefix);
  return rel === null ? null : rel === '' ? '' : `/${rel}`;
}

/**
 * A path a client reports, lexically normalized; null when it is relative or has a `..` segment. Where `a/../b` leads
 * depends on what `a` is on the client's side (a symlink there goes elsewhere than the lexical `b`): read lexically it
 * could name a payload the client does not use, and leave the one it uses unclaimed (an orphan) — so it is unknown.
 */
export function clientAbsolute(p: string): string | null {
  return p.split('/').includes('..') ? null : normalizeAbsolute(p);
}

function translate(maps: readonly PathMap[], path: string, from: 'client' | 'host', to: 'client' | 'host'): string | null {
  const p = from === 'client' ? clientAbsolute(path) : normalizeAbsolute(path);
  if (p === null) return null;
  let best: { len: number; results: Set<string> } | null = null;
  for (const m of maps) {
    const src = normalizeAbsolute(m[from]);
    const dst = normalizeAbsolute(m[to]);
    if (src === null || dst === null) continue;
    const tail = rest(p, src);
    if (tail === null) continue;
    const out = dst === '/' ? tail || '/' : `${dst}${tail}`;
    const len = src === '/' ? 0 : src.length;
    if (!best || len > best.len) best = { len, results: new Set([out]) };
    else if (len === best.len) best.results.add(out);
  }
  // Two equally long prefixes that disagree make the answer unknown, never a guess.
  if (!best || best.results.size !== 1) return null;
  return [...best.results][0] ?? null;
}

/** Host spelling of a client path, or null when no map covers it (the caller decides: exists on host, or unmapped). */
export function clientToHost(maps: readonly PathMap[], clientPath: string): string | null {
  return translate(maps, clientPath, 'client', 'host');
}

/**
 * The host spelling of a path a client reports: through the instance's path maps when it has any (null when none
 * covers it: unknown, never guessed), else the path as the client spells it (a client running on the host itself).
 */
export function hostSpelling(maps: readonly PathMap[], clientPath: string): string | null {
  return maps.length > 0 ? clientToHost(maps, clientPath) : clientAbsolute(clientPath);
}

/** Client spelling of a host path, or null when no map covers it. */
export function hostToClient(maps: readonly PathMap[], hostPath: string): string | null {
  return translate(maps, hostPath, 'host', 'client');
}
