// Re-proves, right before each write, that every directory from a checked root down to where a step writes is still the one it saw: same (dev, ino), a real directory, never a symlink.
// The scope check runs once per group and the steps then reach each file by name again: another local user who can
// write inside the seeding root could swap a directory for a symlink in between and make root write elsewhere. Any
// such change is treated as an attack: the step stops, the group is rolled back, and the message says so.
import { isAtOrUnder } from '../domain/path-string.js';
import path from 'node:path';
import { FsError } from '../errors.js';
import type { FsPort } from './fs-port.js';

/** A directory of the chain changed under hashall's feet (replaced, swapped for a symlink, removed). */
export class TamperError extends FsError {
  constructor(dir: string, what: string) {
    super(`${dir} ${what} while hashall was writing below it — this looks like an attack by another local user (a directory swapped for a symbolic link to send root's writes elsewhere); stopped, nothing more is written, the group is rolled back`, {
      code: 'ESTALE',
      path: dir,
      hint: 'find out who can write there and what replaced it; hashall wrote nothing through it',
    });
  }
}

export interface DirChain {
  /** The checked root every proven folder lies in. */
  readonly root: string;
  /**
   * Every existing component from `root` down to `dir` (both included) must be a real directory, and each one seen
   * before must still have the (dev, ino) it had; components seen for the first time are remembered. A component
   * that does not exist (yet) ends the walk, unless it was seen before (then it was removed: tampering).
   */
  prove(dir: string): Promise<void>;
  /** The remembered identity of a directory, for undo data. */
  identity(dir: string): { dev: number; ino: number } | undefined;
}

/** A `.` or `..` path segment. */
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/** An absolute path spelled as path.normalize would (no `//`, `.` or `..` segment, no trailing slash): as plans spell them. */
function plain(p: string): boolean {
  return p === '/' || (p.startsWith('/') && !p.endsWith('/') && !p.includes('//') && !DOT_SEGMENT.test(p));
}

/**
 * The paths from `root` down to `dir` (inside it), each spelled as path.join spells it: for plain spellings, by slicing
 * and joining the strings (a dedupe batch proves thousands of folders), else through path.relative and path.join.
 */
export function chainOf(root: string, dir: string): string[] {
  const prefix = root === '/' ? '/' : `${root}/`;
  if (plain(root) && (dir === root || (dir.startsWith(prefix) && plain(dir)))) {
    const out = [root];
    for (let at = dir.indexOf('/', prefix.length); at !== -1; at = dir.indexOf('/', at + 1)) out.push(dir.slice(0, at));
    if (dir !== root) out.push(dir);
    return out;
  }
  const out = [root];
  let cur = root;
  for (const part of path.relative(root, dir).split(path.sep).filter(Boolean)) out.push((cur = path.join(cur, part)));
  return out;
}

export function dirChain(fs: FsPort, root: string): DirChain {
  const seen = new Map<string, { dev: number; ino: number }>();
  // The components of the last folder proven (a step proves the same folder before each of its writes): spelled once.
  let last: { dir: string; chain: string[] } | null = null;
  return {
    root,
    identity: (dir) => seen.get(dir),
    async prove(dir) {
      if (last?.dir !== dir) {
        if (!isAtOrUnder(dir, root)) throw new FsError(`${dir} is not inside ${root}; hashall writes only below the checked root`, { path: dir });
        last = { dir, chain: chainOf(root, dir) };
      }
      for (const cur of last.chain) {
        const st = await fs.lstatId(cur);
        const known = seen.get(cur);
        if (!st) {
          if (known) throw new TamperError(cur, 'vanished');
          return;
        }
        if (st.kind === 'symlink') throw new TamperError(cur, known ? 'was replaced by a symbolic link' : 'is a symbolic link');
        if (st.kind !== 'dir') throw new TamperError(cur, known ? `was replaced by a ${st.kind}` : `is a ${st.kind}, not a directory`);
        if (known && (known.dev !== st.dev || known.ino !== st.ino)) {
          throw new TamperError(cur, `was replaced by another directory (device ${st.dev} inode ${st.ino}, was ${known.dev}/${known.ino})`);
        }
        if (!known) seen.set(cur, { dev: st.dev, ino: st.ino });
      }
    },
  };
}
