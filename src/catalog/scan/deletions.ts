// The deletion pass of one scanned root, with its guards: an emptied root is refused, unread directories and other
// mounts keep their rows, and only rows that existed before the scan and were not seen are marked deleted.
import { CatalogError } from '../../errors.js';
import type { CatalogDb } from '../db.js';
import { allKnownSeen, emptyRootSuspect, isShielded, isVanished } from './decide.js';
import type { FileRowStatements } from './file-rows.js';

/** Rows marked deleted per transaction. */
const BATCH = 1000;

/**
 * The ids of the rows a walk saw, among those that existed when the scan began (ids 1..maxId): one bit each — a Set
 * of 200k numbers cost a no-change rescan ~50 ms (a Set still, past 2^30 ids). Ids above maxId (rows this scan
 * inserted) are never asked about.
 */
export class SeenRows {
  private readonly bits: Uint8Array | null;
  private readonly set: Set<number> | null;

  constructor(private readonly maxId: number) {
    const bitmap = maxId <= 2 ** 30;
    this.bits = bitmap ? new Uint8Array(Math.floor(maxId / 8) + 1) : null;
    this.set = bitmap ? null : new Set();
  }

  add(id: number): void {
    if (id < 1 || id > this.maxId) return;
    if (this.set) this.set.add(id);
    else if (this.bits) this.bits[id >>> 3] = (this.bits[id >>> 3] as number) | (1 << (id & 7));
  }

  has(id: number): boolean {
    if (id < 1 || id > this.maxId) return false;
    return this.set ? this.set.has(id) : ((this.bits?.[id >>> 3] ?? 0) & (1 << (id & 7))) !== 0;
  }
}

export interface RootWalkOutcome {
  /** Canonical path of the root (for messages). */
  rootPath: string;
  /** The root's path relative to its filesystem ('' = the whole filesystem). */
  rootRel: string;
  /** Regular files the walk saw under the root. */
  filesSeen: number;
  /** Ids of catalogued rows (any status) the walk saw, up to maxIdAtStart. */
  seen: SeenRows;
  /** How many of them were active when looked up, under the root (the root's prefix range) and at or below maxIdAtStart. */
  seenKnown: number;
  /** The highest row id when the scan began: higher ids were inserted by this scan. */
  maxIdAtStart: number;
  /** Relative paths of directories not read (unreadable) or not entered (other mounts). */
  protectedDirs: readonly string[];
  /**
   * Set when the walk may have missed entries it could not place (find's errors): a row not seen is gone only if
   * this says its path is gone; the others are kept and returned in `unconfirmed`.
   */
  confirmGone?: (rel: string) => boolean;
  /** When the walk ended: a row marked deleted records it as its last_seen. */
  now: number;
}

/**
 * Mark deleted the active rows under a completed root walk that were not seen, outside protected directories.
 * Throws CatalogError (nothing marked) when the root looked empty but the catalog knows files there. Returns the count
 * marked, the paths kept because `confirmGone` did not confirm them, and how many rows under the root are active now.
 * Reads ids in index order so memory stays bounded however large the root is; paths only for the rows not seen.
 */
export function markVanished(catalog: CatalogDb, rows: FileRowStatements, w: RootWalkOutcome): { deleted: number; unconfirmed: string[]; active: number } {
  // The common case (nothing removed) is settled by one count from the covering index instead of reading every id:
  // then every active row under the root is a path the walk saw (each one walked has its row active).
  if (w.filesSeen > 0 && allKnownSeen(rows.activeCountUnder(w.rootRel, w.maxIdAtStart), w.seenKnown)) return { deleted: 0, unconfirmed: [], active: w.filesSeen };
  const unseen: number[] = [];
  let known = 0;
  for (const id of rows.activeIdsUnder(w.rootRel)) {
    known++;
    if (isVanished(id, w.seen, w.maxIdAtStart)) unseen.push(id);
  }
  const unconfirmed: string[] = [];
  const gone = unseen.filter((id) => {
    const path = rows.pathOf(id);
    if (isShielded(path, w.protectedDirs)) return false;
    if (w.confirmGone === undefined || w.confirmGone(path)) return true;
    unconfirmed.push(path);
    return false;
  });
  if (emptyRootSuspect(w.filesSeen, known)) {
    throw new CatalogError(`scan root ${w.rootPath} is empty but the catalog knows ${known} file(s) there`, {
      hint: 'is the filesystem mounted? nothing was marked deleted; if the files were really removed, delete the catalog rows with a scan of a non-empty parent',
    });
  }
  for (let i = 0; i < gone.length; i += BATCH) {
    const slice = gone.slice(i, i + BATCH);
    catalog.db.transaction(() => {
      for (const id of slice) rows.markDeleted(id, w.now);
      catalog.bumpSerial();
    })();
  }
  return { deleted: gone.length, unconfirmed, active: known - gone.length };
}
