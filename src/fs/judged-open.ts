// Opens a path as the kernel would resolve it, one component at a time through held folder descriptors, judging every symlink on the way by the link rule (trusted-place.ts linkRule) as it is followed.
// Judging the links by name and then opening by name leaves a window: another user who controls a folder on the way
// swaps a component between the two (a link in, the check passes on the restored folder, the link back). Here each
// folder is held open while its child is looked at, each link is judged with the folder holding it (its owner and
// mode read on that descriptor) and read through it, and each real component is opened O_NOFOLLOW through its held
// parent and must be the inode lstat saw: what is opened is what was judged.
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { anchoredPath } from '../domain/anchored-path.js';
import { FsError } from '../errors.js';
import { asUntrusted, inputOwners, linkRule, type PlaceProblem, type UntrustedInput } from './trusted-place.js';

/** Symlinks followed before the path is given up on (Linux's own limit: ELOOP). */
const MAX_LINKS = 40;
const DIR = constants.O_RDONLY | constants.O_DIRECTORY;

/** statfs(2)'s type of procfs. */
const PROC_SUPER_MAGIC = 0x9fa0;

/** Whether held folder `fd` is on procfs. */
const onProc = (fd: number): boolean => statfsSync(anchoredPath(fd, '.')).type === PROC_SUPER_MAGIC;

/**
 * Open `p` with `flags` (O_NOFOLLOW is added: the last component is opened itself, never through a link), following
 * the symlinks on the way as the kernel would, each judged by linkRule first: `{ problem }` for the first one another
 * user planted or could swap (nothing opened), else `{ fd }` — the caller closes it. Throws as open(2) would (ENOENT,
 * ELOOP past 40 links, EACCES) and FsError ESTALE when a component changed between its lstat and its open.
 */
export function openJudged(p: string, flags: number, opts: { owners: ReadonlySet<number>; who: string }): { fd: number } | { problem: PlaceProblem } {
  // Not path.resolve: it would drop `x/..` by its spelling, where the kernel goes up from wherever the link x leads.
  let todo = (p.startsWith('/') ? p : `${process.cwd()}/${p}`).split('/').filter((n) => n !== '');
  let dir = openSync('/', DIR);
  let at = '/';
  try {
    for (let links = 0; ; ) {
      const name = todo.shift();
      if (name === undefined) {
        // The path ended on a folder reached through a link or `..` (or `/` itself): it is the one held.
        const fd = openSync(anchoredPath(dir, '.'), flags | constants.O_NOFOLLOW);
        return { fd };
      }
      if (name === '.') continue;
      if (name === '..') {
        const up = openSync(anchoredPath(dir, '..'), DIR);
        closeSync(dir);
        dir = up;
        at = path.dirname(at);
        continue;
      }
      const next = path.join(at, name);
      const st = lstatSync(anchoredPath(dir, name), { throwIfNoEntry: false });
      if (st?.isSymbolicLink()) {
        if (++links > MAX_LINKS) throw new FsError(`${p}: too many levels of symbolic links`, { code: 'ELOOP', path: p });
        const found = linkRule(next, st, at, fstatSync(dir), opts);
        if (found !== null) return { problem: found };
        if (onProc(dir)) {
          // /proc's links (`self`, a descriptor's `fd/N`: a pipe of `apply <(…)`) name no path to walk: the kernel's own,
          // root's, opened as the kernel follows them.
          const fd = openSync(anchoredPath(dir, name), todo.length === 0 ? flags : DIR);
          if (todo.length === 0) return { fd };
          closeSync(dir);
          dir = fd;
          at = next;
          continue;
        }
        const target = readlinkSync(anchoredPath(dir, name));
        todo = [...target.split('/').filter((n) => n !== ''), ...todo];
        if (target.startsWith('/')) {
          const root = openSync('/', DIR);
          closeSync(dir);
          dir = root;
          at = '/';
        }
        continue;
      }
      const last = todo.length === 0;
      // Missing: open(2) says so (ENOENT), or creates it when `flags` asks to (O_CREAT, never through a link).
      const fd = openSync(anchoredPath(dir, name), (last ? flags : DIR) | constants.O_NOFOLLOW);
      const got = fstatSync(fd);
      if (st !== undefined && (got.dev !== st.dev || got.ino !== st.ino)) {
        closeSync(fd);
        throw new FsError(`${next} changed while it was being opened (another process replaced it); nothing was done through it`, { code: 'ESTALE', path: next });
      }
      if (last) return { fd };
      closeSync(dir);
      dir = fd;
      at = next;
    }
  } finally {
    closeSync(dir);
  }
}

/**
 * Open a file that steers hashall (hashall.yaml, a saved plan) through openJudged, with the owners untrustedInput
 * trusts: `{ problem }` when a symlink on the way is one another user planted or could swap. The file itself and
 * the folders holding it are the caller's to judge, on this descriptor (untrustedInput with `fd`). Opened O_NONBLOCK:
 * a FIFO nobody writes to does not hold the open (which would wait for a writer without end) — read it with readInput
 * (input-read.ts).
 */
export function openInput(file: string, flags: number, env: Record<string, string | undefined>): { fd: number } | { problem: UntrustedInput } {
  const { owners, who, euid } = inputOwners(env);
  const opened = openJudged(file, flags | constants.O_NONBLOCK, { owners, who });
  return 'fd' in opened ? opened : { problem: asUntrusted(opened.problem, who, euid) };
}
