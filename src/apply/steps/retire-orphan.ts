// Step `retire-orphan`: stage an orphan tree into `<filesystem>/.hashall-trash/<run>/…` through held directory descriptors — restorable, purged after observeHours.
// Must never: follow a symlink or cross a device on the way to the tree (the parent is reached from the configured
// filesystem path one O_NOFOLLOW component at a time and the tree is renamed by its held parent, see
// src/fs/no-follow-tree.ts); stage anything but exactly the files the plan proved orphans (after the rename the staged
// tree is listed without following and compared by inode, size and link count with the group's fingerprint — any
// difference, a symlink or special file inside included, renames it back and stops); retire while a torrent in the
// client uses it (re-checked on the live client list, which must still be the one planned), or when orphans.action is
// not retire or safety.retire.mode is never. Nothing is deleted here: the trash purge deletes exactly the journaled
// inodes after the window (src/apply/trash.ts); `hashall trash restore` puts it back (the TrashRecord below).
import type { PathMap } from '../../config/types.js';
import type { ClientTorrent } from '../../clients/types.js';
import { listTorrentsAndFiles, type ListedTorrent } from '../../clients/torrent-lists.js';
import path from 'node:path';
import { ClientError, FsError, HashallError } from '../../errors.js';
import { hostSpelling } from '../../domain/path-map.js';
import { isAtOrUnder } from '../../domain/path-string.js';
import { lstatAt, openDirUnder, openTrustedDir, sameIdentity, type HeldDir, type Identity } from '../../fs/no-follow-tree.js';
import { fsPathArg } from '../../fs/path-encoding.js';
import { torrentListDigest } from '../../plan/orphan-groups.js';
import type { RetireOrphanStep } from '../../plan/types.js';
import type { UndoData } from '../journal.js';
import { removeCreatedDirs } from '../paths.js';
import { TRASH_DIR, type TrashRecord } from '../trash-record.js';
import { renameIntoTrash, stagedStamps } from '../trash-stage.js';
import type { StepContext, StepHandler } from './types.js';

interface OrphanUndo extends UndoData, Partial<TrashRecord> {
  phase?: 'staging' | 'staged' | 'kept';
}

function places(step: RetireOrphanStep, ctx: Pick<StepContext, 'config' | 'runId'>): { fsPath: string; rel: string; trashRel: string } {
  const fsConf = ctx.config.filesystems[step.fs];
  if (!fsConf) throw new HashallError(`retire-orphan: filesystem ${step.fs} is not in hashall.yaml`);
  if (!isAtOrUnder(step.path, fsConf.path) || step.path === fsConf.path) throw new HashallError(`retire-orphan: ${step.path} is not inside filesystem ${step.fs} (${fsConf.path}); refusing`);
  const rel = path.posix.relative(fsConf.path, step.path);
  return { fsPath: fsConf.path, rel, trashRel: `${ctx.runId}/${rel}` };
}

function gates(step: RetireOrphanStep, ctx: StepContext): void {
  if (ctx.config.orphans?.action !== 'retire') throw new HashallError(`retire-orphan: orphans.action is not retire in hashall.yaml; ${step.path} stays`, { hint: 'set orphans.action: retire, then plan again' });
  if (ctx.config.safety.retire.mode === 'never') throw new HashallError(`retire-orphan: safety.retire.mode is never in hashall.yaml; ${step.path} stays`);
}

/** The live torrent lists of every instance must be the ones planned, and no torrent in them may hold the orphan. */
async function noTorrentUses(step: RetireOrphanStep, ctx: StepContext): Promise<void> {
  if (ctx.clients.names.length === 0) throw new ClientError('network', `retire-orphan: no torrent client is configured, so nothing proves no torrent uses ${step.path}; it stays`);
  const lists = [];
  for (const name of ctx.clients.names) {
    const maps = ctx.config.clients[name]?.pathMaps ?? [];
    // Each list read once, with the torrents: only a torrent whose content lies around the orphan needs its own.
    lists.push({ name, maps, torrents: await listTorrentsAndFiles(ctx.clients.get(name), (t) => around(step, maps, t)) });
  }
  const planned = ctx.group.fingerprint.clientTorrents;
  const live = torrentListDigest(lists.flatMap((l) => l.torrents.map((t) => `${l.name}/${t.torrent.hash}`)));
  if (!planned || planned.digest !== live.digest) {
    throw new ClientError('unconfirmed', `retire-orphan: the client's torrents changed since planning (${planned?.count ?? '?'} → ${live.count}); one added since may use ${step.path}, which stays`, {
      hint: 'run `hashall plan` again',
    });
  }
  for (const { maps, torrents } of lists) noneHolds(step, maps, torrents);
}

/** The torrent's content (host spelling) holds the orphan: its files say whether they lie around it (noneHolds refuses an unmapped one without them). */
function around(step: RetireOrphanStep, maps: readonly PathMap[], t: ClientTorrent): boolean {
  const content = hostSpelling(maps, t.contentPath);
  return content !== null && !isAtOrUnder(content, step.path) && isAtOrUnder(step.path, content);
}

/** No torrent of one instance (its path maps, live list and the file lists of those around the orphan) holds the orphan. */
function noneHolds(step: RetireOrphanStep, maps: readonly PathMap[], torrents: readonly ListedTorrent[]): void {
  const host = (p: string): string | null => hostSpelling(maps, p);
  for (const { torrent: t, files } of torrents) {
    const content = host(t.contentPath);
    if (content === null) throw new ClientError('unconfirmed', `retire-orphan: torrent ${t.name} (${t.hash}) has no host spelling (${t.contentPath}); it may use ${step.path}, which stays`);
    if (isAtOrUnder(content, step.path)) throw new ClientError('unconfirmed', `retire-orphan: torrent ${t.name} (${t.hash}) uses ${content}, inside ${step.path}; it stays`);
    if (!isAtOrUnder(step.path, content)) continue;
    const save = host(t.savePath) ?? content;
    if (files === null || files.length === 0 || files.some((f) => isAtOrUnder(path.posix.join(save, f.name), step.path) || isAtOrUnder(step.path, path.posix.join(save, f.name)))) {
      throw new ClientError('unconfirmed', `retire-orphan: torrent ${t.name} (${t.hash}) holds ${step.path} (its files lie around it); it stays`);
    }
  }
}

/** What is staged must be exactly the planned files (inode, size, link count); returns its inodes and bytes, or why not. */
async function provePlanned(step: RetireOrphanStep, ctx: StepContext, trash: HeldDir, trashRel: string, id: Identity): Promise<{ inos: number[]; files: number; bytes: number } | string> {
  const want = new Map(ctx.group.fingerprint.files.map((f) => [f.path, f]));
  const { entries } = await ctx.fs.listTree(trash, trashRel, { expect: id });
  let files = 0;
  let bytes = 0;
  const inos = new Set<number>();
  for (const e of entries) {
    if (e.stat.kind === 'dir') continue;
    const original = e.rel === '' ? step.path : `${step.path}/${e.rel}`;
    if (e.stat.kind !== 'file') return `${original} is a ${e.stat.kind}; hashall retires only the regular files it proved orphans`;
    const f = want.get(original);
    if (!f) return `${original} was not part of the planned orphan tree (added since the plan)`;
    if (f.ino !== e.stat.ino || f.size !== e.stat.size || (f.nlink !== undefined && f.nlink !== e.stat.nlink)) return `${original} changed since the plan (inode, size or link count)`;
    // A file with a link made since (a library import) is no longer an orphan: a plan that recorded no link count
    // cannot tell, and unknown is never orphan.
    if (f.nlink === undefined) return `the plan recorded no link count of ${original} (an edited plan, or one of another hashall), so a hardlink made since cannot be ruled out`;
    files++;
    bytes += e.stat.size;
    inos.add(e.stat.ino);
  }
  if (files !== want.size) return `${want.size - files} planned file(s) of ${step.path} are no longer there`;
  return { inos: [...inos], files, bytes };
}

export const retireOrphanStep: StepHandler<RetireOrphanStep> = {
  describe: (s) => `stage orphan ${s.path} (${s.files} file(s), frees ${s.bytes} bytes after the window) into the trash`,
  manualUndo: (s, undo) => `\`hashall trash restore\` puts ${String(undo.trash ?? 'the staged orphan')} back at ${s.path} (or move it back by hand if nothing is there)`,

  async check(step, ctx) {
    places(step, ctx);
    if (!(await ctx.fs.lstat(step.path))) {
      // Gone: fine only when its seeding root is there (else the filesystem may just not be mounted: unknown).
      if (!(await ctx.fs.lstat(step.seedingRoot))) {
        throw new FsError(`retire-orphan: ${step.path} is missing and so is its seeding root ${step.seedingRoot}; is filesystem ${step.fs} mounted? Nothing is recorded`, { path: step.path });
      }
      return 'done';
    }
    gates(step, ctx);
    return 'todo';
  },

  async run(step, ctx, undoData) {
    const undo = undoData as OrphanUndo;
    const { fsPath, rel, trashRel } = places(step, ctx);
    gates(step, ctx);
    await noTorrentUses(step, ctx);
    const top = await openTrustedDir(fsPath);
    let parent: HeldDir | null = null;
    let trash: HeldDir | null = null;
    let tparent: HeldDir | null = null;
    try {
      parent = await openDirUnder(top, path.posix.dirname(rel));
      const name = fsPathArg(path.posix.basename(rel));
      const st = await lstatAt(parent, name);
      if (!st) throw new FsError(`retire-orphan: ${step.path} disappeared before it could be staged; nothing was done`, { path: step.path });
      if (st.kind === 'symlink') throw new FsError(`retire-orphan: ${step.path} is now a symbolic link (swapped in since the plan?); nothing is staged`, { path: step.path, code: 'ELOOP' });
      if (st.kind !== (step.treeKind === 'dir' ? 'dir' : 'file')) throw new FsError(`retire-orphan: ${step.path} is now a ${st.kind}, planned as a ${step.treeKind}; nothing is staged`, { path: step.path });
      if (st.dev !== top.dev) throw new FsError(`retire-orphan: ${step.path} is on another filesystem than ${fsPath} (a mount point); it stays`, { path: step.path });
      trash = await ctx.fs.holdPrivateDir(fsPath, TRASH_DIR, { create: true });
      if (!trash) throw new FsError(`retire-orphan: cannot create ${path.join(fsPath, TRASH_DIR)}`, { path: fsPath });
      if (trash.dev !== st.dev) throw new FsError(`retire-orphan: ${path.join(fsPath, TRASH_DIR)} is not on the filesystem of ${step.path}; it stays`, { path: step.path });
      const staged = await renameIntoTrash(ctx, undo, { parent, name, id: st, trash, trashRel, shown: path.join(fsPath, TRASH_DIR, trashRel), fs: step.fs, origin: step.path });
      tparent = staged.tparent;
      const { tname, trashId } = staged;
      let proven: Awaited<ReturnType<typeof provePlanned>>;
      try {
        const now = await lstatAt(tparent, tname);
        proven = !now || !sameIdentity(now, trashId) ? `what was renamed into ${undo.trash} is not what was checked a moment before` : await provePlanned(step, ctx, trash, trashRel, trashId);
      } catch (err) {
        proven = (err as Error).message;
      }
      if (typeof proven === 'string') {
        await ctx.fs.renameAt(tparent, tname, parent, name);
        undo.phase = 'staging';
        ctx.saveUndo(undo);
        throw new FsError(`retire-orphan: ${proven}; ${step.path} was put back and stays`, { path: step.path, hint: 'scan and plan again' });
      }
      undo.inos = proven.inos;
      // Each staged file as it lies now: a restore keeps the hash the catalog holds for one still exactly so (else it reads it).
      const stamped = await stagedStamps(ctx.fs, trash, trashRel, trashId, ctx.now).catch(() => null);
      if (stamped) Object.assign(undo, stamped);
      undo.files = proven.files;
      undo.bytes = step.bytes;
      undo.reason = ctx.group.reasons.join('; ');
      undo.phase = 'kept';
      ctx.saveUndo(undo);
    } finally {
      for (const d of [tparent, trash, parent]) await d?.close().catch(() => undefined);
      await top.close().catch(() => undefined);
    }
    ctx.note(`${step.path} is staged at ${undo.trash} until \`hashall trash purge\` (run by apply and recover) removes it after safety.retire.observeHours; \`hashall trash restore ${ctx.runId}\` puts it back`);
    return { status: 'done', bytesFreed: step.bytes, result: { bytesFreed: step.bytes, staged: undo.trash } };
  },

  async verify(step, ctx) {
    if (await ctx.fs.lstat(step.path)) throw new FsError(`retire-orphan: ${step.path} still exists`, { path: step.path });
  },

  async undo(step, ctx, undoData) {
    const undo = undoData as OrphanUndo;
    if (!undo.trash || !undo.trashRel || !undo.trashId || !undo.trashRootId) return [];
    const { fsPath, rel } = places(step, ctx);
    const trash = await ctx.fs.holdPrivateDir(fsPath, TRASH_DIR, { create: false });
    if (!trash) return [];
    const top = await openTrustedDir(fsPath);
    try {
      if (!sameIdentity(trash, undo.trashRootId)) throw new FsError(`${path.join(fsPath, TRASH_DIR)} is not the trash directory hashall staged ${undo.trash} in; nothing in it is touched`, { path: undo.trash });
      const tparent = await openDirUnder(trash, path.posix.dirname(undo.trashRel)).catch(() => null);
      if (!tparent) return [];
      try {
        const tname = fsPathArg(path.posix.basename(undo.trashRel));
        const staged = await lstatAt(tparent, tname);
        if (!staged) return [];
        if (!sameIdentity(staged, undo.trashId)) throw new FsError(`${undo.trash} is not what hashall staged there (another inode); it is left alone`, { path: undo.trash });
        const parent = await openDirUnder(top, path.posix.dirname(rel));
        try {
          const name = fsPathArg(path.posix.basename(rel));
          if (await lstatAt(parent, name)) {
            throw new FsError(`${step.path} was re-created while the orphan was staged at ${undo.trash}; both are kept`, { path: undo.trash, hint: `compare them, then move ${undo.trash} back by hand` });
          }
          await ctx.fs.renameAt(tparent, tname, parent, name);
        } finally {
          await parent.close();
        }
      } finally {
        await tparent.close();
      }
      await removeCreatedDirs(ctx.fs, (undo.trashDirs ?? []).map((d) => `${trash.path}/${d}`));
      return [`${step.path} was put back from ${undo.trash}`];
    } finally {
      await trash.close();
      await top.close();
    }
  },
};
