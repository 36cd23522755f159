// Step `dedupe-link`: replace a duplicate file by a hardlink of its keeper (same filesystem, equal size + full SHA-256, equal bytes right before).
// Must never: link across filesystems, link files whose bytes differ, link files whose owner, group or mode differ (the
// duplicate's path would show the keeper's), or leave the duplicate's path missing (rename is atomic).
import path from 'node:path';
import { FsError } from '../../errors.js';
import type { DedupeFile, DedupeLinkStep } from '../../plan/types.js';
import { formatMeta } from '../../plan/dedupe.js';
import type { FsStat } from '../fs-port.js';
import type { UndoData } from '../journal.js';
import type { DedupeLinkResult } from '../dedupe-bookkeeping.js';
import { dirChain } from '../dir-chain.js';
import { tempName } from '../paths.js';
import { rootInside } from '../scope.js';
import type { StepContext, StepHandler } from './types.js';

interface DedupeUndo extends UndoData {
  tmp?: string;
  keeperIno?: number;
}

function sameFingerprint(st: FsStat | null, fp: DedupeFile): boolean {
  return !!st && st.kind === 'file' && st.ino === fp.ino && st.size === fp.size && st.mtimeNs === fp.mtimeNs;
}

/** Owner, group and mode as planned (and equal for both: after the link both paths show the keeper's). */
function checkMeta(step: DedupeLinkStep, k: FsStat, d: FsStat): void {
  const meta = (st: FsStat) => ({ uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 });
  const same = (a: DedupeFile['meta'] | undefined, b: DedupeFile['meta']) => !!a && a.uid === b.uid && a.gid === b.gid && (a.mode & 0o7777) === (b.mode & 0o7777);
  if (!step.keeper.meta || !step.duplicate.meta || !same(step.keeper.meta, step.duplicate.meta)) {
    throw new FsError(`dedupe: the plan does not prove that ${step.keeper.path} and ${step.duplicate.path} have the same owner, group and mode; nothing was changed`, {
      hint: 'plan again with this version of hashall',
    });
  }
  for (const [st, f] of [[k, step.keeper], [d, step.duplicate]] as const) {
    if (!same(meta(st), f.meta)) {
      throw new FsError(`dedupe: ${f.path} now has ${formatMeta(meta(st))}, planned ${formatMeta(f.meta)}; linking would change what its path shows, nothing was changed`, {
        path: f.path,
        hint: 'run `hashall scan` and `hashall plan` again',
      });
    }
  }
}

async function both(step: DedupeLinkStep, ctx: StepContext): Promise<{ k: FsStat; d: FsStat }> {
  const k = await ctx.fs.lstat(step.keeper.path);
  const d = await ctx.fs.lstat(step.duplicate.path);
  if (!k || !d) throw new FsError(`dedupe: ${!k ? step.keeper.path : step.duplicate.path} no longer exists`, { path: !k ? step.keeper.path : step.duplicate.path, hint: 're-plan' });
  return { k, d };
}

export const dedupeLinkStep: StepHandler<DedupeLinkStep> = {
  describe: (s) => `hardlink ${s.duplicate.path} to ${s.keeper.path} (${s.keeper.size} bytes)`,

  async check(step, ctx) {
    const { k, d } = await both(step, ctx);
    if (k.ino === d.ino && k.dev === d.dev) return 'done';
    if (!sameFingerprint(k, step.keeper) || !sameFingerprint(d, step.duplicate)) {
      throw new FsError(`dedupe: ${step.keeper.path} or ${step.duplicate.path} changed since planning (inode, size or mtime)`, { hint: 'run `hashall scan` and `hashall plan` again' });
    }
    if (k.dev !== d.dev) throw new FsError(`dedupe: ${step.keeper.path} and ${step.duplicate.path} are on different filesystems; hashall never links across them`, { code: 'EXDEV' });
    checkMeta(step, k, d);
    return 'todo';
  },

  async run(step, ctx, undoData) {
    const undo = undoData as DedupeUndo;
    if (step.keeper.sha256 !== step.duplicate.sha256 || step.keeper.size !== step.duplicate.size) {
      throw new FsError(`dedupe: the plan pairs files with different content (${step.keeper.path}, ${step.duplicate.path})`);
    }
    // Right before acting, the two files are compared byte for byte (as jdupes does before it links): what the link
    // must never do is change the bytes seen at the duplicate's path, and equal bytes prove exactly that — without
    // relying on the catalog's hashes or on SHA-256 being collision-free. A file that changed since planning is also
    // caught by its inode, size and mtime (checked before and after the comparison); bytes that rotted in one file only
    // differ from the other's.
    if (!(await ctx.fs.sameBytes(step.keeper.path, step.duplicate.path))) {
      throw new FsError(`dedupe: ${step.keeper.path} and ${step.duplicate.path} no longer hold the same bytes; nothing was changed`, { path: step.duplicate.path, hint: 're-scan and re-plan' });
    }
    const { k, d } = await both(step, ctx);
    if (!sameFingerprint(k, step.keeper) || !sameFingerprint(d, step.duplicate)) throw new FsError('dedupe: a file changed while it was being verified; nothing was changed');
    checkMeta(step, k, d);
    // The duplicate's directories, from its root down, are re-proven (dev, ino, no symlink) before each write.
    const dir = path.dirname(step.duplicate.path);
    const chain = dirChain(ctx.fs, rootInside(ctx.config, step.fs, step.duplicate.path, 'scanned'));
    await chain.prove(dir);
    undo.tmp = tempName(dir, ctx.runId, `${ctx.group.id}-${ctx.stepIndex}-dedupe`);
    undo.keeperIno = k.ino;
    ctx.saveUndo(undo);
    await ctx.fs.link(step.keeper.path, undo.tmp);
    const again = await ctx.fs.lstat(step.duplicate.path);
    if (!sameFingerprint(again, step.duplicate)) throw new FsError(`dedupe: ${step.duplicate.path} changed just before the swap; nothing was replaced`);
    await chain.prove(dir);
    // Nothing is journaled for the swap itself: after it the duplicate's own inode is gone (its bytes live on in the
    // keeper) and undo tells it from the disk (the duplicate's path holds the keeper's inode).
    await ctx.fs.rename(undo.tmp, step.duplicate.path);
    await ctx.fs.fsyncDir(path.dirname(step.duplicate.path));
    // What the catalog bookkeeping records (dedupe-bookkeeping.ts): the path's new inode and link count, and its old inode.
    const now = await ctx.fs.lstat(step.duplicate.path);
    const result: DedupeLinkResult = { bytesFreed: d.nlink === 1 ? d.size : 0, ino: now?.ino, nlink: now?.nlink, oldIno: d.ino };
    return { status: 'done', bytesFreed: result.bytesFreed, result };
  },

  async verify(step, ctx) {
    const { k, d } = await both(step, ctx);
    if (k.ino !== d.ino) throw new FsError(`dedupe: ${step.duplicate.path} is not a hardlink of ${step.keeper.path} after the swap`);
  },

  async undo(step, ctx, undoData) {
    const undo = undoData as DedupeUndo;
    if (!undo.tmp) return [];
    const t = await ctx.fs.lstat(undo.tmp);
    if (t && t.ino === undo.keeperIno) {
      await ctx.fs.unlink(undo.tmp);
      return [];
    }
    const d = await ctx.fs.lstat(step.duplicate.path);
    return d && d.ino === undo.keeperIno ? ['dedupe swap already done: the duplicate path now shares the keeper inode (same bytes); nothing lost, nothing to undo'] : [];
  },
};
