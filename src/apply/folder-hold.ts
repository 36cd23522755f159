// Reaches a file below a configured root through its folder held open, opened from the root one no-follow component at a time: a folder swapped for a symlink cannot redirect root's read, write, link or unlink.
// A file a step only reads or links FROM (a copy's source, a view's donor) or removes a link of in an undo is reached
// through folderHold; a folder a step writes INTO (a copy's temp file and its link into place, a view's links, the
// folder's fsync) through targetHold, which also re-proves the folder chain (dir-chain.ts) around every write. Either
// way the name used is never resolved through a symlink another local user put in a folder's place (a root-only
// folder behind it, say). One folder is held at a time — steps go through files in path order — and the caller closes
// the hold when done.
import path from 'node:path';
import { openDirUnder, openTrustedDir, UnsafeTreeError, type HeldDir, type Identity } from '../fs/no-follow-tree.js';
import { FsError } from '../errors.js';
import { TamperError, type DirChain } from './dir-chain.js';
import type { FsPort } from './fs-port.js';

export interface FolderHold {
  /**
   * The anchored spelling (`/proc/self/fd/N/name`) of file `p` lying below `root` (a configured root, in `p`'s own
   * spelling): its folder is held until another folder is asked for, or close(). Throws (UnsafeTreeError) when a
   * component between them is a symlink, not a folder, or on another filesystem; FsError ENOENT when one is missing;
   * TamperError when `expect` is given and the folder opened is another one.
   */
  anchored(root: string, p: string, expect?: Identity): Promise<string>;
  /** The anchored spelling of folder `dir` itself (at or below `root`), held the same way. */
  folder(root: string, dir: string, expect?: Identity): Promise<string>;
  /**
   * `err` with the anchored spelling of the folder held last put back as the folder's path in its message and path (an
   * error from the filesystem names `/proc/self/fd/N/…`, which tells a user nothing); the same error object.
   */
  explain(err: unknown): unknown;
  close(): Promise<void>;
}

export function folderHold(): FolderHold {
  let cur: { key: string; top: HeldDir; dir: HeldDir } | null = null;
  // The last folder's anchor and its path, kept after close (an error is explained once the hold is let go).
  let last: { anchor: string; folder: string } | null = null;
  const close = async (): Promise<void> => {
    const c = cur;
    cur = null;
    if (!c) return;
    if (c.dir !== c.top) await c.dir.close();
    await c.top.close();
  };
  /** Hold folder `dir` (at or below `root`); its anchored spelling. */
  const hold = async (root: string, dir: string, expect: Identity | undefined): Promise<string> => {
    const key = `${root}\0${dir}`;
    if (cur?.key !== key) {
      await close();
      const top = await openTrustedDir(root);
      try {
        const held = dir === root ? top : await openDirUnder(top, path.posix.relative(root, dir));
        if (expect && (held.dev !== expect.dev || held.ino !== expect.ino)) {
          if (held !== top) await held.close();
          throw new TamperError(dir, `was replaced by another directory (device ${held.dev} inode ${held.ino}, was ${expect.dev}/${expect.ino})`);
        }
        cur = { key, top, dir: held };
        last = { anchor: `${held.path}/`, folder: `${dir}/` };
      } catch (err) {
        await top.close();
        throw err;
      }
    }
    return cur.dir.path;
  };
  return {
    async anchored(root, p, expect) {
      return `${await hold(root, path.posix.dirname(p), expect)}/${path.posix.basename(p)}`;
    },
    folder: (root, dir, expect) => hold(root, dir, expect),
    explain(err) {
      if (last === null || !(err instanceof Error)) return err;
      const { anchor, folder } = last;
      // The anchor (`/proc/self/fd/N`: no character special in a pattern), followed by a name or ending there (the
      // folder itself, an fsync of it): never the start of another descriptor's number.
      const spelled = new RegExp(`${anchor.slice(0, -1)}(?![0-9])`, 'g');
      const named = folder.slice(0, -1);
      err.message = err.message.replace(spelled, named);
      const e = err as Error & { path?: unknown };
      const fixed = typeof e.path === 'string' ? e.path.replace(spelled, named) : e.path;
      if (fixed !== e.path) Object.defineProperty(e, 'path', { value: fixed });
      return err;
    },
    close,
  };
}

/**
 * For an undo: `p`'s anchored spelling through `hold` (`p` below `root`), or null when nothing a step made can be at
 * that path any more — its folder is gone, or a folder on the way is now a symlink, a file or a mount (then `notes`
 * says so, once per folder: what was made there before the swap went wherever that folder was moved, and hashall
 * follows no name to it).
 */
export async function anchoredForUndo(hold: FolderHold, root: string, p: string, notes: Set<string>): Promise<string | null> {
  try {
    return await hold.anchored(root, p);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null; // its folder is gone, and what it held with it
    if (err instanceof UnsafeTreeError) {
      notes.add(`left what hashall made in ${path.posix.dirname(p)} alone: ${err.message}`);
      return null;
    }
    throw err;
  }
}

/**
 * The folders a step writes into (a copy's target, a view's folders), held from the root of `chain`. Every name a write
 * uses is resolved from the held folder; the path proof (dir-chain.ts) stays around each write: a folder held is valid
 * wherever it is moved to — a rename keeps the descriptor — so only the chain tells that it is still in its place.
 */
export interface TargetHold {
  /**
   * For a write of `p`: the chain from the root down to `p`'s folder is proven again, that very folder (the (dev, ino)
   * the chain proved) is held — opened from the root without following —, and `p`'s anchored spelling returned.
   */
  anchored(p: string): Promise<string>;
  /** Folder `dir` itself (its fsync), proven and held the same way. */
  folder(dir: string): Promise<string>;
  /**
   * After a write through anchored(p) made `id` there: the chain is proven again — the held folder must still be at its
   * path: not moved away, swapped or replaced. When it is not (TamperError, thrown), whatever this hold made in the
   * folder it holds (those very inodes) is first removed through it: a folder moved between the proof and the write,
   * wherever it went (out of the root's tree, to a place the user can write), keeps nothing of hashall's. The same on
   * any later proof of that folder while it is held.
   */
  made(p: string, id: Identity): Promise<void>;
  explain(err: unknown): unknown;
  close(): Promise<void>;
}

export function targetHold(fs: FsPort, chain: DirChain): TargetHold {
  const hold = folderHold();
  // The folder held (its path) and what was made in it through the hold (anchored spellings: valid while it is held).
  let held: string | null = null;
  let ours: { at: string; id: Identity }[] = [];
  const unmake = async (): Promise<void> => {
    const list = ours;
    ours = [];
    for (const { at, id } of list.reverse()) {
      // Never fails the proof's TamperError in its place: what cannot be removed is the undo's (by its journaled path).
      const st = await fs.lstat(at).catch(() => null);
      if (st?.kind === 'file' && st.dev === id.dev && st.ino === id.ino) await fs.unlink(at).catch(() => undefined);
    }
  };
  const prove = async (dir: string): Promise<void> => {
    try {
      await chain.prove(dir);
    } catch (err) {
      if (dir === held && err instanceof TamperError) await unmake();
      throw err;
    }
  };
  const take = async (dir: string): Promise<string> => {
    await prove(dir);
    const expect = chain.identity(dir);
    if (!expect) throw new FsError(`${dir} does not exist; hashall writes only into a folder it has proven`, { code: 'ENOENT', path: dir });
    if (held !== dir) {
      held = null;
      ours = [];
    }
    const at = await hold.folder(chain.root, dir, expect);
    held = dir;
    return at;
  };
  return {
    anchored: async (p) => `${await take(path.posix.dirname(p))}/${path.posix.basename(p)}`,
    folder: take,
    async made(p, id) {
      const dir = path.posix.dirname(p);
      if (held === dir) ours.push({ at: `${await hold.folder(chain.root, dir)}/${path.posix.basename(p)}`, id });
      await prove(dir);
    },
    explain: (err) => hold.explain(err),
    close: () => hold.close(),
  };
}
