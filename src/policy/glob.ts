// Path globs for placement rules: `*` within one segment, `**` across segments, `?` one character (pure).

/**
 * Compile a glob into a RegExp matching a whole relative path. `**` as a full segment matches zero or more
 * segments (`movies/**` matches `movies/A` and `movies/A/b`); anywhere else it matches any characters.
 * Every other character is literal. No Unicode normalization and no case folding.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let i = 0;
  while (i < glob.length) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atSegStart = i === 0 || glob[i - 1] === '/';
        const next = glob[i + 2];
        if (atSegStart && next === '/') {
          re += '(?:.*/)?';
          i += 3;
          continue;
        }
        if (atSegStart && next === undefined) {
          re += '.*';
          i += 2;
          continue;
        }
        re += '.*';
        i += 2;
        continue;
      }
      re += '[^/]*';
      i += 1;
      continue;
    }
    if (c === '?') re += '[^/]';
    else re += c.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
    i += 1;
  }
  // `a/**` should also match `a` itself.
  re = re.replace(/\/\.\*$/, '(?:/.*)?');
  return new RegExp(`^${re}$`, 's');
}

export function globMatches(glob: string, relpath: string): boolean {
  return globToRegExp(glob).test(relpath);
}
