// Step `retire`: staged removal of a superseded source — rename into the trash on its filesystem, re-prove the kept copy, delete.
// Must never: delete the last copy. The kept root must hash to the same payload hash (every file, full SHA-256), must
// not be the same directory as the source, every torrent of the relocation must be complete and pointing elsewhere,
// no other torrent may seed from the source, and the source itself must be exactly the payload (nothing extra).
// The plan's gates are re-checked too: retire mode is not `never`, and observeHours have passed since the repoint.
import path from 'node:path';
import { ClientError, FsError, HashallError } from '../../errors.js';
import { clientToHost, hostToClient } from '../../domain/path-map.js';
import { payloadHash, type HashableFile } from '../../domain/payload-hash.js';
import type { RetireStep } from '../../plan/types.js';
import type { FsPort } from '../fs-port.js';
import type { UndoData } from '../journal.js';
import { isUnder, missingDirs, removeCreatedDirs } from '../paths.js';
import type { StepContext, StepHandler } from './types.js';

export const TRASH_DIR = '.hashall-trash';

interface RetireUndo extends UndoData {
  trash?: string;
  dirs?: string[];
  phase?: 'staging' | 'staged' | 'deleting' | 'deleted';
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

/** Full payload hash of a tree on disk (every byte read). */
export async function hashTree(fs: FsPort, root: string): Promise<{ hash: string | null; files: { relpath: string; ino: number; dev: number }[] }> {
  const files = await listFiles(fs, root);
  const hashed: HashableFile[] = [];
  for (const f of files) hashed.push({ relpath: f.relpath, size: f.size, sha256: await fs.hashFile(f.abs) });
  return { hash: payloadHash(hashed), files };
}

function trashPath(step: RetireStep, ctx: StepContext): string {
  const fsConf = ctx.config.filesystems[step.fs];
  if (!fsConf) throw new HashallError(`retire: filesystem ${step.fs} is not in hashall.yaml`);
  if (!isUnder(step.root, fsConf.path) || step.root === fsConf.path) {
    throw new HashallError(`retire: ${step.root} is not inside filesystem ${step.fs} (${fsConf.path}); refusing to stage it elsewhere`);
  }
  return path.join(fsConf.path, TRASH_DIR, ctx.runId, path.relative(fsConf.path, step.root));
}

/** The proof that deleting the source loses nothing: the kept copy is complete and the torrents are healthy elsewhere. */
async function proveKept(step: RetireStep, ctx: StepContext, sourceNow: string): Promise<void> {
  const kept = await ctx.fs.lstat(step.keptRoot);
  const src = await ctx.fs.lstat(sourceNow);
  if (!kept) throw new FsError(`retire: the kept copy ${step.keptRoot} does not exist; the source is the last copy and stays`, { path: step.keptRoot });
  if (src && src.dev === kept.dev && src.ino === kept.ino) {
    throw new FsError(`retire: ${step.keptRoot} is the same directory as the source (alias or bind mount); refusing`, { path: step.keptRoot });
  }
  // safety.verify 'sample' is not enough to delete: the retire proof always reads every byte of the kept copy.
  const { hash } = await hashTree(ctx.fs, step.keptRoot);
  if (hash !== step.payloadHash) {
    throw new FsError(`retire: the kept copy ${step.keptRoot} hashes to ${hash ?? 'unknown'}, not ${step.payloadHash}; the source stays`, {
      path: step.keptRoot,
      hint: 'the kept copy is incomplete or changed; re-scan and re-plan',
    });
  }
  const rel = ctx.catalog.db.prepare(`SELECT torrent_hashes FROM relocations WHERE id = ?`).get(step.relocationId) as { torrent_hashes: string } | undefined;
  if (!rel) throw new HashallError(`retire: relocation ${step.relocationId} is not in the catalog; cannot prove the torrents moved`);
  const hashes = JSON.parse(rel.torrent_hashes) as string[];
  if (hashes.length && !ctx.client) throw new ClientError('network', 'retire needs the torrent client to prove the torrents are healthy, and none is configured');
  if (!ctx.client) return;
  const maps = ctx.config.client?.pathMaps ?? [];
  const srcClient = hostToClient(maps, step.root) ?? step.root;
  const usesSource = (contentPath: string) => isUnder(contentPath, srcClient) || isUnder(clientToHost(maps, contentPath) ?? contentPath, step.root);
  const ours = new Set(hashes.map((h) => h.toLowerCase()));
  // Every torrent in the client, not only the relocation's: one added since (a cross-seed) may seed from the source.
  for (const t of await ctx.client.listTorrents()) {
    if (!ours.has(t.hash.toLowerCase())) {
      if (usesSource(t.contentPath)) throw new ClientError('unconfirmed', `retire: torrent ${t.name} (${t.hash}) is not part of this relocation and seeds from ${step.root}; the source stays`);
      continue;
    }
    if (t.progress < 1 || !(t.phase === 'seeding' || t.phase === 'paused-complete')) {
      throw new ClientError('unconfirmed', `retire: torrent ${t.name} is ${t.rawState} (progress ${t.progress}); the source stays until it is healthy`);
    }
    if (usesSource(t.contentPath)) throw new ClientError('unconfirmed', `retire: torrent ${t.name} still points into ${step.root}; the source stays`);
  }
}

/** The source must be exactly the payload (every file, full SHA-256): anything else in it has no other copy. */
async function proveSourceIsPayload(step: RetireStep, ctx: StepContext, sourceNow: string): Promise<void> {
  const { hash } = await hashTree(ctx.fs, sourceNow);
  if (hash !== step.payloadHash) {
    throw new FsError(`retire: ${step.root} is not exactly the payload kept at ${step.keptRoot} (extra or changed files); the source stays`, {
      path: step.root,
      hint: 'something was added to or changed in the source since the copy; move it out of the way, re-scan and re-plan',
    });
  }
}

/** The plan's own gates, re-checked at run time: retiring is switched on, and the observation window is over. */
function gates(step: RetireStep, ctx: StepContext): void {
  const { mode, observeHours } = ctx.config.safety.retire;
  if (mode === 'never') throw new HashallError(`retire: safety.retire.mode is never in hashall.yaml; ${step.root} stays`, { hint: 'set safety.retire.mode: staged to allow retiring, then re-plan' });
  const rel = ctx.catalog.db.prepare(`SELECT repointed_at FROM relocations WHERE id = ?`).get(step.relocationId) as { repointed_at: number | null } | undefined;
  if (!rel) throw new HashallError(`retire: relocation ${step.relocationId} is not in the catalog; cannot prove the torrents moved`);
  const until = rel.repointed_at === null ? null : rel.repointed_at + observeHours * 3_600_000;
  if (until === null || ctx.now() < until) {
    throw new HashallError(
      `retire: the observation window of relocation ${step.relocationId} is not over (${until === null ? 'its repoint time is unknown' : `until ${new Date(until).toISOString()}`}, observeHours ${observeHours}); ${step.root} stays`,
      { hint: 'run `hashall plan` again after the window' },
    );
  }
}

export const retireStep: StepHandler<RetireStep> = {
  describe: (s) => `retire ${s.root} (${s.bytes} bytes; kept at ${s.keptRoot})`,

  async check(step, ctx) {
    const src = await ctx.fs.lstat(step.root);
    if (!src) {
      // Already gone: fine only if its seeding root is there (else the filesystem may just not be mounted: unknown)
      // and the kept copy is intact.
      const seedRoot = (ctx.config.seeding[step.fs] ?? []).find((r) => isUnder(step.root, r));
      if (!seedRoot || !(await ctx.fs.lstat(seedRoot))) {
        throw new FsError(`retire: ${step.root} is missing and so is its seeding root ${seedRoot ?? '(none)'}; is filesystem ${step.fs} mounted? Nothing is recorded`, {
          path: step.root,
          hint: `mount ${step.fs} (${ctx.config.filesystems[step.fs]?.path ?? '?'}), then run \`hashall plan\` again`,
        });
      }
      await proveKept(step, ctx, step.root);
      return 'done';
    }
    trashPath(step, ctx);
    gates(step, ctx);
    return 'todo';
  },

  async run(step, ctx, undoData) {
    const undo = undoData as RetireUndo;
    const trash = trashPath(step, ctx);
    gates(step, ctx);
    await proveKept(step, ctx, step.root);
    const parent = path.dirname(trash);
    undo.dirs = await missingDirs(ctx.fs, parent);
    undo.trash = trash;
    undo.phase = 'staging';
    ctx.saveUndo(undo);
    await ctx.fs.mkdirp(parent);
    await ctx.fs.rename(step.root, trash);
    undo.phase = 'staged';
    ctx.saveUndo(undo);
    // Re-prove after staging: if the kept copy was reachable only through the source, it is gone now.
    try {
      await proveKept(step, ctx, trash);
      await proveSourceIsPayload(step, ctx, trash);
    } catch (err) {
      await ctx.fs.rename(trash, step.root);
      undo.phase = 'staging';
      ctx.saveUndo(undo);
      throw err;
    }
    undo.phase = 'deleting';
    ctx.saveUndo(undo);
    await ctx.fs.rmTree(trash);
    await removeCreatedDirs(ctx.fs, undo.dirs);
    undo.phase = 'deleted';
    ctx.saveUndo(undo);
    return { status: 'done', bytesFreed: step.bytes, result: { bytesFreed: step.bytes } };
  },

  async verify(step, ctx) {
    if (await ctx.fs.lstat(step.root)) throw new FsError(`retire: ${step.root} still exists`, { path: step.root });
  },

  async undo(step, ctx, undoData) {
    const undo = undoData as RetireUndo;
    if (!undo.trash) return [];
    if (undo.phase === 'deleting' || undo.phase === 'deleted') {
      // The kept copy was proven before deletion began; finish the deletion instead of restoring half a tree.
      if (await ctx.fs.lstat(undo.trash)) await ctx.fs.rmTree(undo.trash);
      await removeCreatedDirs(ctx.fs, undo.dirs ?? []);
      return [`retire of ${step.root} had passed its proof and was deleting; the deletion was completed (kept copy: ${step.keptRoot})`];
    }
    const inTrash = await ctx.fs.lstat(undo.trash);
    const atSource = await ctx.fs.lstat(step.root);
    if (inTrash && atSource) {
      // Never leave the original in the trash silently: a finished run's trash is purged after the window.
      throw new FsError(`${step.root} was re-created while the original was staged at ${undo.trash}; both are kept`, {
        path: undo.trash,
        hint: `compare them, then move ${undo.trash} back to ${step.root} by hand (the trash of a run needing attention is never purged)`,
      });
    }
    if (inTrash) await ctx.fs.rename(undo.trash, step.root);
    await removeCreatedDirs(ctx.fs, undo.dirs ?? []);
    return [];
  },
};
