// Which directories of a walk hold a mount point: the only ones whose non-directory entries the walks look up (pure).

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
