// After a group's steps all succeeded: record the relocation / retirement and the new files in the catalog, bump the serial.
import { instanceOf } from '../domain/instance.js';
import path from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import type { PlanGroup } from '../plan/types.js';
import { dedupeLinkRecorder, dedupeLinkRecords, recordDedupeLinks, type DedupeLinkResult } from './dedupe-bookkeeping.js';
import { integrityStore } from '../catalog/integrity.js';
import { markRelocationRetired, recordRelocation } from '../catalog/relocations.js';
import { filesystemIdNamed, filesystemMountsReader } from '../catalog/filesystems.js';
import { treeDeletionWriter } from '../catalog/files-table.js';
import type { WrittenContent } from './written-content.js';
import { isAtOrUnder } from '../domain/path-string.js';
import { relToMount } from '../catalog/host-paths.js';

/**
 * Rescans `root` (the scanner's incremental scan of that subtree, wired by the caller) so the catalog records the files
 * a group left there; optional so apply works without it. `many`, when given, rescans several roots in one scan.
 * `written`: the files the run's copies wrote and proved, recorded from that proof instead of read again.
 */
export type RescanRoot = ((catalog: CatalogDb, root: string, fsName: string, written?: WrittenContent) => Promise<void>) & {
  many?: (catalog: CatalogDb, roots: readonly string[], fsName: string, written?: WrittenContent) => Promise<void>;
};

/** Refresh the catalog (best effort, notes on failure), then in ONE transaction: relocation rows, serial bump, group done. */
export async function recordGroupOutcome(
  catalog: CatalogDb,
  group: PlanGroup,
  info: {
    runId: string;
    now: number;
    changed: boolean;
    rescanRoot?: RescanRoot | undefined;
    /** The run's proven copies (see RescanRoot). */
    written?: WrittenContent | undefined;
    markDone: () => void;
    /** Told about every root whose refresh failed (apply shows it as an event, not only in the run record). */
    refreshFailed?: (root: string, error: string) => void;
  },
): Promise<string[]> {
  const notes: string[] = [];
  const links = group.action === 'dedupe' && info.changed ? dedupeLinkRecords(catalog, group, info.runId) : { records: [], rescan: [] };
  if (group.action === 'repair' && info.changed) {
    // Closed as repaired before the refresh sees the new inode (which would close it as an edit).
    const store = integrityStore(catalog);
    for (const s of group.steps) {
      const id = s.kind === 'repair' ? filesystemIdNamed(catalog.db, s.fs) : undefined;
      if (s.kind === 'repair' && id !== undefined) store.resolve(id, s.damaged.ino, 'repaired', info.now);
    }
  }
  if (info.rescanRoot && info.changed) {
    const record = refresher(catalog, info.rescanRoot, notes, info.refreshFailed, info.written);
    if ((group.action === 'move' || group.action === 'reuse') && group.to) {
      for (const root of movedRoots(group)) await record(root, group.to.fs);
    }
    if (group.action === 'dedupe') {
      // Linked duplicates are recorded from what their steps saw (below); only the paths of steps that found their
      // link already made (a no-op) or whose rows the catalog lacks are rescanned.
      for (const s of links.rescan) await record(path.dirname(s.duplicate.path), s.fs);
      // A rescan may have rewritten rows read above: the duplicates' rows are read again where they are written.
      if (links.rescan.length > 0) for (const r of links.records) delete r.dup;
    }
    if (group.action === 'repair') {
      for (const s of group.steps) if (s.kind === 'repair') for (const d of new Set(s.paths.map((p) => path.dirname(p)))) await record(d, s.fs);
    }
  }
  const txn = catalog.db.transaction(() => {
    let changed = info.changed;
    recordDedupeLinks(catalog, links.records, info.now);
    if (recordRelocations(catalog, group, info.runId, info.now, info.changed)) changed = true;
    if (group.action === 'retire') {
      for (const s of group.steps) {
        if (s.kind !== 'retire') continue;
        if (markRelocationRetired(catalog.db, s.relocationId, info.now)) changed = true;
      }
      // What the retires staged in the trash is gone from its paths: recorded from that, not rescanned (a rescan of a
      // folder the retire removed fails, and of a seeding root it emptied is refused as a disk that is not mounted).
      if (info.changed) {
        const forget = stagedForgetter(catalog);
        for (const s of group.steps) {
          if (s.kind === 'retire') forget(s.fs, s.root, info.now);
          if (s.kind === 'retire-orphan') forget(s.fs, s.path, info.now);
        }
      }
    }
    // A group whose steps were all no-ops and whose relocation is already recorded changed nothing: no new serial.
    if (changed) catalog.bumpSerial();
    info.markDone();
  });
  txn();
  return notes;
}

/** Marks deleted the catalog rows of a tree (canonical host path) on the filesystem named `fsName` (see treeDeletionWriter). */
function stagedForgetter(catalog: CatalogDb): (fsName: string, root: string, now: number) => void {
  const mountsOf = filesystemMountsReader(catalog.db);
  const markTree = treeDeletionWriter(catalog.db);
  return (fsName, root, now) => {
    for (const m of mountsOf(fsName)) {
      const rel = isAtOrUnder(root, m.preferred_mount) ? relToMount(root, m.preferred_mount) : '';
      if (rel !== '') markTree(m.id, rel, now);
    }
  };
}

/**
 * The folders (or files) a move or reuse group left on its target: every sibling's view, not only the group's headline
 * target, so the next plan sees them all — a folder, or the file of a one-file payload (the scanner refreshes either).
 */
function movedRoots(group: PlanGroup): string[] {
  return group.to ? [...new Set([group.to.path, ...group.steps.flatMap((s) => (s.kind === 'repoint' ? [s.hostTo] : []))])] : [];
}

/** A move or reuse group's relocation rows (one per distinct source root; `repointed`: the group changed something now); true when any was written. Inside the caller's transaction. */
function recordRelocations(catalog: CatalogDb, group: PlanGroup, runId: string, now: number, repointed: boolean): boolean {
  if ((group.action !== 'move' && group.action !== 'reuse') || !group.from || !group.to || !group.payloadHash) return false;
  let changed = false;
  for (const rel of relocationsOf(group)) {
    const torrents = rel.torrents.map((t) => ({ client: instanceOf(t), hash: t.hash }));
    const from = { sourceFs: group.from.fs, sourceRoot: rel.source, targetFs: group.to.fs, targetRoot: rel.target };
    if (recordRelocation(catalog.db, { payloadHash: rel.payloadHash ?? group.payloadHash, ...from, torrents, runId, repointedAt: now }, { repointed })) changed = true;
  }
  return changed;
}

/** A move or reuse group whose steps all succeeded, ending with others of the same moment (see recordMovedGroups). */
export interface MovedDone {
  group: PlanGroup;
  changed: boolean;
  /** Journals the group done (called inside the bookkeeping transaction). */
  markDone: () => void;
}

/**
 * The bookkeeping of move/reuse groups that ended at the same moment, as recordGroupOutcome does for each: their
 * targets rescanned together — one scan per filesystem when the rescan can take several roots (`many`) — then ONE
 * transaction: every relocation row, one serial bump, every group's end. A failed refresh is a note (and an event) for
 * each group whose roots it covered, never undone. Returns each group's notes, by group id.
 */
export async function recordMovedGroups(
  catalog: CatalogDb,
  done: MovedDone[],
  info: { runId: string; now: number; rescanRoot?: RescanRoot | undefined; written?: WrittenContent | undefined; refreshFailed?: (groupId: string, root: string, error: string) => void },
): Promise<Map<string, string[]>> {
  const notes = new Map(done.map((d) => [d.group.id, [] as string[]]));
  const rescan = info.rescanRoot;
  const changed = done.filter((d) => d.changed && d.group.to);
  if (rescan?.many) {
    const byFs = new Map<string, MovedDone[]>();
    for (const d of changed) byFs.set(d.group.to!.fs, [...(byFs.get(d.group.to!.fs) ?? []), d]);
    for (const [fsName, ds] of byFs) {
      const roots = [...new Set(ds.flatMap((d) => movedRoots(d.group)))];
      try {
        await rescan.many(catalog, roots, fsName, info.written);
      } catch (err) {
        for (const d of ds) {
          for (const root of movedRoots(d.group)) {
            notes.get(d.group.id)!.push(notRefreshed(root, (err as Error).message));
            info.refreshFailed?.(d.group.id, root, (err as Error).message);
          }
        }
      }
    }
  } else if (rescan) {
    for (const d of changed) {
      const record = refresher(catalog, rescan, notes.get(d.group.id)!, (root, error) => info.refreshFailed?.(d.group.id, root, error), info.written);
      for (const root of movedRoots(d.group)) await record(root, d.group.to!.fs);
    }
  }
  catalog.db.transaction(() => {
    let bump = done.some((d) => d.changed);
    for (const d of done) if (recordRelocations(catalog, d.group, info.runId, info.now, d.changed)) bump = true;
    // Groups whose steps were all no-ops and whose relocations are already recorded changed nothing: no new serial.
    if (bump) catalog.bumpSerial();
    for (const d of done) d.markDone();
  })();
  return notes;
}

function notRefreshed(root: string, message: string): string {
  return `catalog not refreshed for ${root} (${message}); run \`hashall scan\` before the next plan`;
}

/** Rescans a root for the catalog; the data change already happened and was verified: a failed refresh is reported (a note, `failed`), never undone. */
function refresher(
  catalog: CatalogDb,
  rescanRoot: RescanRoot,
  notes: string[],
  failed?: (root: string, error: string) => void,
  written?: WrittenContent,
): (root: string, fsName: string) => Promise<void> {
  return async (root, fsName) => {
    try {
      await rescanRoot(catalog, root, fsName, written);
    } catch (err) {
      const message = (err as Error).message;
      notes.push(notRefreshed(root, message));
      failed?.(root, message);
    }
  };
}

/** A dedupe group of a batch whose steps all succeeded: each step's result (null for a no-op), and its end to journal. */
export interface DedupeDone {
  group: PlanGroup;
  resultOf: (step: number) => DedupeLinkResult | null;
  changed: boolean;
  /** Journals the group's steps and the group done (called inside the batch's bookkeeping transaction). */
  markDone: () => void;
}

/**
 * The bookkeeping of a batch of dedupe groups (dedupe-batch.ts), as recordGroupOutcome does for each, in ONE
 * transaction: every group's linked rows, one serial bump, every group's end. The steps without a usable result are
 * rescanned first (outside it: the scanner commits on its own). Returns each group's notes, by group id.
 */
export async function recordDedupeGroups(
  catalog: CatalogDb,
  done: DedupeDone[],
  info: { now: number; rescanRoot?: RescanRoot | undefined; refreshFailed?: (groupId: string, root: string, error: string) => void },
): Promise<Map<string, string[]>> {
  const notes = new Map(done.map((d) => [d.group.id, [] as string[]]));
  const recorder = dedupeLinkRecorder(catalog);
  // Every row read in ONE read transaction: each read on its own was a transaction of its own, which took and dropped
  // SQLite's shared lock (a 2,000-pair run: 4,000 reads, ~8,000 fcntl calls, ~40 ms of the main thread).
  const links = catalog.db.transaction(() => done.map((d) => (d.changed ? recorder(d.group, d.resultOf) : { records: [], rescan: [] })))();
  if (info.rescanRoot && links.some((l) => l.rescan.length > 0)) {
    for (const [i, d] of done.entries()) {
      const record = refresher(catalog, info.rescanRoot, notes.get(d.group.id)!, (root, error) => info.refreshFailed?.(d.group.id, root, error));
      for (const s of links[i]!.rescan) await record(path.dirname(s.duplicate.path), s.fs);
    }
    // A rescan may have rewritten rows read above: the duplicates' rows are read again where they are written.
    for (const l of links) for (const r of l.records) delete r.dup;
  }
  catalog.db.transaction(() => {
    recordDedupeLinks(catalog, links.flatMap((l) => l.records), info.now);
    if (done.some((d) => d.changed)) catalog.bumpSerial();
    for (const d of done) d.markDone();
  })();
  return notes;
}

/** One relocation of a group: source and target root, its torrents, and its content's hash when not the group's (RepointStep.payloadHash). */
export interface Relocated {
  source: string;
  target: string;
  torrents: { client?: string; hash: string }[];
  payloadHash?: string;
}

/**
 * One relocation per distinct source root: siblings of a group may seed from different source trees (a
 * cross-seed view beside the original), and each of them must be retired later. Without repoint steps the
 * group's own from/to is the only relocation.
 */
export function relocationsOf(group: PlanGroup): Relocated[] {
  const bySource = new Map<string, Relocated>();
  for (const s of group.steps) {
    if (s.kind !== 'repoint') continue;
    const t = { client: instanceOf(s), hash: s.torrentHash };
    const rel = bySource.get(s.hostFrom);
    if (rel) rel.torrents.push(t);
    else bySource.set(s.hostFrom, { source: s.hostFrom, target: s.hostTo, torrents: [t], ...(s.payloadHash !== undefined ? { payloadHash: s.payloadHash } : {}) });
  }
  if (bySource.size === 0 && group.from && group.to) {
    return [{ source: group.from.path, target: group.to.path, torrents: group.torrents.map((t) => ({ client: instanceOf(t), hash: t.hash })) }];
  }
  return [...bySource.values()];
}
