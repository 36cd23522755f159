// Step `retire`: staged removal of a superseded source — rename into the trash on its filesystem, re-prove the kept copy, leave it there for the purge.
// Must never: delete the last copy. The kept root must hash to the same payload hash (every file, full SHA-256), must
// not be the same directory as the source, every torrent of the relocation must be complete and pointing elsewhere,
// no other torrent may seed from the source, and the source itself must be exactly the payload (nothing extra).
// The plan's gates are re-checked too: retire mode is not `never`, and observeHours have passed since the repoint.
// Must never delete what it did not record: the trash directory is hashall's own (root-owned 0700, held open by fd,
// see src/fs/no-follow-tree.ts); the (dev, ino) of what is renamed into it and of every file proven to be the payload
// are journaled (src/apply/trash-record.ts) before anything may delete it, with the kept copy's files as the proof read
// them (stamp and hash); `trash purge` (src/apply/trash.ts) deletes it after the window while the kept copy is still
// that, never following a symlink, never crossing a device, stopping at anything else.
import { torrentKey } from '../../domain/instance.js';
import path from 'node:path';
import { ClientError, FsError, HashallError } from '../../errors.js';
import { clientToHost, hostToClient } from '../../domain/path-map.js';
import { payloadHash, type HashableFile } from '../../domain/payload-hash.js';
import { isAtOrUnder, longestRootOf, trimSlash } from '../../domain/path-string.js';
import { lstatAt, namesIn, openChildDir, openDirUnder, openTrustedDir, sameIdentity, type HeldDir, type Identity } from '../../fs/no-follow-tree.js';
import { fsPathArg } from '../../fs/path-encoding.js';
import type { RetireStep } from '../../plan/types.js';
import type { FsPort } from '../fs-port.js';
import type { UndoData } from '../journal.js';
import { removeCreatedDirs } from '../paths.js';
import { recordedRemoval, TRASH_DIR, type KeptFile, type RemovedDir, type TrashRecord } from '../trash-record.js';
import { lstatAtPath, putBack } from '../trash-restore.js';
import { renameIntoTrash, stagedStamps } from '../trash-stage.js';
import type { StepContext, StepHandler } from './types.js';
import { isSettledHealthy } from '../../domain/torrent-phase.js';
import { relocationObservedSince, relocationTorrents } from '../../catalog/relocations.js';
import { listTorrentsAndFiles } from '../../clients/torrent-lists.js';

interface RetireUndo extends UndoData, Partial<TrashRecord> {
  /** Absolute directories created (records written before the trash was held by fd). */
  dirs?: string[];
  /** `kept`: proven and left in the trash for `trash purge` after the window (`deleting`/`deleted`: older hashall, which deleted at once). */
  phase?: 'staging' | 'staged' | 'kept' | 'deleting' | 'deleted';
}

/** Every regular file under `root` (or `root` itself) with its relpath; symlinks or special files make it unknown. */
async function listFiles(fs: FsPort, root: string): Promise<{ relpath: string; abs: string; size: number; ino: number; dev: number }[]> {
  const st = await fs.lstat(root);
  if (!st) throw new FsError(`${root} does not exist`, { path: root });
  if (st.kind === 'file') return [{ relpath: path.basename(root), abs: root, size: st.size, ino: st.ino, dev: st.dev }];
  const out: { relpath: string; abs: string; size: number; ino: number; dev: number }[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await fs.readdir(dir)).sort()) {
      const abs = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const s = await fs.lstat(abs);
      if (!s) continue;
      if (s.kind === 'dir') await walk(abs, r);
      else if (s.kind === 'file') out.push({ relpath: r, abs, size: s.size, ino: s.ino, dev: s.dev });
      else throw new FsError(`${abs} is a ${s.kind}; hashall only retires trees of regular files`, { path: abs });
    }
  };
  await walk(root, '');
  return out;
}

/**
 * Full payload hash of a tree on disk (every byte read), and each file as read: each from a descriptor proven to be the
 * inode listed, with its stamp from that descriptor, unchanged from before to after the read (what the trash purge
 * later compares, see KeptFile).
 */
export async function hashTree(fs: FsPort, root: string): Promise<{ hash: string | null; files: KeptFile[] }> {
  const files = await listFiles(fs, root);
  const hashed: HashableFile[] = [];
  const read: KeptFile[] = [];
  for (const f of files) {
    const { sha256, stamp } = await fs.hashFileStamped(f.abs, f);
    hashed.push({ relpath: f.relpath, size: stamp.size, sha256 });
    read.push({ rel: f.abs === root ? '' : f.relpath, sha256, ...stamp });
  }
  return { hash: payloadHash(hashed), files: read };
}

function trashPath(step: RetireStep, ctx: Pick<StepContext, 'config' | 'runId'>): { fsPath: string; trash: string; trashRel: string } {
  const fsConf = ctx.config.filesystems[step.fs];
  if (!fsConf) throw new HashallError(`retire: filesystem ${step.fs} is not in hashall.yaml`);
  if (!isAtOrUnder(step.root, fsConf.path) || step.root === fsConf.path) {
    throw new HashallError(`retire: ${step.root} is not inside filesystem ${step.fs} (${fsConf.path}); refusing to stage it elsewhere`);
  }
  const trashRel = path.posix.join(ctx.runId, path.relative(fsConf.path, step.root));
  return { fsPath: fsConf.path, trash: path.join(fsConf.path, TRASH_DIR, trashRel), trashRel };
}

/** Hold the trash directory a record names, refusing one that is not the directory recorded. */
async function holdRecordedTrash(fs: FsPort, fsPath: string, rec: RetireUndo): Promise<HeldDir | null> {
  const root = await fs.holdPrivateDir(fsPath, TRASH_DIR, { create: false });
  if (root && rec.trashRootId && !sameIdentity(root, rec.trashRootId)) {
    await root.close();
    throw new FsError(`${path.join(fsPath, TRASH_DIR)} is not the trash directory hashall staged ${rec.trash} in (it was replaced); nothing in it is touched`, {
      path: path.join(fsPath, TRASH_DIR),
      hint: `find the original trash directory (it holds ${rec.trashRel ?? rec.trash}) and move it back by hand`,
    });
  }
  return root;
}

/**
 * The proof that deleting the source loses nothing: the kept copy is complete and the torrents are healthy elsewhere.
 * `source`: the (dev, ino) of the source as held now (never read again by name: its folders may have been swapped).
 * Returns the kept copy's files as read (their stamps and hashes: what the purge re-checks before deleting the source).
 */
async function proveKept(step: RetireStep, ctx: StepContext, source: Identity | null): Promise<KeptFile[]> {
  const kept = await ctx.fs.lstat(step.keptRoot);
  if (!kept) throw new FsError(`retire: the kept copy ${step.keptRoot} does not exist; the source is the last copy and stays`, { path: step.keptRoot });
  if (source && source.dev === kept.dev && source.ino === kept.ino) {
    throw new FsError(`retire: ${step.keptRoot} is the same directory as the source (alias or bind mount); refusing`, { path: step.keptRoot });
  }
  // safety.verify 'sample' is not enough to delete: the retire proof always reads every byte of the kept copy.
  const { hash, files } = await hashTree(ctx.fs, step.keptRoot);
  if (hash !== step.payloadHash) {
    throw new FsError(`retire: the kept copy ${step.keptRoot} hashes to ${hash ?? 'unknown'}, not ${step.payloadHash}; the source stays`, {
      path: step.keptRoot,
      hint: 'the kept copy is incomplete or changed; re-scan and re-plan',
    });
  }
  const rel = relocationTorrents(ctx.catalog.db, step.relocationId);
  if (!rel) throw new HashallError(`retire: relocation ${step.relocationId} is not in the catalog; cannot prove the torrents moved`);
  const { hashes, clients: instances } = rel;
  const ours = new Set(hashes.map((h, i) => torrentKey({ client: instances[i], hash: h })));
  if (hashes.length && ctx.clients.names.length === 0) throw new ClientError('network', 'retire needs the torrent client to prove the torrents are healthy, and none is configured');
  // Every instance, and every torrent in it, not only the relocation's: one added since (a cross-seed, in any
  // instance) may seed from the source. An instance that does not answer throws: the source stays.
  for (const name of ctx.clients.names) await proveInstanceDone(step, ctx, name, ours);
  return files;
}

/** No torrent of instance `name` outside the relocation (`ours`, torrent keys) seeds from the source; its relocated ones are healthy elsewhere. */
async function proveInstanceDone(step: RetireStep, ctx: StepContext, name: string, ours: ReadonlySet<string>): Promise<void> {
  const client = ctx.clients.get(name);
  const maps = ctx.config.clients[name]?.pathMaps ?? [];
  const srcClient = hostToClient(maps, step.root) ?? step.root;
  const usesSource = (contentPath: string) => isAtOrUnder(contentPath, srcClient) || isAtOrUnder(clientToHost(maps, contentPath) ?? contentPath, step.root);
  // A torrent without a root folder reports its save directory as content path: its own files say what it uses. Its
  // list is read with the torrents (once, however many such torrents there are; with the status where the client
  // sends both together), and a client that cannot send it throws: the source stays.
  const rootless = (t: { contentPath: string; savePath: string }): boolean => trimSlash(t.contentPath) === trimSlash(t.savePath) && isAtOrUnder(srcClient, t.savePath);
  const seedsFrom = (t: { savePath: string; contentPath: string }, files: readonly { name: string }[] | null): boolean => {
    if (usesSource(t.contentPath)) return true;
    if (!rootless(t)) return false;
    if (files === null) throw new ClientError('unconfirmed', `retire: the client sent no file list for a torrent in ${t.savePath}; it may seed from ${step.root}, which stays`);
    return files.some((f) => usesSource(path.posix.join(t.savePath, f.name)) || isAtOrUnder(srcClient, path.posix.join(t.savePath, f.name)));
  };
  const theirs = (t: { hash: string }): boolean => !ours.has(torrentKey({ client: name, hash: t.hash }));
  for (const { torrent: t, files } of await listTorrentsAndFiles(client, (t) => theirs(t) && !usesSource(t.contentPath) && rootless(t))) {
    if (theirs(t)) {
      if (seedsFrom(t, files)) throw new ClientError('unconfirmed', `retire: torrent ${t.name} (${name}/${t.hash}) is not part of this relocation and seeds from ${step.root}; the source stays`);
      continue;
    }
    if (!isSettledHealthy(t)) {
      throw new ClientError('unconfirmed', `retire: torrent ${t.name} (${name}) is ${t.rawState} (progress ${t.progress}); the source stays until it is healthy`);
    }
    if (usesSource(t.contentPath)) throw new ClientError('unconfirmed', `retire: torrent ${t.name} (${name}) still points into ${step.root}; the source stays`);
  }
}

/**
 * The source, staged as `trashRel` under the held trash and recorded as `id`, must be exactly the payload (every file,
 * full SHA-256): anything else in it has no other copy. Listed without following anything, through descriptors (a
 * process may still have its working directory inside it); each file read by its anchored name without following it.
 * Returns the files listed — the inodes the purge may delete.
 */
async function proveSourceIsPayload(step: RetireStep, ctx: Pick<StepContext, 'fs'>, trash: HeldDir, trashRel: string, id: Identity): Promise<{ ino: number; dev: number }[]> {
  const { entries } = await ctx.fs.listTree(trash, trashRel, { expect: id });
  const hashed: HashableFile[] = [];
  const files: { ino: number; dev: number }[] = [];
  for (const e of entries) {
    const at = e.rel === '' ? `${trash.path}/${trashRel}` : `${trash.path}/${trashRel}/${e.rel}`;
    if (e.stat.kind !== 'file') throw new FsError(`retire: ${e.rel === '' ? step.root : `${step.root}/${e.rel}`} is a ${e.stat.kind}; hashall only retires trees of regular files, the source stays`, { path: step.root });
    // Read from a descriptor proven to be the inode listed (a process inside may swap names between list and read).
    hashed.push({ relpath: e.rel === '' ? path.basename(step.root) : e.rel, size: e.stat.size, sha256: await ctx.fs.hashFile(at, e.stat) });
    files.push({ ino: e.stat.ino, dev: e.stat.dev });
  }
  const hash = payloadHash(hashed);
  if (hash !== step.payloadHash) {
    throw new FsError(`retire: ${step.root} is not exactly the payload kept at ${step.keptRoot} (extra or changed files); the source stays`, {
      path: step.root,
      hint: 'something was added to or changed in the source since the copy; move it out of the way, re-scan and re-plan',
    });
  }
  return files;
}

/** The plan's own gates, re-checked at run time: retiring is switched on, and the observation window is over. */
function gates(step: RetireStep, ctx: StepContext): void {
  const { mode, observeHours } = ctx.config.safety.retire;
  if (mode === 'never') throw new HashallError(`retire: safety.retire.mode is never in hashall.yaml; ${step.root} stays`, { hint: 'set safety.retire.mode: staged to allow retiring, then re-plan' });
  // From the repoint, or from the last sync that saw a torrent of the move unhealthy on the target (a sync since the plan, too).
  const since = relocationObservedSince(ctx.catalog.db, step.relocationId);
  if (since === undefined) throw new HashallError(`retire: relocation ${step.relocationId} is not in the catalog; cannot prove the torrents moved`);
  const until = since === null ? null : since + observeHours * 3_600_000;
  if (until === null || ctx.now() < until) {
    throw new HashallError(
      `retire: the observation window of relocation ${step.relocationId} is not over (${until === null ? 'its repoint time is unknown' : `until ${new Date(until).toISOString()}`}, observeHours ${observeHours}); ${step.root} stays`,
      { hint: 'run `hashall plan` again after the window' },
    );
  }
}

/**
 * The folders a retire left empty above the retired root: removed upwards while each is empty, strictly below the
 * seeding root, and never a category folder (or a prefix of one — `cross-seed` of `cross-seed/{tracker}`): clients and
 * the *arr apps expect those. Each level is reached from the filesystem's root without following a symlink (a level
 * swapped for one stops the tidy-up), and removed by rmdir through its held parent, which removes only an empty
 * directory: nothing anyone put there meanwhile goes, and no directory elsewhere.
 */
async function removeEmptiedParents(step: RetireStep, ctx: StepContext, fsPath: string, recordBefore: (d: RemovedDir) => void): Promise<string[]> {
  const seedRoot = longestRootOf(step.root, ctx.config.seeding[step.fs] ?? []);
  if (seedRoot === null) return [];
  const categories = Object.values(ctx.config.categories).map((c) => c.path.split('/').filter(Boolean));
  const isCategory = (rel: string[]): boolean => categories.some((c) => rel.length <= c.length && rel.every((seg, i) => /^\{[^}]*\}$/.test(c[i]!) || c[i] === seg));
  const removed: string[] = [];
  const top = await openTrustedDir(fsPath);
  try {
    for (let dir = path.dirname(step.root); dir !== seedRoot && isAtOrUnder(dir, seedRoot) && isAtOrUnder(dir, fsPath) && dir !== fsPath; dir = path.dirname(dir)) {
      if (isCategory(dir.slice(seedRoot.length + 1).split('/'))) break;
      const rel = path.posix.relative(fsPath, dir);
      const parentRel = path.posix.dirname(rel);
      const parent = parentRel === '.' ? top : await openDirUnder(top, parentRel).catch(() => null);
      if (!parent) break;
      try {
        const name = fsPathArg(path.posix.basename(rel));
        const st = await lstatAt(parent, name);
        if (!st || st.kind !== 'dir') break;
        const child = await openChildDir(parent, name, st).catch(() => null);
        if (!child) break;
        let owner: RemovedDir;
        try {
          if ((await namesIn(child)).length > 0) break;
          owner = { path: dir, uid: child.uid, gid: child.gid, mode: child.mode & 0o7777 };
        } finally {
          await child.close();
        }
        recordBefore(owner);
        try {
          await ctx.fs.rmdirAt(parent, name);
        } catch {
          break; // not empty any more, or not ours to remove: leave it
        }
        removed.push(dir);
      } finally {
        if (parent !== top) await parent.close();
      }
    }
  } finally {
    await top.close();
  }
  return removed;
}

/**
 * The undo of a retire journaled by a hashall that recorded no identity of what it staged (only the trash path): nothing
 * is deleted (a deletion it began needs a person), and nothing is renamed by name — a name leads wherever a folder of it
 * was swapped to (a trash folder replaced by a user who can write the filesystem root, a seeding folder replaced by a
 * symlink). The staged source goes back only when what lies at the recorded trash path now, reached through hashall's own
 * trash directory held open (root-owned, 0700) without following anything, is proven to be what the retire moved: a tree
 * of regular files whose every byte hashes to the payload hash it retired. It then goes back as `trash restore` puts
 * anything back (putBack, with the identity just proven). Anything else stays where it is, reported with the way back by hand.
 */
async function undoUnrecorded(step: RetireStep, ctx: Pick<StepContext, 'fs'>, undo: RetireUndo, fsPath: string): Promise<string[]> {
  const trash = undo.trash!;
  const byHand = `check it, then move it back by hand: mv -n -T -- '${trash}' '${step.root}'`;
  const blocked = (why: string, cause?: unknown): FsError =>
    new FsError(`retire of ${step.root} was not undone: ${why} (its run was journaled by an older hashall, which recorded no identity of what it staged)`, { path: trash, hint: byHand, cause });
  if (undo.phase === 'deleting' || undo.phase === 'deleted') {
    throw new FsError(`retire of ${step.root} was deleting ${trash} when it stopped, and that run recorded no identity of it; hashall does not delete it`, {
      path: trash,
      hint: `the kept copy ${step.keptRoot} was proven; check ${trash}, then remove it by hand (rm -r --one-file-system -- '${trash}')`,
    });
  }
  const trashTop = path.join(fsPath, TRASH_DIR);
  const trashRel = path.posix.relative(trashTop, trash);
  if (!isAtOrUnder(trash, trashTop) || trash === trashTop || trashRel.split('/').includes('..')) throw blocked(`${trash} is not inside ${trashTop}`);
  // Levels an older hashall journaled (absolute) as made for the staging: only those inside the trash, relative to it.
  const trashDirs = (undo.dirs ?? []).filter((d) => isAtOrUnder(d, trashTop) && d !== trashTop).map((d) => path.posix.relative(trashTop, d));
  const root = await ctx.fs.holdPrivateDir(fsPath, TRASH_DIR, { create: false });
  let staged: Identity | null = null;
  if (root) {
    try {
      const parent = await openDirUnder(root, path.posix.dirname(trashRel)).catch((err: unknown) => {
        if ((err as { code?: string }).code === 'ENOENT') return null;
        throw blocked(`${path.dirname(trash)} cannot be reached inside hashall's trash without following a link`, err);
      });
      const st = parent ? await lstatAt(parent, fsPathArg(path.posix.basename(trashRel))).finally(() => parent.close()) : null;
      if (st) {
        if (st.kind !== 'dir' && st.kind !== 'file') throw blocked(`${trash} is a ${st.kind === 'symlink' ? 'symbolic link' : 'special file'}, not what the retire staged`);
        staged = { dev: st.dev, ino: st.ino };
        // Every byte, as the retire's own proof reads the staged source (descriptors proven to be the inodes listed).
        await proveSourceIsPayload(step, ctx, root, trashRel, staged).catch((err: unknown) => {
          throw blocked(`what is at ${trash} is not proven to be the source it staged: ${(err as Error).message}`, err);
        });
      }
    } finally {
      await root.close();
    }
  }
  if (!root || !staged) {
    // Not in the trash: back already, or never staged (a crash before the rename) — then the source is in its place.
    // Neither there nor in the trash is unknown (the trash moved away, a level swapped): a person looks.
    if (await lstatAtPath(fsPath, path.posix.relative(fsPath, step.root)).catch(() => null)) return [];
    throw blocked(`neither ${trash} nor ${step.root} is there (reached without following a link); find where the staged source went`);
  }
  const put = await putBack(ctx.fs, fsPath, step.root, { trash, trashRel, trashId: staged, trashRootId: { dev: root.dev, ino: root.ino }, trashDirs }).catch((err: unknown) => {
    throw blocked((err as Error).message, err);
  });
  if (put.action === 'refused') throw blocked(put.reason);
  return put.action === 'restored' ? [`retire of ${step.root} undone (journaled without identities; ${trash} proven to be the payload by its bytes): ${put.reason}`] : [];
}

export const retireStep: StepHandler<RetireStep> = {
  describe: (s) => `retire ${s.root} (${s.bytes} bytes; kept at ${s.keptRoot})`,
  manualUndo: (s, undo) => `move ${String(undo.trash ?? 'the trash copy')} back to ${s.root} if it still exists; the kept copy is ${s.keptRoot}`,

  async check(step, ctx) {
    const src = await ctx.fs.lstat(step.root);
    if (!src) {
      // Already gone: fine only if its seeding root is there (else the filesystem may just not be mounted: unknown)
      // and the kept copy is intact.
      const seedRoot = (ctx.config.seeding[step.fs] ?? []).find((r) => isAtOrUnder(step.root, r));
      if (!seedRoot || !(await ctx.fs.lstat(seedRoot))) {
        throw new FsError(`retire: ${step.root} is missing and so is its seeding root ${seedRoot ?? '(none)'}; is filesystem ${step.fs} mounted? Nothing is recorded`, {
          path: step.root,
          hint: `mount ${step.fs} (${ctx.config.filesystems[step.fs]?.path ?? '?'}), then run \`hashall plan\` again`,
        });
      }
      await proveKept(step, ctx, null);
      return 'done';
    }
    trashPath(step, ctx);
    gates(step, ctx);
    return 'todo';
  },

  async run(step, ctx, undoData) {
    const undo = undoData as RetireUndo;
    const { fsPath, trash, trashRel } = trashPath(step, ctx);
    gates(step, ctx);
    // The source is reached from the filesystem's root one component at a time, never following a symlink, and staged
    // (and put back on a failed proof) by a rename through its held parent: another user who can write the seeding
    // root may swap a folder above it for a symlink at any moment (while the kept copy is hashed, for minutes), and
    // root must then neither move nor record anything but the source it checked.
    const rel = path.posix.relative(fsPath, step.root);
    const name = fsPathArg(path.posix.basename(rel));
    const top = await openTrustedDir(fsPath);
    let parent: HeldDir | null = null;
    let root: HeldDir | null = null;
    let tparent: HeldDir | null = null;
    try {
      parent = await openDirUnder(top, path.posix.dirname(rel));
      const src = await lstatAt(parent, name);
      if (!src) throw new FsError(`retire: ${step.root} disappeared before it could be staged; nothing was done`, { path: step.root });
      if (src.kind !== 'dir' && src.kind !== 'file') throw new FsError(`retire: ${step.root} is now a ${src.kind === 'symlink' ? 'symbolic link' : 'special file'} (swapped in since the plan?); nothing is staged`, { path: step.root, code: src.kind === 'symlink' ? 'ELOOP' : undefined });
      if (src.dev !== top.dev) throw new FsError(`retire: ${step.root} is on another filesystem than ${fsPath} (a mount point); the source stays`, { path: step.root });
      await proveKept(step, ctx, src);
      root = await ctx.fs.holdPrivateDir(fsPath, TRASH_DIR, { create: true });
      if (!root) throw new FsError(`retire: cannot create ${path.join(fsPath, TRASH_DIR)}`, { path: fsPath });
      if (src.dev !== root.dev) {
        throw new FsError(`retire: ${step.root} is not on the filesystem of ${path.join(fsPath, TRASH_DIR)} (a mount point in between); the source stays`, { path: step.root });
      }
      const staged = await renameIntoTrash(ctx, undo, { parent, name, id: src, trash: root, trashRel, shown: trash, fs: step.fs, origin: step.root });
      tparent = staged.tparent;
      const { tname, trashId } = staged;
      // Re-prove after staging: if the kept copy was reachable only through the source, it is gone now. On a failure
      // what was renamed goes back into the folder it was taken from (held: wherever that folder is now), unless
      // something appeared at its name meanwhile (a rename would replace a file there): then it stays staged (phase
      // `staged`, journaled) and the group's undo puts it back as `trash restore` does, or says why it cannot.
      const backIfFree = async (): Promise<void> => {
        try {
          if (!(await lstatAt(tparent!, tname)) || (await lstatAt(parent!, name))) return;
          await ctx.fs.renameAt(tparent!, tname, parent!, name);
          undo.phase = 'staging';
          ctx.saveUndo(undo);
        } catch {
          // Left staged: the undo puts it back or says why not; the proof's own error is the one to tell.
        }
      };
      let files: { ino: number; dev: number }[];
      let keptFiles: KeptFile[];
      const provenAt = ctx.now();
      try {
        const now = await lstatAt(tparent, tname);
        if (!now || !sameIdentity(now, trashId)) {
          throw new FsError(`retire: what was renamed into ${trash} is not ${step.root} as checked before (it was replaced meanwhile); the source stays`, { path: step.root });
        }
        keptFiles = await proveKept(step, ctx, trashId);
        files = await proveSourceIsPayload(step, ctx, root, trashRel, trashId);
      } catch (err) {
        await backIfFree();
        throw err;
      }
      // Proven: it stays staged (restorable with `hashall trash restore`) until `trash purge` — by apply, recover or
      // by hand — removes exactly these inodes once the run has ended more than observeHours ago.
      undo.inos = [...new Set(files.map((f) => f.ino))];
      // The kept copy as this proof read it: the purge deletes the source only while it is still that (a copy replaced
      // during the window by a same-size file — its torrent re-added and preallocated, a cp over it — is not).
      undo.keptFiles = keptFiles;
      undo.keptProvenAt = provenAt;
      // Each staged file as it lies now: a restore keeps the hash the catalog holds for one still exactly so (else it reads it).
      const stamped = await stagedStamps(ctx.fs, root, trashRel, trashId, ctx.now).catch(() => null);
      if (stamped) Object.assign(undo, stamped);
      undo.files = files.length;
      undo.bytes = step.bytes;
      undo.reason = [`superseded by the verified copy at ${step.keptRoot} (filesystem ${step.keptFs})`, ...ctx.group.reasons].join('; ');
      undo.phase = 'kept';
      ctx.saveUndo(undo);
    } finally {
      for (const d of [tparent, root, parent]) await d?.close().catch(() => undefined);
      await top.close().catch(() => undefined);
    }
    // A tidy-up: its failure never undoes the verified retire.
    const emptied = await removeEmptiedParents(step, ctx, fsPath, (removed) => {
      undo.removedParents = [...(undo.removedParents ?? []), removed];
      ctx.saveUndo(undo);
    }).catch((err: unknown) => {
      ctx.note(`the folders above ${step.root} were not tidied: ${(err as Error).message}`);
      return [];
    });
    if (emptied.length > 0) ctx.note(`removed the folder(s) the retire of ${step.root} left empty: ${emptied.join(', ')}`);
    ctx.note(`${step.root} is staged at ${trash} until \`hashall trash purge\` (run by apply and recover) removes it after safety.retire.observeHours; \`hashall trash restore ${ctx.runId}\` puts it back`);
    return { status: 'done', bytesFreed: step.bytes, result: { bytesFreed: step.bytes, staged: trash } };
  },

  async verify(step, ctx) {
    // Reached as run reached it (from the filesystem's root, never following): a level swapped for a symlink since
    // leads elsewhere, not to the source.
    const { fsPath } = trashPath(step, ctx);
    if (await lstatAtPath(fsPath, path.posix.relative(fsPath, step.root))) throw new FsError(`retire: ${step.root} still exists`, { path: step.root });
  },

  async undo(step, ctx, undoData) {
    const undo = undoData as RetireUndo;
    if (!undo.trash) return [];
    const { fsPath } = trashPath(step, ctx);
    const deleting = undo.phase === 'deleting' || undo.phase === 'deleted';
    if (!undo.trashRel || !undo.trashId || !undo.trashRootId) return undoUnrecorded(step, ctx, undo, fsPath);
    if (deleting) {
      const root = await holdRecordedTrash(ctx.fs, fsPath, undo);
      if (!root) return [`retire of ${step.root}: ${path.join(fsPath, TRASH_DIR)} is gone, so is what was being deleted (kept copy: ${step.keptRoot})`];
      try {
        // The kept copy was proven before deletion began; finish the deletion of what was recorded instead of restoring half a tree.
        await ctx.fs.rmTree(root, undo.trashRel, recordedRemoval({ trashId: undo.trashId, inos: undo.inos ?? [] }));
        await removeCreatedDirs(ctx.fs, (undo.trashDirs ?? []).map((d) => `${root.path}/${d}`));
        return [`retire of ${step.root} had passed its proof and was deleting; the deletion was completed (kept copy: ${step.keptRoot})`];
      } finally {
        await root.close();
      }
    }
    // Put back as \`hashall trash restore\` does (trash-restore.ts): through held folders from the filesystem's root,
    // never over anything, the folders the tidy-up removed made again as recorded.
    const put = await putBack(ctx.fs, fsPath, step.root, { ...undo, trash: undo.trash, trashRel: undo.trashRel, trashId: undo.trashId, trashRootId: undo.trashRootId });
    if (put.action === 'refused') {
      throw new FsError(`retire of ${step.root} was not undone: ${put.reason}`, {
        path: undo.trash,
        hint: `\`hashall trash restore ${ctx.runId}\` puts it back once the way is clear (the trash of a run needing attention is never purged)`,
      });
    }
    if (put.action === 'missing') return [`retire of ${step.root}: ${put.reason}`];
    return put.action === 'restored' && (undo.removedParents ?? []).length > 0 ? [`retire of ${step.root} undone: ${put.reason}`] : [];
  },
};
