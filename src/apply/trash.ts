// Purges what retires left in `<filesystem>/.hashall-trash/<run id>/` once their observation window is over — only what hashall recorded putting there.
// Rules (each `<run id>` directory is judged on its own, and kept whenever anything is unknown):
// - the trash directory must be hashall's own: a directory (not a symlink), owned by hashall's user, not writable by
//   group or others, on the filesystem itself; otherwise it is reported and neither entered nor removed;
// - only entries a retire journaled are removed: its run record names each one with the (dev, ino) of what was renamed
//   into the trash and the inodes of every file proven to be the payload. An entry with no such record (left by an
//   older hashall, or by anyone else) is reported with how to remove it by hand, never deleted; an entry whose inode
//   differs from the recorded one is kept and reported;
// - the run that left it must be finished: a run still `running`/`interrupted` (maybe being recovered) or one that
//   `needs-attention` (its trash may be what a person must move back) is never touched;
// - the run must have ended more than `safety.retire.observeHours` ago;
// - a retired source goes only while the copy its retire kept is still the bytes proven — by default every kept file is
//   read again in full and must hash as the retire proved (see keptCopyProblem) — never the last copy;
// - with `safety.retire.mode: never` nothing is removed (the trash is reported; a person decides);
// - the walk holds directory fds and never follows a symlink nor crosses a device (src/fs/no-follow-tree.ts);
// - before removing, a note naming the files and bytes is written to the current run's record (when it has one) and to
//   the record of the run that left the trash, so `hashall runs show` explains it later.
// The trash directory itself stays (root-owned, 0700): removing it when empty would let anyone re-create it.
// Last, leftover temp files of hashall are swept (src/apply/temp-sweep.ts) and reported the same way.
import { errnoCode, errorText } from '../errors.js';
import path from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import type { HashallConfig } from '../config/types.js';
import { explainHeld, UnsafeTreeError, type EntryStat, type HeldDir, type TreeEntry } from '../fs/no-follow-tree.js';
import { payloadHash, type HashableFile } from '../domain/payload-hash.js';
import type { Emit } from './events.js';
import type { FileStamp, FsPort, StampedHash } from './fs-port.js';
import { recordReRead } from '../catalog/integrity.js';
import { Journal, type RunStatus } from './journal.js';
import { runExists, runState } from './run-store.js';
import { removeCreatedDirs } from './paths.js';
import { sweepTempFiles } from './temp-sweep.js';
import { recordedRemoval, trashEntries, TRASH_DIR, type KeptFile, type TrashEntry, type TrashRecord } from './trash-record.js';
import { isAtOrUnder } from '../domain/path-string.js';

export interface PurgeDeps {
  catalog: CatalogDb;
  config: HashallConfig;
  fs: FsPort;
  now: () => number;
  emit: Emit;
  /** The run (or recover command) doing the purge; its record, when it exists, gets a note per removal. */
  runId: string;
  /** `hashall trash purge --older-than`: how long ago the run must have ended (ms) instead of safety.retire.observeHours. */
  olderThanMs?: number;
  /** Told how far the read of a kept copy has come (after each chunk): `hashall trash purge` draws it on a terminal. */
  onProgress?: (p: PurgeProgress) => void;
}

/** The read of one retire's kept copy before its staged source may go: bytes read of the bytes to read. */
export interface PurgeProgress {
  keptRoot: string;
  file: string;
  bytes: number;
  totalBytes: number;
}

export interface PurgeOutcome {
  fs: string;
  /** The trash entry judged: `<fs path>/.hashall-trash/<name>`. */
  path: string;
  /** The run that left it, when the journal knows it. */
  ownerRunId: string | null;
  action: 'removed' | 'kept' | 'failed';
  reason: string;
  files: number;
  bytes: number;
  /** Paths (relative to the entry) of the files and links removed or found. */
  paths: string[];
}

/** Statuses whose trash may go after the window. `needs-attention` is deliberately absent: a person may need it. */
export const FINISHED: ReadonlySet<RunStatus> = new Set<RunStatus>(['succeeded', 'failed', 'rolled-back', 'partial', 'recovered']);
const NOTE_PATHS = 50;

interface Inventory {
  files: number;
  bytes: number;
  /** Bytes of regular files with no other hardlink (what removal actually frees). */
  freed: number;
  paths: string[];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function inventoryOf(entries: TreeEntry[], name: string): Inventory {
  const inv: Inventory = { files: 0, bytes: 0, freed: 0, paths: [] };
  for (const e of entries) {
    inv.files++;
    inv.paths.push(e.rel || name);
    if (e.stat.kind === 'file') {
      inv.bytes += e.stat.size;
      if (e.stat.nlink <= 1) inv.freed += e.stat.size;
    }
  }
  inv.paths.sort();
  return inv;
}

/** How a person removes a trash entry hashall will not remove (stays on its filesystem, follows no symlink). */
function byHand(entry: string): string {
  return `check what it holds, then remove it by hand: rm -r --one-file-system -- '${entry.replace(/'/g, `'\\''`)}'`;
}

function listPaths(paths: string[]): string {
  const shown = paths.slice(0, NOTE_PATHS).join(', ');
  return paths.length > NOTE_PATHS ? `${shown}, … and ${paths.length - NOTE_PATHS} more` : shown;
}

/**
 * Judge and purge every `.hashall-trash/*` entry of every configured filesystem. Never throws for one entry: a
 * failure is reported as a `failed` outcome (and noted on the records) and the others are still judged.
 */
export async function purgeTrash(deps: PurgeDeps): Promise<PurgeOutcome[]> {
  const db = deps.catalog.db;
  const journal = new Journal(db, deps.now);
  const ownRecord = runExists(db, deps.runId);
  const out: PurgeOutcome[] = [];
  const done = new Set<string>();

  const report = (o: PurgeOutcome): void => {
    out.push(o);
    deps.emit({ type: 'trash', runId: deps.runId, action: o.action, path: o.path, files: o.files, bytes: o.bytes, message: o.reason });
  };

  for (const [fsName, fsConf] of Object.entries(deps.config.filesystems)) {
    const trashRoot = path.join(fsConf.path, TRASH_DIR);
    if (done.has(trashRoot)) continue;
    done.add(trashRoot);
    const base = { fs: fsName, ownerRunId: null, files: 0, bytes: 0, paths: [] as string[] };
    let root: HeldDir | null;
    try {
      root = await deps.fs.holdPrivateDir(fsConf.path, TRASH_DIR, { create: false });
    } catch (err) {
      report({ ...base, path: trashRoot, action: 'kept', reason: `${errorText(err)}; hashall neither enters nor removes it (${byHand(trashRoot)})` });
      continue;
    }
    if (!root) continue;
    try {
      let names: string[];
      try {
        names = (await deps.fs.readdir(root.path)).sort();
      } catch (err) {
        report({ ...base, path: trashRoot, action: 'failed', reason: `cannot read ${trashRoot}: ${errorText(err)}` });
        continue;
      }
      for (const name of names) await judgeEntry(deps, { db, journal, ownRecord, report }, { fsName, trashRoot, root, name });
    } finally {
      await root.close();
    }
  }
  // Then hashall's temp files no journal accounts for (a kill -9 whose catalog was lost), by the same rules.
  out.push(...(await sweepTempFiles(deps)));
  return out;
}

interface PurgeRun {
  db: CatalogDb['db'];
  journal: Journal;
  ownRecord: boolean;
  report: (o: PurgeOutcome) => void;
}

async function judgeEntry(deps: PurgeDeps, run: PurgeRun, at: { fsName: string; trashRoot: string; root: HeldDir; name: string }): Promise<void> {
  const { db, journal, ownRecord, report } = run;
  const { fsName, trashRoot, root, name } = at;
  const entry = path.join(trashRoot, name);
  const owner = runState(db, name);
  let inv: Inventory;
  try {
    inv = inventoryOf((await deps.fs.listTree(root, name)).entries, name);
  } catch (err) {
    // `rm -r --one-file-system` stops at another filesystem, not at a bind mount of this one: it would delete what is
    // bound there (root's own files) — so with a mount inside, the way out is the unmount the error names, not rm.
    const then = err instanceof UnsafeTreeError && err.reason === 'mount' ? 'it stays; never remove it by hand while anything is mounted inside' : `it stays (${byHand(entry)})`;
    report({ fs: fsName, path: entry, ownerRunId: owner?.id ?? null, files: 0, bytes: 0, paths: [], action: 'failed', reason: `cannot list ${entry}: ${errorText(err)}; ${then}` });
    return;
  }
  const found = { fs: fsName, path: entry, ownerRunId: owner?.id ?? null, files: inv.files, bytes: inv.bytes, paths: inv.paths };
  const keep = (reason: string) => report({ ...found, action: 'kept', reason });
  const size = `${inv.files} file(s), ${inv.bytes} bytes`;
  const { mode, observeHours } = deps.config.safety.retire;

  // Decide.
  if (mode === 'never') {
    keep(`safety.retire.mode is never: hashall removes nothing, so ${entry} (${size}) stays; remove it by hand once you are sure, or set mode: staged`);
    return;
  }
  const recorded = owner ? trashEntries(db, owner.id).filter((e) => e.record.trashRel?.startsWith(`${name}/`) && e.record.trashId && e.record.trashRootId) : [];
  const records = recorded.map((e) => e.record);
  if (!owner || records.length === 0) {
    const whose = owner ? `run ${owner.id} recorded no identity (dev, ino) of anything it put there (an older hashall)` : `no run record names ${name}`;
    keep(`WARNING: ${entry} (${size}) is not recorded as hashall's own: ${whose}; hashall never deletes what it did not record — ${byHand(entry)}`);
    return;
  }
  if (owner.status === 'running' || owner.status === 'interrupted') {
    keep(`run ${owner.id} is ${owner.status} (still working, or interrupted and not yet recovered); its trash stays`);
    return;
  }
  if (!FINISHED.has(owner.status)) {
    keep(`run ${owner.id} ${owner.status === 'needs-attention' ? 'needs attention' : `is ${owner.status}`}: its trash may be what a person must restore (see \`hashall runs show ${owner.id}\`); remove ${entry} by hand once resolved`);
    return;
  }
  // Measured from a wall-clock time another run recorded (no monotonic clock spans runs): a forward clock step shortens
  // it. The purge also needs the kept copy whole (below): a step can end the wait early, never lose the last copy.
  const windowMs = deps.olderThanMs ?? observeHours * 3_600_000;
  const windowText = deps.olderThanMs === undefined ? `observeHours ${observeHours}` : `--older-than ${deps.olderThanMs / 3_600_000}h`;
  if (owner.endedAt === null || deps.now() - owner.endedAt <= windowMs) {
    const left = owner.endedAt === null ? 'its end time is unknown' : `it ended ${iso(owner.endedAt)}, within ${windowText}`;
    keep(`trash of run ${owner.id} stays: ${left}`);
    return;
  }
  const why = `left by run ${owner.id} (${owner.status}, ended ${iso(owner.endedAt)}, more than ${windowText} ago)`;
  // Never the last copy: a retired source goes only while the copy its retire proved is still there, whole.
  for (const e of recorded) {
    const gone = await keptCopyProblem(deps, root, e);
    if (gone) {
      keep(`trash of run ${owner.id} stays: ${gone} — the staged ${e.record.origin ?? e.record.trash} may be the only copy left; restore it (\`hashall trash restore ${owner.id}\`) or, once you know it is not needed, ${byHand(entry)}`);
      return;
    }
  }

  // Record first, then remove: each recorded entry by its recorded identity, then the levels retire created for it.
  const freedText = inv.freed === inv.bytes ? '' : ` (${inv.freed} bytes not hardlinked elsewhere)`;
  if (ownRecord) journal.addRunNote(deps.runId, `trash purge: removing what ${owner.id} recorded in ${entry}, ${why}: ${size}${freedText}: ${listPaths(inv.paths)}`);
  if (owner.id !== deps.runId) journal.addRunNote(owner.id, `trash ${entry} (${size}) removed by ${deps.runId} at ${iso(deps.now())}: the observation window was over`);
  const problems: { text: string; failed: boolean }[] = [];
  for (const rec of records) {
    const problem = await removeRecorded(deps.fs, root, rec);
    if (problem) problems.push(problem);
  }
  const dirs = [...new Set(records.flatMap((r) => r.trashDirs ?? []).filter((d) => d === name || d.startsWith(`${name}/`)).concat(name))];
  await removeCreatedDirs(deps.fs, dirs.map((d) => `${root.path}/${d}`)).catch(() => undefined);
  let left: Inventory | null = null;
  try {
    left = (await deps.fs.lstat(`${root.path}/${name}`)) ? inventoryOf((await deps.fs.listTree(root, name)).entries, name) : null;
  } catch (err) {
    problems.push({ text: `cannot list what is left: ${errorText(explainHeld(root, err))}`, failed: true });
  }
  if (!problems.length && !left) {
    report({ ...found, action: 'removed', reason: why });
    return;
  }
  const rest = left ? `; left in place: ${left.files} file(s) hashall did not record${left.paths.length ? ` (${listPaths(left.paths)})` : ''}` : '';
  const msg = `trash purge of ${entry}: ${problems.length ? problems.map((p) => p.text).join('; ') : 'what hashall recorded is removed'}${rest} — ${byHand(entry)}`;
  if (ownRecord) journal.addRunNote(deps.runId, msg);
  if (owner.id !== deps.runId) journal.addRunNote(owner.id, msg);
  report({ ...found, action: problems.some((p) => p.failed) ? 'failed' : 'kept', reason: msg });
}

/**
 * Why the copy a retire kept cannot be shown still there and still the bytes the retire proved (null when it can): its
 * filesystem's root is held and the kept tree listed below it without following anything nor leaving that filesystem;
 * every recorded file of the staged tree must be there at the same relative path with the same size, and still be
 * the file the retire read, read again now in full and holding the bytes it proved (`safety.retire.purgeCheck: full`,
 * the default). Presence and size alone are not enough: a kept copy replaced during the window by a same-size file
 * (its torrent deleted with data and re-added, preallocated with zeros; a `cp` over it) would pass; nor is an unchanged
 * stamp (same device, inode, size, mtime and ctime — see KeptFile): bit rot or a disk fault leaves it unchanged. Such a
 * damaged file, or one the disk cannot read (EIO), is recorded as an integrity problem, as `hashall verify` records
 * one. With `purgeCheck: stamp` a kept file whose stamp is the one proven (and settled) is trusted without a read; a
 * legitimate change — hashall's own dedupe linking it to another inode with the same bytes, a new hardlink, a chmod, a
 * reboot that gave the filesystem another st_dev — then costs one read of that file. A record written before kept files were recorded (no
 * `keptFiles`): the whole kept copy is read again and must hash to the payload hash the retire proved. Anything else,
 * or anything that cannot be read, keeps the staged source.
 */
async function keptCopyProblem(deps: PurgeDeps, trash: HeldDir, e: TrashEntry): Promise<string | null> {
  if (e.kept === null || !e.record.trashRel) return null;
  const kept = e.kept;
  const fsConf = deps.config.filesystems[kept.fs];
  if (!fsConf || !isAtOrUnder(kept.root, fsConf.path) || kept.root === fsConf.path) return `its kept copy ${kept.root} is not inside filesystem ${kept.fs} of hashall.yaml`;
  // The staged files the purge would delete (the recorded inodes: anything else there stays, see removeRecorded).
  const recorded = new Set(e.record.inos ?? []);
  let staged: Map<string, number>;
  try {
    const listed = await deps.fs.listTree(trash, e.record.trashRel);
    staged = new Map(listed.entries.filter((x) => x.stat.kind === 'file' && recorded.has(x.stat.ino)).map((x) => [x.rel, x.stat.size]));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null; // not in the trash at all: nothing of it to delete
    return `the staged ${e.record.trash} cannot be listed (${errorText(explainHeld(trash, err))})`;
  }
  // Nothing of it left to delete (restored, or never staged): the kept copy gates nothing.
  if (staged.size === 0) return null;
  const top = await deps.fs.holdDir(fsConf.path).catch(() => null);
  if (!top) return `filesystem ${kept.fs} (${fsConf.path}) cannot be opened, so its kept copy ${kept.root} is unproven`;
  try {
    const keptRel = path.posix.relative(fsConf.path, kept.root);
    const at = (rel: string): string => (rel === '' ? `${top.path}/${keptRel}` : `${top.path}/${keptRel}/${rel}`);
    const now = new Map<string, EntryStat>();
    try {
      const listed = await deps.fs.listTree(top, keptRel);
      if (!listed.found) return `its kept copy ${kept.root} is gone (removed, or moved elsewhere since the retire)`;
      for (const x of listed.entries) {
        if (x.stat.kind !== 'file') return `its kept copy ${kept.root} is not what the retire proved: ${x.rel || '(its root)'} is a ${x.stat.kind}`;
        now.set(x.rel, x.stat);
      }
    } catch (err) {
      return `its kept copy ${kept.root} cannot be listed (${errorText(explainHeld(top, err))})`;
    }
    for (const [rel, size] of staged) {
      const k = now.get(rel);
      if (k === undefined) return `its kept copy ${kept.root} lacks ${rel || 'its file'}`;
      if (k.size !== size) return `its kept copy ${kept.root} holds ${rel || 'its file'} with ${k.size} bytes, not ${size}`;
    }
    // Progress over the files this check reads (set once they are known, below).
    const progress: PurgeProgress = { keptRoot: kept.root, file: '', bytes: 0, totalBytes: 0 };
    const read = async (rel: string, st: EntryStat): Promise<StampedHash | ReadFailure> => {
      const done = progress.bytes;
      progress.file = rel || path.posix.basename(kept.root);
      const tell = deps.onProgress && ((bytes: number) => deps.onProgress!({ ...progress, bytes: done + bytes }));
      const got = await deps.fs
        .hashFileStamped(at(rel), st, tell)
        .catch((anchored: unknown): ReadFailure => {
          // Read through the filesystem's root held open: named by its real path, not `/proc/self/fd/N/…`.
          const err = explainHeld(top, anchored);
          return { text: `its kept copy ${kept.root} holds ${rel || 'its file'}, which cannot be read again (${errorText(err)})`, err };
        });
      progress.bytes = done + st.size;
      return got;
    };
    if (e.record.keptFiles === undefined) {
      progress.totalBytes = [...now.values()].reduce((n, st) => n + st.size, 0);
      const hashed: HashableFile[] = [];
      for (const [rel, st] of now) {
        const got = await read(rel, st);
        if ('text' in got) return got.text;
        hashed.push({ relpath: rel === '' ? path.posix.basename(kept.root) : rel, size: got.stamp.size, sha256: got.sha256 });
      }
      if (payloadHash(hashed) !== kept.payloadHash) {
        return `its kept copy ${kept.root}, read again in full (this trash was recorded by an older hashall, without the kept files' identities), no longer holds exactly the payload the retire proved`;
      }
      return null;
    }
    const proven = new Map(e.record.keptFiles.map((f) => [f.rel, f]));
    // A stamp whose ctime is not a second before the proof began could miss a change in the same clock tick after the read.
    const settledBefore = e.record.keptProvenAt === undefined ? null : BigInt(e.record.keptProvenAt - 1000) * 1_000_000n;
    // By default (`purgeCheck: full`) every kept file is read again, whatever its stamp: an unchanged stamp proves that
    // nothing wrote through the filesystem, not that the disk still returns the bytes — bit rot, a disk or controller
    // fault, a write to the raw device change none of device, inode, size, mtime and ctime, and this purge is the last
    // moment a good copy of them exists. `stamp` trusts an unchanged, settled stamp (the user's trade, documented).
    const trustStamp = deps.config.safety.retire.purgeCheck === 'stamp';
    const again: [string, EntryStat, KeptFile][] = [];
    for (const rel of staged.keys()) {
      const was = proven.get(rel);
      const st = now.get(rel)!;
      if (!was) return `its kept copy ${kept.root}: the retire recorded no proof of ${rel || 'its file'}`;
      if (st.size !== was.size) return `its kept copy ${kept.root} holds ${rel || 'its file'} with ${st.size} bytes, not ${was.size}`;
      const settled = sameStamp(st, was) && settledBefore !== null && BigInt(was.ctimeNs) < settledBefore;
      if (!trustStamp || !settled) again.push([rel, st, was]);
    }
    // Only then read, file by file, stopping at the first difference (a kept copy plainly gone or cut short costs no read).
    progress.totalBytes = again.reduce((n, [, st]) => n + st.size, 0);
    for (const [rel, st, was] of again) {
      const got = await read(rel, st);
      const name = rel || 'its file';
      const file = rel === '' ? kept.root : `${kept.root}/${rel}`;
      if ('text' in got) {
        // The disk or the filesystem could not return the bytes of the very file the retire proved (the one listed now
        // has its device, inode, size and mtime): recorded as `hashall verify` records an unreadable file.
        const code = errnoCode(got.err);
        const recorded =
          code !== undefined && READ_ERRORS.has(code) && sameAsProven(st, was)
            ? recordReRead(deps.catalog, { fsName: kept.fs, path: file, ino: was.ino, size: was.size, mtimeNs: was.mtimeNs, expected: was.sha256, found: null, detail: `${code}: ${causeText(got.err)}`, source: 'purge' }, deps.now())
            : null;
        return recorded ? `${got.text} — recorded as an unreadable file, as \`hashall verify\` records one (\`hashall doctor\` lists it; plans that would use it are blocked)` : got.text;
      }
      // Read under the inode, size and mtime the retire proved: what `hashall verify` judges (ok, or corrupted), and
      // recorded as it records it where the catalog holds that file with the proven SHA-256.
      const recorded = sameAsProven(got.stamp, was) ? recordReRead(deps.catalog, { fsName: kept.fs, path: file, ino: was.ino, size: was.size, mtimeNs: was.mtimeNs, expected: was.sha256, found: got.sha256, source: 'purge' }, deps.now()) : null;
      if (got.sha256 === was.sha256) continue;
      if (sameStamp(got.stamp, was)) {
        const damaged = recorded ?? file;
        const noted = recorded ? ' — recorded as a damaged file, as `hashall verify` records one (`hashall doctor` lists it; plans that would use it are blocked)' : '';
        return `in its kept copy ${kept.root}, ${name} is damaged: read again in full, its SHA-256 is not the one the retire proved, though its device, inode, size, mtime and ctime are unchanged (bit rot, or a disk or controller fault)${noted}; the staged source holds the good bytes: after \`hashall trash restore ${e.runId}\` and \`hashall scan\`, \`hashall verify --repair ${damaged}\` copies them over the damaged file`;
      }
      return `its kept copy ${kept.root} holds ${name} with other bytes than the retire proved (replaced or rewritten since: device ${st.dev} inode ${st.ino}, recorded ${was.dev}/${was.ino}; read again, its SHA-256 differs)`;
    }
    return null;
  } finally {
    await top.close();
  }
}

/** A kept file's failed read (what to say, and the error). */
interface ReadFailure {
  text: string;
  err: unknown;
}

/**
 * Read errors that mean the device or the filesystem could not return a file's bytes (a dead sector, a checksum
 * failure: btrfs and ZFS return EIO, ext4 EBADMSG or EUCLEAN) — recorded as an unreadable file. Anything else (the file
 * gone, swapped, changed while read) is not a fact about that file's bytes: it keeps the staged source, unrecorded.
 */
const READ_ERRORS = new Set(['EIO', 'EBADMSG', 'EUCLEAN']);

/** The system's words for an error hashall wrapped (what `hashall verify` records as an unreadable file's detail). */
function causeText(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  return errorText(cause);
}

/** Whether a kept file is the one its retire's proof read, as verify judges one (device, inode, size and mtime). */
function sameAsProven(st: FileStamp | EntryStat, was: KeptFile): boolean {
  return st.dev === was.dev && st.ino === was.ino && st.size === was.size && st.mtimeNs === was.mtimeNs;
}

/** Whether a kept file's stamp now is the one its retire's proof read (device, inode, size, mtime and ctime). */
function sameStamp(st: FileStamp | EntryStat, was: KeptFile): boolean {
  return sameAsProven(st, was) && st.ctimeNs === was.ctimeNs;
}

/** Remove one recorded entry; returns why it (or part of it) stays — `failed` when removal began and stopped — or null when it is gone. */
async function removeRecorded(fs: FsPort, root: HeldDir, rec: TrashRecord): Promise<{ text: string; failed: boolean } | null> {
  const label = rec.trash;
  const kept = (text: string) => ({ text, failed: false });
  if (!rec.trashId || !rec.trashRel || !rec.trashRootId) return kept(`${label} has no recorded identity; kept`);
  if (rec.trashRootId.dev !== root.dev || rec.trashRootId.ino !== root.ino) return kept(`${label} was recorded in another trash directory (this one was replaced since); kept`);
  if (!rec.inos) {
    return (await fs.lstat(`${root.path}/${rec.trashRel}`)) ? kept(`${label} was staged but never proven to be the payload; kept for a person to compare`) : null;
  }
  try {
    await fs.rmTree(root, rec.trashRel, recordedRemoval({ trashId: rec.trashId, inos: rec.inos }));
    return null;
  } catch (err) {
    const untouched = err instanceof UnsafeTreeError && err.reason === 'identity' && err.path === `${root.label}/${rec.trashRel}`;
    return { text: `${label}: ${errorText(explainHeld(root, err))}`, failed: !untouched };
  }
}
