// Removes hashall's own temp files (`.hashall-<run id>-g<N>-<step>-<i|probe|dedupe>.part`) that no journal accounts for — left by a kill -9 whose catalog was then lost.
// Normally recovery removes a killed run's temp files from its journaled undo data. When the catalog (and with it
// the journal) is gone, the next `hashall scan` catalogs those files like any other; this sweep finds them there by
// their exact name and removes them under the same rules as the trash purge:
// - the run named in the file name is unknown to the catalog or finished (a running, interrupted or needs-attention
//   run's temp files are recovery's or a person's);
// - the file lies on a configured filesystem, is reached from its mount by held directory fds, every component
//   opened O_NOFOLLOW on the same device (src/fs/no-follow-tree.ts), and is still the catalogued inode;
// - it is a regular file owned by hashall's user, unchanged (ctime) for an hour; anything else is reported, not removed.
// Runs where the purge runs (apply start and `hashall recover`, after recovery, under the lock): no hashall run is
// writing temp files then, and recovery has already removed the ones its journal knows.
import { errorText } from '../errors.js';
import path from 'node:path';
import { catalogedTempFiles } from '../catalog/files-table.js';
import { openDirUnder, lstatAt, type HeldDir } from '../fs/no-follow-tree.js';
import { Journal, type RunStatus } from './journal.js';
import { runExists, runState } from './run-store.js';
import { tempRunId } from './paths.js';
import type { PurgeDeps, PurgeOutcome } from './trash.js';
import { effectiveUser } from '../fs/trusted-place.js';

/** Statuses of a run whose temp files nobody will use or undo any more. */
const DONE: ReadonlySet<RunStatus> = new Set<RunStatus>(['succeeded', 'failed', 'rolled-back', 'partial', 'recovered']);
const QUIET_MS = 3_600_000;
const MAX_ROWS = 10_000;

/** Judge and remove catalogued temp files of hashall that no journal accounts for. Never throws for one file. */
export async function sweepTempFiles(deps: PurgeDeps): Promise<PurgeOutcome[]> {
  const db = deps.catalog.db;
  const out: PurgeOutcome[] = [];
  const journal = new Journal(db, deps.now);
  const ownRecord = runExists(db, deps.runId);
  const { euid } = effectiveUser();
  for (const row of catalogedTempFiles(db, Object.keys(deps.config.filesystems), MAX_ROWS)) {
    const name = path.posix.basename(row.path);
    const runId = tempRunId(name);
    if (!runId) continue; // `.hashall-` and `.part` but not hashall's exact pattern: not ours
    const abs = row.preferred_mount === '/' ? `/${row.path}` : `${row.preferred_mount}/${row.path}`;
    const run = runState(db, runId);
    if (run && !DONE.has(run.status)) continue; // recovery's (or a person's) to handle, from the journal
    const base = { fs: row.fs_name, path: abs, ownerRunId: runId, files: 1, bytes: 0, paths: [name] };
    const report = (o: PurgeOutcome): void => {
      out.push(o);
      deps.emit({ type: 'trash', runId: deps.runId, action: o.action, path: o.path, files: o.files, bytes: o.bytes, message: o.reason });
      if (ownRecord && o.action !== 'kept') journal.addRunNote(deps.runId, `temp sweep: ${o.action} ${o.path}: ${o.reason}`);
    };
    let mount: HeldDir | null = null;
    let dir: HeldDir | null = null;
    try {
      mount = await deps.fs.holdDir(row.preferred_mount);
      dir = await openDirUnder(mount, path.posix.dirname(row.path));
      const st = await lstatAt(dir, name);
      if (!st) continue; // already gone (the catalog learns it at the next scan)
      const keep = (why: string) =>
        report({ ...base, bytes: st.size, action: 'kept', reason: `${abs} looks like a temp file of hashall run ${runId} but ${why}; it stays (check it, then remove it by hand: rm -- '${abs.replace(/'/g, `'\\''`)}')` });
      if (st.kind !== 'file') keep(`is a ${st.kind}, not a regular file`);
      else if (st.ino !== row.ino) keep(`is not the file the scan catalogued (inode ${st.ino}, catalogued ${row.ino})`);
      else if (st.uid !== euid) keep(`is owned by uid ${st.uid}, not by hashall's user (uid ${euid})`);
      else if (deps.now() - st.ctimeMs < QUIET_MS) keep(`it changed less than an hour ago (another process may be writing it)`);
      else {
        await deps.fs.unlink(`${dir.path}/${name}`);
        report({ ...base, bytes: st.size, action: 'removed', reason: `a leftover temp file of ${run ? `run ${runId} (${run.status})` : `run ${runId}, which the catalog does not know (lost or re-created catalog)`}` });
      }
    } catch (err) {
      report({ ...base, action: 'failed', reason: `cannot judge ${abs}: ${errorText(err)}; it stays` });
    } finally {
      if (dir !== mount) await dir?.close().catch(() => undefined);
      await mount?.close().catch(() => undefined);
    }
  }
  return out;
}
