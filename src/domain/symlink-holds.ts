// What recorded symlinks hold (pure): a link reaches a payload or a file by path, so moving or retiring what it names breaks it.
import { isAtOrUnder } from './path-string.js';
import { compareBytes } from './payload-hash.js';

/** A recorded link by canonical absolute paths: the link itself and the host path it names. */
export interface SymlinkTarget {
  link: string;
  resolved: string;
}

/**
 * The links holding each of `roots` (payload roots, canonical absolute): a link naming the root, something inside it,
 * or a folder above it — through any of these the payload's files are reached by path, so moving or retiring it
 * breaks the link. A link that lies inside the root itself holds nothing of it (it moves with it). Roots without a
 * holder are absent. Cost: per link, its target's folders up the tree, plus a binary search for the roots below it.
 */
export function symlinkHolders(roots: Iterable<string>, links: readonly SymlinkTarget[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (links.length === 0) return out;
  const set = new Set(roots);
  const sorted = [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const hold = (root: string, link: string): void => {
    if (isAtOrUnder(link, root)) return;
    const list = out.get(root);
    if (list) {
      if (!list.includes(link)) list.push(link);
    } else out.set(root, [link]);
  };
  for (const { link, resolved } of links) {
    // The root at or above what the link names.
    for (let p = resolved; ; ) {
      if (set.has(p)) hold(p, link);
      const i = p.lastIndexOf('/');
      if (i <= 0) break;
      p = p.slice(0, i);
    }
    // The roots below it (a link to a category folder, a seeding root, a filesystem).
    const prefix = resolved === '/' ? '/' : resolved + '/';
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((sorted[mid] as string) < prefix) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < sorted.length && (sorted[i] as string).startsWith(prefix); i++) hold(sorted[i] as string, link);
  }
  for (const list of out.values()) list.sort(compareBytes);
  return out;
}

/** Whether `file` (canonical absolute) is reached through one of the links: a link names it or a folder above it. */
export function symlinkHolderOf(targets: ReadonlyMap<string, string>, file: string): string | null {
  for (let p = file; ; ) {
    const link = targets.get(p);
    if (link !== undefined && !isAtOrUnder(link, p)) return link;
    const i = p.lastIndexOf('/');
    if (i <= 0) return null;
    p = p.slice(0, i);
  }
}
