// Resolves a hash the user typed (full, or a unique prefix of at least 8 hex digits) among known hashes (pure).

/** Shortest prefix accepted: the 8 hex digits every human output prints. */
export const MIN_HASH_PREFIX = 8;

export interface HashCandidate<K extends string> {
  kind: K;
  hash: string;
  /** What a person recognises it by (a torrent name), for the ambiguity message. */
  label: string;
}

export type HashPrefixMatch<K extends string> =
  | { status: 'unique'; match: HashCandidate<K> }
  | { status: 'ambiguous'; matches: HashCandidate<K>[] }
  | { status: 'none' }
  | { status: 'too-short' }
  | { status: 'not-hex' };

/** True when `q` is hex only (any length): it may be meant as a hash. */
export function looksLikeHash(q: string): boolean {
  return /^[0-9a-f]+$/i.test(q);
}

/**
 * Every candidate whose hash starts with `query` (case-insensitive). Candidates with the same kind and hash
 * count once (two torrents with one payload hash are one payload hash).
 */
export function matchHashPrefix<K extends string>(query: string, candidates: readonly HashCandidate<K>[]): HashPrefixMatch<K> {
  if (!looksLikeHash(query)) return { status: 'not-hex' };
  if (query.length < MIN_HASH_PREFIX) return { status: 'too-short' };
  const q = query.toLowerCase();
  const seen = new Map<string, HashCandidate<K>>();
  for (const c of candidates) {
    const key = `${c.kind}:${c.hash.toLowerCase()}`;
    if (c.hash.toLowerCase().startsWith(q) && !seen.has(key)) seen.set(key, c);
  }
  const matches = [...seen.values()];
  if (matches.length === 0) return { status: 'none' };
  if (matches.length === 1) return { status: 'unique', match: matches[0]! };
  return { status: 'ambiguous', matches };
}
