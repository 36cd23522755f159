// Canonical absolute path string helpers: segment-wise containment, relative paths, joins (pure, POSIX).

/** True when `path` is `root` itself or lies under it (whole segments only: `/a/bc` is not under `/a/b`). */
export function isAtOrUnder(path: string, root: string): boolean {
  if (path === root) return true;
  if (root === '/') return path.startsWith('/');
  return path.startsWith(root) && path.charCodeAt(root.length) === 47; /* '/' */
}

/** `path` relative to `root` ('' when equal), or null when it is not at or under it. */
export function relativeTo(path: string, root: string): string | null {
  if (path === root) return '';
  if (!isAtOrUnder(path, root)) return null;
  return root === '/' ? path.slice(1) : path.slice(root.length + 1);
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
