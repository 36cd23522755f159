// Staging into the trash for the steps that retire something (retire, retire-orphan, repair): the levels a staging makes, and the journaled rename from a held parent into the held trash.
// Must never: rename before the journal holds the identities of what is renamed and of the trash it goes into (a
// crash in between leaves a record the undo, `trash restore` and `trash purge` can act on, see trash-record.ts).
import path from 'node:path';
import { openDirUnder, type HeldDir, type Identity } from '../fs/no-follow-tree.js';
import { fsPathArg } from '../fs/path-encoding.js';
import type { FsPort } from './fs-port.js';
import type { UndoData } from './journal.js';
import type { StagedStamp, TrashRecord } from './trash-record.js';

/** Levels of `rel` under a held directory that do not exist yet (relative, outermost first). */
export async function missingUnder(fs: FsPort, base: HeldDir, rel: string): Promise<string[]> {
  const parts = rel.split('/').filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const level = parts.slice(0, i + 1).join('/');
    if (!(await fs.lstat(`${base.path}/${level}`))) return parts.slice(i).map((_p, j) => parts.slice(0, i + j + 1).join('/'));
  }
  return [];
}

/** A step's undo record while it stages (its own phases beyond `staging` and `staged` are its own). */
export interface StagingUndo extends UndoData, Partial<TrashRecord> {
  phase?: string;
}

/** What is staged: an entry of a held folder, checked by the caller, going to `trashRel` under the held trash. */
export interface Staging {
  parent: HeldDir;
  name: string | Buffer;
  /** The entry as the caller checked it (a rename keeps the inode). */
  id: Identity;
  trash: HeldDir;
  trashRel: string;
  /** `trashRel` spelled for people: `<fs path>/.hashall-trash/<trashRel>`. */
  shown: string;
  /** Configured filesystem name and the absolute path staged (where `trash restore` puts it back). */
  fs: string;
  origin: string;
}

/**
 * Journal the staging (phase `staging`: where it goes, both identities, the levels about to be made), make the levels,
 * rename the entry into the trash, journal `staged`. Returns the held trash folder it now lies in (the caller closes
 * it), its name there and the identity journaled.
 */
export async function renameIntoTrash(ctx: { fs: FsPort; saveUndo(undo: UndoData): void }, undo: StagingUndo, s: Staging): Promise<{ tparent: HeldDir; tname: string | Buffer; trashId: Identity }> {
  const dir = path.posix.dirname(s.trashRel);
  undo.trash = s.shown;
  undo.trashRel = s.trashRel;
  undo.trashRootId = { dev: s.trash.dev, ino: s.trash.ino };
  const trashId = { dev: s.id.dev, ino: s.id.ino };
  undo.trashId = trashId;
  undo.trashDirs = await missingUnder(ctx.fs, s.trash, dir);
  undo.fs = s.fs;
  undo.origin = s.origin;
  undo.phase = 'staging';
  ctx.saveUndo(undo);
  await ctx.fs.mkdirUnder(s.trash, dir);
  const tparent = await openDirUnder(s.trash, dir);
  const tname = fsPathArg(path.posix.basename(s.trashRel));
  try {
    await ctx.fs.renameAt(s.parent, s.name, tparent, tname);
    undo.phase = 'staged';
    ctx.saveUndo(undo);
  } catch (err) {
    await tparent.close().catch(() => undefined);
    throw err;
  }
  return { tparent, tname, trashId };
}

/**
 * The stamps of the regular files of a staged entry (`trashRel` under the held trash, the recorded identity `id`), as
 * `trash restore` later compares them (TrashRecord.stamps), and when the listing began (`now`, read before it).
 */
export async function stagedStamps(fs: FsPort, trash: HeldDir, trashRel: string, id: Identity, now: () => number): Promise<{ stamps: StagedStamp[]; stampedAt: number }> {
  const stampedAt = now();
  const { entries } = await fs.listTree(trash, trashRel, { expect: id });
  const stamps = entries.filter((e) => e.stat.kind === 'file').map((e) => ({ rel: e.rel, ino: e.stat.ino, size: e.stat.size, mtimeNs: e.stat.mtimeNs, ctimeNs: e.stat.ctimeNs }));
  return { stamps, stampedAt };
}
