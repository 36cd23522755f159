// Step `copy`: copy payload files across filesystems — temp name on the target, hash while copying, verify, link into place.
// Must never: overwrite existing content at the target, copy into a directory holding other files (hitchhiker), keep a
// copy whose hash differs from the plan, or remove anything it did not create.
import path from 'node:path';
import { isAtOrUnder } from '../../domain/path-string.js';
import { FsError } from '../../errors.js';
import { copyFilesOf, type CopyFile, type CopyStep } from '../../plan/types.js';
import type { UndoData } from '../journal.js';
import { dirChain } from '../dir-chain.js';
import { anchoredForUndo, dirForUndo, folderHold, targetHold, type FolderHold, type TargetHold } from '../folder-hold.js';
import { mapLimit } from '../../domain/map-limit.js';
import { createdDirIds, mirrorOf, missingDirs, ownerLike, removeCreatedDirs, strangersUnder, tempName } from '../paths.js';
import type { DirOwner } from '../fs-port.js';
import { rootInside } from '../scope.js';
import type { StepContext, StepHandler } from './types.js';

interface CopyFileUndo {
  tmp: string;
  final: string;
  /** Inode (and device) of our temp file once it exists; the final path is ours only if it has this inode. */
  ino?: number;
  dev?: number;
}
export interface CopyUndo extends UndoData {
  dirs?: string[];
  /** (dev, ino) of each directory this step created: undo removes only that very directory. */
  dirIds?: Record<string, { dev: number; ino: number }>;
  /** The same, journaled per batch (appended); merged with dirIds. */
  dirIdList?: { path: string; dev: number; ino: number }[];
  /** Temp names are journaled before the copy, then again with their inodes (the later entry of a temp name wins). */
  files?: CopyFileUndo[];
}

/** Files per journaled batch, and bytes (a batch holds at least one file). */
export const COPY_BATCH_FILES = 256;
const COPY_BATCH_BYTES = 1 << 30;
/**
 * A copy's (or a batch of copies') fsyncs run eight at a time: fsyncs in flight together share journal commits (a batch
 * of 64 small copies fsyncs ~190 files and folders: two at a time, its groups waited ~0.3–1 s for them before their
 * repoint). Each takes a thread of libuv's pool only for the fsync itself (fs-port), and the next batch's copy, which
 * runs meanwhile, makes its files and folders with synchronous calls: half of the launcher's 16 threads stay free.
 */
const FSYNCS_IN_FLIGHT = 8;

/** One entry per temp name, the latest journaled (with its inode once known), in first-journaled order. */
function filesByTemp(undo: CopyUndo): Map<string, CopyFileUndo> {
  const out = new Map<string, CopyFileUndo>();
  for (const e of undo.files ?? []) out.set(e.tmp, e);
  return out;
}

/** A single-file payload has its root = the file itself and relpath = its basename. */
async function isSingleFile(step: CopyStep, ctx: StepContext): Promise<boolean> {
  const st = await ctx.fs.lstat(step.fromRoot);
  return st?.kind === 'file';
}

function paths(step: CopyStep, single: boolean, relpath: string): { src: string; dst: string } {
  return single ? { src: step.fromRoot, dst: step.toRoot } : { src: path.join(step.fromRoot, relpath), dst: path.join(step.toRoot, relpath) };
}

/**
 * 'same' when the target already holds exactly the planned bytes as a copy would have made it — the source's owner,
 * group and mode (a copy keeps them): a file of the same bytes another local user put there would stay theirs to change
 * or delete once torrents point at it and the source is retired; 'absent'; throws on anything else.
 */
async function targetState(ctx: StepContext, dst: string, f: CopyFile, src: string): Promise<'same' | 'absent'> {
  const st = await ctx.fs.lstat(dst);
  if (!st) return 'absent';
  if (st.kind === 'file' && st.size === f.size && (await ctx.fs.hashFile(dst)) === f.sha256) {
    const from = await ctx.fs.lstat(src);
    // Not as root, a copy cannot take the source's owner (chown: EPERM): it is this process's user's then.
    const euid = process.geteuid?.() ?? 0;
    const owned = from !== null && ((from.uid === st.uid && from.gid === st.gid) || (euid !== 0 && st.uid === euid));
    if (owned && (from.mode & 0o7777) === (st.mode & 0o7777)) return 'same';
    throw new FsError(`refusing to take ${dst} for the copy: it holds the planned bytes but is owned by ${st.uid}:${st.gid} mode ${(st.mode & 0o7777).toString(8)}, not as its source${from ? ` (${from.uid}:${from.gid} mode ${(from.mode & 0o7777).toString(8)})` : ''} — someone else put it there`, {
      code: 'EEXIST',
      path: dst,
      hint: 'if it is yours, give it the source\'s owner and mode (or move it away), then apply again',
    });
  }
  throw new FsError(`refusing to copy over ${dst}: something else is already there (${st.kind}, ${st.size} bytes) — hashall never overwrites other content`, {
    code: 'EEXIST',
    path: dst,
    hint: 'move that file away or re-plan; the group was rolled back',
  });
}

/** Entries under an existing target directory that are not files of this payload (see strangersUnder). */
function strangers(step: CopyStep, ctx: StepContext): Promise<string[]> {
  return strangersUnder(ctx.fs, step.toRoot, new Set(copyFilesOf(step).map((f) => f.relpath)), ctx.runId);
}

/**
 * Read the written copy back before it gets its final name (`safety.verify`). Both modes already proved, while copying,
 * that the bytes read from the source are the catalog's. `full` re-reads the whole copy and compares its SHA-256;
 * `sample` compares the size and three 64 KiB blocks of copy and source (catches a short or misplaced write, not a
 * flipped bit in between). The copy was fsynced: a re-read comes from the page cache unless the kernel dropped it.
 */
async function readBack(ctx: StepContext, src: string, tmp: string, sha256: string): Promise<void> {
  if (ctx.config.safety.verify === 'full') {
    const got = await ctx.fs.hashFile(tmp);
    if (got !== sha256) {
      throw new FsError(`the copy ${tmp} reads back as sha256 ${got}, not the ${sha256} that was written: the target filesystem returned other bytes`, {
        path: tmp,
        hint: 'check the target disk (dmesg, SMART) before trying again; the source is untouched',
      });
    }
    return;
  }
  const [a, b] = await Promise.all([ctx.fs.sampleHash(src), ctx.fs.sampleHash(tmp)]);
  if (a !== b) {
    throw new FsError(`the copy ${tmp} reads back with other sampled blocks than its source ${src}: the target filesystem returned other bytes`, {
      path: tmp,
      hint: 'check the target disk (dmesg, SMART) before trying again; the source is untouched',
    });
  }
}

/** A copy step under way: what it knows across its batches of files (see copyStart). */
export interface CopyRun {
  step: CopyStep;
  ctx: StepContext;
  undo: CopyUndo;
  single: boolean;
  like: (dir: string) => Promise<DirOwner | null>;
  chain: ReturnType<typeof dirChain>;
  /** The scanned root the sources lie in (their folders are held from it: folder-hold.ts). */
  srcRoot: string;
  /** The files still to copy, in journaled batches of at most COPY_BATCH_FILES files / COPY_BATCH_BYTES. */
  chunks: CopyItem[][];
  /** Bytes already at the target (found there whole) or copied so far. */
  done: number;
  copied: number;
  created: Set<string>;
  present: Set<string>;
  /** What must be durable before the step's work counts: every file written (its data) and every folder linked into. */
  written: { path: string; ino: number; dev: number }[];
  folders: Set<string>;
  /** The copies made so far by the source inode they copy (`dev:ino`): another name of that inode is linked to it. */
  twins: Map<string, CopyTwin>;
  /** The inodes (`dev:ino`) already in `written`: names linked to one copy share its data sync. */
  synced: Set<string>;
}

/** A copy made by this step, for the other names its source inode has inside the payload (cp -a and rsync -H keep them one inode). */
interface CopyTwin {
  tmp: string;
  final: string;
  /** Linked into place: the copy is at `final` now, its temp name gone. */
  placed: boolean;
  /** Our copy's inode, and what the copy proved of it and of its source. */
  ino: number;
  dev: number;
  size: number;
  sha256: string;
  mtimeNs: bigint;
  srcMtimeNs: string;
}

interface CopyItem {
  i: number;
  f: CopyFile;
  src: string;
  dst: string;
}

/** One journaled batch of a copy step's files, between its phases (chunkPlan → … → chunkPlace). */
export interface CopyChunk {
  run: CopyRun;
  items: CopyItem[];
  bytes: number;
  dirs: string[];
  newDirs: string[];
  toMake: string[];
  entries: CopyFileUndo[];
  /** Missing directories another copy of the same batch creates (journaled as its own): they must exist before these files go in. */
  borrowed: string[];
  ids: { path: string; dev: number; ino: number }[];
  mine: CopyFileUndo[];
  /** Bytes of this batch's files made as links of a copy (another name of the same source inode), not copied. */
  linked: number;
  /** The copies this batch made of linked sources, by temp name: placing one moves it to its final name (CopyTwin.placed). */
  twins: Map<string, CopyTwin>;
}

/**
 * Whether a copy step fits in one journaled batch of files, so a copy batch of several groups (copy-batch.ts) can run
 * its phases side by side with theirs.
 */
export function oneChunk(step: CopyStep): boolean {
  return copyFilesOf(step).length <= COPY_BATCH_FILES && step.bytes <= COPY_BATCH_BYTES;
}

/** Reads only: which files are left to copy (a file already there whole counts as done), cut into journaled batches. */
export async function copyStart(step: CopyStep, ctx: StepContext, undo: CopyUndo): Promise<CopyRun> {
  undo.dirs ??= [];
  undo.files ??= [];
  const single = await isSingleFile(step, ctx);
  // New directories mirror the source's owner and mode (a single file's parents: the target seeding root's).
  const like = ownerLike(ctx.fs, Object.values(ctx.config.seeding).flat(), (d) => (single ? null : mirrorOf(d, step.toRoot, step.fromRoot)));
  // Every directory from the target seeding root down is re-proven (dev, ino, no symlink) before each write.
  const chain = dirChain(ctx.fs, rootInside(ctx.config, step.toFs, step.toRoot, 'seeding'));
  let done = 0;
  const todo: CopyItem[] = [];
  for (const [i, f] of copyFilesOf(step).entries()) {
    const { src, dst } = paths(step, single, f.relpath);
    await chain.prove(path.dirname(dst));
    if ((await targetState(ctx, dst, f, src)) === 'same') done += f.size;
    else todo.push({ i, f, src, dst });
  }
  const chunks: CopyItem[][] = [];
  for (let at = 0; at < todo.length; ) {
    const chunk: CopyItem[] = [];
    let bytes = 0;
    while (at < todo.length && chunk.length < COPY_BATCH_FILES && (chunk.length === 0 || bytes + todo[at]!.f.size <= COPY_BATCH_BYTES)) {
      bytes += todo[at]!.f.size;
      chunk.push(todo[at++]!);
    }
    chunks.push(chunk);
  }
  const srcRoot = rootInside(ctx.config, step.fromFs, step.fromRoot, 'scanned');
  return { step, ctx, undo, single, like, chain, srcRoot, chunks, done, copied: 0, created: new Set(undo.dirs), present: new Set(), written: [], folders: new Set(), twins: new Map(), synced: new Set() };
}

// Journaled per batch, in appends of only the new entries (linear in the number of files, see migration 9): 1. the
// directories about to be created and the temp names, then the directories made, 2. their identities, then the copies
// into the temp names, 3. the temp files' inodes, then the links into place. A crash anywhere leaves only paths the
// journal names: temp names (ours by name: they carry the run id), and final paths that are ours only with a
// journaled inode. The journal* phases only write the journal; the others only read and change the disk, so a copy
// batch of several groups runs each phase for all of them and pays one WAL fsync per phase, not per group.

/**
 * Reads only: the directories this batch of files needs (those missing, to create) and its temp names. `claimed`, shared
 * by the copies of one copy batch, gives each missing directory to the first copy that needs it (a folder two
 * payloads share, created by one of them — as one copy after the other would).
 */
export async function chunkPlan(c: CopyRun, items: CopyItem[], claimed: Set<string> = new Set()): Promise<CopyChunk> {
  const { ctx } = c;
  const dirs = [...new Set(items.map((b) => path.dirname(b.dst)))].filter((d) => !c.present.has(d));
  const newDirs: string[] = [];
  const toMake: string[] = [];
  const borrowed: string[] = [];
  for (const dir of dirs) {
    const missing = await missingDirs(ctx.fs, dir);
    if (missing.length) toMake.push(dir);
    for (const d of missing) {
      if (c.created.has(d)) continue;
      if (claimed.has(d)) {
        borrowed.push(d);
        continue;
      }
      newDirs.push(d);
      c.created.add(d);
      claimed.add(d);
    }
  }
  const entries: CopyFileUndo[] = items.map((b) => ({ tmp: tempName(path.dirname(b.dst), ctx.runId, `${ctx.group.id}-${ctx.stepIndex}-${b.i}`), final: b.dst }));
  return { run: c, items, bytes: items.reduce((n, b) => n + b.f.size, 0), dirs, newDirs, toMake, entries, borrowed, ids: [], mine: [], linked: 0, twins: new Map() };
}

/** Journal: the directories about to be created and the temp names about to be written. */
export function journalPlan(b: CopyChunk): void {
  if (b.newDirs.length) b.run.ctx.appendUndo('dirs', b.newDirs);
  b.run.ctx.appendUndo('files', b.entries);
}

/**
 * Disk: create the missing directories (durable with the files, see copyDurable), each level through the level above it
 * held open (TargetHold.mkdirs): never by a name a folder swapped for a symlink could redirect.
 */
export async function chunkDirs(b: CopyChunk): Promise<void> {
  const c = b.run;
  // A folder another copy of the batch was to create and did not (it failed first): this copy would create it without
  // having journaled it — it fails instead, and is rolled back like any other.
  for (const d of b.borrowed) {
    if ((await c.ctx.fs.lstat(d))?.kind !== 'dir') {
      throw new FsError(`folder ${d} was to be created by another copy of the same batch, which failed first`, { path: d, hint: 'run `hashall apply` again' });
    }
  }
  const targets = targetHold(c.ctx.fs, c.chain);
  // The folders made, as they are made (journaled by journalDirs; on a failure here, at once: the rollback needs them).
  b.ids = [];
  try {
    for (const dir of b.toMake) {
      const made = await targets.mkdirs(dir, c.like, { syncParent: false, made: b.ids });
      if (made.length > 0) c.folders.add(path.dirname(made[0]!.path)); // made durable with the files (copyDurable)
    }
  } catch (err) {
    if (b.ids.length) journalDirs(b);
    throw targets.explain(err);
  } finally {
    await targets.close();
  }
  for (const dir of b.dirs) c.present.add(dir);
}

/** Journal: the identities of the directories made (undo removes only those very directories). */
export function journalDirs(b: CopyChunk): void {
  if (b.ids.length) b.run.ctx.appendUndo('dirIdList', b.ids);
}

/**
 * Disk: make another name of a copy already made (its source is the same inode, unchanged since that copy): a link of
 * the copy into this file's temp name, proven to be our copy's inode right after. Its bytes were proven by that copy.
 */
async function linkTwin(b: CopyChunk, holds: CopyHolds, twin: CopyTwin, entry: CopyFileUndo, dst: string, f: CopyFile): Promise<void> {
  const { ctx, chain } = b.run;
  const from = twin.placed ? twin.final : twin.tmp;
  // The copy linked from may lie in another folder than the one written into: held too, the very folder the chain proved.
  await chain.prove(path.dirname(from));
  const fromAt = await holds.twins.anchored(chain.root, from, chain.identity(path.dirname(from)));
  const tmp = await holds.targets.anchored(entry.tmp);
  await ctx.fs.link(fromAt, tmp);
  const got = await ctx.fs.lstat(tmp);
  if (got?.kind === 'file') await holds.targets.made(entry.tmp, got);
  if (!got || got.kind !== 'file' || got.ino !== twin.ino || got.dev !== twin.dev) {
    throw new FsError(`${from} is no longer the copy hashall wrote: linking another name of it made ${entry.tmp} another file`, {
      path: from,
      hint: 'something replaced files under the target while apply ran; the group is rolled back — run `hashall plan` again',
    });
  }
  b.mine.push({ ...entry, ino: twin.ino, dev: twin.dev });
  ctx.written?.add({ path: dst, ino: twin.ino, dev: twin.dev, size: f.size, mtimeNs: twin.mtimeNs, sha256: f.sha256 });
  b.run.done += f.size;
  b.linked += f.size;
}

/**
 * Disk: copy each file into its temp name, proving the source unchanged and the copy's hash, then read it back. A file
 * whose source is another name of an inode this step already copied (links inside the payload) is linked to that copy
 * instead, as long as the source is still that inode, unchanged, and the catalog gives both names the same content;
 * otherwise it is copied like any file.
 */
export async function chunkCopies(b: CopyChunk): Promise<void> {
  // Each source is read through its folder held from its root (folder-hold.ts): a source folder swapped for a symlink
  // to a root-only folder would otherwise have root copy the file found there into a folder the user can read. Each
  // temp file is made in its target folder held the same way (targetHold): a target folder swapped for a symlink to a
  // root-only folder between its proof and the copy would otherwise have root make its temp file there.
  const holds: CopyHolds = { sources: folderHold(), targets: targetHold(b.run.ctx.fs, b.run.chain), twins: folderHold() };
  try {
    await copyItems(b, holds);
  } catch (err) {
    throw holds.twins.explain(holds.targets.explain(holds.sources.explain(err)));
  } finally {
    await holds.sources.close();
    await holds.targets.close();
    await holds.twins.close();
  }
}

/** The folders a batch of copies goes through: its sources', its targets' (written into), and those of copies it links other names of. */
interface CopyHolds {
  sources: FolderHold;
  targets: TargetHold;
  twins: FolderHold;
}

async function copyItems(b: CopyChunk, holds: CopyHolds): Promise<void> {
  const { ctx, step } = b.run;
  for (const [k, { f, src: named, dst }] of b.items.entries()) {
    const entry = b.entries[k]!;
    const src = await holds.sources.anchored(b.run.srcRoot, named);
    const before = await ctx.fs.lstat(src);
    if (!before || before.kind !== 'file') throw new FsError(`source ${named} disappeared before the copy`, { path: named });
    const key = `${before.dev}:${before.ino}`;
    const twin = b.run.twins.get(key);
    if (twin && twin.sha256 === f.sha256 && twin.size === f.size && before.size === f.size && before.mtimeNs === twin.srcMtimeNs) {
      await linkTwin(b, holds, twin, entry, dst, f);
      continue;
    }
    // The temp name, resolved from its folder held (and proven: dir-chain.ts) — never through a symlink put there.
    const tmp = await holds.targets.anchored(entry.tmp);
    // Neither the data nor the temp name is fsynced here (the name is journaled, and gone once linked into place):
    // the files' data, then their folders, are made durable together once all are linked (see copyDurable).
    const res = await ctx.fs.copyFileVerified(src, tmp, {
      size: f.size,
      signal: ctx.signal,
      syncDir: false,
      syncData: false,
      onProgress: (n) =>
        ctx.emit({ type: 'copy-progress', runId: ctx.runId, groupId: ctx.group.id, file: dst, bytes: n, totalBytes: f.size, groupBytes: b.run.done + n, groupTotal: step.bytes }),
    });
    b.mine.push({ ...entry, ino: res.ino, dev: res.dev });
    // The folder written into is still the one proven at its path (not moved away meanwhile), or the copy is removed.
    await holds.targets.made(entry.tmp, res);
    const after = await ctx.fs.lstat(src);
    if (!after || after.ino !== before.ino || after.size !== before.size || after.mtimeNs !== before.mtimeNs) {
      throw new FsError(`source ${named} changed while it was being copied; the group is aborted and nothing at the source was touched`, {
        path: named,
        hint: 'wait until the file is no longer written to, then `hashall scan` and `hashall plan` again',
      });
    }
    if (res.sha256 !== f.sha256 || res.bytes !== f.size) {
      throw new FsError(`copy of ${named} does not match the catalog: sha256 ${res.sha256} (${res.bytes} bytes), expected ${f.sha256} (${f.size} bytes)`, {
        path: named,
        hint: 'the source changed since it was hashed; run `hashall scan` and `hashall plan` again',
      });
    }
    await readBack(ctx, src, tmp, f.sha256);
    // What the copy proved of the inode it wrote for `dst`: it counts for the refresh once `dst` holds that very inode.
    ctx.written?.add({ path: dst, ino: res.ino, dev: res.dev, size: res.bytes, mtimeNs: res.mtimeNs, sha256: res.sha256 });
    if (before.nlink > 1) {
      const made: CopyTwin = { tmp: entry.tmp, final: entry.final, placed: false, ino: res.ino, dev: res.dev, size: f.size, sha256: f.sha256, mtimeNs: res.mtimeNs, srcMtimeNs: before.mtimeNs };
      b.run.twins.set(key, made);
      b.twins.set(entry.tmp, made);
    }
    b.run.done += f.size;
  }
}

/** Journal: the temp files' inodes — from here a final path holding one of them is ours (undo removes it). */
export function journalCopies(b: CopyChunk): void {
  b.run.ctx.appendUndo('files', b.mine);
}

/** Disk: link each temp file into place and remove its temp name. */
export async function chunkPlace(b: CopyChunk): Promise<void> {
  const targets = targetHold(b.run.ctx.fs, b.run.chain);
  try {
    await placeAll(b, targets);
  } catch (err) {
    throw targets.explain(err);
  } finally {
    await targets.close();
  }
}

async function placeAll(b: CopyChunk, targets: TargetHold): Promise<void> {
  const c = b.run;
  for (const e of b.mine) {
    // Both names resolved from their folder held (the temp name lies beside its final name), proven before and after.
    // link() refuses to replace an existing path (EEXIST) — unlike rename — so nothing can be overwritten.
    const tmp = await targets.anchored(e.tmp);
    const final = await targets.anchored(e.final);
    await c.ctx.fs.link(tmp, final);
    await targets.made(e.final, { dev: e.dev!, ino: e.ino! });
    await c.ctx.fs.unlink(tmp);
    const twin = b.twins.get(e.tmp);
    if (twin) twin.placed = true;
    // One data sync per inode (names linked to one copy share it).
    const id = `${e.dev!}:${e.ino!}`;
    if (!c.synced.has(id)) c.written.push({ path: e.final, ino: e.ino!, dev: e.dev! });
    c.synced.add(id);
  }
  for (const dir of b.dirs) c.folders.add(dir);
  c.copied += b.bytes - b.linked;
}

/**
 * Files written to one filesystem from which one syncfs of it replaces their fsyncs: an adoption's batch of small
 * copies fsyncs hundreds of files and folders, each fsync a journal commit of its own (200 torrents of two files on
 * ext4 here: ~0.65 s of fsyncs, 8 in flight; one syncfs of the same files ~35 ms). Below this, the filesystem's other
 * writers' dirty data (a client downloading) could cost a syncfs more than the few fsyncs it saves.
 */
export const SYNCFS_MIN_FILES = 16;

/**
 * Every file the copies wrote (its data, each the inode hashall wrote) and every folder they linked into, durable.
 * Runs that wrote SYNCFS_MIN_FILES or more files to one filesystem are made durable by one syncfs of it (its
 * files and folders are on it: the filesystem proof holds each of their folders there); anything else — fewer files, a
 * filesystem whose syncfs is not known to reach the disk, a syncfs that failed — by an fdatasync of each file, a few at
 * a time, then an fsync of each folder (a folder shared by several copies once), which report their own errors.
 * Through the FsPort of the first copy (syncs are not changes: no journal sync).
 */
export async function copyDurable(runs: readonly CopyRun[]): Promise<void> {
  if (runs.length === 0) return;
  const fs = runs[0]!.ctx.fs;
  const byDev = new Map<number, CopyRun[]>();
  for (const c of runs) {
    const dev = c.written[0]?.dev;
    if (dev === undefined || c.written.some((f) => f.dev !== dev)) continue;
    const list = byDev.get(dev);
    if (list === undefined) byDev.set(dev, [c]);
    else list.push(c);
  }
  const synced = new Set<CopyRun>();
  for (const list of byDev.values()) {
    if (list.reduce((n, c) => n + c.written.length, 0) < SYNCFS_MIN_FILES) continue;
    const f = list[0]!.written[0]!;
    if ((await fs.syncFilesystem(f.path, { ino: f.ino, dev: f.dev })) === 'synced') for (const c of list) synced.add(c);
  }
  const rest = runs.filter((c) => !synced.has(c));
  await mapLimit(rest.flatMap((c) => c.written), FSYNCS_IN_FLIGHT, (f) => fs.fsyncFile(f.path, { ino: f.ino, dev: f.dev }));
  // Each folder fsynced through its hold (the folder proven, not whatever a symlink put in its place leads to: that fsync
  // would leave the links made in ours to chance), with the chain of a copy that wrote into it.
  const folders = new Map<string, CopyRun>();
  for (const c of rest) for (const d of c.folders) if (!folders.has(d)) folders.set(d, c);
  await mapLimit([...folders], FSYNCS_IN_FLIGHT, async ([d, c]) => {
    // A folder above the checked root (the parent of a seeding root the copy made) is trusted by path, as the root is.
    if (!isAtOrUnder(d, c.chain.root)) return fs.fsyncDir(d);
    const held = targetHold(fs, c.chain);
    try {
      await fs.fsyncDir(await held.folder(d));
    } catch (err) {
      throw held.explain(err);
    } finally {
      await held.close();
    }
  });
}

export const copyStep: StepHandler<CopyStep> = {
  describe: (s) => `copy ${copyFilesOf(s).length} file(s), ${s.bytes} bytes: ${s.fromRoot} → ${s.toRoot}`,
  manualUndo: (s) => `remove the files hashall created under ${s.toRoot} (listed in the step's undo data: \`hashall runs show\`); the source ${s.fromRoot} is untouched`,

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
    for (const f of copyFilesOf(step)) {
      const { src, dst } = paths(step, single, f.relpath);
      if ((await targetState(ctx, dst, f, src)) === 'same') {
        present++;
        continue;
      }
      const s = await ctx.fs.lstat(src);
      if (!s || s.kind !== 'file' || s.size !== f.size) {
        throw new FsError(`source ${src} is missing or changed (expected a ${f.size}-byte file)`, { path: src, hint: 'run `hashall scan` and `hashall plan` again' });
      }
    }
    return present === copyFilesOf(step).length ? 'done' : 'todo';
  },

  async run(step, ctx, undoData) {
    const c = await copyStart(step, ctx, undoData as CopyUndo);
    for (const chunk of c.chunks) {
      const b = await chunkPlan(c, chunk);
      journalPlan(b);
      await chunkDirs(b);
      journalDirs(b);
      await chunkCopies(b);
      journalCopies(b);
      await chunkPlace(b);
    }
    if (ctx.durableLater) ctx.durableLater(() => copyDurable([c]));
    else await copyDurable([c]);
    return { status: 'done', bytesCopied: c.copied, result: { bytesCopied: c.copied } };
  },

  async verify(step, ctx, undoData) {
    const undo = undoData as CopyUndo;
    const single = (await ctx.fs.lstat(step.toRoot))?.kind === 'file';
    const ours = filesByTemp(undo);
    const byFinal = new Map([...ours.values()].map((e) => [e.final, e]));
    for (const f of copyFilesOf(step)) {
      const { dst } = paths(step, single, f.relpath);
      const st = await ctx.fs.lstat(dst);
      if (!st || st.kind !== 'file' || st.size !== f.size) throw new FsError(`after the copy ${dst} is missing or has the wrong size`, { path: dst });
      const mine = byFinal.get(dst);
      if (mine?.ino !== undefined && (mine.ino !== st.ino || (mine.dev !== undefined && mine.dev !== st.dev))) throw new FsError(`after the copy ${dst} is not the file hashall wrote`, { path: dst });
    }
  },

  async undo(step, ctx, undoData) {
    const undo = undoData as CopyUndo;
    const notes = new Set<string>();
    // Each name is reached through its folder held from the seeding root (folder-hold.ts), never by a path a swapped
    // folder could redirect between the check of its inode and the unlink: a final name (`a.bin`) may well exist in a
    // root-only folder too.
    const root = rootInside(ctx.config, step.toFs, step.toRoot, 'seeding');
    const targets = folderHold();
    try {
      for (const e of [...filesByTemp(undo).values()].reverse()) {
        const tmpAt = await anchoredForUndo(targets, root, e.tmp, notes);
        const tmp = tmpAt === null ? null : await ctx.fs.lstat(tmpAt);
        // Once its inode is known, only that very file (a temp name is ours by its name until then).
        if (tmpAt !== null && tmp?.kind === 'file' && (e.ino === undefined || (tmp.ino === e.ino && (e.dev === undefined || tmp.dev === e.dev)))) await ctx.fs.unlink(tmpAt);
        if (e.ino === undefined) continue;
        const finAt = await anchoredForUndo(targets, root, e.final, notes);
        const fin = finAt === null ? null : await ctx.fs.lstat(finAt);
        if (finAt !== null && fin && fin.ino === e.ino && (e.dev === undefined || fin.dev === e.dev)) await ctx.fs.unlink(finAt);
      }
    } catch (err) {
      throw targets.explain(err);
    } finally {
      await targets.close();
    }
    // Each folder made is reached through its parent held from the seeding root too (a folder above it swapped for a
    // symlink to a root-only folder holding an empty folder of that name would otherwise have root remove that one).
    const dirIds = createdDirIds(undo.dirIds, undo.dirIdList);
    const dirs = folderHold();
    try {
      const left = await removeCreatedDirs(ctx.fs, undo.dirs ?? [], dirIds, (d) => dirForUndo(dirs, root, d, notes));
      return [...notes, ...left];
    } catch (err) {
      throw dirs.explain(err);
    } finally {
      await dirs.close();
    }
  },
};
