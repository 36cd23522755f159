// Reaches a file below a configured root through its folder held open, opened from the root one no-follow component at a time: a folder swapped for a symlink cannot redirect root's read, write, link or unlink.
// A file a step only reads or links FROM (a copy's source, a view's donor) or removes a link of in an undo is reached
// through folderHold; a folder a step writes INTO (a copy's temp file and its link into place, a view's links, the
// folder's fsync) through targetHold, which also re-proves the folder chain (dir-chain.ts) around every write and makes
// the folders missing on the way one level at a time, each through the level above it held open (mkdirs). Either
// way the name used is never resolved through a symlink another local user put in a folder's place (a root-only
// folder behind it, say). One folder is held at a time — steps go through files in path order — and the caller closes
// the hold when done.
import path from 'node:path';
import { openChildDir, openDirUnder, openTrustedDir, UnsafeTreeError, type HeldDir, type Identity } from '../fs/no-follow-tree.js';
import { withPlainPaths } from '../domain/anchored-path.js';
import { isAtOrUnder } from '../domain/path-string.js';
import { FsError } from '../errors.js';
import { chainOf, TamperError, type DirChain } from './dir-chain.js';
import type { DirOwner, FsPort } from './fs-port.js';
import { existingAncestorStat } from './paths.js';

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
        last = { anchor: held.path, folder: dir };
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
      if (last === null) return err;
      return withPlainPaths(err, last.anchor, last.folder);
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
  /**
   * mkdir -p of folder `dir` (below the chain's root, or the root itself and its missing parents): the chain is proven,
   * the deepest folder of it that exists is held — opened from the root without following, the (dev, ino) the chain
   * proved — and each missing level is made through the level above it held open (FsPort.mkdirAt), given `like(path)`'s
   * owner, group and mode: no level is ever reached by a name a folder swapped for a symlink could redirect. (When the
   * root itself is missing, the nearest folder above it is opened by its path, trusted as the root is.) Each folder made
   * is pushed to `opts.made` at once and returned (outermost first); the parent of the outermost one is fsynced unless
   * `syncParent` is false. Then the chain is proven again down to `dir`, and each folder made below the root must be
   * the one at its path now: else (TamperError), or on any failure, the folders made are removed again through their
   * held parents — those very inodes, when still empty — and the error thrown.
   */
  mkdirs(dir: string, like?: (dir: string) => Promise<DirOwner | null>, opts?: { syncParent?: boolean; made?: MadeDir[] }): Promise<MadeDir[]>;
  explain(err: unknown): unknown;
  close(): Promise<void>;
}

/** A folder TargetHold.mkdirs made: its path and identity (what an undo removes, and only that very folder). */
export interface MadeDir {
  path: string;
  dev: number;
  ino: number;
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
    mkdirs: (dir, like, opts) => makeDirs(fs, chain, prove, dir, like, opts),
    explain: (err) => hold.explain(err),
    close: () => hold.close(),
  };
}

/** TargetHold.mkdirs, with `prove` the hold's proof of a folder. */
async function makeDirs(
  fs: FsPort,
  chain: DirChain,
  prove: (dir: string) => Promise<void>,
  dir: string,
  like: ((dir: string) => Promise<DirOwner | null>) | undefined,
  opts: { syncParent?: boolean; made?: MadeDir[] } = {},
): Promise<MadeDir[]> {
  await prove(dir);
  const levels = chainOf(chain.root, dir);
  let k = levels.length - 1;
  while (k >= 0 && chain.identity(levels[k]!) === undefined) k--;
  if (k === levels.length - 1) return []; // all there
  // Every folder held on the way (closed at the end), and what was made: each with the folder it was made in.
  const open: HeldDir[] = [];
  const made: (MadeDir & { in: HeldDir })[] = [];
  try {
    let cur: HeldDir;
    let todo: string[];
    if (k >= 0) {
      const anc = levels[k]!;
      const top = await openTrustedDir(chain.root);
      open.push(top);
      cur = anc === chain.root ? top : await openDirUnder(top, path.posix.relative(chain.root, anc));
      if (cur !== top) open.push(cur);
      const id = chain.identity(anc)!;
      if (cur.dev !== id.dev || cur.ino !== id.ino) throw new TamperError(anc, `was replaced by another directory (device ${cur.dev} inode ${cur.ino}, was ${id.dev}/${id.ino})`);
      todo = levels.slice(k + 1);
    } else {
      // The root itself is missing: the nearest folder above it is opened by its path, trusted as the root is.
      const { path: anc, stat } = await existingAncestorStat(fs, chain.root);
      if (stat?.kind !== 'dir') throw new FsError(`cannot make ${chain.root}: ${anc} is not a directory`, { code: 'ENOTDIR', path: anc });
      cur = await openTrustedDir(anc);
      open.push(cur);
      todo = [...chainOf(anc, chain.root).slice(1), ...levels.slice(1)];
    }
    for (const p of todo) {
      const name = path.posix.basename(p);
      const owner = like ? await like(p) : null;
      let next: HeldDir;
      try {
        next = await fs.mkdirAt(cur, name, owner);
      } catch (err) {
        if ((err as { code?: string }).code !== 'EEXIST') throw err;
        // Made meanwhile (by another copy of the same batch): entered without following, the folder the chain proved if it did.
        next = await openChildDir(cur, name, chain.identity(p));
        open.push(next);
        cur = next;
        continue;
      }
      open.push(next);
      const m = { path: p, dev: next.dev, ino: next.ino };
      made.push({ ...m, in: cur });
      opts.made?.push(m);
      cur = next;
    }
    if (made.length > 0 && opts.syncParent !== false) await fs.fsyncDir(made[0]!.in.path);
    // Every folder made is at its path, the very one made (the chain now remembers each one it proves).
    await prove(dir);
    for (const m of made) {
      if (!isAtOrUnder(m.path, chain.root)) continue;
      const id = chain.identity(m.path);
      if (id?.dev !== m.dev || id.ino !== m.ino) throw new TamperError(m.path, id ? `was replaced by another directory (device ${id.dev} inode ${id.ino}, made ${m.dev}/${m.ino})` : 'vanished');
    }
    return made.map(({ in: _, ...m }) => m);
  } catch (err) {
    // What was made is removed through the folder it was made in (wherever that was moved): those very inodes, empty.
    for (const m of [...made].reverse()) {
      const at = `${m.in.path}/${path.posix.basename(m.path)}`;
      const st = await fs.lstatId(at).catch(() => null);
      if (st?.kind === 'dir' && st.dev === m.dev && st.ino === m.ino) await fs.rmdir(at).catch(() => undefined);
    }
    throw err;
  } finally {
    for (const d of open.reverse()) await d.close().catch(() => undefined);
  }
}

/**
 * The spelling an undo removes folder `d` (one a step made below `root`) by: its anchored spelling through `hold` (its
 * parent opened from the root without following: never a name a swapped folder could redirect), or null when nothing
 * made there can be reached any more (see anchoredForUndo, which notes a swap in `notes`). The root and folders above
 * it (the root's missing parents, made from the folder above it trusted by path) by their path, as the root is trusted.
 */
export function dirForUndo(hold: FolderHold, root: string, d: string, notes: Set<string>): Promise<string | null> {
  if (!isAtOrUnder(d, root) || d === root) return Promise.resolve(d);
  return anchoredForUndo(hold, root, d, notes);
}
