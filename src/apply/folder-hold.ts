// Reaches a file below a configured root through its folder held open, opened from the root one no-follow component at a time: a folder swapped for a symlink cannot redirect root's read, link or unlink.
// Steps that name a file by path re-prove the folders they write into (dir-chain.ts); a file they only read or link
// FROM (a copy's source, a view's donor) or remove a link of in an undo is reached this way instead, so the name used
// is never resolved through a symlink another local user put in its place (a root-only folder behind it, say). One
// folder is held at a time — steps go through files in path order — and the caller closes the hold when done.
import path from 'node:path';
import { openDirUnder, openTrustedDir, type HeldDir } from '../fs/no-follow-tree.js';

export interface FolderHold {
  /**
   * The anchored spelling (`/proc/self/fd/N/name`) of file `p` lying below `root` (a configured root, in `p`'s own
   * spelling): its folder is held until another folder is asked for, or close(). Throws (UnsafeTreeError) when a
   * component between them is a symlink, not a folder, or on another filesystem; FsError ENOENT when one is missing.
   */
  anchored(root: string, p: string): Promise<string>;
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
  return {
    async anchored(root, p) {
      const parent = path.posix.dirname(p);
      const key = `${root}\0${parent}`;
      if (cur?.key !== key) {
        await close();
        const top = await openTrustedDir(root);
        try {
          const dir = parent === root ? top : await openDirUnder(top, path.posix.relative(root, parent));
          cur = { key, top, dir };
          last = { anchor: `${dir.path}/`, folder: `${parent}/` };
        } catch (err) {
          await top.close();
          throw err;
        }
      }
      return `${cur.dir.path}/${path.posix.basename(p)}`;
    },
    explain(err) {
      if (last === null || !(err instanceof Error)) return err;
      const { anchor, folder } = last;
      if (err.message.includes(anchor)) err.message = err.message.split(anchor).join(folder);
      const e = err as Error & { path?: unknown };
      if (typeof e.path === 'string' && e.path.includes(anchor)) Object.defineProperty(e, 'path', { value: e.path.split(anchor).join(folder) });
      return err;
    },
    close,
  };
}
