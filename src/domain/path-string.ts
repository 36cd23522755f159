// Canonical absolute path string helpers: segment-wise containment, relative paths, joins (pure, POSIX).

/** Drop trailing slashes; `/` stays `/`. */
export function trimSlash(p: string): string {
  let end = p.length;
  while (end > 1 && p.charCodeAt(end - 1) === 47 /* '/' */) end--;
  return end === p.length ? p : p.slice(0, end);
}

/** Something that `normalizePath` would change: an empty, `.` or `..` segment, or a trailing slash. */
const UNNORMALIZED = /\/\/|(?:^|\/)\.\.?(?:\/|$)|.\/$/;

/**
 * True for a path that is certainly its own normal form, told without the regex (the common case, ~600k times per
 * plan of 1M files): absolute, no `//`, no `/.` (so no `.` or `..` segment — a name starting with a dot goes to the
 * regex too) and no trailing slash. False says nothing: UNNORMALIZED decides.
 */
export function plainlyNormal(p: string): boolean {
  return p.charCodeAt(0) === 47 && p.indexOf('//') < 0 && p.indexOf('/.') < 0 && (p.length === 1 || p.charCodeAt(p.length - 1) !== 47);
}

/**
 * The lexical normal form of a POSIX path: no empty, `.` or `..` segments and no trailing slash (`/..` is `/`;
 * a relative path keeps its leading `..`). Lexical only: a symlinked directory is the filesystem's business.
 */
export function normalizePath(p: string): string {
  if (p === '' || plainlyNormal(p) || !UNNORMALIZED.test(p)) return p;
  const abs = p.charCodeAt(0) === 47;
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!abs) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const body = out.join('/');
  return abs ? `/${body}` : body === '' ? '.' : body;
}

/**
 * True when `path` is `root` itself or lies under it, by whole segments (`/a/bc` and `/a/b c` are not under `/a/b`).
 * The one containment check of hashall: both sides are compared in their lexical normal form, so a trailing slash,
 * `//`, `.` or `..` can never make a path look inside a root it is not in (`/a/b/../c` is not under `/a/b`). A
 * relative path is never under an absolute root, nor an absolute path under a relative one.
 */
export function isAtOrUnder(path: string, root: string): boolean {
  return isAtOrUnderNormal(normalizePath(path), normalizePath(root));
}

/** isAtOrUnder of two paths already in normal form. */
function isAtOrUnderNormal(p: string, r: string): boolean {
  if (p === r) return true;
  if ((p.charCodeAt(0) === 47) !== (r.charCodeAt(0) === 47)) return false;
  if (r === '/') return true;
  if (r === '.') return !p.startsWith('..') || (p.length > 2 && p.charCodeAt(2) !== 47);
  return p.startsWith(r) && p.charCodeAt(r.length) === 47;
}

/** `path` relative to `root` ('' when equal), or null when it is not at or under it. */
export function relativeTo(path: string, root: string): string | null {
  const p = normalizePath(path);
  const r = normalizePath(root);
  if (!isAtOrUnderNormal(p, r)) return null;
  if (p === r) return '';
  if (r === '.') return p;
  return r === '/' ? p.slice(1) : p.slice(r.length + 1);
}

/** Join path parts with single slashes; empty parts are skipped. */
export function joinPath(...parts: string[]): string {
  let out = '';
  for (const p of parts) {
    if (p === '') continue;
    if (out === '') out = p;
    else out = out.endsWith('/') ? out + p.replace(/^\/+/, '') : `${out}/${p.replace(/^\/+/, '')}`;
  }
  return out;
}

export function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

export function dirName(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return '';
  if (i === 0) return '/';
  return path.slice(0, i);
}

/** Drop the last `n` segments of a path (n = 0 returns it unchanged). */
export function dropSegments(path: string, n: number): string {
  let p = path;
  for (let i = 0; i < n; i++) p = dirName(p);
  return p;
}

export function segments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** The longest of `roots` that `path` is at or under, or null. */
export function longestRootOf(path: string, roots: Iterable<string>): string | null {
  let best: string | null = null;
  for (const r of roots) if (isAtOrUnder(path, r) && (best === null || r.length > best.length)) best = r;
  return best;
}
