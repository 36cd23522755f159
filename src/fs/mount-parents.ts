// Which mount points lie in a tree: the directories of a walk that hold one (the only ones whose non-directory entries the walks look up), and those at or below a tree hashall acts on (pure).

/**
 * The directories below or at `root` (absolute, each with its trailing slash: `/` for the filesystem's root) that hold
 * one of `mountPoints`. A file can be a mount point too (`mount --bind /a/x /root/dir/y`), and on the same filesystem
 * nothing in its lstat tells: the walks look an entry up in the mount points only in these directories, so a tree
 * without mounts inside pays nothing per file. Paths are text as mountinfo gives them (a byte that is not UTF-8 is
 * U+FFFD), compared with the walk's paths decoded the same way.
 */
export function mountParents(root: string, mountPoints: Iterable<string>): Set<string> {
  const inside = root === '/' ? '/' : root + '/';
  const out = new Set<string>();
  for (const m of mountPoints) {
    if (m.length > inside.length && m.startsWith(inside)) out.add(m.slice(0, m.lastIndexOf('/') + 1));
  }
  return out;
}

/** A directory's absolute path as mountParents keys it: decoded as mountinfo is, with its trailing slash. */
export function mountParentKey(abs: string | Buffer): string {
  const text = typeof abs === 'string' ? abs : abs.toString('utf8');
  return text.endsWith('/') ? text : text + '/';
}

/**
 * The mount points at or below `tree` (absolute, as mountinfo's text spells it), sorted: where a walk that removes,
 * moves or lists the tree would reach another file or folder than the tree's own — a bind mount of the same
 * filesystem has the tree's device, so nothing in lstat tells (see no-follow-tree.ts). A name that is not UTF-8 reads
 * as U+FFFD on both sides, so two such names may match where the bytes differ: a refusal, never a miss.
 */
export function mountPointsWithin(tree: string, mountPoints: Iterable<string>): string[] {
  const inside = tree === '/' ? '/' : tree + '/';
  const out: string[] = [];
  for (const m of mountPoints) if (m === tree || m.startsWith(inside)) out.push(m);
  return out.sort();
}
