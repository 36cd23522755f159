// `hashall trash restore`: put what a run staged in `.hashall-trash` back at its original path — same inodes (a rename on the same filesystem), never over anything, never through a swapped directory.
// Each entry is restored on its own, through held directory descriptors (src/fs/no-follow-tree.ts):
// - the trash directory must be hashall's own and the one recorded; the staged entry must be the recorded (dev, ino);
// - the original's parents are opened from the filesystem's root one by one with O_NOFOLLOW on the same device (a
//   symlink or another filesystem on the way refuses); levels the retire removed are made again as they were recorded;
// - anything at the original path refuses the restore, saying what it is; a directory comes back by rename(2), which
//   never replaces a file or a non-empty directory, a file by link(2) then unlink of the trash name (link never replaces);
// - afterwards the path is walked again by name: if a level above changed meanwhile (swapped for a symlink or another
//   directory), what was restored is moved back into the trash and the restore reports it as an attack.
// A crash leaves each entry either still in the trash (restore again) or back in place (a file may then also still
// have its trash name, the same inode, which the next restore removes): nothing is ever copied, so nothing is lost.
// What comes back keeps the SHA-256 the catalog recorded for it (its row, marked deleted when it was staged, is made
// active again) only for a file proven still that content: its stamp as staged unchanged, ctime included, or else its
// bytes read again (keptHashes). Any other file is left to the next scan, which reads it as new.
import path from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import { stagedRowKeeper } from '../catalog/files-table.js';
import { filesystemMountsReader } from '../catalog/filesystems.js';
import { relToMount } from '../catalog/host-paths.js';
import type { HashallConfig } from '../config/types.js';
import { FsError, HashallError, errnoCode, errorText } from '../errors.js';
import { isAtOrUnder } from '../domain/path-string.js';
import {
  holdPrivateDir,
  linkAt,
  lstatAt,
  mkdirAt,
  openChildDir,
  openDirUnder,
  openTrustedDir,
  renameAt,
  sameIdentity,
  unlinkAt,
  type EntryStat,
  type HeldDir,
  type Identity,
} from '../fs/no-follow-tree.js';
import type { FsPort } from './fs-port.js';
import { Journal } from './journal.js';
import { removeCreatedDirs } from './paths.js';
import { runExists, runIds } from './run-store.js';
import { originOf, TRASH_DIR, trashEntries, type TrashEntry, type TrashRecord } from './trash-record.js';

export interface RestoreDeps {
  catalog: CatalogDb;
  config: HashallConfig;
  fs: FsPort;
  now: () => number;
  /** The restore's own run record (notes of what came back). */
  runId: string;
  /** The restore run's journal (its crash hook counts the boundaries); a new one when absent. */
  journal?: Journal;
  /** Test-only: called after every check, right before the rename or link. */
  beforeAct?: (origin: string) => Promise<void> | void;
}

export interface RestoreOutcome {
  ownerRunId: string;
  origin: string;
  trash: string;
  action: 'restored' | 'already-restored' | 'refused' | 'missing';
  reason: string;
  files: number | null;
  bytes: number | null;
}

const UNFINISHED = new Set(['running', 'interrupted']);

function describe(st: EntryStat): string {
  const kind = st.kind === 'dir' ? 'a directory' : st.kind === 'file' ? `a file of ${st.size} bytes` : st.kind === 'symlink' ? 'a symbolic link' : 'a special file';
  return `${kind} (device ${st.dev} inode ${st.ino}, owner uid ${st.uid}, modified ${new Date(st.mtimeMs).toISOString()})`;
}

/** Every recorded trash entry a `RUN|PATH` argument names: all of a run's, or the one staged from (or at) a path. */
export function selectEntries(catalog: CatalogDb, config: HashallConfig, target: string): TrashEntry[] {
  const db = catalog.db;
  if (runExists(db, target)) return trashEntries(db, target);
  const abs = path.resolve(target);
  const ids = runIds(db);
  const all = ids.flatMap((id) => trashEntries(db, id));
  return all.filter((e) => {
    const fsPath = fsPathOf(config, e);
    const origin = fsPath ? originOf(e.record, fsPath) : null;
    return origin === abs || e.record.trash === abs;
  });
}

/** The configured filesystem path a record belongs to: its recorded name, or the one whose trash holds it. */
export function fsPathOf(config: HashallConfig, e: TrashEntry): string | null {
  if (e.record.fs && config.filesystems[e.record.fs]) return config.filesystems[e.record.fs]!.path;
  const hit = Object.values(config.filesystems).find((f) => isAtOrUnder(e.record.trash, path.join(f.path, TRASH_DIR)));
  return hit?.path ?? null;
}

/** Restore the entries `target` names; one outcome each (never throws for one entry). */
export async function restoreFromTrash(deps: RestoreDeps, target: string): Promise<RestoreOutcome[]> {
  const entries = selectEntries(deps.catalog, deps.config, target);
  if (!entries.length) {
    throw new HashallError(`nothing hashall staged in a trash is named by ${JSON.stringify(target)} (a run id, the original path, or the path in .hashall-trash)`, {
      hint: '`hashall trash` lists what is staged',
    });
  }
  const journal = deps.journal ?? new Journal(deps.catalog.db, deps.now);
  const out: RestoreOutcome[] = [];
  for (const e of entries) {
    const o = await restoreOne(deps, journal, e).catch(
      (err: unknown): RestoreOutcome => ({ ownerRunId: e.runId, origin: e.record.origin ?? '?', trash: e.record.trash, action: 'refused', reason: errorText(err), files: e.record.files ?? null, bytes: e.record.bytes ?? null }),
    );
    out.push(o);
    const line = `trash restore ${o.action}: ${o.trash} → ${o.origin}: ${o.reason}`;
    journal.addRunNote(deps.runId, line);
    if (o.action === 'restored') journal.addRunNote(e.runId, `${o.trash} restored to ${o.origin} by ${deps.runId} at ${new Date(deps.now()).toISOString()}`);
  }
  return out;
}

async function restoreOne(deps: RestoreDeps, journal: Journal, e: TrashEntry): Promise<RestoreOutcome> {
  const rec = e.record;
  const fsPath = fsPathOf(deps.config, e);
  const origin = fsPath ? originOf(rec, fsPath) : null;
  const base = { ownerRunId: e.runId, origin: origin ?? '?', trash: rec.trash, files: rec.files ?? null, bytes: rec.bytes ?? null };
  const refuse = (reason: string): RestoreOutcome => ({ ...base, action: 'refused', reason });
  const byHand = `check it, then move it back by hand: mv -n -T -- '${rec.trash}' '${origin ?? 'ORIGINAL PATH'}'`;
  if (!fsPath || !origin) return refuse(`the filesystem it was staged on is not in hashall.yaml any more; ${byHand}`);
  if (!rec.trashRel || !rec.trashId || !rec.trashRootId) return refuse(`run ${e.runId} recorded no identity (device, inode) of it (an older hashall); ${byHand}`);
  if (UNFINISHED.has(e.run.status) && e.run.endedAt === null) return refuse(`run ${e.runId} is ${e.run.status}: run \`hashall recover\` first, which finishes or rolls back its retire`);
  if (e.phase === 'staging') return refuse(`run ${e.runId} stopped while staging it; \`hashall recover\` (or the next apply) puts it back`);
  if (e.phase === 'deleting' || e.phase === 'deleted') return refuse(`run ${e.runId} had begun deleting it (an older hashall deleted right after staging): it is incomplete; what is left stays in ${rec.trash}`);
  const broken = await notAsStaged(deps.fs, fsPath, rec);
  if (broken) return refuse(`${broken}; nothing was moved — ${byHand}`);
  const recorded = { ...rec, trashRel: rec.trashRel, trashId: rec.trashId, trashRootId: rec.trashRootId };
  const hashes = await keptHashes(deps, fsPath, origin, recorded);
  const put = await putBack(deps.fs, fsPath, origin, recorded, {
    beforeAct: () => deps.beforeAct?.(origin),
    checkpoint: (what) => journal.checkpoint(what),
    note: (line) => journal.addRunNote(deps.runId, line),
  });
  if (put.action !== 'restored') return { ...base, ...put };
  return { ...base, ...put, reason: put.reason + reviveRows(deps, hashes) };
}

/** A put-back file whose catalog row (deleted when it was staged) still records its content. */
interface KeptRow {
  id: number;
  ino: number;
  size: number;
  mtimeNs: string;
}

/**
 * The files of a staged entry that still hold the SHA-256 the catalog recorded for them at their original path: the
 * deleted row there records the very inode, size and mtime (and no open integrity problem), and the file is proven
 * unchanged since — its stamp as the staging step recorded it (TrashRecord.stamps), ctime included, with that ctime
 * a second before the stamp was taken; or, without such a stamp (an older record, a file staged within the second, a
 * repair's damaged copy, a stamp that moved), its bytes read again through hashall's trash and equal to the recorded
 * SHA-256. `changed`: files whose row recorded a hash they no longer hold (edited while staged, even with the mtime set
 * back): never given that hash. Nothing here is fatal to the restore: a file not proven is left to the next scan.
 */
async function keptHashes(deps: RestoreDeps, fsPath: string, origin: string, rec: TrashRecord & Required<Pick<TrashRecord, 'trashRel' | 'trashId' | 'trashRootId'>>): Promise<{ keep: KeptRow[]; changed: string[] }> {
  const out = { keep: [] as KeptRow[], changed: [] as string[] };
  const fsName = rec.fs ?? Object.entries(deps.config.filesystems).find(([, f]) => f.path === fsPath)?.[0];
  const mount = fsName ? filesystemMountsReader(deps.catalog.db)(fsName).find((m) => isAtOrUnder(origin, m.preferred_mount)) : undefined;
  if (!mount) return out;
  const root = await holdPrivateDir(fsPath, TRASH_DIR, { create: false }).catch(() => null);
  if (!root) return out;
  try {
    if (!sameIdentity(root, rec.trashRootId)) return out;
    const listed = await deps.fs.listTree(root, rec.trashRel, { expect: rec.trashId }).catch(() => null);
    if (!listed?.found) return out;
    const rows = stagedRowKeeper(deps.catalog.db);
    const stamps = new Map((rec.stamps ?? []).map((s) => [s.rel, s]));
    // A stamp proves nothing changed after it only when its ctime's clock tick was over when it was taken.
    const settled = rec.stampedAt === undefined ? null : BigInt(rec.stampedAt - 1000) * 1_000_000n;
    for (const e of listed.entries) {
      const st = e.stat;
      if (st.kind !== 'file' || st.dev !== rec.trashId.dev) continue;
      const abs = e.rel === '' ? origin : `${origin}/${e.rel}`;
      const row = rows.find(mount.id, relToMount(abs, mount.preferred_mount), st.ino, st.size, st.mtimeNs);
      if (!row) continue; // no hash recorded for this content (never hashed, or edited before it was staged)
      const s = stamps.get(e.rel);
      const still = s !== undefined && settled !== null && s.ino === st.ino && s.size === st.size && s.mtimeNs === st.mtimeNs && s.ctimeNs === st.ctimeNs && BigInt(s.ctimeNs) < settled;
      if (!still) {
        const at = e.rel === '' ? `${root.path}/${rec.trashRel}` : `${root.path}/${rec.trashRel}/${e.rel}`;
        const read = await deps.fs.hashFileStamped(at, st).catch(() => null);
        if (!read || read.sha256 !== row.sha256 || read.stamp.size !== st.size || read.stamp.mtimeNs !== st.mtimeNs) {
          out.changed.push(abs);
          continue;
        }
      }
      out.keep.push({ id: row.id, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs });
    }
    return out;
  } finally {
    await root.close();
  }
}

/** The rows of the files put back that still hold their recorded content, active again (one transaction); what it did, for the outcome's reason. */
function reviveRows(deps: RestoreDeps, hashes: { keep: KeptRow[]; changed: string[] }): string {
  const rows = stagedRowKeeper(deps.catalog.db);
  const now = deps.now();
  const kept = deps.catalog.db.transaction(() => {
    const n = hashes.keep.filter((k) => rows.revive(k.id, k.ino, k.size, k.mtimeNs, now)).length;
    if (n > 0) deps.catalog.bumpSerial();
    return n;
  })();
  const changed = hashes.changed.length;
  return (
    (kept > 0 ? `; the catalog keeps the SHA-256 it recorded for ${kept} file(s)` : '') +
    (changed > 0 ? `; ${changed} file(s) no longer hold the SHA-256 recorded for them (changed while in the trash), so the next scan reads them as new: ${hashes.changed.slice(0, 3).join(', ')}${changed > 3 ? ', …' : ''}` : '')
  );
}

/**
 * Why a proven entry is no longer what its retire staged (null when it is, or when that cannot be told here: no
 * recorded inodes, or not in the trash — putBack says which): a recorded file gone (a purge stopped half way, or
 * someone removed it), or something in it that was not staged (planted by a process that kept its working directory
 * there). Either way, putting it back would put a broken or foreign tree into the seeding root as if it were the
 * original.
 */
async function notAsStaged(fs: FsPort, fsPath: string, rec: TrashRecord): Promise<string | null> {
  if (!rec.inos || rec.inos.length === 0 || !rec.trashRel || !rec.trashId || !rec.trashRootId) return null;
  const root = await holdPrivateDir(fsPath, TRASH_DIR, { create: false }).catch(() => null);
  if (!root) return null;
  try {
    if (!sameIdentity(root, rec.trashRootId)) return null;
    const listed = await fs.listTree(root, rec.trashRel, { expect: rec.trashId }).catch(() => null);
    if (!listed?.found) return null;
    const recorded = new Set(rec.inos);
    const present = new Set<number>();
    for (const e of listed.entries) {
      if (e.stat.kind !== 'file' || e.stat.dev !== rec.trashId.dev || !recorded.has(e.stat.ino)) {
        return `${rec.trash}${e.rel ? `/${e.rel}` : ''} is a ${e.stat.kind === 'file' ? 'file' : e.stat.kind} that was not staged there (put there since)`;
      }
      present.add(e.stat.ino);
    }
    const gone = rec.inos.filter((i) => !present.has(i)).length;
    return gone > 0 ? `${gone} of the ${rec.inos.length} file(s) staged in ${rec.trash} are gone (a purge stopped half way, or they were removed by hand): what is left is not the original` : null;
  } finally {
    await root.close();
  }
}

/** What putBack did with a staged entry. */
export interface PutBack {
  action: RestoreOutcome['action'];
  reason: string;
}

/** Where a put-back reports, and the test hook right before its rename or link. */
export interface PutBackHooks {
  beforeAct?(): Promise<void> | void;
  /** A journal boundary (a crash test stops here). */
  checkpoint?(what: string): void;
  note?(line: string): void;
}

/**
 * Put one staged entry back at `origin` (inside the filesystem at `fsPath`), through held directory descriptors, by the
 * rules in this file's header: the one way anything leaves the trash for its old place — `hashall trash restore`, and
 * the undo of a retire (a run rolled back, or recovered after a crash, which may come after the folders above were
 * tidied away: they are re-made as recorded).
 */
export async function putBack(
  fs: FsPort,
  fsPath: string,
  origin: string,
  rec: TrashRecord & Required<Pick<TrashRecord, 'trashRel' | 'trashId' | 'trashRootId'>>,
  hooks: PutBackHooks = {},
): Promise<PutBack> {
  const refuse = (reason: string): PutBack => ({ action: 'refused', reason });
  const rel = path.relative(fsPath, origin);
  if (!isAtOrUnder(origin, fsPath) || origin === fsPath || rel.split('/').includes('..')) return refuse(`${origin} is not inside filesystem ${fsPath}; refusing`);

  const held: HeldDir[] = [];
  const hold = (d: HeldDir): HeldDir => (held.push(d), d);
  try {
    const root = await holdPrivateDir(fsPath, TRASH_DIR, { create: false });
    if (!root) return { action: 'missing', reason: `${path.join(fsPath, TRASH_DIR)} does not exist: nothing of it is left to restore` };
    hold(root);
    if (!sameIdentity(root, rec.trashRootId)) return refuse(`${root.label} is not the trash directory it was staged in (it was replaced since); nothing is touched — find the original trash directory`);
    // Nothing of it in the trash (back already, or never staged — a retire stopped before its rename): the folders made
    // for it there go too, so no empty run folder is left for the purge to judge.
    const notThere = async (): Promise<PutBack> => {
      const out = await missingOrBack(origin, fsPath, rel, rec.trashId);
      await removeCreatedDirs(fs, [...(rec.trashDirs ?? [])].map((d) => `${root.path}/${d}`)).catch(() => undefined);
      return out;
    };
    let trashParent: HeldDir;
    try {
      trashParent = hold(await openDirUnder(root, path.posix.dirname(rec.trashRel)));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return await notThere(); // awaited: the finally below closes the folders it uses
      throw err;
    }
    const leaf = path.posix.basename(rec.trashRel);
    const staged = await lstatAt(trashParent, leaf);
    if (!staged) return await notThere();
    if (!sameIdentity(staged, rec.trashId)) return refuse(`${rec.trash} is not what was staged there (${describe(staged)}, recorded inode ${rec.trashId.ino}); it is left alone`);

    // The original's parents, from the filesystem's root down, never following a symlink nor leaving the device.
    const top = hold(await openTrustedDir(fsPath));
    if (top.dev !== root.dev) return refuse(`${fsPath} is not the filesystem the trash is on (another filesystem is mounted there); mount the right one`);
    const chain: { name: string; id: Identity }[] = [];
    let cur = top;
    const parts = path.dirname(rel) === '.' ? [] : path.dirname(rel).split('/');
    const remade: string[] = [];
    for (const part of parts) {
      const here = await lstatAt(cur, part);
      const abs = path.join(fsPath, ...chain.map((c) => c.name), part);
      if (!here) {
        // A level the retire removed once it was empty (made again as recorded), or one someone removed since.
        const recorded = rec.removedParents?.find((d) => d.path === abs);
        const like = recorded ?? { uid: cur.uid, gid: cur.gid, mode: cur.mode & 0o7777 };
        cur = hold(await mkdirAt(cur, part, like));
        remade.push(abs);
      } else {
        cur = hold(await openChildDir(cur, part, here));
      }
      chain.push({ name: part, id: { dev: cur.dev, ino: cur.ino } });
    }
    const name = path.basename(rel);
    const inWay = await lstatAt(cur, name);
    if (inWay && staged.kind !== 'dir' && sameIdentity(inWay, rec.trashId)) {
      // A restore of this file stopped between its link and the unlink of the trash name (a crash): finish it.
      await unlinkAt(trashParent, leaf);
      return { action: 'restored', reason: `back at ${origin} (device ${rec.trashId.dev} inode ${rec.trashId.ino}); an earlier restore had linked it, its trash name is removed now` };
    }
    if (inWay) return refuse(`${origin} is in the way: ${describe(inWay)}; nothing was moved — move it aside and restore again`);
    hooks.note?.(`restoring ${rec.trash} (device ${rec.trashId.dev} inode ${rec.trashId.ino}) to ${origin}`);
    hooks.checkpoint?.(`restore-start ${origin}`);
    await hooks.beforeAct?.();
    try {
      if (staged.kind === 'dir') await renameAt(trashParent, leaf, cur, name);
      else await linkAt(trashParent, leaf, cur, name);
    } catch (err) {
      const now = await lstatAt(cur, name).catch(() => null);
      if (now && ['EEXIST', 'ENOTEMPTY', 'ENOTDIR', 'EISDIR'].includes(errnoCode(err) ?? '')) return refuse(`${origin} is in the way: ${describe(now)} appeared just now; nothing was moved`);
      throw err;
    }
    hooks.checkpoint?.(`restore-moved ${origin}`);
    const back = await lstatAt(cur, name);
    if (!back || !sameIdentity(back, rec.trashId)) throw new FsError(`${origin} is not the restored inode right after the restore; ${rec.trash} is kept`, { path: origin });
    if (staged.kind !== 'dir') {
      const still = await lstatAt(trashParent, leaf);
      if (still && sameIdentity(still, rec.trashId)) await unlinkAt(trashParent, leaf);
      hooks.checkpoint?.(`restore-unlinked ${origin}`);
    }
    // Walk the path again by name: a level swapped meanwhile means the restored tree is not at `origin`.
    const moved = await chainChanged(fsPath, chain);
    if (moved) {
      await moveBack(staged.kind === 'dir', cur, name, trashParent, leaf, rec.trashId);
      return refuse(
        `${moved} changed while the restore was under way (swapped for a symbolic link or another directory) — this looks like an attack by another local user; what was restored was moved back to ${rec.trash}`,
      );
    }
    await removeCreatedDirs(
      fs,
      [...(rec.trashDirs ?? [])].map((d) => `${root.path}/${d}`),
    ).catch(() => undefined);
    return { action: 'restored', reason: `back at ${origin} (device ${rec.trashId.dev} inode ${rec.trashId.ino})${remade.length ? `; re-made the folder(s) ${remade.join(', ')}` : ''}` };
  } finally {
    for (const d of held.reverse()) await d.close().catch(() => undefined);
  }
}

/** Not in the trash: restored already (the original path holds the recorded inode) or gone (purged). */
async function missingOrBack(origin: string, fsPath: string, rel: string, id: Identity): Promise<PutBack> {
  const st = await lstatAtPath(fsPath, rel);
  if (st && sameIdentity(st, id)) return { action: 'already-restored', reason: `it is already back at ${origin}` };
  return { action: 'missing', reason: `it is no longer in the trash (purged, or moved by hand)${st ? `; ${origin} holds ${describe(st)}` : ''}` };
}

/** lstat of `rel` under a trusted root reached without following any symlink; null when absent or unreachable. */
export async function lstatAtPath(fsPath: string, rel: string): Promise<EntryStat | null> {
  const top = await openTrustedDir(fsPath);
  try {
    const dir = path.dirname(rel) === '.' ? top : await openDirUnder(top, path.dirname(rel)).catch(() => null);
    if (!dir) return null;
    try {
      return await lstatAt(dir, path.basename(rel));
    } finally {
      if (dir !== top) await dir.close();
    }
  } finally {
    await top.close();
  }
}

/** The first level (absolute path) of `chain` that is no longer the directory held during the restore, or null. */
async function chainChanged(fsPath: string, chain: { name: string; id: Identity }[]): Promise<string | null> {
  const opened: HeldDir[] = [await openTrustedDir(fsPath)];
  try {
    let abs = fsPath;
    for (const c of chain) {
      abs = path.join(abs, c.name);
      try {
        opened.push(await openChildDir(opened[opened.length - 1]!, c.name, c.id));
      } catch {
        return abs;
      }
    }
    return null;
  } finally {
    for (const d of opened.reverse()) await d.close().catch(() => undefined);
  }
}

/** Undo a restore whose path changed underneath: the restored inode goes back to its trash name (both held). */
async function moveBack(isDir: boolean, from: HeldDir, name: string, trashParent: HeldDir, leaf: string, id: Identity): Promise<void> {
  const st = await lstatAt(from, name);
  if (!st || !sameIdentity(st, id)) throw new FsError(`the restored ${id.ino} is not where it was put any more; look for it by inode (find -inum ${id.ino})`);
  if (isDir) {
    await renameAt(from, name, trashParent, leaf);
    return;
  }
  if (!(await lstatAt(trashParent, leaf))) await linkAt(from, name, trashParent, leaf);
  await unlinkAt(from, name);
}
