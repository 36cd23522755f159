// The nothing-lost proof of scenario tests: every file under some trees with its inode, size and SHA-256 (symlinks listed, never followed).
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Absolute path → `ino:size:sha256` for every regular file under `dirs` ('symlink' for a symlink; hidden files included). */
export function inodeTreeSnapshot(...dirs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isSymbolicLink()) out[p] = 'symlink';
      else out[p] = `${st.ino}:${st.size}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  for (const d of dirs) walk(d);
  return out;
}
