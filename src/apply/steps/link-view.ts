// Step `link-view`: lay out one torrent's view by hardlinking donors on the same filesystem (probing link() for real).
// Must never: replace anything already at a view path, remove a link it did not create, link a donor marked
// hashDonor (a file the plan does not write) whose bytes it has not just read and found to be the planned content, or
// link a file from another inode (metaOf) unless its own source still shows the donor's owner, group and mode.
import { isAtOrUnder } from '../../domain/path-string.js';
import path from 'node:path';
import { FsError } from '../../errors.js';
import type { LinkViewStep } from '../../plan/types.js';
import type { UndoData } from '../journal.js';
import { dirChain, type DirChain } from '../dir-chain.js';
import { anchoredForUndo, dirForUndo, folderHold, targetHold, type MadeDir, type TargetHold } from '../folder-hold.js';
import type { DirOwner, FsStat } from '../fs-port.js';
import { createdDirIds, missingDirs, ownerLike, removeCreatedDirs, strangersUnder, tempName } from '../paths.js';
import { rootInside } from '../scope.js';
import type { StepContext, StepHandler, StepOutcome } from './types.js';

interface LinkUndo extends UndoData {
  dirs?: string[];
  /** Paths this step linked (or is about to link), with the donor inode they must have to be ours. */
  links?: { path: string; ino: number; dev?: number }[];
  probe?: string;
  /** The inode the probe links (the donor's, as journaled): undo removes the probe name only while it is that inode. */
  probeId?: { dev: number; ino: number };
  /** (dev, ino) of each directory this step created: undo removes only that very directory. */
  dirIds?: Record<string, { dev: number; ino: number }>;
  /** The same, journaled per batch (appended); merged with dirIds. */
  dirIdList?: { path: string; dev: number; ino: number }[];
}

/** The seeding root holding folder `d` (in its own spelling), or null for a folder above every seeding root (one made as a root's missing parent). */
function seedingRootOf(ctx: Pick<StepContext, 'config'>, fsName: string, d: string): string | null {
  try {
    return rootInside(ctx.config, fsName, d, 'seeding');
  } catch {
    return null;
  }
}

/** Links per journaled batch. */
const LINK_BATCH = 256;

/** The donor directory a view directory mirrors: same relative path up from a link below it (null above the view root). */
function donorDirOf(step: LinkViewStep, dir: string): string | null {
  if (!isAtOrUnder(dir, step.root)) return null;
  for (const l of step.links) {
    if (!isAtOrUnder(l.path, dir) || l.path === dir) continue;
    const rel = path.relative(dir, l.path);
    if (l.donor.endsWith(`/${rel}`)) return l.donor.slice(0, -rel.length - 1);
  }
  return null;
}

/** The donor, read at `at` (its anchored spelling, or its path) without following: a file of the planned size. */
async function donorStat(ctx: StepContext, l: LinkViewStep['links'][number], at = l.donor) {
  const d = await ctx.fs.lstat(at);
  if (!d || d.kind !== 'file' || d.size !== l.size) {
    throw new FsError(`donor ${l.donor} is missing or changed (expected a ${l.size}-byte file)`, { path: l.donor, hint: 'run `hashall scan` and `hashall plan` again' });
  }
  return d;
}

/**
 * A hashDonor link's donor, read at `at` (its held spelling) as the inode `d` lstat found: its bytes must hash to the
 * planned SHA-256 (bit rot keeps size and mtime: only the bytes tell). Returns the mtime of the bytes hashed: the link
 * is made only while the donor still shows it.
 */
async function proveDonor(ctx: StepContext, l: LinkViewStep['links'][number], at: string, d: { dev: number; ino: number }): Promise<string> {
  const { sha256, stamp } = await ctx.fs.hashFileStamped(at, { dev: d.dev, ino: d.ino });
  if (stamp.size !== l.size || sha256 !== l.sha256) {
    throw new FsError(`donor ${l.donor} does not hold the content the plan links (${stamp.size} bytes hashing to ${sha256.slice(0, 12)}…, planned ${l.size} bytes, ${l.sha256.slice(0, 12)}…): changed or damaged since it was scanned; nothing is linked from it`, {
      path: l.donor,
      hint: 'run `hashall verify` on it, then `hashall scan` and `hashall plan` again (the plan then copies that file)',
    });
  }
  return stamp.mtimeNs;
}

/**
 * A link from another inode of equal content (metaOf: a sibling's or another torrent's copy this plan makes, a reuse
 * or partly-present donor on the target): the linked file's own source, read at
 * `at` (its held spelling) without following, must still be the planned inode and show the donor's (`d`) owner, group
 * and mode. Else the link would give the file another owner or mode — which dedupe never does, and which may leave its
 * torrent's container unable to read it — so nothing is linked and the group is rolled back.
 */
async function sameMetaAsSource(ctx: StepContext, l: LinkViewStep['links'][number], at: string, d: FsStat): Promise<void> {
  const m = l.metaOf!;
  const st = await ctx.fs.lstat(at);
  if (!st || st.kind !== 'file' || st.ino !== m.ino) {
    throw new FsError(`${m.path}, the file ${l.path} is the content of, is no longer the file planned (inode ${m.ino}); nothing is linked from ${l.donor}`, { path: m.path, hint: 'run `hashall scan` and `hashall plan` again' });
  }
  const show = (x: FsStat) => `${x.uid}:${x.gid} mode ${(x.mode & 0o7777).toString(8).padStart(4, '0')}`;
  if (st.uid !== d.uid || st.gid !== d.gid || (st.mode & 0o7777) !== (d.mode & 0o7777)) {
    throw new FsError(
      `refusing to link ${l.path} from ${l.donor} (another inode of equal content): its own source ${m.path} is ${show(st)}, the copy ${show(d)} — linked, the file would change owner, group or mode (dedupe never links such); nothing is linked from it`,
      { path: m.path, hint: 'run `hashall plan` again: a plan made now copies that file on its own' },
    );
  }
}

/** 'same' when the path already is the donor's inode; 'absent'; throws when something else is there. */
async function viewState(ctx: StepContext, l: LinkViewStep['links'][number], donorIno: number): Promise<'same' | 'absent'> {
  const st = await ctx.fs.lstat(l.path);
  if (!st) return 'absent';
  if (st.ino === donorIno && st.kind === 'file') return 'same';
  throw new FsError(`cannot build the view: ${l.path} already exists and is not a hardlink of ${l.donor}`, {
    code: 'EEXIST',
    path: l.path,
    hint: 'hashall never replaces other files; move it away or re-plan',
  });
}

export const linkViewStep: StepHandler<LinkViewStep> = {
  describe: (s) => `link view of ${s.torrentHash.slice(0, 8)} at ${s.root} (${s.links.length} hardlink(s))`,
  manualUndo: (s) => `remove the hardlinks hashall created under ${s.root} (listed in \`hashall runs show\`); the donors are untouched`,

  async check(step, ctx) {
    if (step.expected) {
      const others = await strangersUnder(ctx.fs, step.root, new Set(step.expected), ctx.runId);
      if (others.length) {
        throw new FsError(`refusing to build the view in ${step.root}: it already holds files that are not part of this torrent (${others.join(', ')}) — hashall never puts two torrents' trees in one directory`, {
          code: 'EEXIST',
          path: step.root,
          hint: 'move those files away, or re-plan so the view gets its own directory',
        });
      }
    }
    let same = 0;
    for (const l of step.links) {
      const d = await donorStat(ctx, l);
      if ((await viewState(ctx, l, d.ino)) === 'same') same++;
    }
    return same === step.links.length ? 'done' : 'todo';
  },

  async run(step, ctx, undoData) {
    const undo = undoData as LinkUndo;
    const like = ownerLike(ctx.fs, Object.values(ctx.config.seeding).flat(), (d) => donorDirOf(step, d));
    // Every directory from the seeding root down to each link is re-proven (dev, ino, no symlink) before each write.
    const chain = dirChain(ctx.fs, rootInside(ctx.config, step.fs, step.root, 'seeding'));
    // Each donor is read and linked through its folder held from its root (folder-hold.ts): a donor folder swapped for
    // a symlink to a root-only folder would otherwise have root link the file found there into the view.
    const donors = folderHold();
    const donorAt = (l: LinkViewStep['links'][number]): Promise<string> => donors.anchored(rootInside(ctx.config, step.fs, l.donor, 'scanned'), l.donor);
    // A metaOf link's own source is read the same way, through its folder held from its root on its filesystem.
    const sources = folderHold();
    const sourceAt = (m: NonNullable<LinkViewStep['links'][number]['metaOf']>): Promise<string> => sources.anchored(rootInside(ctx.config, m.fs, m.path, 'scanned'), m.path);
    // Each link (the probe's too) is made in its view folder held the same way, proven before and after (targetHold):
    // a view folder swapped for a symlink to a root-only folder between its proof and the link would otherwise get
    // root's link of the donor there.
    const views = targetHold(ctx.fs, chain);
    try {
      return await linkAll(step, ctx, undo, chain, like, donorAt, sourceAt, views);
    } catch (err) {
      throw views.explain(sources.explain(donors.explain(err)));
    } finally {
      await donors.close();
      await sources.close();
      await views.close();
    }
  },

  async verify(step, ctx) {
    for (const l of step.links) {
      const d = await donorStat(ctx, l);
      const st = await ctx.fs.lstat(l.path);
      if (!st || st.ino !== d.ino) throw new FsError(`view path ${l.path} is not a hardlink of ${l.donor} after linking`, { path: l.path });
    }
  },

  async undo(step, ctx, undoData) {
    const undo = undoData as LinkUndo;
    // Each link is reached through its folder held from the seeding root, never by a name a swapped folder could
    // redirect: the donor's inode also has other names (a library's, a backup's) that are not this step's to remove.
    const views = folderHold();
    const notes = new Set<string>();
    try {
      const at = (p: string): Promise<string | null> => anchoredForUndo(views, rootInside(ctx.config, step.fs, p, 'seeding'), p, notes);
      if (undo.probe) {
        // The probe's name sits in a folder other users may write: only while it is still the donor's inode it linked
        // (a journal of an older hashall recorded none: its name alone, as then).
        // (a journal of an older hashall recorded none: then only while it is a link of one of the step's donors beside
        // it, each reached through its own held folder — removing that name loses no byte; anything else is left, said).
        const a = await at(undo.probe);
        const st = a ? await ctx.fs.lstat(a) : null;
        const id = undo.probeId ?? (st ? await probedDonor(step, ctx, undo.probe, st) : null);
        if (a && st && id && st.kind === 'file' && st.ino === id.ino && st.dev === id.dev) await ctx.fs.unlink(a);
        else if (st && undo.probeId) notes.add(`${undo.probe} is not the link this step made (inode ${st.ino}, linked ${undo.probeId.ino}); it is left as it is`);
        else if (st) notes.add(`left ${undo.probe}: the older hashall that journaled this run recorded no identity of its probe link, and it is not a hardlink of a donor of this view (inode ${st.ino}); remove it by hand if it is a leftover`);
      }
      for (const l of [...(undo.links ?? [])].reverse()) {
        const a = await at(l.path);
        const st = a ? await ctx.fs.lstat(a) : null;
        if (a && st && st.ino === l.ino && (l.dev === undefined || st.dev === l.dev)) await ctx.fs.unlink(a);
      }
    } catch (err) {
      throw views.explain(err);
    } finally {
      await views.close();
    }
    // Each folder made reached through its parent held from the seeding root as well (folder-hold.ts dirForUndo).
    const dirIds = createdDirIds(undo.dirIds, undo.dirIdList);
    const dirs = folderHold();
    try {
      const left = await removeCreatedDirs(ctx.fs, undo.dirs ?? [], dirIds, (d) => {
        const root = seedingRootOf(ctx, step.fs, d);
        return root === null ? Promise.resolve(d) : dirForUndo(dirs, root, d, notes);
      });
      return [...notes, ...left];
    } catch (err) {
      throw dirs.explain(err);
    } finally {
      await dirs.close();
    }
  },
};

/**
 * For the undo of a probe journaled without its identity (an older hashall): the (dev, ino) of the donor of a link
 * beside the probe that `st` (what the probe name holds now) is a hardlink of, each donor read through its folder held
 * from its root (folder-hold.ts), or null when it is none of them.
 */
async function probedDonor(step: LinkViewStep, ctx: Pick<StepContext, 'fs' | 'config'>, probe: string, st: FsStat): Promise<{ dev: number; ino: number } | null> {
  if (st.kind !== 'file') return null;
  const donors = folderHold();
  const notes = new Set<string>();
  try {
    for (const l of step.links) {
      if (path.dirname(l.path) !== path.dirname(probe)) continue;
      const at = await anchoredForUndo(donors, rootInside(ctx.config, step.fs, l.donor, 'scanned'), l.donor, notes).catch(() => null);
      const d = at ? await ctx.fs.lstat(at) : null;
      if (d?.kind === 'file' && d.dev === st.dev && d.ino === st.ino) return { dev: d.dev, ino: d.ino };
    }
    return null;
  } finally {
    await donors.close();
  }
}

/** run's work, with each donor reached by `donorAt` (its anchored spelling). */
async function linkAll(
  step: LinkViewStep,
  ctx: StepContext,
  undo: LinkUndo,
  chain: DirChain,
  like: (d: string) => Promise<DirOwner | null>,
  donorAt: (l: LinkViewStep['links'][number]) => Promise<string>,
  sourceAt: (m: NonNullable<LinkViewStep['links'][number]['metaOf']>) => Promise<string>,
  views: TargetHold,
): Promise<StepOutcome> {
  undo.dirs ??= [];
  undo.links ??= [];
  let probed = false;
  const todo: { l: LinkViewStep['links'][number]; ino: number; dev: number; hashedMtime?: string }[] = [];
  // Each hashDonor donor inode is read once per step (the mtime of the bytes hashed), before anything is created.
  const hashed = new Map<string, string>();
  for (const l of step.links) {
    const at = await donorAt(l);
    const d = await donorStat(ctx, l, at);
    await chain.prove(path.dirname(l.path));
    if ((await viewState(ctx, l, d.ino)) === 'same') continue;
    if (l.metaOf !== undefined) await sameMetaAsSource(ctx, l, await sourceAt(l.metaOf), d);
    if (l.hashDonor !== true) {
      todo.push({ l, ino: d.ino, dev: d.dev });
      continue;
    }
    const key = `${d.dev}:${d.ino}`;
    let mtime = hashed.get(key);
    if (mtime === undefined) hashed.set(key, (mtime = await proveDonor(ctx, l, at, d)));
    todo.push({ l, ino: d.ino, dev: d.dev, hashedMtime: mtime });
  }
  // Journaled per batch in appends of only the new entries (linear in the number of links): the directories about
  // to be created (then their identities), then the paths about to be linked with the donor inode that makes them ours.
  const created = new Set(undo.dirs);
  const present = new Set<string>();
  for (let at = 0; at < todo.length; at += LINK_BATCH) {
    const batch = todo.slice(at, at + LINK_BATCH);
    const dirs = [...new Set(batch.map((b) => path.dirname(b.l.path)))].filter((d) => !present.has(d));
    const newDirs: string[] = [];
    const toMake: string[] = [];
    for (const dir of dirs) {
      const missing = await missingDirs(ctx.fs, dir);
      if (missing.length) toMake.push(dir);
      for (const x of missing) {
        if (created.has(x)) continue;
        newDirs.push(x);
        created.add(x);
      }
    }
    if (newDirs.length) ctx.appendUndo('dirs', newDirs);
    // Each missing level made through the level above it held open (TargetHold.mkdirs), its identity journaled even
    // when a later level fails (the rollback removes only those very folders).
    const ids: MadeDir[] = [];
    try {
      for (const dir of toMake) await views.mkdirs(dir, like, { made: ids });
    } finally {
      if (ids.length) ctx.appendUndo('dirIdList', ids);
    }
    for (const dir of dirs) present.add(dir);
    if (!probed) {
      const { l, ino, dev } = batch[0]!;
      const dir = path.dirname(l.path);
      // st_dev equality is not proof (bind mounts of one filesystem refuse link() with EXDEV): try it.
      undo.probe = tempName(dir, ctx.runId, `${ctx.group.id}-${ctx.stepIndex}-probe`);
      undo.probeId = { dev, ino };
      ctx.saveUndo(undo);
      const probe = await views.anchored(undo.probe);
      try {
        await ctx.fs.link(await donorAt(l), probe);
      } catch (err) {
        const code = (err as { code?: string }).code;
        throw new FsError(`cannot hardlink ${l.donor} into ${dir}${code === 'EXDEV' ? ': different filesystems or bind mounts (EXDEV)' : ''}`, {
          code,
          path: dir,
          cause: err,
          hint: 'views are built only from a donor on the same filesystem and mount; check the filesystems in hashall.yaml',
        });
      }
      await madeAt(ctx, views, undo.probe, probe);
      await ctx.fs.unlink(probe);
      probed = true;
    }
    ctx.appendUndo(
      'links',
      batch.map((b) => ({ path: b.l.path, ino: b.ino, dev: b.dev })),
    );
    for (const { l, ino, dev, hashedMtime } of batch) {
      const from = await donorAt(l);
      // The donor as journaled (the name in its held folder could have been replaced since): else nothing is linked.
      const d = await donorStat(ctx, l, from);
      if (d.ino !== ino || d.dev !== dev) throw new FsError(`donor ${l.donor} was replaced while the view was built (inode ${d.ino}, was ${ino}); nothing more is linked`, { path: l.donor, hint: 'find out who writes there; then `hashall scan` and `hashall plan` again' });
      // A hashed donor as its bytes were read (a write since moves its mtime, as a scan reads any edit).
      if (hashedMtime !== undefined && d.mtimeNs !== hashedMtime) {
        throw new FsError(`donor ${l.donor} was written to after apply read it (mtime ${d.mtimeNs}, read at ${hashedMtime}); nothing more is linked`, { path: l.donor, hint: 'find out who writes there; then `hashall scan` and `hashall plan` again' });
      }
      // Owner, group and mode as they are right before the link (a chown or chmod since the first pass counts).
      if (l.metaOf !== undefined) await sameMetaAsSource(ctx, l, await sourceAt(l.metaOf), d);
      const at = await views.anchored(l.path);
      await ctx.fs.link(from, at);
      await madeAt(ctx, views, l.path, at);
    }
  }
  return { status: 'done', result: { links: undo.links.length } };
}

/** After a link made `p` (reached as `at`): the view folder is proven still in its place (else the link is removed: TargetHold.made). */
async function madeAt(ctx: StepContext, views: TargetHold, p: string, at: string): Promise<void> {
  const st = await ctx.fs.lstatId(at);
  if (st?.kind === 'file') await views.made(p, st);
  else await views.anchored(p);
}
