// One root of a scan: walk it, decide each file against its row (decide.ts), hash what must be read on the pool with
// bounded concurrency, write rows in batched transactions, then run the deletion pass of a completed walk.
import { lstatSync, statSync } from 'node:fs';
import path from 'node:path';
import { CatalogError, errnoCode } from '../../errors.js';
import { HashPool, QUICK_BLOCK, type HashJob, type HashResult } from '../../fs/hash.js';
import { fsPathArg } from '../../fs/path-encoding.js';
import type { MountEntry } from '../../fs/mountinfo.js';
import { walkTree, type FoundFile, type WalkFile } from '../../fs/walk.js';
import type { FindProcess } from '../../fs/find-walk.js';
import { checkpointWalPassive, isCatalogOwnFile, type CatalogDb } from '../db.js';
import { errnoWords } from '../../domain/errno-words.js';
import { absoluteCatalogPath } from '../filesystems.js';
import { integrityStore, openProblemInodes } from '../integrity.js';
import { decideFile, decideSameMetadata, decisionPolicy, judgeReread, linkHashesSuffice, readFailed, waitsForSizeGate, type RecordedHashes, type RowMeta } from './decide.js';
import { markVanished, SeenRows } from './deletions.js';
import { directoryRowsReader } from './directory-rows.js';
import { fileRowStatements, maxFileId } from './file-rows.js';
import { rootSummary, type ResolvedRoot } from './resolve-roots.js';
import { hostPathContext, type HostPathContext } from '../host-paths.js';
import { readLink, recordSymlinks, resolveSymlink, type SeenSymlink } from '../symlinks.js';
import type { SizeGate } from './size-gate.js';
import type { ScanOptions, ScanSummary } from './types.js';

interface WriteOp {
  path: string;
  f: WalkFile;
  quick: string | null;
  sha: string | null;
  hashedAt: number | null;
  /** Same inode, size and mtime, other bytes: recorded as corrupted; the row keeps its recorded hashes. */
  corrupted?: { expected: string | null; found: string | null; detail: string };
  /** The row's previous inode had an open integrity problem and the file was edited or replaced since: it ends. */
  endsProblemOf?: number;
}

/**
 * Rows written per transaction: each transaction rewrites every index page its rows touch, and the content index is
 * keyed by a random hash, so larger transactions rewrite far fewer pages (200k rows: 1,000 per transaction 5.3 s of
 * CPU, 5,000 4.0 s). A root that writes many rows writes them in growing transactions — half of what it wrote so far,
 * from BATCH up to MAX_BATCH (200k new rows: 11 transactions instead of 40, ~20% less insert CPU), while the first
 * ones stay small so the writes overlap the hashing. An interrupted scan keeps every committed batch.
 */
const BATCH = 5000;
const MAX_BATCH = 40_000;
/**
 * Once the walk is done, rows are written whenever at least as many wait as are still being hashed (and at least
 * this many): the batches halve as the pool drains, so what is left to write when the last hash comes back — while
 * the hashing threads have nothing left to do — is a few hundred rows, not up to a whole batch (20k new files: up to
 * 5,000 rows, ~60 ms, after the last read; 200k: up to 40,000).
 */
const DRAIN_BATCH = 256;
/** A drain write is followed by a checkpoint only while this much is still being read (see drainFlush). */
const CHECKPOINT_COVER_BYTES = 64 * 1024 ** 2;
const CHECKPOINT_COVER_FILES = 2048;
/** Files being hashed at once; the walk waits below this (the hash pool keeps up to 4,096 ahead of each worker), */
const MAX_IN_FLIGHT = 10_000;
/** and below this many bytes to read (more than one file's worth only): an interrupted scan finishes what is queued. */
const MAX_BYTES_IN_FLIGHT = 2 * 1024 ** 3;

/** Orders writes by path (UTF-16 code units: the catalog's bytewise order but for characters past U+FFFF; only locality depends on it). */
function byPath(a: WriteOp, b: WriteOp): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** What every root of one scan shares. */

/**
 * The largest inode number hashall keeps exactly: the catalog, the plan and the journal carry inode numbers as
 * JavaScript numbers, exact up to 2^53 − 1 (every local Linux filesystem's numbers are far below it). Past it two files
 * could read as one inode — a copy taken for a hardlink — so a root holding such a file is refused, not guessed at.
 */
const MAX_EXACT_INO = BigInt(Number.MAX_SAFE_INTEGER);

function inodeTooLarge(file: string, ino: bigint, fsType: string): CatalogError {
  return new CatalogError(
    `${file} has inode number ${ino}, past 2^53 (on ${fsType}): hashall keeps inode numbers exactly only below that, and two files could otherwise read as one inode; the scan of its root stopped (the catalog is consistent)`,
    { hint: 'such numbers come from mergerfs with use_ino, overlayfs with xino, or some network shares: keep torrent data on a local filesystem (ext4, xfs, btrfs, zfs), or leave this one out of hashall.yaml' },
  );
}
export interface RootScanContext {
  catalog: CatalogDb;
  /** Every resolved root of the scan: a configured root met as a mount inside this one is scanned on its own. */
  all: ResolvedRoot[];
  mounts: MountEntry[];
  pool: HashPool;
  opts: ScanOptions;
  /** Counters of the whole scan, updated in place. */
  summary: ScanSummary;
  /** Sizes of the catalog and of every root of this scan: which new or changed files are read (see size-gate.ts). */
  sizes: SizeGate<HeldFile>;
  /** Called before each batch of row writes (the connection's page cache grows for them: see pageCacheRaiser). */
  writing?: () => void;
}

/** A new or changed file held back by size-first hashing until another inode has its size (else recorded unhashed). */
export interface HeldFile {
  f: WalkFile;
  relPath: string;
  kind: 'added' | 'changed';
  /** Read in full (else quick only) once another inode has its size. */
  full: boolean;
}

/**
 * Whether a walked file is hashall's own state: named like the catalog or a file hashall keeps beside it
 * (isCatalogOwnFile), in the very folder that holds the catalog — judged by that folder's device and inode, so the
 * same folder reached through a bind mount or any other path is recognised too, and a look-alike name in another
 * folder is content. Null when the catalog's folder cannot be read (nothing is skipped then).
 */
export function ownStateMatcher(catalogPath: string): ((f: WalkFile) => boolean) | null {
  let folder: { dev: bigint; ino: bigint };
  try {
    folder = statSync(path.dirname(catalogPath), { bigint: true });
  } catch {
    return null;
  }
  const base = path.basename(catalogPath);
  return (f) => {
    if (f.dev !== folder.dev) return false;
    const name = f.rel === '' ? path.basename(typeof f.abs === 'string' ? f.abs : f.abs.toString('utf8')) : f.rel.slice(f.rel.lastIndexOf('/') + 1);
    if (!name.startsWith(base) || !isCatalogOwnFile(name.slice(base.length))) return false;
    // Only a file of a candidate name costs this stat of its folder (as the walk reached it, never following a link).
    const parent = typeof f.abs === 'string' ? path.dirname(f.abs) : f.abs.subarray(0, Math.max(1, f.abs.lastIndexOf(0x2f)));
    try {
      const st = lstatSync(parent, { bigint: true });
      return st.dev === folder.dev && st.ino === folder.ino;
    } catch {
      return false;
    }
  };
}

/** The mount points a walk of the directory at `realPath` does not enter: every mount point but the root's own. */
export function walkMountPoints(mounts: MountEntry[], realPath: string): Set<string> {
  const out = new Set(mounts.map((m) => m.mountPoint));
  out.delete(realPath);
  return out;
}

/**
 * Scans one root; returns how many active rows the catalog holds under it afterwards (null when interrupted).
 * `started`: the stat walk already started on this root (see scanRoots), which the walk takes or stops.
 */
export async function scanOneRoot(ctx: RootScanContext, r: ResolvedRoot, started?: FindProcess): Promise<number | null> {
  const { catalog, opts, summary } = ctx;
  const hashJob = (opts.wrapHash ?? ((h) => h))((job) => ctx.pool.hash(job));
  const db = catalog.db;
  const fsId = r.fs.id;
  const rootRel = r.loc.rel;
  const abs = (rel: string): string => absoluteCatalogPath(r.loc.preferred.mountPoint, rel);
  const dirRows = directoryRowsReader(catalog, fsId, rootRel);
  const fileRows = fileRowStatements(catalog, fsId);
  const withHashes = (m: RowMeta): RowMeta & RecordedHashes => ({ ...m, ...fileRows.hashesOf(m.id) });
  // Rows inserted by this scan get ids above this mark; rows at or below it that this scan saw on disk are in `seen`.
  const maxIdAtStart = maxFileId(catalog);
  const mountPoints = walkMountPoints(ctx.mounts, r.walkPath);
  const ownState = ownStateMatcher(catalog.path);
  const seen = new SeenRows(maxIdAtStart);
  // Rows active at lookup, under the root and older than the scan: when they are all the deletion pass would read,
  // it reads none (see allKnownSeen).
  let seenKnown = 0;
  const underRoot = rootRel === '' ? '' : rootRel + '/';
  const protectedDirs: string[] = [];
  let writes: WriteOp[] = [];
  /** Rows this root wrote so far, and the size at which the pending ones are written (see BATCH). */
  let written = 0;
  let batchAt = BATCH;
  let rootFiles = 0;
  const now = opts.now();
  const policy = decisionPolicy(opts.drift, Boolean(opts.quickOnly), opts.hash ?? 'all');
  let bytesToHash = 0;
  const integrity = integrityStore(catalog);
  // Inodes with an open integrity problem: their recorded hashes are never replaced by what a scan reads.
  const troubled = openProblemInodes(catalog);
  const isTroubled = (ino: number): boolean => troubled.has(`${fsId}:${ino}`);

  const flush = (): void => {
    if (writes.length === 0) return;
    const batch = writes;
    writes = [];
    // In path order: the two path indexes then take each row next to the last one instead of at a random page (the
    // walk's order is the directories' hash order), which costs less than the sort (20k new rows: ~10% of the
    // transaction's CPU). The same rows are written: the sort is stable, so a path written twice keeps its last write.
    batch.sort(byPath);
    written += batch.length;
    batchAt = Math.min(MAX_BATCH, Math.max(BATCH, Math.floor(written / 2)));
    ctx.writing?.();
    db.transaction(() => {
      const t = opts.now();
      for (const w of batch) {
        fileRows.upsert({ path: w.path, ino: w.f.ino, size: w.f.size, mtimeNs: w.f.mtimeNs, nlink: w.f.nlink, quick: w.quick, sha: w.sha, hashedAt: w.hashedAt }, t);
        if (w.corrupted) {
          integrity.record(
            { fsId, ino: Number(w.f.ino), kind: 'corrupted', path: abs(w.path), expected: w.corrupted.expected, found: w.corrupted.found, size: w.f.size, mtimeNs: String(w.f.mtimeNs), detail: w.corrupted.detail, source: 'scan' },
            t,
          );
        }
        if (w.endsProblemOf !== undefined) integrity.resolve(fsId, w.endsProblemOf, 'changed', t);
      }
      catalog.bumpSerial();
    })();
  };
  /**
   * A write while the hashing threads still read (the walk is over): the WAL is checkpointed after it, so that the
   * copy into the database file and its syncs overlap the hashing instead of following it when the catalog closes.
   */
  const drainFlush = (): void => {
    flush();
    // Only while enough reading remains to cover the checkpoint's two fsyncs (the main thread waits on them): near the
    // end the close copies what is left instead.
    if (bytesInFlight >= CHECKPOINT_COVER_BYTES || inFlight >= CHECKPOINT_COVER_FILES) checkpointWalPassive(db);
  };
  const report = (walking: boolean): void => {
    opts.progress?.({
      root: r.loc.path,
      filesSeen: summary.filesSeen,
      bytesSeen: summary.bytesSeen,
      filesHashed: summary.filesHashed,
      bytesHashed: summary.bytesHashed,
      bytesToHash,
      walking,
    });
  };

  let inFlight = 0;
  let bytesInFlight = 0;
  /** The walk is over: no file joins those in flight (see DRAIN_BATCH). */
  let draining = false;
  let wake: (() => void) | null = null;
  /** Bytes a read of `f` costs (what the pool reads: everything, or the sampled blocks). */
  const readCost = (f: WalkFile, full: boolean): number => (full ? f.size : Math.min(f.size, 3 * QUICK_BLOCK));
  const start = (bytes: number): (() => void) => {
    inFlight++;
    bytesInFlight += bytes;
    return () => {
      bytesInFlight -= bytes;
      settle();
    };
  };
  const settle = (): void => {
    inFlight--;
    if (draining && inFlight > 0 && writes.length >= DRAIN_BATCH && writes.length >= Math.min(batchAt, inFlight)) drainFlush();
    else if (writes.length >= batchAt) flush();
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  };
  const waitBelow = async (limit: number): Promise<void> => {
    while (inFlight > limit || (inFlight > 0 && bytesInFlight > MAX_BYTES_IN_FLIGHT)) await new Promise<void>((res) => (wake = res));
  };

  // One read per inode: the links of a hardlinked file share the job (a full job serves a quick request too).
  const inodeJobs = new Map<bigint, { full: boolean; p: Promise<HashResult> }>();
  const jobOf = (f: WalkFile, full: boolean): HashJob => ({ path: f.abs, quick: true, full, size: f.size, mtimeNs: f.mtimeNs, dev: f.dev, ino: f.ino });
  const counted = (p: Promise<HashResult>): Promise<HashResult> =>
    p.then((res) => {
      summary.bytesHashed += res.bytesRead;
      if (!res.error && !res.changed) summary.filesHashed++;
      return res;
    });
  const hashFile = (f: WalkFile, full: boolean): Promise<HashResult> => {
    const shared = f.nlink > 1 ? inodeJobs.get(f.ino) : undefined;
    if (shared && (shared.full || !full)) return shared.p;
    bytesToHash += readCost(f, full);
    const p = counted(hashJob(jobOf(f, full)));
    if (f.nlink > 1) inodeJobs.set(f.ino, { full, p });
    return p;
  };
  /**
   * The two inodes that made a size shared, both read in full: one job, `b` read as `a`'s twin — compared byte for
   * byte as `a` is hashed, so a duplicate (the usual reason two files have one size) costs one SHA-256, not two.
   * `b` gets `a`'s hashes only when every byte was equal; else it is hashed on its own (see HashJob.twin).
   */
  const hashTwins = (a: WalkFile, b: WalkFile): [Promise<HashResult>, Promise<HashResult>] => {
    if (a.ino === b.ino || inodeJobs.has(a.ino) || inodeJobs.has(b.ino)) return [hashFile(a, true), hashFile(b, true)];
    bytesToHash += a.size + b.size;
    const both = hashJob({ ...jobOf(a, true), twin: jobOf(b, true) });
    const pa = counted(both.then((res) => ({ ...res, twin: undefined })));
    // An answer without the twin's (a wrapped pool) leaves it unread: unknown, reported.
    const pb = counted(both.then((res) => res.twin ?? { bytesRead: 0, error: { code: 'EIO', message: 'no answer for this file' } }));
    if (a.nlink > 1) inodeJobs.set(a.ino, { full: true, p: pa });
    if (b.nlink > 1) inodeJobs.set(b.ino, { full: true, p: pb });
    return [pa, pb];
  };

  /** A file the scan could not read: reported; recorded without hashes (unknown content) unless its row already matches, never deleted. */
  const recordProblem = (relPath: string, f: WalkFile, res: HashResult, rowMatches: boolean): void => {
    summary.problems.push({
      path: abs(relPath),
      code: res.changed ? 'ECHANGED' : (res.error?.code ?? 'EIO'),
      message: res.changed ? 'file changed while it was being read; hashes not recorded' : (res.error?.message ?? 'unreadable'),
    });
    if (!rowMatches) writes.push({ path: relPath, f, quick: null, sha: null, hashedAt: null });
  };

  /** Same metadata as recorded, read again: confirm, fill in, or find corruption (never absorbed). */
  const reread = async (relPath: string, f: WalkFile, row: RowMeta & RecordedHashes, full: boolean): Promise<void> => {
    const troubledRow = isTroubled(row.ino);
    const first = await hashFile(f, full);
    let verdict = judgeReread(row, first, policy, troubledRow, now);
    if (verdict.kind === 'unreadable') return recordProblem(relPath, f, first, true);
    if (verdict.kind === 'escalate') {
      const res = await hashFile(f, true);
      // A failed escalated read is reported; the row keeps its recorded hashes (a failed read is never content).
      if (readFailed(res)) return recordProblem(relPath, f, res, true);
      verdict = judgeReread(row, res, policy, troubledRow, now, true);
    }
    summary.unchanged++;
    switch (verdict.kind) {
      case 'corrupted':
        summary.problems.push({ path: abs(relPath), code: 'ECORRUPT', message: 'same size and mtime as recorded but different content: recorded hash kept (see `hashall verify`)' });
        writes.push({ path: relPath, f, quick: row.quick_hash, sha: row.sha256, hashedAt: row.hashed_at, corrupted: { expected: row.sha256, found: verdict.found, detail: `found by a scan with --drift ${opts.drift}` } });
        return;
      case 'kept':
        writes.push({ path: relPath, f, quick: row.quick_hash, sha: row.sha256, hashedAt: row.hashed_at });
        return;
      case 'confirmed':
        writes.push({ path: relPath, f, quick: verdict.quick, sha: verdict.sha, hashedAt: verdict.hashedAt });
        return;
    }
  };

  /** Read a new or changed file (full or quick as decided; `read`: its read already asked for) and record it, or record the read's failure. */
  const readNew = (f: WalkFile, relPath: string, kind: 'added' | 'changed', full: boolean, endsProblemOf: number | null, read?: Promise<HashResult>): void => {
    const ends = endsProblemOf !== null ? { endsProblemOf } : {};
    if (full && !policy.sizeFirst) ctx.sizes.note(f.size, fsId, f.ino);
    const done = start(readCost(f, full));
    void (read ?? hashFile(f, full))
      .then((res) => {
        if (readFailed(res)) return recordProblem(relPath, f, res, false);
        summary[kind]++;
        writes.push({ path: relPath, f, quick: res.quickHash ?? null, sha: res.sha256 ?? null, hashedAt: res.sha256 ? now : null, ...ends });
      })
      .finally(done);
  };

  /** A regular file the walk found at `relPath`, and its row if the catalog has one: counted, and its row seen. */
  const account = (relPath: string, size: number, found: RowMeta | undefined): void => {
    summary.filesSeen++;
    summary.bytesSeen += size;
    rootFiles++;
    if (found) {
      seen.add(found.id);
      if (found.status === 'active' && found.id <= maxIdAtStart && relPath.startsWith(underRoot)) seenKnown++;
    }
  };

  /** Which flags of a row with the inode, size, mtime and link count walked mean unchanged (active, hashes as the policy wants). */
  const settles = Array.from({ length: 8 }, (_, flags) => {
    const row: RowMeta = { id: 0, ino: 0, size: 0, mtime_ns: '', nlink: 1, status: (flags & 4) !== 0 ? 'deleted' : 'active', hasQuick: (flags & 1) !== 0, hasSha: (flags & 2) !== 0 };
    return row.status === 'active' && decideSameMetadata(row, 1, policy).kind === 'unchanged';
  });
  /** A file offered by find's record alone: settled here when its row says unchanged; any other comes back as an event. */
  let walkDir: string | null = null;
  let catalogDir = '';
  const settleUnchanged = (dir: string, found: FoundFile): boolean => {
    if (dir !== walkDir) {
      walkDir = dir;
      catalogDir = rootRel === '' ? dir : dir === '' ? rootRel : rootRel + '/' + dir;
    }
    const id = dirRows.matchFound(catalogDir, found);
    if (id < 0 || !settles[dirRows.matchedFlags()]) return false;
    // Under the root by construction, active: counted as seen and known (account() without building the path).
    summary.filesSeen++;
    summary.bytesSeen += found.size;
    rootFiles++;
    seen.add(id);
    if (id <= maxIdAtStart) seenKnown++;
    summary.unchanged++;
    return true;
  };

  const processFile = (f: WalkFile, relPath: string): void => {
    if (f.ino > MAX_EXACT_INO) throw inodeTooLarge(abs(relPath), f.ino, r.loc.mount.fsType);
    const found = dirRows.at(relPath);
    account(relPath, f.size, found);
    const d = decideFile(found, f, policy, isTroubled);
    switch (d.kind) {
      case 'unchanged':
        summary.unchanged++;
        return;
      case 'metadata-changed': {
        summary.unchanged++;
        const known = withHashes(found as RowMeta);
        writes.push({ path: relPath, f, quick: known.quick_hash, sha: known.sha256, hashedAt: known.hashed_at });
        return;
      }
      case 'reread': {
        const done = start(readCost(f, d.full));
        void reread(relPath, f, withHashes(found as RowMeta), d.full).finally(done);
        return;
      }
    }
    const kind = d.kind === 'new' ? 'added' : 'changed';
    const endsProblemOf = d.kind === 'content-changed' ? d.endsProblemOf : null;
    const ends = endsProblemOf !== null ? { endsProblemOf } : {};
    // Share the hashes of a known hardlink with identical metadata (never under drift full).
    if (d.mayShareLink && !inodeJobs.has(f.ino)) {
      const known = fileRows.linkHashes(f.ino, f.size, f.mtimeNs);
      if (known && linkHashesSuffice(known, policy)) {
        summary[kind]++;
        writes.push({ path: relPath, f, quick: known.quick_hash, sha: known.sha256, hashedAt: known.hashed_at, ...ends });
        return;
      }
    }
    // A file apply's copy wrote and proved, just as the copy left it: recorded with that content's hashes, not read again.
    const proven = opts.proven && opts.drift !== 'full' ? opts.proven(abs(relPath), f.dev, f.ino, f.size, f.mtimeNs) : null;
    if (proven) {
      summary[kind]++;
      writes.push({ path: relPath, f, quick: proven.quickHash, sha: proven.sha256, hashedAt: now, ...ends });
      return;
    }
    if (waitsForSizeGate(d, policy)) {
      const claim = ctx.sizes.claim(f.size, fsId, f.ino, { f, relPath, kind, full: d.full });
      if (!claim.read) {
        // A new file held back: its row is written now, unhashed — what it stays unless another inode of its size
        // comes (then the read rewrites it with its hashes) — in the batches written while the walk goes on, instead
        // of all at the end of the walk (a library of 1M files of distinct sizes: 1M rows in one transaction after the
        // walk, and an object per row held until then). Counted when it is known to stay unhashed (recordHeld) or read.
        writes.push({ path: relPath, f, quick: null, sha: null, hashedAt: null, ...ends });
        // Held files the gate lets go (it keeps a bounded number) stay unhashed as written; read after the walk if
        // their size becomes shared (hashNowShared).
        for (const h of claim.letGo) summary[h.kind]++;
        // Files of shared sizes usually follow (a duplicate's second copy), so the hashing threads boot during the
        // walk rather than when the first one is released.
        ctx.pool.warm();
        return;
      }
      // The size's first inode (held until now) and this one are read together, this one as the other's twin; the
      // first one's other links share its read. A held file's row already ended its integrity problem (above).
      const first = claim.release[0];
      if (first !== undefined && first.full && d.full) {
        const [firstRead, read] = hashTwins(first.f, f);
        readNew(first.f, first.relPath, first.kind, true, null, firstRead);
        for (const h of claim.release.slice(1)) readNew(h.f, h.relPath, h.kind, h.full, null);
        readNew(f, relPath, kind, true, endsProblemOf, read);
        return;
      }
      for (const h of claim.release) readNew(h.f, h.relPath, h.kind, h.full, null);
    }
    readNew(f, relPath, kind, d.full, endsProblemOf);
  };

  /** Size-first: the files still held at the end of the walk — no other inode has their size — stay unhashed as their rows were written when they were held (processFile). */
  const recordHeld = (): void => {
    for (const h of ctx.sizes.endRoot()) summary[h.kind]++;
  };

  /** Set when the walk reported errors it may not have placed: rows it did not see are checked one by one. */
  let incomplete: string | null = null;
  /** The symlinks found (rare: read and resolved as they come), and whether some entry could not be read. */
  const links: SeenSymlink[] = [];
  let hostCtx: HostPathContext | undefined;
  let unread = false;
  report(true);
  try {
    for await (const batch of walkTree(r.walkPath, { mountPoints, signal: opts.signal, settle: settleUnchanged, ...(opts.findProgram !== undefined ? { find: opts.findProgram } : {}), ...(started ? { started } : {}) })) {
      for (const ev of batch) {
        if (ev.kind === 'incomplete') {
          incomplete = ev.message;
          summary.problems.push({ path: r.loc.path, code: 'EWALK', message: `the walk reported errors: ${ev.message}` });
          continue;
        }
        // One concatenation with the root's prefix (a held file keeps its path to the end of the walk).
        const relPath = rootRel === '' ? ev.rel : ev.rel === '' ? rootRel : underRoot + ev.rel;
        switch (ev.kind) {
          case 'file':
            // hashall's own catalog and the files beside it are state, never content (recorded, they were hashed while
            // written: ECHANGED for the WAL, rows for files that change under every command).
            if (ownState?.(ev)) break;
            processFile(ev, relPath);
            break;
          case 'symlink': {
            summary.symlinks++;
            // Never followed: what it names is read (readlink) and resolved as a path, for the holders of payloads.
            const target = readLink(ev.abs);
            if (target !== null) {
              hostCtx ??= hostPathContext({ filesystems: opts.filesystems });
              links.push({ rel: relPath, target, resolved: resolveSymlink(hostCtx, abs(relPath), target) });
            }
            break;
          }
          case 'special':
            summary.special++;
            break;
          case 'mount': {
            const canon = abs(relPath);
            // A configured root inside is scanned on its own; anything else is reported and left alone.
            if (!ctx.all.some((o) => o.walkPath === ev.abs || o.loc.path === canon)) summary.skippedMounts.push(canon);
            protectedDirs.push(relPath);
            break;
          }
          case 'problem':
            unread = true;
            summary.problems.push({ path: abs(relPath), code: ev.code, message: ev.message });
            protectedDirs.push(relPath);
            break;
        }
      }
      if (writes.length >= batchAt) flush();
      await waitBelow(MAX_IN_FLIGHT);
      report(true);
    }
  } catch (err) {
    await waitBelow(0);
    recordHeld();
    flush();
    // A refusal says what and why itself; anything else is the walk failing on this root.
    if (err instanceof CatalogError) throw err;
    throw new CatalogError(`cannot read scan root ${r.loc.path}: it ${errnoWords(errnoCode(err), (err as Error).message)}`, { cause: err });
  }
  recordHeld();
  draining = true;
  // While reads are pending the rows known so far (the last held files' above all) are written now, as the pool hashes
  // what the walk released — often all of it, since a size is shared once the walk meets its second inode, late in the
  // walk — instead of after the first hashes come back, when the writes would wait and then slow the hashing.
  if (inFlight > 0) drainFlush();
  while (inFlight > 0) {
    await waitBelow(0);
  }
  flush();
  report(false);
  // Only a walk that saw every entry may drop the rows of links it did not see.
  const linksComplete = incomplete === null && !unread && !opts.signal?.aborted;
  db.transaction(() => {
    if (recordSymlinks(catalog, fsId, rootRel, links, linksComplete, opts.now())) catalog.bumpSerial();
  })();
  if (opts.signal?.aborted) return null;

  const { deleted, unconfirmed, active } = markVanished(catalog, fileRows, {
    rootPath: r.loc.path,
    rootRel,
    filesSeen: rootFiles,
    seen,
    seenKnown,
    maxIdAtStart,
    protectedDirs,
    now: opts.now(),
    ...(incomplete !== null ? { confirmGone: (rel: string) => goneFromDisk(abs(rel)) } : {}),
  });
  for (const path of unconfirmed) summary.problems.push({ path: abs(path), code: 'EWALK', message: 'not seen by the walk but not gone: row kept' });
  summary.deleted += deleted;
  summary.roots.push(rootSummary(r, rootFiles, deleted));
  return active;
}

/** Whether nothing is at `path` now (it, or a directory on its way, is missing): an error reading it is not gone. */
function goneFromDisk(path: string): boolean {
  try {
    return lstatSync(fsPathArg(path), { throwIfNoEntry: false }) === undefined;
  } catch (err) {
    return errnoCode(err) === 'ENOTDIR';
  }
}
