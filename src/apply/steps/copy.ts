// Step `copy`: copy payload files across filesystems — temp name on the target, hash while copying, verify, link into place.
// Must never: overwrite existing content at the target, copy into a directory holding other files (hitchhiker), keep a
// copy whose hash differs from the plan, or remove anything it did not create.
import path from 'node:path';
import { FsError } from '../../errors.js';
import type { CopyStep } from '../../plan/types.js';
import type { UndoData } from '../journal.js';
import { dirChain } from '../dir-chain.js';
import { mirrorOf, missingDirs, ownerLike, removeCreatedDirs, strangersUnder, tempName } from '../paths.js';
import { rootInside } from '../scope.js';
import type { StepContext, StepHandler } from './types.js';

interface CopyFileUndo {
  tmp: string;
  final: string;
  /** Inode (and device) of our temp file once it exists; the final path is ours only if it has this inode. */
  ino?: number;
  dev?: number;
}
interface CopyUndo extends UndoData {
  dirs?: string[];
  /** (dev, ino) of each directory this step created: undo removes only that very directory. */
  dirIds?: Record<string, { dev: number; ino: number }>;
  files?: CopyFileUndo[];
}

/** A single-file payload has its root = the file itself and relpath = its basename. */
async function isSingleFile(step: CopyStep, ctx: StepContext): Promise<boolean> {
  const st = await ctx.fs.lstat(step.fromRoot);
  return st?.kind === 'file';
}

function paths(step: CopyStep, single: boolean, relpath: string): { src: string; dst: string } {
  return single ? { src: step.fromRoot, dst: step.toRoot } : { src: path.join(step.fromRoot, relpath), dst: path.join(step.toRoot, relpath) };
}

/** 'same' when the target already holds exactly the planned bytes; 'absent'; throws on anything else. */
async function targetState(ctx: StepContext, dst: string, f: CopyStep['files'][number]): Promise<'same' | 'absent'> {
  const st = await ctx.fs.lstat(dst);
  if (!st) return 'absent';
  if (st.kind === 'file' && st.size === f.size && (await ctx.fs.hashFile(dst)) === f.sha256) return 'same';
  throw new FsError(`refusing to copy over ${dst}: something else is already there (${st.kind}, ${st.size} bytes) — hashall never overwrites other content`, {
    code: 'EEXIST',
    path: dst,
    hint: 'move that file away or re-plan; the group was rolled back',
  });
}

/** Entries under an existing target directory that are not files of this payload (see strangersUnder). */
function strangers(step: CopyStep, ctx: StepContext): Promise<string[]> {
  return strangersUnder(ctx.fs, step.toRoot, new Set(step.files.map((f) => f.relpath)), ctx.runId);
}

export const copyStep: StepHandler<CopyStep> = {
  describe: (s) => `copy ${s.files.length} file(s), ${s.bytes} bytes: ${s.fromRoot} → ${s.toRoot}`,

  async check(step, ctx) {
    const single = await isSingleFile(step, ctx);
    const others = single ? [] : await strangers(step, ctx);
    if (others.length) {
      throw new FsError(`refusing to copy into ${step.toRoot}: it already holds files that are not part of this payload (${others.join(', ')}) — hashall never puts two torrents' trees in one directory`, {
        code: 'EEXIST',
        path: step.toRoot,
        hint: 'move those files away, or re-plan so the payload gets its own directory',
      });
    }
    let present = 0;
    for (const f of step.files) {
      const { src, dst } = paths(step, single, f.relpath);
      if ((await targetState(ctx, dst, f)) === 'same') {
        present++;
        continue;
      }
      const s = await ctx.fs.lstat(src);
      if (!s || s.kind !== 'file' || s.size !== f.size) {
        throw new FsError(`source ${src} is missing or changed (expected a ${f.size}-byte file)`, { path: src, hint: 'run `hashall scan` and `hashall plan` again' });
      }
    }
    return present === step.files.length ? 'done' : 'todo';
  },

  async run(step, ctx, undoData) {
    const undo = undoData as CopyUndo;
    undo.dirs ??= [];
    undo.files ??= [];
    const single = await isSingleFile(step, ctx);
    // New directories mirror the source's owner and mode (a single file's parents: the target seeding root's).
    const like = ownerLike(ctx.fs, Object.values(ctx.config.seeding).flat(), (d) => (single ? null : mirrorOf(d, step.toRoot, step.fromRoot)));
    // Every directory from the target seeding root down is re-proven (dev, ino, no symlink) before each write.
    const chain = dirChain(ctx.fs, rootInside(ctx.config, step.toFs, step.toRoot, 'seeding'));
    let copied = 0;
    let done = 0;
    for (const [i, f] of step.files.entries()) {
      const { src, dst } = paths(step, single, f.relpath);
      const dir = path.dirname(dst);
      await chain.prove(dir);
      if ((await targetState(ctx, dst, f)) === 'same') {
        done += f.size;
        continue;
      }
      const missing = await missingDirs(ctx.fs, dir);
      if (missing.length) {
        undo.dirs.push(...missing.filter((d) => !undo.dirs!.includes(d)));
        ctx.saveUndo(undo);
        await ctx.fs.mkdirp(dir, like);
        await chain.prove(dir);
        undo.dirIds ??= {};
        for (const d of missing) {
          const id = chain.identity(d);
          if (id) undo.dirIds[d] = id;
        }
        ctx.saveUndo(undo);
      }
      const entry: CopyFileUndo = { tmp: tempName(dir, ctx.runId, `${ctx.group.id}-${ctx.stepIndex}-${i}`), final: dst };
      undo.files.push(entry);
      ctx.saveUndo(undo);
      const before = await ctx.fs.lstat(src);
      if (!before || before.kind !== 'file') throw new FsError(`source ${src} disappeared before the copy`, { path: src });
      await chain.prove(dir);
      const res = await ctx.fs.copyFileVerified(src, entry.tmp, {
        signal: ctx.signal,
        onProgress: (b) =>
          ctx.emit({ type: 'copy-progress', runId: ctx.runId, groupId: ctx.group.id, file: dst, bytes: b, totalBytes: f.size, groupBytes: done + b, groupTotal: step.bytes }),
      });
      entry.ino = res.ino;
      entry.dev = res.dev;
      ctx.saveUndo(undo);
      const after = await ctx.fs.lstat(src);
      if (!after || after.ino !== before.ino || after.size !== before.size || after.mtimeNs !== before.mtimeNs) {
        throw new FsError(`source ${src} changed while it was being copied; the group is aborted and nothing at the source was touched`, {
          path: src,
          hint: 'wait until the file is no longer written to, then `hashall scan` and `hashall plan` again',
        });
      }
      if (res.sha256 !== f.sha256 || res.bytes !== f.size) {
        throw new FsError(`copy of ${src} does not match the catalog: sha256 ${res.sha256} (${res.bytes} bytes), expected ${f.sha256} (${f.size} bytes)`, {
          path: src,
          hint: 'the source changed since it was hashed; run `hashall scan` and `hashall plan` again',
        });
      }
      // link() refuses to replace an existing path (EEXIST) — unlike rename — so nothing can be overwritten.
      await chain.prove(dir);
      await ctx.fs.link(entry.tmp, dst);
      await chain.prove(dir);
      await ctx.fs.unlink(entry.tmp);
      await ctx.fs.fsyncDir(dir);
      copied += f.size;
      done += f.size;
    }
    return { status: 'done', bytesCopied: copied, result: { bytesCopied: copied } };
  },

  async verify(step, ctx, undoData) {
    const undo = undoData as CopyUndo;
    const single = (await ctx.fs.lstat(step.toRoot))?.kind === 'file';
    for (const f of step.files) {
      const { dst } = paths(step, single, f.relpath);
      const st = await ctx.fs.lstat(dst);
      if (!st || st.kind !== 'file' || st.size !== f.size) throw new FsError(`after the copy ${dst} is missing or has the wrong size`, { path: dst });
      const mine = undo.files?.find((e) => e.final === dst);
      if (mine?.ino !== undefined && (mine.ino !== st.ino || (mine.dev !== undefined && mine.dev !== st.dev))) throw new FsError(`after the copy ${dst} is not the file hashall wrote`, { path: dst });
    }
  },

  async undo(_step, ctx, undoData) {
    const undo = undoData as CopyUndo;
    const notes: string[] = [];
    for (const e of [...(undo.files ?? [])].reverse()) {
      const tmp = await ctx.fs.lstat(e.tmp);
      // Once its inode is known, only that very file: the directory may have been swapped since (see dir-chain.ts).
      if (tmp && tmp.kind === 'file' && (e.ino === undefined || (tmp.ino === e.ino && (e.dev === undefined || tmp.dev === e.dev)))) await ctx.fs.unlink(e.tmp);
      if (e.ino === undefined) continue;
      const fin = await ctx.fs.lstat(e.final);
      if (fin && fin.ino === e.ino && (e.dev === undefined || fin.dev === e.dev)) await ctx.fs.unlink(e.final);
    }
    notes.push(...(await removeCreatedDirs(ctx.fs, undo.dirs ?? [], undo.dirIds)));
    return notes;
  },
};
