// Holds the folders a dedupe batch swaps duplicates in: each opened from its root one no-follow component at a time when first needed, every temp link and swap made through its descriptor, its place proven right before each swap, fsynced through it after its last swap.
// Before, each swap proved the duplicate's folder chain by path and then linked and renamed by path: between a proof and
// the write (microseconds) another local user who can write there could swap the folder for a symlink, and root's temp
// link — then its rename over a same-named file — landed wherever the symlink pointed (a root-only folder). Through a
// held folder a write lands in that very folder whatever its path has become.
// The folder is opened from its root's descriptor one component at a time (O_NOFOLLOW|O_DIRECTORY: never through a
// symlink, never onto another filesystem), and a folder held again later (after being let go) must be the very
// (dev, ino) held before. Right before each swap its place is proven: the kernel's spelling of the held descriptor
// (/proc/self/fd/N, the folder's real path now) must be the root's own spelling followed by the folder's relative path —
// one readlink instead of a stat of every folder on the way. A folder moved (or a folder on its way swapped) since it
// was held is told apart (TamperError) and nothing is swapped in it; the temp link made in it is removed through it.
// Metadata calls here are synchronous, as the FsPort's are: microseconds each, where a thread-pool round trip costs more.
// At most MAX_HELD folders are open at once (descriptors are bounded); the least recently used is let go first and held
// — proven — again if a later swap of the batch needs it.
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync } from 'node:fs';
import { FsError } from '../errors.js';
import { anchoredPath, withPlainPaths } from '../domain/anchored-path.js';
import { isAtOrUnder } from '../domain/path-string.js';
import { bytesToPathText, fsPathArg } from '../fs/path-encoding.js';
import { TamperError } from './dir-chain.js';
import type { FsPort } from './fs-port.js';

/** Folders held at once at most (each one descriptor; each root one more). */
export const MAX_HELD = 64;

const DIR = constants.O_RDONLY | constants.O_DIRECTORY;
const CHILD_DIR = DIR | constants.O_NOFOLLOW;

export interface SwapFolders {
  /**
   * The anchored spelling (`/proc/self/fd/N`) of folder `dir` below `root` (a configured root, in `dir`'s spelling),
   * held from its first use: opened from the root without following, on the root's filesystem, the same folder as
   * held before if it was.
   */
  open(root: string, dir: string): Promise<string>;
  /** Right before a swap in `dir` (held by open): the folder held is still at its path; TamperError when not. */
  prove(dir: string): Promise<void>;
  /** After the last swap in `dir` (opened before): its entries made durable through its descriptor (held again if it was let go), then let go. */
  sync(dir: string): Promise<void>;
  /** `err` with the anchored spellings of the folders held now put back as folder paths (a message naming `/proc/self/fd/N` tells a user nothing); a number closed since is left as it is. */
  explain(err: unknown): unknown;
  close(): Promise<void>;
}

interface Held {
  fd: number;
  dev: number;
  ino: number;
  /** The kernel's spelling of the folder where it was held (its descriptor's /proc link): where it must still be. */
  place: Buffer;
}

function placeOf(fd: number): Buffer {
  return readlinkSync(anchoredPath(fd), { encoding: 'buffer' });
}

/** Bytes of a path text (catalog spelling: escaped where a name is not UTF-8). */
function bytesOf(p: string): Buffer {
  const b = fsPathArg(p);
  return typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

export function swapFolders(fs: FsPort): SwapFolders {
  const tops = new Map<string, Held>();
  // Held folders by path, least recently used first (a Map keeps insertion order: a use moves it to the end).
  const held = new Map<string, Held>();
  // The identity of every folder held once: held again, it must be the same folder.
  const seen = new Map<string, { dev: number; ino: number }>();
  // Every anchor handed out and its folder, while its descriptor is open: once closed, the number may be another
  // file's or folder's, and an error naming it must not be told as this folder's (see forget).
  const spelled = new Map<string, string>();
  // The root each folder opened lies in (where it is held from again once let go).
  const roots = new Map<string, string>();
  const rootOf = (dir: string): string => {
    const root = roots.get(dir);
    if (root === undefined) throw new Error(`dedupe: ${dir} was never held`);
    return root;
  };

  const topOf = (root: string): Held => {
    let top = tops.get(root);
    if (!top) {
      // The configured root itself is trusted by path (as everywhere): what lies below it is reached without following.
      const fd = openSync(fsPathArg(root), DIR);
      const st = fstatSync(fd);
      top = { fd, dev: st.dev, ino: st.ino, place: placeOf(fd) };
      tops.set(root, top);
      spelled.set(anchoredPath(fd), root);
    }
    return top;
  };

  // Folder `dir` opened from its root one component at a time (never following, never leaving the root's filesystem).
  const hold = (root: string, dir: string): Held => {
    if (!isAtOrUnder(dir, root)) throw new FsError(`${dir} is not inside ${root}; hashall links only below the checked root`, { path: dir });
    const top = topOf(root);
    const rel = dir === root ? '' : dir.slice(root === '/' ? 1 : root.length + 1);
    let fd = top.fd;
    let at = root;
    try {
      for (const part of rel === '' ? [] : rel.split('/')) {
        at = at === '/' ? `/${part}` : `${at}/${part}`;
        const p = anchoredPath(fd, fsPathArg(part));
        let next: number;
        try {
          next = openSync(p, CHILD_DIR);
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === 'ELOOP' || code === 'ENOTDIR') {
            const st = (() => {
              try {
                return lstatSync(p);
              } catch {
                return null;
              }
            })();
            throw new TamperError(at, st?.isSymbolicLink() ? 'is a symbolic link' : 'is not a directory');
          }
          if (code === 'ENOENT') throw new FsError(`${at} does not exist; hashall links only into a folder it has proven`, { code: 'ENOENT', path: at });
          throw err;
        }
        if (fd !== top.fd) closeSync(fd);
        fd = next;
        const st = fstatSync(fd);
        if (st.dev !== top.dev) throw new TamperError(at, `is on another filesystem (a mount point) than ${root}`);
      }
      const st = fstatSync(fd);
      const before = seen.get(dir);
      if (before && (before.dev !== st.dev || before.ino !== st.ino)) throw new TamperError(dir, `was replaced by another directory (device ${st.dev} inode ${st.ino}, was ${before.dev}/${before.ino})`);
      seen.set(dir, { dev: st.dev, ino: st.ino });
      const place = rel === '' ? top.place : Buffer.concat([top.place.equals(Buffer.from('/')) ? top.place : Buffer.concat([top.place, Buffer.from('/')]), bytesOf(rel)]);
      // The walk itself proves the folder at `dir` now; its place is what every later proof compares with.
      const h = { fd: fd === top.fd ? openSync(anchoredPath(top.fd), DIR) : fd, dev: st.dev, ino: st.ino, place };
      spelled.set(anchoredPath(h.fd), dir);
      return h;
    } catch (err) {
      if (fd !== top.fd) closeQuietly(fd);
      throw err;
    }
  };

  /** Close a held descriptor and drop its anchor from `spelled`. */
  const forget = (fd: number): void => {
    spelled.delete(anchoredPath(fd));
    closeQuietly(fd);
  };

  const letGo = (dir: string): void => {
    const h = held.get(dir);
    if (!h) return;
    held.delete(dir);
    forget(h.fd);
  };

  const explain = (err: unknown): unknown => {
    if (!(err instanceof Error)) return err;
    const path = (err as Error & { path?: unknown }).path;
    for (const [anchor, dir] of spelled) {
      if (err.message.includes(anchor) || (typeof path === 'string' && path.includes(anchor))) withPlainPaths(err, anchor, dir);
    }
    return err;
  };

  return {
    // Only the swaps, one after another, hold folders in `held` (and so let the least recently used go): the folder a
    // swap works in is never let go under it.
    async open(root, dir) {
      const h = held.get(dir);
      if (h) {
        held.delete(dir);
        held.set(dir, h);
        return anchoredPath(h.fd);
      }
      const d = hold(root, dir);
      roots.set(dir, root);
      while (held.size >= MAX_HELD) letGo(held.keys().next().value!);
      held.set(dir, d);
      return anchoredPath(d.fd);
    },
    async prove(dir) {
      const h = held.get(dir);
      if (!h) {
        // Let go since (never between a swap's open and its proof, see open): holding it again proves it.
        held.set(dir, hold(rootOf(dir), dir));
        return;
      }
      const now = placeOf(h.fd);
      if (!now.equals(h.place)) throw new TamperError(dir, `was moved away or replaced (the folder hashall held there is now at ${bytesToPathText(now)})`);
    },
    async sync(dir) {
      // Out of `held` at once (before any wait): no later swap's open lets it go while its fsync runs.
      const h = held.get(dir) ?? hold(rootOf(dir), dir);
      held.delete(dir);
      try {
        await fs.fsyncDir(anchoredPath(h.fd));
      } catch (err) {
        throw explain(err); // while its anchor still names it
      } finally {
        forget(h.fd);
      }
    },
    explain,
    async close() {
      for (const dir of [...held.keys()]) letGo(dir);
      for (const top of tops.values()) forget(top.fd);
      tops.clear();
    },
  };
}
