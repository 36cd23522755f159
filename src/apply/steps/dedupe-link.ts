// Step `dedupe-link`: replace a duplicate file by a hardlink of its keeper (same filesystem, equal size + full SHA-256).
// Must never: link across filesystems, link files whose bytes differ, or leave the duplicate's path missing (rename is atomic).
import path from 'node:path';
import { FsError } from '../../errors.js';
import type { DedupeLinkStep, FileFingerprint } from '../../plan/types.js';
import type { FsStat } from '../fs-port.js';
import type { UndoData } from '../journal.js';
import { tempName } from '../paths.js';
import type { StepContext, StepHandler } from './types.js';

interface DedupeUndo extends UndoData {
  tmp?: string;
  keeperIno?: number;
  renamed?: boolean;
}

function sameFingerprint(st: FsStat | null, fp: FileFingerprint): boolean {
  return !!st && st.kind === 'file' && st.ino === fp.ino && st.size === fp.size && st.mtimeNs === fp.mtimeNs;
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
    return 'todo';
  },

  async run(step, ctx, undoData) {
    const undo = undoData as DedupeUndo;
    if (step.keeper.sha256 !== step.duplicate.sha256 || step.keeper.size !== step.duplicate.size) {
      throw new FsError(`dedupe: the plan pairs files with different content (${step.keeper.path}, ${step.duplicate.path})`);
    }
    // Full re-hash of both right before acting: the catalog is evidence, not proof.
    for (const f of [step.keeper, step.duplicate]) {
      const h = await ctx.fs.hashFile(f.path);
      if (h !== f.sha256) throw new FsError(`dedupe: ${f.path} now hashes to ${h}, not ${f.sha256}; nothing was changed`, { path: f.path, hint: 're-scan and re-plan' });
    }
    const { k, d } = await both(step, ctx);
    if (!sameFingerprint(k, step.keeper) || !sameFingerprint(d, step.duplicate)) throw new FsError('dedupe: a file changed while it was being verified; nothing was changed');
    undo.tmp = tempName(path.dirname(step.duplicate.path), ctx.runId, `${ctx.group.id}-${ctx.stepIndex}-dedupe`);
    undo.keeperIno = k.ino;
    ctx.saveUndo(undo);
    await ctx.fs.link(step.keeper.path, undo.tmp);
    const again = await ctx.fs.lstat(step.duplicate.path);
    if (!sameFingerprint(again, step.duplicate)) throw new FsError(`dedupe: ${step.duplicate.path} changed just before the swap; nothing was replaced`);
    undo.renamed = true; // journaled before: after the rename the duplicate's own inode is gone (its bytes live on in the keeper)
    ctx.saveUndo(undo);
    await ctx.fs.rename(undo.tmp, step.duplicate.path);
    await ctx.fs.fsyncDir(path.dirname(step.duplicate.path));
    return { status: 'done', bytesFreed: d.nlink === 1 ? d.size : 0, result: { bytesFreed: d.nlink === 1 ? d.size : 0 } };
  },

  async verify(step, ctx) {
    const { k, d } = await both(step, ctx);
    if (k.ino !== d.ino) throw new FsError(`dedupe: ${step.duplicate.path} is not a hardlink of ${step.keeper.path} after the swap`);
  },

  async undo(_step, ctx, undoData) {
    const undo = undoData as DedupeUndo;
    if (!undo.tmp) return [];
    const t = await ctx.fs.lstat(undo.tmp);
    if (t && t.ino === undo.keeperIno) {
      await ctx.fs.unlink(undo.tmp);
      return [];
    }
    return undo.renamed ? ['dedupe swap already done: the duplicate path now shares the keeper inode (same bytes); nothing lost, nothing to undo'] : [];
  },
};
