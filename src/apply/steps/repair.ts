// Step `repair`: restore a corrupted inode from a copy proven good — verified copy to a temp name, damaged file into
// the trash, the copy linked into place and every other link of the damaged inode swapped to it.
// Must never: copy bytes that do not hash to the recorded SHA-256, touch a file that changed since verify found it
// (inode, size or mtime), write through a symlink or a swapped directory, or lose the damaged file (it waits in the
// trash of its filesystem, where the purge removes it after the observation window like a retired copy).
import path from 'node:path';
import { FsError, HashallError } from '../../errors.js';
import type { RepairStep } from '../../plan/types.js';
import type { HeldDir } from '../../fs/no-follow-tree.js';
import type { FsPort, FsStat } from '../fs-port.js';
import type { UndoData } from '../journal.js';
import { dirChain, type DirChain } from '../dir-chain.js';
import { removeCreatedDirs, tempName } from '../paths.js';
import { isAtOrUnder } from '../../domain/path-string.js';
import { rootInside } from '../scope.js';
import { missingUnder } from '../trash-stage.js';
import { TRASH_DIR, type TrashRecord } from '../trash-record.js';
import type { StepContext, StepHandler, StepOutcome } from './types.js';
import { anchoredForUndo, folderHold, targetHold, type FolderHold, type TargetHold } from '../folder-hold.js';

interface RepairUndo extends UndoData, Partial<TrashRecord> {
  /** Temp name of the restored copy beside the first path, and its inode once it exists. */
  tmp?: string;
  newIno?: number;
  /** staging: the damaged file may be renamed into the trash; staged: it is there. */
  phase?: 'staging' | 'staged';
  /** Other paths of the damaged inode swapped (or about to be) to the restored copy, each with its temp link name. */
  swaps?: { path: string; tmp: string }[];
}

const sameFile = (st: FsStat | null, f: { ino: number; size: number; mtimeNs: string }): boolean =>
  !!st && st.kind === 'file' && st.ino === f.ino && st.size === f.size && st.mtimeNs === f.mtimeNs;

function fsPathOf(step: RepairStep, ctx: Pick<StepContext, 'config'>): string {
  const fsConf = ctx.config.filesystems[step.fs];
  if (!fsConf) throw new HashallError(`repair: filesystem ${step.fs} is not in hashall.yaml`);
  const first = step.paths[0];
  if (!first || !isAtOrUnder(first, fsConf.path)) throw new HashallError(`repair: ${String(first)} is not inside filesystem ${step.fs} (${fsConf.path})`);
  return fsConf.path;
}

/** Every path of the damaged inode must still be that inode, as verify found it. */
async function damagedUnchanged(step: RepairStep, fs: FsPort): Promise<FsStat> {
  let first: FsStat | null = null;
  for (const p of step.paths) {
    const st = await fs.lstat(p);
    if (!sameFile(st, step.damaged)) {
      throw new FsError(`repair: ${p} changed since verify found it corrupted (${st ? `${st.kind}, inode ${st.ino}, ${st.size} bytes` : 'gone'}); another process is using it, nothing was touched`, {
        path: p,
        hint: 'run `hashall verify PATH` again',
      });
    }
    first ??= st;
  }
  return first!;
}

/** The damaged inode, as verify found it, at `at` (path `p`'s spelling through its held folder): else nothing is moved. */
async function damagedAt(step: RepairStep, fs: FsPort, p: string, at: string, what = 'since verify found it corrupted; another process is using it, nothing was touched'): Promise<void> {
  const st = await fs.lstat(at);
  if (!sameFile(st, step.damaged)) throw new FsError(`repair: ${p} changed ${what}`, { path: p, hint: 'run `hashall verify PATH` again' });
}

async function holdTrash(fs: FsPort, fsPath: string, rec: RepairUndo, create: boolean): Promise<HeldDir | null> {
  const root = await fs.holdPrivateDir(fsPath, TRASH_DIR, { create });
  if (root && rec.trashRootId && (root.dev !== rec.trashRootId.dev || root.ino !== rec.trashRootId.ino)) {
    await root.close();
    throw new FsError(`${path.join(fsPath, TRASH_DIR)} is not the trash directory the damaged file was put in (it was replaced); nothing in it is touched`, {
      path: path.join(fsPath, TRASH_DIR),
      hint: `find the original trash directory (it holds ${rec.trashRel ?? rec.trash}) and move it back by hand`,
    });
  }
  return root;
}

export const repairStep: StepHandler<RepairStep> = {
  describe: (s) => `restore ${s.paths[0]} from ${s.source.path} (${s.damaged.size} bytes)`,
  manualUndo: (s, undo) =>
    `each of ${s.paths.join(', ')} must exist (the restored copy or the damaged file); if ${s.paths[0]} is missing, move ${String(undo.trash ?? 'the damaged file in .hashall-trash')} back there, and remove any leftover ${String(undo.tmp ?? '.hashall-*-repair.part')} file`,

  async check(step, ctx) {
    fsPathOf(step, ctx);
    if (step.paths.length === 0 || step.source.size !== step.damaged.size) throw new HashallError('repair: the step names no path, or a copy of another size');
    const first = await ctx.fs.lstat(step.paths[0]!);
    if (first && first.kind === 'file' && first.ino !== step.damaged.ino && first.size === step.damaged.size && (await ctx.fs.hashFile(step.paths[0]!)) === step.sha256) {
      return 'done';
    }
    await damagedUnchanged(step, ctx.fs);
    return 'todo';
  },

  async run(step, ctx, undoData) {
    // The good copy is read through its folder held from its root (folder-hold.ts): a folder on its path swapped for a
    // symlink to a root-only folder would otherwise have root copy the file found there beside the damaged one.
    const hold = folderHold();
    try {
      return await restore(step, ctx, undoData as RepairUndo, await hold.anchored(rootInside(ctx.config, step.source.fs, step.source.path, 'scanned'), step.source.path));
    } catch (err) {
      throw hold.explain(err);
    } finally {
      await hold.close();
    }
  },

  async verify(step, ctx, undoData) {
    const undo = undoData as RepairUndo;
    for (const p of step.paths) {
      const st = await ctx.fs.lstat(p);
      if (!st || st.kind !== 'file' || (undo.newIno !== undefined && st.ino !== undo.newIno)) throw new FsError(`repair: ${p} is not the restored copy after the repair`, { path: p });
    }
    const h = await ctx.fs.hashFile(step.paths[0]!);
    if (h !== step.sha256) throw new FsError(`repair: ${step.paths[0]} reads back as ${h}, not ${step.sha256}`, { path: step.paths[0] });
  },

  async undo(step, ctx, undoData) {
    const undo = undoData as RepairUndo;
    const notes: string[] = [];
    const fsPath = fsPathOf(step, ctx);
    // Each name is reached through its folder held from its root (folder-hold.ts), never by a path a swapped folder
    // could redirect between the check of its inode and the unlink, link or rename.
    const held = folderHold();
    const swapped = new Set<string>();
    const at = (p: string): Promise<string | null> => anchoredForUndo(held, rootInside(ctx.config, step.fs, p, 'scanned'), p, swapped);
    /** `p`'s held spelling when the restored copy is there, else null. */
    const ours = async (p: string): Promise<string | null> => {
      const a = await at(p);
      const st = a === null ? null : await ctx.fs.lstat(a);
      return st && st.kind === 'file' && undo.newIno !== undefined && st.ino === undo.newIno ? a : null;
    };
    const root = undo.phase ? await holdTrash(ctx.fs, fsPath, undo, false) : null;
    try {
      const staged = root && undo.trashRel ? `${root.path}/${undo.trashRel}` : null;
      const stagedIsDamaged = async (): Promise<boolean> => !!staged && sameFile(await ctx.fs.lstat(staged), step.damaged);
      // Other links swapped to the restored copy go back to the damaged inode (still whole, in the trash).
      for (const s of [...(undo.swaps ?? [])].reverse()) {
        const tmp = await ours(s.tmp);
        if (tmp) await ctx.fs.unlink(tmp);
        const back = await ours(s.path);
        if (back && (await stagedIsDamaged())) {
          const tmpAt = (await at(s.tmp))!;
          await ctx.fs.link(staged!, tmpAt);
          await ctx.fs.rename(tmpAt, back);
        }
      }
      const first = step.paths[0]!;
      const firstOurs = await ours(first);
      if (firstOurs) await ctx.fs.unlink(firstOurs);
      if (undo.phase === 'staged' || undo.phase === 'staging') {
        // The damaged file goes back from the trash to its path, only onto a free path and never through a swapped one.
        if (await stagedIsDamaged()) {
          await dirChain(ctx.fs, rootInside(ctx.config, step.fs, first, 'scanned')).prove(path.dirname(first));
          const firstAt = await at(first);
          if (firstAt === null) throw new FsError(`repair undo: the damaged file is in ${undo.trash} but the folder of ${first} is gone; a person must look`, { path: first });
          if (await ctx.fs.lstat(firstAt)) throw new FsError(`repair undo: the damaged file is in ${undo.trash} but ${first} is taken by something else; a person must look`, { path: first });
          await ctx.fs.rename(staged!, firstAt);
        } else if (undo.phase === 'staged') {
          throw new FsError(`repair undo: the damaged file is no longer at ${undo.trash}; ${first} must be checked by a person`, { path: first });
        }
        if (root) notes.push(...(await removeCreatedDirs(ctx.fs, (undo.trashDirs ?? []).map((d) => `${root.path}/${d}`))));
      }
      const tmp = undo.tmp ? await ours(undo.tmp) : null;
      if (tmp) await ctx.fs.unlink(tmp);
    } catch (err) {
      throw held.explain(err);
    } finally {
      await held.close();
      await root?.close();
    }
    return [...swapped, ...notes];
  },
};

/** run's work, with the good copy read at `srcAt` (its anchored spelling). */
async function restore(step: RepairStep, ctx: StepContext, undo: RepairUndo, srcAt: string): Promise<StepOutcome> {
  const fsPath = fsPathOf(step, ctx);
  // The good copy: the file verify chose, re-hashed now (the catalog is evidence, not proof), never through a symlink.
  const src = await ctx.fs.lstat(srcAt);
  if (!sameFile(src, step.source)) throw new FsError(`repair: the good copy ${step.source.path} changed since it was chosen; nothing was touched`, { path: step.source.path });
  const srcHash = await ctx.fs.hashFile(srcAt);
  if (srcHash !== step.sha256) {
    throw new FsError(`repair: the copy ${step.source.path} no longer hashes to ${step.sha256} (it read ${srcHash}); it is not a good copy, nothing was touched`, {
      path: step.source.path,
      hint: 'run `hashall verify` on it',
    });
  }
  const damaged = await damagedUnchanged(step, ctx.fs);
  const chains = new Map<string, DirChain>();
  const chainOf = (p: string): DirChain => {
    const root = rootInside(ctx.config, step.fs, p, 'scanned');
    let c = chains.get(root);
    if (!c) chains.set(root, (c = dirChain(ctx.fs, root)));
    return c;
  };
  // Every name the repair writes (its copy, the damaged file moved out, the links swapped in) is reached through its
  // folder held open from its root and proven before and after each write (folder-hold.ts targetHold): a folder
  // swapped for a symlink to a root-only folder between a proof and a write would otherwise get root's write.
  const holds = new Map<DirChain, TargetHold>();
  const targets = (p: string): TargetHold => {
    const c = chainOf(p);
    let h = holds.get(c);
    if (!h) holds.set(c, (h = targetHold(ctx.fs, c)));
    return h;
  };
  // The restored copy, linked from into the other paths' folders: its folder held too, the very one the chain proved.
  const restored = folderHold();
  try {
    return await restoreHeld(step, ctx, undo, srcAt, fsPath, damaged, chainOf, targets, restored);
  } catch (err) {
    let e = restored.explain(err);
    for (const h of holds.values()) e = h.explain(e);
    throw e;
  } finally {
    await restored.close();
    for (const h of holds.values()) await h.close();
  }
}

/** restore's writes, each through the held folder `targets` gives for its path (the restored copy's, read from `restored`). */
async function restoreHeld(
  step: RepairStep,
  ctx: StepContext,
  undo: RepairUndo,
  srcAt: string,
  fsPath: string,
  damaged: FsStat,
  chainOf: (p: string) => DirChain,
  targets: (p: string) => TargetHold,
  restored: FolderHold,
): Promise<StepOutcome> {
  const first = step.paths[0]!;
  const dir = path.dirname(first);
  const here = targets(first);
  await chainOf(first).prove(dir);

  // 1. The good bytes beside the damaged file, hashed while copied: only the recorded SHA-256 is kept.
  undo.tmp = tempName(dir, ctx.runId, `${ctx.group.id}-${ctx.stepIndex}-repair`);
  ctx.saveUndo(undo);
  // Progress like a move's copy (a large file takes minutes); a stop signal ends the copy at its next chunk.
  const copied = await ctx.fs.copyFileVerified(srcAt, await here.anchored(undo.tmp), {
    size: step.source.size,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onProgress: (b) => ctx.emit({ type: 'copy-progress', runId: ctx.runId, groupId: ctx.group.id, file: first, bytes: b, totalBytes: step.damaged.size, groupBytes: b, groupTotal: step.damaged.size }),
  });
  undo.newIno = copied.ino;
  ctx.saveUndo(undo);
  // The folder written into is still the one proven at its path (not moved away meanwhile), or the copy is removed.
  await here.made(undo.tmp, copied);
  if (copied.sha256 !== step.sha256 || copied.dev !== damaged.dev) {
    throw new FsError(`repair: the copy read from ${step.source.path} hashed to ${copied.sha256}, not ${step.sha256}; it is removed and nothing else was touched`, { path: step.source.path });
  }
  const ours = { dev: copied.dev, ino: copied.ino };

  // 2. The damaged file into the trash of its filesystem (a rename: the same inode, every byte kept).
  const root = await holdTrash(ctx.fs, fsPath, undo, true);
  if (!root) throw new FsError(`repair: cannot create ${path.join(fsPath, TRASH_DIR)}`, { path: fsPath });
  try {
    if (root.dev !== damaged.dev) throw new FsError(`repair: ${first} is not on the filesystem of ${path.join(fsPath, TRASH_DIR)} (a mount point in between); nothing was touched`, { path: first });
    const trashRel = path.posix.join(ctx.runId, path.relative(fsPath, first));
    undo.trash = path.join(fsPath, TRASH_DIR, trashRel);
    undo.trashRel = trashRel;
    undo.trashRootId = { dev: root.dev, ino: root.ino };
    undo.trashId = { dev: damaged.dev, ino: damaged.ino };
    undo.inos = [damaged.ino];
    undo.fs = step.fs;
    undo.origin = first;
    undo.files = 1;
    undo.bytes = step.damaged.size;
    undo.reason = `corrupted (same size and mtime, other bytes); replaced by a copy of ${step.source.path} proven to hold the recorded SHA-256`;
    undo.trashDirs = await missingUnder(ctx.fs, root, path.posix.dirname(trashRel));
    undo.phase = 'staging';
    ctx.saveUndo(undo);
    await ctx.fs.mkdirUnder(root, path.posix.dirname(trashRel));
    await damagedUnchanged(step, ctx.fs);
    // The damaged file, as found in its folder held (the name there is what is moved).
    const firstAt = await here.anchored(first);
    await damagedAt(step, ctx.fs, first, firstAt);
    await ctx.fs.rename(firstAt, `${root.path}/${trashRel}`);
    undo.phase = 'staged';
    ctx.saveUndo(undo);
  } finally {
    await root.close();
  }

  // 3. The restored copy into its place (link() fails if anything appeared there), then every other link swapped.
  await ctx.fs.link(await here.anchored(undo.tmp), await here.anchored(first));
  await here.made(first, ours);
  undo.swaps = [];
  for (const [i, p] of step.paths.slice(1).entries()) {
    const d = path.dirname(p);
    const there = targets(p);
    const tmp = tempName(d, ctx.runId, `${ctx.group.id}-${ctx.stepIndex}-repair${i + 1}`);
    undo.swaps.push({ path: p, tmp });
    ctx.saveUndo(undo);
    const c = chainOf(first);
    await c.prove(dir);
    const from = await restored.anchored(c.root, first, c.identity(dir));
    const tmpAt = await there.anchored(tmp);
    await ctx.fs.link(from, tmpAt);
    await there.made(tmp, ours);
    const pAt = await there.anchored(p);
    await damagedAt(step, ctx.fs, p, pAt, 'just before it was swapped; it was left as it is');
    await ctx.fs.rename(await there.anchored(tmp), pAt);
    await there.made(p, ours);
    await ctx.fs.fsyncDir(await there.folder(d));
  }
  await ctx.fs.unlink(await here.anchored(undo.tmp));
  await ctx.fs.fsyncDir(await here.folder(dir));
  ctx.note(`restored ${step.paths.join(', ')} from ${step.source.path} (${step.damaged.size} bytes, SHA-256 ${step.sha256}); the damaged file waits in ${undo.trash}`);
  return { status: 'done', bytesCopied: copied.bytes, result: { restoredFrom: step.source.path, bytes: copied.bytes, trash: undo.trash } };
  }
