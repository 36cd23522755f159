// Purges `<filesystem>/.hashall-trash/<run id>/` directories left behind by earlier retires once their observation window is over.
// Rules (each directory is judged on its own, and kept whenever anything is unknown):
// - the run that left it must be finished: a run still `running`/`interrupted` (maybe being recovered) or one that
//   `needs-attention` (its trash may be what a person must move back) is never touched;
// - the run must have ended more than `safety.retire.observeHours` ago; a directory without a run record is judged
//   by the newest mtime in its tree and is removed only by a run that keeps a record of its own (apply, not recover);
// - with `safety.retire.mode: never` nothing is removed (the trash is reported; a person decides);
// - every path removed is under `<fs path>/.hashall-trash/`; symlinks are unlinked, never followed;
// - before removing, a note naming the files and bytes is written to the current run's record (when it has one) and to
//   the record of the run that left the trash, so `hashall runs show` explains it later.
import path from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import type { HashallConfig } from '../config/types.js';
import type { Emit } from './events.js';
import { errorText } from './executor.js';
import type { FsPort, FsStat } from './fs-port.js';
import { Journal, type RunStatus } from './journal.js';
import { isUnder } from './paths.js';
import { TRASH_DIR } from './steps/retire.js';

export interface PurgeDeps {
  catalog: CatalogDb;
  config: HashallConfig;
  fs: FsPort;
  now: () => number;
  emit: Emit;
  /** The run (or recover command) doing the purge; its record, when it exists, gets a note per removal. */
  runId: string;
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
const FINISHED: ReadonlySet<RunStatus> = new Set<RunStatus>(['succeeded', 'failed', 'rolled-back', 'partial', 'recovered']);
const MAX_ENTRIES = 1_000_000;
const NOTE_PATHS = 50;

interface Inventory {
  files: number;
  bytes: number;
  /** Bytes of regular files with no other hardlink (what removal actually frees). */
  freed: number;
  paths: string[];
  newestMtimeMs: number;
}

function mtimeMs(st: FsStat): number {
  return Number(BigInt(st.mtimeNs) / 1_000_000n);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function assertInside(p: string, trashRoot: string): void {
  if (!isUnder(p, trashRoot) || path.resolve(p) === path.resolve(trashRoot)) {
    throw new Error(`refusing to touch ${p}: it is not inside ${trashRoot}`);
  }
}

/** Lists an entry's tree without following symlinks (a symlink is an entry, never a directory). */
async function inventory(fs: FsPort, entry: string, trashRoot: string): Promise<Inventory> {
  const inv: Inventory = { files: 0, bytes: 0, freed: 0, paths: [], newestMtimeMs: 0 };
  const stack: { abs: string; rel: string }[] = [{ abs: entry, rel: '' }];
  let seen = 0;
  while (stack.length) {
    const { abs, rel } = stack.pop()!;
    assertInside(abs, trashRoot);
    if (++seen > MAX_ENTRIES) throw new Error(`${entry} holds more than ${MAX_ENTRIES} entries; remove it by hand`);
    const st = await fs.lstat(abs);
    if (!st) continue;
    inv.newestMtimeMs = Math.max(inv.newestMtimeMs, mtimeMs(st));
    if (st.kind === 'dir') {
      for (const name of (await fs.readdir(abs)).sort().reverse()) stack.push({ abs: path.join(abs, name), rel: rel ? `${rel}/${name}` : name });
      continue;
    }
    inv.files++;
    inv.paths.push(rel || path.basename(abs));
    if (st.kind === 'file') {
      inv.bytes += st.size;
      if (st.nlink <= 1) inv.freed += st.size;
    }
  }
  inv.paths.sort();
  return inv;
}

/** Removes an entry's tree depth first: links and files are unlinked, directories removed once empty. */
async function removeTree(fs: FsPort, entry: string, trashRoot: string): Promise<void> {
  const stack: { abs: string; expanded: boolean }[] = [{ abs: entry, expanded: false }];
  let steps = 0;
  while (stack.length) {
    if (++steps > 2 * MAX_ENTRIES + 2) throw new Error(`${entry} is too large to remove automatically; remove it by hand`);
    const top = stack[stack.length - 1]!;
    assertInside(top.abs, trashRoot);
    const st = await fs.lstat(top.abs);
    if (!st) {
      stack.pop();
      continue;
    }
    if (st.kind !== 'dir') {
      await fs.unlink(top.abs);
      stack.pop();
      continue;
    }
    if (!top.expanded) {
      top.expanded = true;
      for (const name of await fs.readdir(top.abs)) stack.push({ abs: path.join(top.abs, name), expanded: false });
      continue;
    }
    await fs.rmdir(top.abs);
    stack.pop();
  }
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
  const hasRecord = (id: string) => Boolean(db.prepare(`SELECT 1 FROM runs WHERE id = ?`).get(id));
  const ownRecord = hasRecord(deps.runId);
  const windowMs = deps.config.safety.retire.observeHours * 3_600_000;
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
    let names: string[];
    try {
      const rootSt = await deps.fs.lstat(trashRoot);
      if (!rootSt) continue;
      if (rootSt.kind !== 'dir') {
        report({ ...base, path: trashRoot, action: 'kept', reason: `${trashRoot} is a ${rootSt.kind}, not a directory; hashall leaves it alone (remove it by hand)` });
        continue;
      }
      names = (await deps.fs.readdir(trashRoot)).sort();
    } catch (err) {
      report({ ...base, path: trashRoot, action: 'failed', reason: `cannot read ${trashRoot}: ${errorText(err)}` });
      continue;
    }

    for (const name of names) {
      const entry = path.join(trashRoot, name);
      let inv: Inventory;
      try {
        inv = await inventory(deps.fs, entry, trashRoot);
      } catch (err) {
        report({ ...base, path: entry, action: 'failed', reason: `cannot list ${entry}: ${errorText(err)}` });
        continue;
      }
      const owner = db.prepare(`SELECT id, status, ended_at FROM runs WHERE id = ?`).get(name) as { id: string; status: RunStatus; ended_at: number | null } | undefined;
      const found = { fs: fsName, path: entry, ownerRunId: owner?.id ?? null, files: inv.files, bytes: inv.bytes, paths: inv.paths };
      const keep = (reason: string) => report({ ...found, action: 'kept', reason });
      const size = `${inv.files} file(s), ${inv.bytes} bytes`;

      // Decide.
      let why: string;
      if (deps.config.safety.retire.mode === 'never') {
        keep(`safety.retire.mode is never: hashall removes nothing, so ${entry} (${size}) stays; remove it by hand once you are sure, or set mode: staged`);
        continue;
      }
      if (owner) {
        if (owner.status === 'running' || owner.status === 'interrupted') {
          keep(`run ${owner.id} is ${owner.status} (still working, or interrupted and not yet recovered); its trash stays`);
          continue;
        }
        if (!FINISHED.has(owner.status)) {
          keep(`run ${owner.id} ${owner.status === 'needs-attention' ? 'needs attention' : `is ${owner.status}`}: its trash may be what a person must restore (see \`hashall runs show ${owner.id}\`); remove ${entry} by hand once resolved`);
          continue;
        }
        if (owner.ended_at === null || deps.now() - owner.ended_at <= windowMs) {
          const left = owner.ended_at === null ? 'its end time is unknown' : `it ended ${iso(owner.ended_at)}, within observeHours ${deps.config.safety.retire.observeHours}`;
          keep(`trash of run ${owner.id} stays: ${left}`);
          continue;
        }
        why = `left by run ${owner.id} (${owner.status}, ended ${iso(owner.ended_at)}, more than observeHours ${deps.config.safety.retire.observeHours} ago)`;
      } else {
        if (deps.now() - inv.newestMtimeMs <= windowMs) {
          keep(`WARNING: ${entry} belongs to no recorded run and was modified ${iso(inv.newestMtimeMs)}, within observeHours ${deps.config.safety.retire.observeHours}; it stays`);
          continue;
        }
        if (!ownRecord) {
          keep(`${entry} belongs to no recorded run; only an apply run (which keeps a record) removes it`);
          continue;
        }
        why = `no run record for ${name}; nothing in it changed since ${iso(inv.newestMtimeMs)}, more than observeHours ${deps.config.safety.retire.observeHours} ago`;
      }

      // Record first, then remove.
      const freedText = inv.freed === inv.bytes ? '' : ` (${inv.freed} bytes not hardlinked elsewhere)`;
      if (ownRecord) journal.addRunNote(deps.runId, `trash purge: removing ${entry}, ${why}: ${size}${freedText}: ${listPaths(inv.paths)}`);
      if (owner && owner.id !== deps.runId) journal.addRunNote(owner.id, `trash ${entry} (${size}) removed by ${deps.runId} at ${iso(deps.now())}: the observation window was over`);
      try {
        await removeTree(deps.fs, entry, trashRoot);
        report({ ...found, action: 'removed', reason: why });
      } catch (err) {
        const msg = `trash purge of ${entry} failed: ${errorText(err)}; what is left stays for the next run`;
        if (ownRecord) journal.addRunNote(deps.runId, msg);
        if (owner && owner.id !== deps.runId) journal.addRunNote(owner.id, msg);
        report({ ...found, action: 'failed', reason: msg });
      }
    }

    // The trash directory itself goes once it is empty (it is recreated by the next retire).
    try {
      if ((await deps.fs.readdir(trashRoot)).length === 0) await deps.fs.rmdir(trashRoot);
    } catch {
      /* not empty any more, or not ours to remove: leave it */
    }
  }
  return out;
}
