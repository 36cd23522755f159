// Step `dedupe-link`: replace a duplicate file by a hardlink of its keeper (same filesystem, equal size + full SHA-256, equal bytes right before), in three phases a batch can share.
// Must never: link across filesystems, link files whose bytes differ, link files whose owner, group or mode differ (the
// duplicate's path would show the keeper's), or leave the duplicate's path missing (rename is atomic).
import path from 'node:path';
import { FsError } from '../../errors.js';
import type { DedupeFile, DedupeLinkStep } from '../../plan/types.js';
import { formatMeta } from '../../plan/dedupe.js';
import type { FsIdentity, FsStat, SameFiles } from '../fs-port.js';
import type { UndoData } from '../journal.js';
import type { DedupeLinkResult } from '../dedupe-bookkeeping.js';
import { swapFolders, type SwapFolders } from '../dedupe-folders.js';
import { anchoredForUndo, folderHold } from '../folder-hold.js';
import { tempName } from '../paths.js';
import { rootInside } from '../scope.js';
import type { StepContext, StepHandler, StepOutcome } from './types.js';

interface DedupeUndo extends UndoData {
  tmp?: string;
  keeperIno?: number;
}

/**
 * Phase 1, no change on disk: name the temp link beside the duplicate, with the keeper's inode (all undo needs to tell
 * our temp link from anything else), in `undoData` — which the caller journals before any change (a batch writes it in
 * the step's first record: Journal.planGroup with states). It becomes durable with the next WAL fsync, which the
 * write-ahead FsPort makes before the link — for a batch, one fsync for every group's temp names.
 */
export function prepareDedupeLink(step: DedupeLinkStep, ctx: Pick<StepContext, 'runId' | 'group' | 'stepIndex'>, undoData: UndoData): void {
  const undo = undoData as DedupeUndo;
  undo.tmp = tempName(path.dirname(step.duplicate.path), ctx.runId, `${ctx.group.id}-${ctx.stepIndex}-dedupe`);
  undo.keeperIno = step.keeper.ino;
}

/** The byte compare of a pair (FsPort.sameBytes: the planned inodes, the planned size), which a batch starts ahead of the pair's swap. */
export function compareDedupePair(step: DedupeLinkStep, ctx: Pick<StepContext, 'fs'>): Promise<SameFiles | null> {
  return ctx.fs.sameBytes(step.keeper.path, step.duplicate.path, { a: step.keeper.ino, b: step.duplicate.ino, size: step.keeper.size });
}

/**
 * Phase 2: compare, link, swap — no journal write and no fsync on the way (the temp name was journaled in phase 1; the
 * swap is read back from the disk by undo). The duplicate's folder is fsynced by the caller (phase 3). `compared` is the
 * pair's compare when the caller started it ahead (compareDedupePair), else it is made here; `held` the folders the
 * caller holds (a batch's, or one step's) and closes.
 */
export async function swapDedupeLink(step: DedupeLinkStep, ctx: StepContext, undoData: UndoData, compared: Promise<SameFiles | null> | undefined, held: SwapFolders): Promise<StepOutcome> {
  const undo = undoData as DedupeUndo;
  if (!undo.tmp || undo.keeperIno !== step.keeper.ino) throw new FsError(`dedupe: no temp name journaled for ${step.duplicate.path}; nothing was changed`);
  if (step.keeper.sha256 !== step.duplicate.sha256 || step.keeper.size !== step.duplicate.size) {
    throw new FsError(`dedupe: the plan pairs files with different content (${step.keeper.path}, ${step.duplicate.path})`);
  }
  // Before acting, the two files are compared byte for byte (as jdupes does before it links): what the link must never
  // do is change the bytes seen at the duplicate's path, and equal bytes prove exactly that — without relying on the
  // catalog's hashes or on SHA-256 being collision-free. The compare reads the planned inodes (checked on the
  // descriptors compared) and proves them the planned size and mtime after it; bytes that rotted in one file only
  // differ from the other's. What could change after the compare is read again on the paths, right before the swap:
  // the temp link must be the keeper's inode with its planned size, mtime, owner, group and mode, and the duplicate's
  // path the duplicate's (a write since the compare changes the mtime; a chmod or chown shows in the mode or owner).
  const same = await (compared ?? compareDedupePair(step, ctx));
  if (!same) {
    throw new FsError(`dedupe: ${step.keeper.path} and ${step.duplicate.path} no longer hold the same bytes (or are no longer the planned files); nothing was changed`, {
      path: step.duplicate.path,
      hint: 're-scan and re-plan',
    });
  }
  const { a: k, b: d } = same;
  if (!sameFingerprint(k, step.keeper) || !sameFingerprint(d, step.duplicate)) throw new FsError('dedupe: a file changed while it was being verified; nothing was changed');
  checkMeta(step, k, d);
  // The temp link and the swap are made through the duplicate's folder held open (dedupe-folders.ts: proven from its
  // root and opened without following when first needed): a folder swapped for a symlink since cannot send them
  // elsewhere. The chain is still proven right before the swap: a folder moved away since it was held is told apart,
  // and nothing is swapped in it.
  const dir = path.dirname(step.duplicate.path);
  try {
    const at = await held.open(rootInside(ctx.config, step.fs, step.duplicate.path, 'scanned'), dir);
    const tmp = `${at}/${path.basename(undo.tmp)}`;
    const dupAt = `${at}/${path.basename(step.duplicate.path)}`;
    await ctx.fs.link(step.keeper.path, tmp);
    // The link was made FROM a name: the temp link must be the planned keeper, unchanged since the compare (another user
    // may have swapped the keeper's path, or written to it, since: a write after the compare went unseen and the swap
    // then showed the written bytes at the duplicate's path), or the swap would put other bytes at the duplicate's path.
    const made = await ctx.fs.lstat(tmp);
    if (!made || made.kind !== 'file' || made.ino !== step.keeper.ino || made.dev !== k.dev || !sameFingerprint(made, step.keeper)) {
      // The name is ours (link never replaces an existing name, and it was journaled before): remove it again.
      if (made) await ctx.fs.unlink(tmp);
      const what = made && made.ino === step.keeper.ino && made.dev === k.dev ? `changed since the compare (size ${made.size}, mtime ${made.mtimeNs} ns)` : `was replaced between the compare and the link (the link made is inode ${made?.ino ?? 'none'}, the keeper is ${step.keeper.ino})`;
      throw new FsError(`dedupe: ${step.keeper.path} ${what}; nothing was replaced`, {
        path: step.keeper.path,
        hint: 'find out who changes files there; re-scan and re-plan',
      });
    }
    const again = await ctx.fs.lstat(dupAt);
    if (!sameFingerprint(again, step.duplicate)) throw new FsError(`dedupe: ${step.duplicate.path} changed just before the swap; nothing was replaced`);
    // Owner, group and mode as planned, on both paths as they are now (the temp link is the keeper's inode): after the
    // swap the duplicate's path shows the keeper's. The temp link is removed by the group's undo (it was journaled).
    checkMeta(step, made, again!);
    try {
      await held.prove(dir);
    } catch (err) {
      // The folder moved since it was held: the temp link made in it is removed through it (the undo's path no longer
      // reaches it), the very inode linked, and nothing is swapped.
      const left = await ctx.fs.lstat(tmp).catch(() => null);
      if (left && left.dev === made.dev && left.ino === made.ino) await ctx.fs.unlink(tmp).catch(() => undefined);
      throw err;
    }
    // Nothing is journaled for the swap itself: after it the duplicate's own inode is gone (its bytes live on in the
    // keeper) and undo tells it from the disk (the duplicate's path holds the keeper's inode).
    await ctx.fs.rename(tmp, dupAt);
  } catch (err) {
    throw held.explain(err);
  }
  // What the catalog bookkeeping records (dedupe-bookkeeping.ts): the path's old inode here; its new inode and link
  // count are added from the read-back (verifyDedupeLink), which reads the path after the swap anyway.
  const result: DedupeLinkResult = { bytesFreed: d.nlink === 1 ? d.size : 0, oldIno: d.ino };
  return { status: 'done', bytesFreed: result.bytesFreed, result };
}

/**
 * Phase 3, the read-back after the swap (and its folder's fsync): the duplicate's path must now be the planned keeper's
 * inode, as the keeper's path is. Returns what the duplicate's path shows (the inode and link count the catalog records).
 */
export async function verifyDedupeLink(step: DedupeLinkStep, ctx: StepContext): Promise<FsIdentity> {
  const { k, d } = await both(step, (p) => ctx.fs.lstatId(p));
  if (k.ino !== d.ino || d.ino !== step.keeper.ino) throw new FsError(`dedupe: ${step.duplicate.path} is not a hardlink of the planned ${step.keeper.path} (inode ${step.keeper.ino}) after the swap`);
  return d;
}

/** A swap's result completed with the read-back (verifyDedupeLink): the duplicate path's inode and link count now. */
export function withReadBack(result: DedupeLinkResult, now: FsIdentity): DedupeLinkResult {
  return { ...result, ino: now.ino, nlink: now.nlink };
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

/** Both files' status as `read` reads it (lstat; or the identity alone, enough for the read-back after a swap). */
async function both<S extends FsIdentity>(step: DedupeLinkStep, read: (p: string) => Promise<S | null>): Promise<{ k: S; d: S }> {
  const k = await read(step.keeper.path);
  const d = await read(step.duplicate.path);
  if (!k || !d) throw new FsError(`dedupe: ${!k ? step.keeper.path : step.duplicate.path} no longer exists`, { path: !k ? step.keeper.path : step.duplicate.path, hint: 're-plan' });
  return { k, d };
}

export const dedupeLinkStep: StepHandler<DedupeLinkStep> = {
  describe: (s) => `hardlink ${s.duplicate.path} to ${s.keeper.path} (${s.keeper.size} bytes)`,
  manualUndo: (s, undo) => `check ${s.duplicate.path}: it must exist (as a hardlink of ${s.keeper.path} or the original); remove any leftover ${String(undo.tmp ?? '.hashall-*.part')} file`,

  async check(step, ctx) {
    const { k, d } = await both(step, (p) => ctx.fs.lstat(p));
    // The only read of the files themselves before the link (the scope check proves their folders): a symbolic link is
    // refused here, before the "already linked" test — two names of one symlink are not a linked pair.
    for (const [st, f] of [[k, step.keeper], [d, step.duplicate]] as const) {
      if (st.kind === 'symlink') throw new FsError(`dedupe: ${f.path} is a symbolic link now; hashall never links or replaces through symlinks, nothing was changed`, { path: f.path, hint: 'run `hashall scan` and `hashall plan` again' });
    }
    if (k.ino === d.ino && k.dev === d.dev) return 'done';
    if (!sameFingerprint(k, step.keeper) || !sameFingerprint(d, step.duplicate)) {
      throw new FsError(`dedupe: ${step.keeper.path} or ${step.duplicate.path} changed since planning (inode, size or mtime)`, { hint: 'run `hashall scan` and `hashall plan` again' });
    }
    if (k.dev !== d.dev) throw new FsError(`dedupe: ${step.keeper.path} and ${step.duplicate.path} are on different filesystems; hashall never links across them`, { code: 'EXDEV' });
    checkMeta(step, k, d);
    return 'todo';
  },

  // One pair on its own: the three phases a batch of groups runs for many pairs at once (dedupe-batch.ts).
  async run(step, ctx, undoData) {
    prepareDedupeLink(step, ctx, undoData);
    ctx.saveUndo(undoData);
    const folders = swapFolders(ctx.fs);
    let out: StepOutcome;
    try {
      out = await swapDedupeLink(step, ctx, undoData, undefined, folders);
      await folders.sync(path.dirname(step.duplicate.path));
    } catch (err) {
      throw folders.explain(err);
    } finally {
      await folders.close();
    }
    const now = await ctx.fs.lstatId(step.duplicate.path);
    return now ? { ...out, result: withReadBack(out.result as DedupeLinkResult, now) } : out;
  },

  async verify(step, ctx) {
    await verifyDedupeLink(step, ctx);
  },

  async undo(step, ctx, undoData) {
    const undo = undoData as DedupeUndo;
    if (!undo.tmp) return [];
    // The temp link and the keeper are each reached through their folder held from their root (folder-hold.ts), never
    // by a name a folder swapped for a symlink since the crash could send elsewhere: the temp name is removed only while
    // it is a file of the keeper's very inode (its device too: the keeper's as read now), which keeps its other names.
    const held = folderHold();
    const notes = new Set<string>();
    try {
      const root = rootInside(ctx.config, step.fs, step.duplicate.path, 'scanned');
      const keeperAt = await anchoredForUndo(held, rootInside(ctx.config, step.fs, step.keeper.path, 'scanned'), step.keeper.path, notes);
      const k = keeperAt ? await ctx.fs.lstat(keeperAt) : null;
      const tmpAt = await anchoredForUndo(held, root, undo.tmp, notes);
      const t = tmpAt ? await ctx.fs.lstat(tmpAt) : null;
      if (tmpAt && t && k && t.kind === 'file' && t.ino === undo.keeperIno && t.dev === k.dev && k.ino === undo.keeperIno) {
        await ctx.fs.unlink(tmpAt);
        return [...notes];
      }
      if (t) notes.add(`left ${undo.tmp}: it is not proven the temp link this step made (a hardlink of the keeper ${step.keeper.path}, inode ${String(undo.keeperIno)}); remove it by hand if it is a leftover`);
      const dupAt = await anchoredForUndo(held, root, step.duplicate.path, notes);
      const d = dupAt ? await ctx.fs.lstat(dupAt) : null;
      if (d && d.ino === undo.keeperIno) notes.add('dedupe swap already done: the duplicate path now shares the keeper inode (same bytes); nothing lost, nothing to undo');
      return [...notes];
    } catch (err) {
      throw held.explain(err);
    } finally {
      await held.close();
    }
  },
};
