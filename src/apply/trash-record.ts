// The one format of what hashall puts into `<filesystem>/.hashall-trash/<run id>/…` (journaled as a step's undo data), and reading it back for list, restore and purge.
// Any step that stages something into the trash (retire of a superseded payload source; retire of an orphan tree)
// journals a TrashRecord in its undo data — `trash` set, the identities recorded before it acts — and nothing else is
// needed for `hashall trash`, `trash restore` and `trash purge` to handle it the same way. Fields are optional because
// older hashall versions recorded fewer; readers fall back (origin from the layout, owner from the nearest parent; a
// retire record without `keptFiles`, written before they were recorded: the purge re-reads the whole kept copy).
import path from 'node:path';
import type { Db } from '../catalog/db.js';
import { TRASH_DIR } from '../domain/trash-dir.js';
import type { Identity } from '../fs/no-follow-tree.js';
import type { FileStamp } from './fs-port.js';
import { getRun, type RunDetail } from './run-store.js';

export { TRASH_DIR };

/** Owner, group and mode of a directory level hashall removed (so a restore can make it again as it was). */
export interface RemovedDir {
  /** Absolute path of the level. */
  path: string;
  uid: number;
  gid: number;
  mode: number;
}

/**
 * One file of the copy a retire kept, as its proof read it: the file's stamp taken on the descriptor whose every byte
 * was hashed (unchanged from before to after the read), and that hash. The purge deletes the staged file of the same
 * relative path only while the kept one still has this stamp, or is read again and still has this hash.
 */
export interface KeptFile extends FileStamp {
  /** Path relative to the kept root as a tree listing names it ('' when the kept copy is one file). */
  rel: string;
  sha256: string;
}

/** What a step put into the trash, as journaled in its undo data. */
export interface TrashRecord {
  /** `<fs path>/.hashall-trash/<run id>/<path of the original relative to the fs path>` (for people). */
  trash: string;
  /** The same, relative to the trash directory. */
  trashRel?: string;
  /** The trash directory it was renamed into. */
  trashRootId?: Identity;
  /** The renamed original (a rename keeps the inode): a directory tree or one file. */
  trashId?: Identity;
  /** Levels hashall created under the trash directory for it (relative, outermost first). */
  trashDirs?: string[];
  /** Inodes of every file proven to be what was staged, recorded before anything may delete it. */
  inos?: number[];
  /** Configured filesystem name and the absolute path it was renamed from (where `trash restore` puts it back). */
  fs?: string;
  origin?: string;
  /** Files and bytes staged (regular files, each path counted). */
  files?: number;
  bytes?: number;
  /** Why it was staged, in words (the plan's reasons). */
  reason?: string;
  /** Folders above the original that were left empty and removed afterwards (outermost first): a restore re-makes them. */
  removedParents?: RemovedDir[];
  /**
   * A retire of a superseded source: every file of the kept copy as its last proof read it (recorded with `inos`), and
   * when that proof began (ms). A stamp whose ctime is not well before `keptProvenAt` may not show a change made in the
   * same clock tick right after the read (a file's timestamps move in ticks): the purge then reads that file again.
   */
  keptFiles?: KeptFile[];
  keptProvenAt?: number;
  /**
   * Every file staged, as it lay in the trash once staged and proven (relative path under the staged entry, '' for one
   * file; inode, size, mtime and ctime), and when that listing began (ms). `trash restore` keeps a put-back file's
   * recorded SHA-256 without reading it only while its stamp is unchanged and its ctime is a second before
   * `stampedAt` (a change made in the same clock tick right after the listing would not move it): any write, utimes
   * (`touch -r`), chmod or link moves ctime, which no user can set back. Otherwise the restore reads it (see
   * trash-restore.ts keptHashes).
   */
  stamps?: StagedStamp[];
  stampedAt?: number;
}

/** One staged file's stamp (its device is the staged entry's, `trashId.dev`). */
export interface StagedStamp {
  rel: string;
  ino: number;
  size: number;
  mtimeNs: string;
  ctimeNs: string;
}

/** One record with the run and step that journaled it. */
export interface TrashEntry {
  runId: string;
  run: RunDetail;
  stepKind: string;
  /** The step's journaled phase (`staging`, `staged`, `kept`, `deleting`, `deleted`). */
  phase: string | null;
  reasons: string[];
  record: TrashRecord;
  /** The kept copy a retire's proof rested on and the payload hash it proved (a retire of a superseded source; null for anything else, an orphan's). */
  kept: { fs: string; root: string; payloadHash: string } | null;
}

/** Every trash record of run `runId` (steps that got as far as naming their trash entry), whatever step kind wrote it. */
export function trashEntries(db: Db, runId: string): TrashEntry[] {
  const run = getRun(db, runId);
  if (!run) return [];
  return run.groupRecords.flatMap((g) =>
    g.steps
      .filter((s) => typeof s.undo.trash === 'string')
      .map((s) => ({
        runId,
        run,
        stepKind: s.kind,
        phase: typeof s.undo.phase === 'string' ? s.undo.phase : null,
        reasons: g.reasons,
        record: s.undo as unknown as TrashRecord,
        kept: s.step.kind === 'retire' ? { fs: s.step.keptFs, root: s.step.keptRoot, payloadHash: s.step.payloadHash } : null,
      })),
  );
}

export function trashRecords(db: Db, runId: string): TrashRecord[] {
  return trashEntries(db, runId).map((e) => e.record);
}

/** The path the record's original lived at: recorded, or (older records) the trash layout `<run id>/<path under the fs>`. */
export function originOf(rec: TrashRecord, fsPath: string): string | null {
  if (rec.origin) return rec.origin;
  if (!rec.trashRel) return null;
  const parts = rec.trashRel.split('/');
  return parts.length > 1 ? path.join(fsPath, ...parts.slice(1)) : null;
}

/** The removal rule for a recorded trash entry: its root is the recorded inode, and only recorded files go. */
export function recordedRemoval(rec: Required<Pick<TrashRecord, 'trashId' | 'inos'>>) {
  const inos = new Set(rec.inos);
  return { expect: rec.trashId, allow: (e: { stat: { kind: string; ino: number; dev: number } }) => e.stat.kind === 'file' && e.stat.dev === rec.trashId.dev && inos.has(e.stat.ino) };
}
