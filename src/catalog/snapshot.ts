// readSnapshot: the CatalogSnapshot the pure planner consumes, read in one SQLite read transaction (only the rows it needs).
//
// Scale: every payload comes from its summary (stored by the last sync while the catalog serial is unchanged, else
// computed from its rows); file lists, inode links and content copies are read only for the payloads the planner
// can act on (the planner handed in names them), one range query each — never a scan of every file row in JS.
import { keepsNoPermissions } from '../fs/permissions-kept.js';
import { findMountFor } from '../fs/mountinfo.js';
import type { HashallConfig } from '../config/types.js';
import type { CatalogFile, CatalogSnapshot, DupeGroup, InodeMeta, SnapshotPayload, SnapshotPlanner, SnapshotClientState, SnapshotRelocation, SnapshotRoot, SnapshotTorrent } from '../domain/snapshot.js';
import { baseName, dirName, isAtOrUnder, longestRootOf, normalizePath } from '../domain/path-string.js';
import { contentRelOf } from '../domain/listing.js';
import { partFileHash } from '../domain/part-file.js';
import { catalogedPartFiles } from './files-table.js';
import type { CatalogDb } from './db.js';
import { absoluteCatalogPath, prefixRange, readSnapshotFilesystems, type FilesystemRow } from './filesystems.js';
import { readSymlinkTargets } from './symlinks.js';
import { symlinkHolders, type SymlinkTarget } from '../domain/symlink-holds.js';
import { consumerVerdict, liveInode, trashNameReader, type LibraryScanState } from './consumers.js';
import { filesystemByMount, filesystemRowFor, hostPathContext, locateHostPath, relToMount, type HostPathContext } from './host-paths.js';
import { payloadBulkReader, payloadReader, type BulkPayload } from './payload-rows.js';
import { readRelocations } from './relocations.js';
import { computeDupes, dupesKey, payloadRoots, storedDupes, storedSummaries, summarize, summaryConsumers, type PayloadSummary } from './payload-summary.js';
import { readActiveTorrents } from './torrent-row.js';
import { openProblemPaths } from './integrity.js';
import { differencesOnRows, exactLstat, fsBinding, liveCheckPool, liveDifferences, ownPayloadCheck, payloadHere, type LiveCheckPool, type LstatFn, type PayloadEntry, type PayloadJob } from './live-check.js';
import { constants, lstatSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fsPathArg } from '../fs/path-encoding.js';
import { CLIENT_FOLDER_ROLES, type ClientFolder, type ClientFolderRole } from '../domain/client-folder.js';

export interface ReadSnapshotOptions {
  /**
   * The planner's questions (src/plan/needs.ts `snapshotPlanner(config, now)`): which groups act, so which file lists
   * to load, and which target paths' occupancy to read. Build it for the instant the plan will be built for; a
   * different one is safe (a group acting without its lists is blocked). Readers that plan nothing pass NO_PLANNER.
   */
  planner: SnapshotPlanner;
  /** lstat payload files for live link counts and inode drift (default true). */
  liveCheck?: boolean;
  mountInfoFile?: string;
  /**
   * Which file lists to load: 'needed' (default) — those the planner can act on (see SnapshotPayload.files); 'all' —
   * every payload's and torrent's (reports and tests that inspect them).
   */
  files?: 'needed' | 'all';
  /** Filled with how the read went (for a hint when planning had to re-read every payload). */
  stats?: SnapshotReadStats;
  /**
   * Worker threads for the live check of the loaded payloads' files (src/catalog/live-check.ts; same answers as
   * checking on the reading thread). Default: one per core beyond the reading thread's (at least 1, at most 2) when they hold
   * at least LIVE_WORKERS_AT files, else none.
   */
  liveWorkers?: number;
  /**
   * Whether the reading thread checks payload jobs no worker has claimed yet while it waits (default true). Tests turn
   * it off so that every job is answered by a worker (or, when none can, read and checked by the reader).
   */
  liveReaderClaims?: boolean;
}

/** Files to live-check from which worker threads pay for their start (a few tens of milliseconds). */
export const LIVE_WORKERS_AT = 20_000;

export interface SnapshotReadStats {
  /** Payloads in the snapshot. */
  payloads: number;
  /** Payloads whose summary was computed from file rows (not stored by the last sync at this serial). */
  computed: number;
  /** Payloads whose file lists were loaded (not those left to the catalog: SnapshotPayload.filesInCatalog). */
  loaded: number;
  /** Payloads the planner may act on whose file lists were left to the catalog (SnapshotPayload.filesInCatalog); absent when none. */
  inCatalog?: number;
}

interface ScanRootRow {
  path: string;
  fs_id: number;
  last_completed_at: number;
  links_known: number;
}

/** Configured roots in canonical spelling, each with the last completed scan of it or of an ancestor root. */
export function snapshotRoots(catalog: CatalogDb, config: HashallConfig, ctx: HostPathContext): SnapshotRoot[] {
  const scanned = catalog.db.prepare(`SELECT path, fs_id, last_completed_at, links_known FROM scan_roots WHERE last_completed_at IS NOT NULL`).all() as ScanRootRow[];
  const one = (input: string, kind: SnapshotRoot['kind'], fsName: string | null): SnapshotRoot => {
    const where = locateHostPath(ctx, input, { followLast: true });
    if (!where.ok) return { path: where.spelled, kind, fsName, fsId: null, lastScanAt: null };
    const fs = filesystemRowFor(catalog, where.loc);
    let newest: ScanRootRow | null = null;
    if (fs) for (const s of scanned) if (s.fs_id === fs.id && isAtOrUnder(where.loc.path, s.path) && (newest === null || s.last_completed_at > newest.last_completed_at)) newest = s;
    const root: SnapshotRoot = { path: where.loc.path, kind, fsName, fsId: fs?.id ?? null, lastScanAt: newest?.last_completed_at ?? null };
    if (newest !== null && newest.links_known === 0) root.linksKnown = false;
    return root;
  };
  const out: SnapshotRoot[] = [];
  for (const [fsName, paths] of Object.entries(config.seeding)) for (const p of paths) out.push(one(p, 'seeding', fsName));
  for (const p of config.libraries) out.push(one(p, 'library', null));
  return out;
}

export function readSnapshot(catalog: CatalogDb, config: HashallConfig, opts: ReadSnapshotOptions): CatalogSnapshot {
  const ctx = hostPathContext(config, opts.mountInfoFile);
  // The live check's worker threads, once started (closed however the read ends).
  const workers: { pool: LiveCheckPool | null } = { pool: null };
  const read = catalog.db.transaction(() => readInside(catalog, config, ctx, opts, workers));
  try {
    return read();
  } finally {
    workers.pool?.close();
  }
}

function readInside(catalog: CatalogDb, config: HashallConfig, ctx: HostPathContext, opts: ReadSnapshotOptions, workers: { pool: LiveCheckPool | null }): CatalogSnapshot {
  const db = catalog.db;
  const { rows: fsRows, named, filesystems } = readSnapshotFilesystems(db, config);
  // Filesystems whose mount keeps no permissions now (a remount with `-o permissions` counts from the next plan).
  for (const f of filesystems) {
    const m = findMountFor(ctx.mounts, f.mountPoint);
    if (m !== null && keepsNoPermissions(m)) f.permissionsKept = false;
  }
  const fsById = new Map(fsRows.map((r) => [r.id, r]));
  const fsFor = (path: string): FilesystemRow | null => filesystemByMount(named, path) ?? filesystemByMount(fsRows, path);

  const roots = snapshotRoots(catalog, config, ctx);
  const seedingRoots = roots.filter((r) => r.kind === 'seeding').map((r) => r.path);
  const libraries: LibraryScanState[] = roots.filter((r) => r.kind === 'library').map((r) => ({ path: r.path, fsId: r.fsId, scanned: r.lastScanAt !== null }));
  const trashOf = trashNameReader(catalog, config);

  // Torrents (active only); their client file lists are read below, only where the planner needs them.
  const { torrents, rows: tRows } = readActiveTorrents(catalog, Object.keys(config.clients));
  attachPartFiles(torrents, catalogedPartFiles(db), fsById);
  const relocations: SnapshotRelocation[] = readRelocations(catalog, named);

  // Every payload from its summary: stored by the last sync when nothing changed since, else computed from its rows.
  const reader = payloadBulkReader(catalog);
  const stored = storedSummaries(catalog);
  const bulkOf = new Map<string, BulkPayload>();
  // Summaries stored by the last sync at this serial: their `linked` lists are the other links of every payload file.
  const storedOf = new Map<string, PayloadSummary>();
  const fsOf = new Map<string, FilesystemRow>();
  // Payloads whose files are, by their summary, their content's only copies: no donor lookup (see copiesBySha256).
  const uncopied = new Set<string>();
  const payloads: Record<string, SnapshotPayload> = {};
  for (const [rootPath, fs] of payloadRoots(fsRows, config, tRows, relocations)) {
    let s = stored?.get(rootPath);
    if (s === undefined || s.fsId !== fs.id) {
      const bulk = reader.resolve(fs.id, fs.preferred_mount, relToMount(rootPath, fs.preferred_mount));
      if (!bulk) continue;
      bulkOf.set(rootPath, bulk);
      s = summarize(rootPath, fs.id, bulk);
    } else storedOf.set(rootPath, s);
    fsOf.set(rootPath, fs);
    if (s.copied === 0) uncopied.add(rootPath);
    payloads[rootPath] = {
      rootPath,
      fsId: fs.id,
      kind: s.kind,
      payloadHash: s.payloadHash,
      fileCount: s.fileCount,
      bytes: s.bytes,
      missingHashes: s.missingHashes,
      listingDigest: s.listingDigest,
      files: null,
      seedingRoot: longestRootOf(rootPath, seedingRoots),
      consumers: summaryConsumers(s, seedingRoots, libraries, trashOf(fs.id)),
    };
  }

  // The live check's workers start now, so that their start (a thread, its modules, a catalog connection) overlaps this
  // thread's reading; they are given their jobs (and begin their read transaction) once the planner has named the
  // payloads, and are closed unused when those hold fewer than LIVE_WORKERS_AT files (see below).
  const serial = catalog.serial();
  let allFiles = 0;
  for (const p of Object.values(payloads)) allFiles += p.fileCount;
  const workerCount = opts.liveCheck === false ? 0 : (opts.liveWorkers ?? (allFiles >= LIVE_WORKERS_AT ? Math.min(2, Math.max(1, availableParallelism() - 1)) : 0));
  if (workerCount > 0) workers.pool = liveCheckPool(workerCount, { rows: { catalog: { path: catalog.path, lineage: catalog.lineage, serial }, ...(opts.liveReaderClaims === false ? {} : { self: ownPayloadCheck(catalog) }) } });

  const dupesNow = storedDupes(catalog, dupesKey(config, named)) ?? computeDupes(catalog, config, named);
  if (opts.liveCheck !== false) withLiveMeta(dupesNow);
  const clients = readClientStates(catalog, Object.keys(config.clients));
  const states = Object.values(clients);
  const lastSyncAt = states.length === 0 || states.some((c) => c.syncedAt === null) ? null : Math.min(...states.map((c) => c.syncedAt as number));
  const snapshot: CatalogSnapshot = {
    lineage: catalog.lineage,
    serial,
    filesystems,
    roots,
    torrents,
    payloads,
    copiesBySha256: new Map(),
    relocations,
    dupes: dupesNow,
    lastSyncAt,
    clients,
  };

  // File lists where the planner needs them (see SnapshotPayload.files): relocation sources and targets, payloads
  // whose listing differs from one of their torrents', then the payloads of every group that acts.
  const load = new Set<string>();
  const all = opts.files === 'all';
  for (const r of relocations) if (r.retiredAt === null) for (const p of [r.sourceRoot, r.targetRoot]) if (payloads[p]) load.add(p);
  for (const t of torrents) {
    const p = t.hostContentPath === null ? undefined : payloads[t.hostContentPath];
    if (p && (all || t.listingDigest === null || t.listingDigest !== p.listingDigest)) load.add(p.rootPath);
  }
  // Client file lists only where they differ from the payload's (the planner says what differs), read before
  // detailNeeds runs, as they decide whether a group is blocked. A torrent whose digest matches lists exactly its
  // payload's files, so acting groups need no client list.
  const tFiles = db.prepare(`SELECT name, size, wanted FROM torrent_files WHERE client = ? AND torrent_hash = ? ORDER BY idx`).raw(true);
  for (const t of torrents) {
    if (t.hostContentPath === null || !load.has(t.hostContentPath)) continue;
    t.files = (tFiles.all(t.client, t.hash) as [string, number, number][]).map(([name, size, wanted]) => (wanted === 0 ? { name, size, wanted: false as const } : { name, size }));
  }
  // Relocation sources and targets and payloads whose listing differs keep their lists; of the payloads the planner
  // names besides, those it can act on without them are left to the catalog (SnapshotPayload.filesInCatalog): no other
  // row holds any of their contents (their summary counted no copy), and only one torrent holds their content (no
  // sibling group, so one copy and one view). Their rows are read only for the live check, then dropped.
  const keepLists = new Set(load);
  if (!all) for (const p of opts.planner.needs(snapshot, load)) load.add(p);
  const byRef = new Set<string>();
  // Torrents holding each payload hash (see byRef).
  const holders = new Map<string, number>();
  if (!all) {
    for (const t of torrents) {
      const h = t.hostContentPath === null ? null : (payloads[t.hostContentPath]?.payloadHash ?? null);
      if (h !== null) holders.set(h, (holders.get(h) ?? 0) + 1);
    }
    for (const p of load) if (!keepLists.has(p) && uncopied.has(p) && holders.get(payloads[p]!.payloadHash!) === 1) byRef.add(p);
  }

  const mountOf = (id: number): string => fsById.get(id)!.preferred_mount;
  // Where the planner may take a donor from (SnapshotPlanner.donorPlaces): copies elsewhere are not read into copiesBySha256.
  const donorPlace = opts.planner.donorPlaces?.(snapshot);
  // Inodes whose disk state differs from their catalog row (changed since the scan): never offered as donors. By
  // filesystem id, then inode (numbers: no key text made per file checked).
  const stale = new Map<number, Set<number>>();
  const markStale = (f: CatalogFile): void => {
    const inodes = stale.get(f.fsId);
    if (inodes === undefined) stale.set(f.fsId, new Set([f.ino]));
    else inodes.add(f.ino);
  };
  const isStale = (f: CatalogFile): boolean => stale.get(f.fsId)?.has(f.ino) === true;
  const changed = (f: CatalogFile, r: ReturnType<typeof liveInode>): boolean =>
    'code' in r || r.ino !== f.ino || (r.size !== undefined && r.size !== f.size) || (r.mtimeNs !== undefined && r.mtimeNs !== f.mtimeNs);
  const live =
    opts.liveCheck === false
      ? undefined
      : (f: CatalogFile): ReturnType<typeof liveInode> => {
          const r = liveInode(f);
          if (changed(f, r)) markStale(f);
          return r;
        };
  // Every active copy of every loaded payload file's content, on any filesystem: the snapshot's copiesBySha256 once
  // the changed copies are taken out (below).
  const copies = new Map<string, CatalogFile[]>();
  const known = (sha: string): boolean => copies.has(sha);
  // Payload files whose content has no other active copy (left out of copiesBySha256, see its contract), and the file
  // lists of loaded payloads whose every file is such (their summary counted no copy).
  const solos: CatalogFile[] = [];
  const soloLists: (readonly CatalogFile[])[] = [];
  // Without a live check, a payload left to the catalog needs no row at all.
  if (live === undefined) {
    for (const p of byRef) {
      load.delete(p);
      payloads[p]!.filesInCatalog = true;
    }
  }
  const loadOrder = [...load].sort((a, b) => (a < b ? -1 : 1));
  let loadFiles = 0;
  for (const p of loadOrder) loadFiles += payloads[p]!.fileCount;
  // The reading thread checks unclaimed payloads too while it waits (PayloadJobs.self): one core is its own, so a worker
  // per other core (at most 2, started above) — on 2 cores a second worker only added a thread, its heap and its connection.
  if (workers.pool !== null && (live === undefined || (opts.liveWorkers === undefined && loadFiles < LIVE_WORKERS_AT))) {
    workers.pool.close();
    workers.pool = null;
  }
  const pool = workers.pool;
  // Payloads left to the catalog whose summary this serial stored: the live verdict needs of them only the files that
  // differ from their rows and the summary's link lists, so their rows are not read here unless a file changed (or no
  // worker answered for them: then they are read and checked on this thread).
  const rowless = new Set<string>();
  if (live) for (const p of byRef) if (storedOf.has(p) && !bulkOf.has(p)) rowless.add(p);
  // Payloads the planner could leave to the catalog but that other rows hold content of (their summary counted copies):
  // with a stored summary, a directory range and one torrent holding them, the workers (or, without them, this thread)
  // answer with their check where those copies lie (PayloadJob.probe). When every one lies where no donor may lie
  // (donorPlace) and on no inode of the payload, readAndCollect would keep none of them: the payload is then left to
  // the catalog as a byRef one is, and its rows are not read here. Otherwise it is read, collected and decided as before.
  const probed = new Set<string>();
  if (live && donorPlace !== undefined && !all) {
    for (const p of load) {
      const payload = payloads[p]!;
      if (keepLists.has(p) || byRef.has(p) || uncopied.has(p) || !storedOf.has(p) || bulkOf.has(p) || payload.kind !== 'dir') continue;
      if (payload.payloadHash === null || holders.get(payload.payloadHash) !== 1) continue;
      if (prefixRange(relToMount(p, fsOf.get(p)!.preferred_mount)) === null) continue;
      probed.add(p);
    }
  }
  /** True when the probe's answer names no copy readAndCollect would keep (see `probed`). */
  const donorless = (copies: string | false | null): boolean => {
    if (copies === null || copies === false || donorPlace === undefined) return false;
    for (let from = 0; from < copies.length; ) {
      const s1 = copies.indexOf(' ', from);
      const s2 = s1 < 0 ? -1 : copies.indexOf(' ', s1 + 1);
      if (s2 < 0) return false;
      let end = copies.indexOf('\0', s2 + 1);
      if (end < 0) end = copies.length;
      const fs = fsById.get(Number(copies.slice(from, s1)));
      if (fs === undefined || donorPlace(absoluteCatalogPath(fs.preferred_mount, copies.slice(s2 + 1, end)))) return false;
      from = end + 1;
    }
    return true;
  };
  // Many files to check: every loaded payload is a job for the worker threads, which read its rows from the catalog at
  // this read's serial and lstat them while this thread reads the rows it keeps.
  const jobOf = new Map<string, number>();
  const jobs: PayloadJob[] = [];
  if (pool || probed.size > 0) {
    for (const p of loadOrder) {
      if (!pool && !probed.has(p)) continue;
      const fs = fsOf.get(p)!;
      const payload = payloads[p]!;
      const rel = relToMount(p, fs.preferred_mount);
      const range = prefixRange(rel);
      const linked = rowless.has(p) || probed.has(p) ? storedOf.get(p)!.linked.map((l) => l.path) : [];
      jobOf.set(p, jobs.length);
      jobs.push({
        fsId: fs.id,
        kind: payload.kind,
        rel,
        lo: range?.lo ?? null,
        hi: range?.hi ?? null,
        root: absoluteCatalogPath(fs.preferred_mount, rel),
        linked,
        files: payload.fileCount,
        bytes: payload.bytes,
        ...(probed.has(p) ? { probe: true as const } : {}),
      });
    }
  }
  pool?.start(jobs);
  const here = pool === null && probed.size > 0 ? ownPayloadCheck(catalog) : null;
  // First pass: the rows this thread keeps (and, with the live check, holds for the second pass), the copies of their
  // content. Second pass, with the live check, in load order: each payload's verdict, whether a payload is left to the
  // catalog, then the check of its copies — the order in which the changed inodes (`stale`) become known, as when
  // each payload was read, checked and decided in turn.
  const held = new Map<string, BulkPayload>();
  // Per payload: its copies on other inodes to check (on the workers: the handle of their submission).
  const copyChecks = new Map<string, { handle: number; files: CatalogFile[] } | CatalogFile[]>();
  // With the live check, what lies at the target paths is read before the verdicts, while the workers still check:
  // the candidates depend only on which payloads have lists (loaded, or left to the catalog — every rowless payload
  // ends as one or the other), never on a verdict or a donor (SnapshotPlanner.targets).
  let occupied: Record<string, CatalogFile[]> | undefined;
  // The answers of probed payloads, taken in the first pass (in load order, so that the payloads read still collect
  // their copies in the order they did) and used again by decideLive.
  const early = new Map<string, PayloadEntry[] | null>();
  try {
    if (live) {
      // Every payload of the load ends with its list or left to the catalog (decideLive), so the targets are known now:
      // read while the workers check, before the first pass waits on their answers.
      const marked = loadOrder.filter((p) => payloads[p]!.files === null && payloads[p]!.filesInCatalog === undefined);
      for (const p of marked) payloads[p]!.filesInCatalog = true;
      occupied = readOccupancy(catalog, opts.planner, snapshot, fsFor, ctx);
      for (const p of marked) delete payloads[p]!.filesInCatalog;
    }
    for (const p of loadOrder) {
      if (rowless.has(p)) continue;
      if (probed.has(p)) {
        const job = jobOf.get(p)!;
        const { entries: answer, probe } = pool ? { entries: pool.payload(job), probe: pool.probe(job) } : payloadHere(here!, jobs[job]!);
        early.set(p, answer);
        if (answer !== null && donorless(probe)) {
          byRef.add(p);
          rowless.add(p);
          continue;
        }
      }
      readAndCollect(p);
    }
    if (live) for (const p of loadOrder) decideLive(p, live);
  } finally {
    pool?.close();
    workers.pool = null;
  }

  /** The rows of a loaded payload, with the other links of its files when a live verdict needs them. */
  function readLoaded(rootPath: string): BulkPayload | null {
    const fs = fsOf.get(rootPath)!;
    const rel = relToMount(rootPath, fs.preferred_mount);
    // The inode links of a loaded payload matter only to a live consumer verdict (the summary's verdict stands
    // otherwise); a summary stored at this serial lists them already (`linked`: every file with another row or link).
    const summary = storedOf.get(rootPath);
    let bulk = bulkOf.get(rootPath) ?? reader.resolve(fs.id, fs.preferred_mount, rel, live !== undefined && summary === undefined);
    if (bulk && live && summary !== undefined && !bulkOf.has(rootPath)) bulk = { ...bulk, otherLinks: linksFromSummary(summary) };
    return bulk;
  }

  /** First pass: read a payload's rows, keep its list, and gather the copies of its content (see copiesBySha256). */
  function readAndCollect(rootPath: string): void {
    const payload = payloads[rootPath]!;
    const fs = fsOf.get(rootPath)!;
    const bulk = readLoaded(rootPath);
    if (!bulk) {
      // Gone from the catalog between the summary and now cannot happen inside one read transaction; never guess.
      delete payloads[rootPath];
      return;
    }
    const files = bulk.files;
    payload.files = files;
    if (live) held.set(rootPath, bulk);
    // Left to the catalog unless the live check finds a changed file (second pass); no other row holds its content.
    if (byRef.has(rootPath)) return;
    if (uncopied.has(rootPath)) {
      // No other row holds their content: each file is its content's only copy (what reader.copies would find), so
      // no other loaded payload can have put its sha256 into `copies` (that payload would hold a copy of it).
      if (live) soloLists.push(files);
      return;
    }
    const found = reader.copies(bulk, fs.id, relToMount(rootPath, fs.preferred_mount), mountOf, known);
    const own = new Set(files.map((f) => f.ino));
    if (donorPlace !== undefined) {
      // Copies where no donor may lie are left out (never checked on disk either); the paths of this payload's own
      // inodes stay (each list keeps at least the payload file it was found for).
      for (const list of found.values()) {
        let kept = 0;
        for (const c of list) if ((c.fsId === fs.id && own.has(c.ino)) || donorPlace(c.path)) list[kept++] = c;
        list.length = kept;
      }
    }
    if (live) {
      // Copies on other inodes than this payload's (whose files its verdict checks) are checked in the second pass.
      const others: CatalogFile[] = [];
      for (const list of found.values()) for (const c of list) if (!(c.fsId === fs.id && own.has(c.ino))) others.push(c);
      // On the workers too (a missing copy's failed lstat costs the reading thread an exception each); same verdicts.
      if (others.length > 0) copyChecks.set(rootPath, pool ? { handle: pool.submit(others), files: others } : others);
    }
    // Keys in payload-file order, as one lookup per file would insert them. A content whose only copy is the payload
    // file itself gets no key (the contract allows it; most payload files are such): nothing to look up, no memory.
    for (const f of files) {
      if (f.sha256 === null || known(f.sha256)) continue;
      const list = found.get(f.sha256) ?? [];
      if (list.length === 1 && list[0] === f) solos.push(f);
      else copies.set(f.sha256, list);
    }
  }

  /** Second pass (live check): the payload's consumer verdict, whether its list is left to the catalog, its copies' check. */
  function decideLive(rootPath: string, check: (f: CatalogFile) => ReturnType<typeof liveInode>): void {
    const payload = payloads[rootPath];
    if (!payload) return;
    const fs = fsOf.get(rootPath)!;
    const job = jobOf.get(rootPath);
    const answer = early.has(rootPath) ? early.get(rootPath)! : pool && job !== undefined ? pool.payload(job) : null;
    let bulk = held.get(rootPath);
    held.delete(rootPath);
    const verdict = (files: readonly CatalogFile[], linksOf: (f: CatalogFile) => readonly string[], answerOf: (f: CatalogFile) => ReturnType<typeof liveInode> | undefined): void => {
      const own = (f: CatalogFile): ReturnType<typeof liveInode> => {
        const r = answerOf(f);
        if (r === undefined) return { ino: f.ino, nlink: f.nlink, size: f.size, mtimeNs: f.mtimeNs };
        if (changed(f, r)) markStale(f);
        return r;
      };
      payload.consumers = consumerVerdict({ fsId: fs.id, files, fileCount: payload.fileCount, linksOf, seedingRoots, libraries, live: own, trashNames: trashOf(fs.id) });
    };
    if (bulk === undefined && answer !== null) {
      // Not read: the verdict from the files the workers report (those that differ, and those with other links — every
      // other file has one link, no other row and its row's state, so it can add nothing to the verdict), the links from
      // the summary. Only a reported file can hold an inode found changed (an inode's other rows make it linked).
      const others = linksFromSummary(storedOf.get(rootPath)!);
      const files: CatalogFile[] = answer.map((e) => ({ fsId: fs.id, path: e.path, ino: e.ino, size: e.size, mtimeNs: e.mtimeNs, nlink: e.nlink, sha256: null }));
      const liveOf = new Map(files.map((f, i) => [f, answer[i]!.live ?? undefined]));
      verdict(files, (f) => withOwn(f.path, others.get(f.path)), (f) => liveOf.get(f));
      if (!files.some(isStale)) {
        payload.files = null;
        payload.filesInCatalog = true;
        return checkCopies(rootPath, check);
      }
      // A changed file keeps the list (never a donor): read it now.
      bulk = readLoaded(rootPath) ?? undefined;
    }
    if (bulk === undefined) bulk = readLoaded(rootPath) ?? undefined;
    if (bulk === undefined) {
      delete payloads[rootPath];
      return;
    }
    const files = bulk.files;
    payload.files = files;
    // The workers report only files whose disk state differs from their row; any other file reads as its row.
    const differs = (answer !== null && files.length === payload.fileCount ? differencesOnRows(files, answer) : null) ?? (pool ? liveDifferences(files) : null);
    const links = bulk.otherLinks;
    verdict(files, (f) => withOwn(f.path, links.get(f.path)), differs ? (f) => differs.get(f) : check);
    if (byRef.has(rootPath)) {
      // Left to the catalog only when every file matched its row (a changed one must not be a donor: keep the list).
      if (!files.some(isStale)) {
        payload.files = null;
        payload.filesInCatalog = true;
      } else soloLists.push(files);
    }
    checkCopies(rootPath, check);
  }

  /** The check of a payload's copies on other inodes (gathered in the first pass): a changed copy is no donor. */
  function checkCopies(rootPath: string, check: (f: CatalogFile) => ReturnType<typeof liveInode>): void {
    const c = copyChecks.get(rootPath);
    if (c === undefined) return;
    copyChecks.delete(rootPath);
    if (Array.isArray(c)) for (const f of c) check(f);
    else for (const [f, r] of pool!.take(c.handle, c.files)) if (changed(f, r)) markStale(f);
  }
  if (stale.size > 0) {
    // The lists read (this reader's own arrays, referenced nowhere else) lose their changed copies in place.
    for (const list of copies.values()) {
      let kept = 0;
      for (const c of list) if (!isStale(c)) list[kept++] = c;
      list.length = kept;
    }
    // A sole copy that changed on disk is no donor: its key stays, empty, so the planner does not fall back to it.
    for (const f of solos) if (isStale(f)) copies.set(f.sha256!, []);
    for (const list of soloLists) for (const f of list) if (f.sha256 !== null && isStale(f)) copies.set(f.sha256, []);
  }
  snapshot.copiesBySha256 = copies;
  if (live) withPayloadMeta(payloads, copies);
  if (opts.stats) {
    let inCatalog = 0;
    for (const p of Object.values(payloads)) if (p.filesInCatalog) inCatalog++;
    Object.assign(opts.stats, { payloads: Object.keys(payloads).length, computed: bulkOf.size, loaded: load.size - (live === undefined ? 0 : inCatalog), ...(inCatalog > 0 ? { inCatalog } : {}) });
  }
  snapshot.integrityProblems = openProblemPaths(catalog);
  snapshot.occupiedPaths = occupied ?? readOccupancy(catalog, opts.planner, snapshot, fsFor, ctx);
  const links = readSymlinkTargets(catalog);
  holdBySymlinks(payloads, links);
  const unlinked = roots.find((r) => r.linksKnown === false);
  if (unlinked !== undefined) linksUnknown(payloads, unlinked);
  if (links.length > 0) snapshot.symlinks = links;
  return snapshot;
}

/**
 * A root last scanned by a version that recorded no symlinks may hold a link into any payload: none is known to have
 * no consumer until it is scanned again (a plan's refresh does it).
 */
function linksUnknown(payloads: Record<string, SnapshotPayload>, root: SnapshotRoot): void {
  const why = `${root.kind} root ${root.path} was last scanned by an older hashall, which recorded no symlinks: one there may reach this payload (scan it again; a plan's refresh does)`;
  for (const p of Object.values(payloads)) {
    if (p.consumers.status === 'none') p.consumers = { ...p.consumers, status: 'unknown', reasons: [...p.consumers.reasons, why] };
  }
}

/** A payload a recorded symlink reaches by path (src/catalog/symlinks.ts) is held as a hardlinked one is: it has a consumer. */
function holdBySymlinks(payloads: Record<string, SnapshotPayload>, links: readonly SymlinkTarget[]): void {
  for (const [root, holders] of symlinkHolders(Object.keys(payloads), links)) {
    const p = payloads[root]!;
    p.consumers = { ...p.consumers, status: 'some', symlinks: holders };
  }
}

/** Marks each torrent whose save path holds its libtorrent part file (`.<hash>.parts`) in the catalog (SnapshotTorrent.partFile). */
function attachPartFiles(torrents: SnapshotTorrent[], parts: readonly { fs_id: number; path: string }[], fsById: ReadonlyMap<number, FilesystemRow>): void {
  if (parts.length === 0) return;
  const byHash = new Map<string, SnapshotTorrent[]>();
  for (const t of torrents) byHash.set(t.hash, [...(byHash.get(t.hash) ?? []), t]);
  for (const p of parts) {
    const mount = fsById.get(p.fs_id)?.preferred_mount;
    const hash = partFileHash(baseName(p.path));
    if (mount === undefined || hash === null) continue;
    const abs = absoluteCatalogPath(mount, p.path);
    for (const t of byHash.get(hash) ?? []) {
      const rel = contentRelOf(t);
      if (t.hostContentPath === null || rel === null) continue;
      // The save path on the host: the content path less its part below the save path.
      const save = rel === '' ? t.hostContentPath : t.hostContentPath.endsWith(`/${rel}`) ? t.hostContentPath.slice(0, -rel.length - 1) : null;
      if (save !== null && dirName(abs) === save) t.partFile = abs;
    }
  }
}

/** Every active path of a payload file's inode: its own, then the others (consumerVerdict's linksOf). */
function withOwn(path: string, others: readonly string[] | undefined): readonly string[] {
  return others ? [path, ...others] : [path];
}

/** The other active paths of each payload file's inode as a stored summary lists them (the shape of BulkPayload.otherLinks). */
function linksFromSummary(s: PayloadSummary): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const l of s.linked) if (l.links.length > 0) out.set(l.path, l.links);
  return out;
}

/**
 * Owner, group and mode of every duplicate inode, read from disk (the planner links only inodes that agree). An inode
 * whose first path no longer has the catalogued inode, size and mtime, or cannot be read, gets none: unknown.
 */
export function withLiveMeta(dupes: DupeGroup[]): void {
  const metaAt = unchangedMetaReader();
  for (const g of dupes) {
    for (const i of g.inodes) {
      const p = i.paths[0];
      if (p === undefined) continue;
      const meta = metaAt(p, i.ino, g.size, i.mtimeNs);
      if (meta === null) delete i.meta;
      else i.meta = meta;
    }
  }
}

/**
 * The one reader of owner, group and mode behind withLiveMeta and withPayloadMeta: the inode at a path, read without
 * following it, must still be the catalogued one (a regular file; inode, size, mtime), else null (unknown). It uses the live check's
 * lstat (one per inode): the fs binding's numbers where they are exact, else fs.lstatSync's — the same answer as
 * liveInode at about half its cost (no BigInt stats, no Date objects; ~4k inodes in a 20k-file tree).
 */
function unchangedMetaReader(): (p: string, ino: number, size: number, mtimeNs: string) => InodeMeta | null {
  const lstat = exactLstat(fsBinding(), lstatSync as unknown as LstatFn, process.execPath);
  const opts = { bigint: true, throwIfNoEntry: false } as const;
  return (p, ino, size, mtimeNs) => {
    let st: ReturnType<LstatFn>;
    try {
      // A name that is not text (its bytes) goes to fs.lstatSync itself, as exactLstat would send it.
      const arg = fsPathArg(p);
      st = typeof arg === 'string' ? lstat(arg, opts) : lstatSync(arg, opts);
    } catch {
      st = undefined;
    }
    if (st === undefined || Number(st.ino) !== ino || Number(st.size) !== size || String(st.mtimeNs) !== mtimeNs) return null;
    // Only a regular file was catalogued: a symlink or a FIFO with the row's inode, size and mtime (an inode number
    // reused since the file was removed) is not it — unknown, never a link source.
    if ((Number(st.mode) & constants.S_IFMT) !== constants.S_IFREG) return null;
    return { uid: Number(st.uid), gid: Number(st.gid), mode: Number(st.mode) & 0o7777 };
  };
}

/**
 * Owner, group and mode (CatalogFile.meta) wherever a move may link a torrent's file from another inode
 * (src/plan/link-meta.ts): each loaded payload file whose content copiesBySha256 holds on another inode too (a
 * sibling's, a reuse or partly-present donor, another torrent's equal content), and each of those copies. Bounded: only
 * contents with a copy on another inode (copiesBySha256 keeps only copies where a donor may lie), each content's list
 * looked at once, each inode read once. An inode whose path no longer has the catalogued inode, size and mtime, or cannot
 * be read, gets none: unknown (as withLiveMeta), and the planner links nothing across it.
 */
export function withPayloadMeta(payloads: Record<string, SnapshotPayload>, copies: ReadonlyMap<string, readonly CatalogFile[]>): void {
  const read = new Map<string, InodeMeta | null>();
  const metaAt = unchangedMetaReader();
  const metaOf = (f: CatalogFile): void => {
    const key = `${f.fsId}:${f.ino}`;
    let meta = read.get(key);
    if (meta === undefined) {
      meta = metaAt(f.path, f.ino, f.size, f.mtimeNs);
      read.set(key, meta);
    }
    if (meta !== null) f.meta = meta;
  };
  // Per content with a key: the one inode all its copies are (null: two or more), and whether their metadata was read.
  const soleInode = new Map<string, CatalogFile | null>();
  const listRead = new Set<string>();
  for (const p of Object.values(payloads)) {
    for (const f of p.files ?? []) {
      if (f.sha256 === null) continue;
      const list = copies.get(f.sha256);
      if (list === undefined || list.length === 0) continue;
      let sole = soleInode.get(f.sha256);
      if (sole === undefined) {
        const first = list[0]!;
        sole = list.every((c) => c.fsId === first.fsId && c.ino === first.ino) ? first : null;
        soleInode.set(f.sha256, sole);
      }
      // The file's own inode is its content's only copy: nothing links across.
      if (sole !== null && sole.fsId === f.fsId && sole.ino === f.ino) continue;
      metaOf(f);
      if (!listRead.has(f.sha256)) {
        listRead.add(f.sha256);
        for (const c of list) metaOf(c);
      }
    }
  }
}

type Mount = HostPathContext['mounts'][number];

/** The mount that holds `p` now: the longest mount point at or above it (the later entry when one is mounted over another). */
function mountHolding(mounts: readonly Mount[], p: string): Mount | null {
  let best: Mount | null = null;
  for (const m of mounts) if (isAtOrUnder(p, m.mountPoint) && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  return best;
}

/**
 * mountHolding for many (normalized, absolute) paths: a path that is no mount point itself is held by what holds its
 * parent, and so on up — each directory's answer is kept, so the scan of every mount runs once per directory that
 * holds no mount point below the first one asked, not once per path: the thousands of unique target roots
 * (`<target>.hashall-<hash>/<name>`) each have a parent of their own, but share the few above it.
 */
function mountHolder(mounts: readonly Mount[]): (p: string) => Mount | null {
  const at = new Map<string, Mount>();
  for (const m of mounts) at.set(normalizePath(m.mountPoint), m); // the later entry of one mount point wins, as in mountHolding
  const byDir = new Map<string, Mount | null>();
  const holder = (p: string): Mount | null => {
    const own = at.get(p);
    if (own !== undefined) return own;
    let held = byDir.get(p);
    if (held !== undefined) return held;
    // The root, or a path dirName cannot shorten: asked of every mount, as before.
    const parent = dirName(p);
    held = parent === p || parent === '' || p.charCodeAt(0) !== 47 ? mountHolding(mounts, p) : holder(parent);
    byDir.set(p, held);
    return held;
  };
  return holder;
}

/**
 * What lies at each path the planner may target. A candidate is answered only when a completed scan of a root
 * at or above it on its filesystem exists, and the mount holding it now is that filesystem (another filesystem
 * mounted inside the seeding root was never scanned); otherwise it is left out (unknown), and the planner blocks.
 */
function readOccupancy(
  catalog: CatalogDb,
  planner: SnapshotPlanner,
  snapshot: CatalogSnapshot,
  fsFor: (p: string) => FilesystemRow | null,
  ctx: HostPathContext,
): Record<string, CatalogFile[]> {
  const scanned = catalog.db.prepare(`SELECT path, fs_id FROM scan_roots WHERE last_completed_at IS NOT NULL`).all() as { path: string; fs_id: number }[];
  const reader = payloadReader(catalog);
  const holder = mountHolder(ctx.mounts);
  const out: Record<string, CatalogFile[]> = {};
  for (const cand of planner.targets(snapshot)) {
    const fs = fsFor(cand);
    if (!fs || !isAtOrUnder(cand, fs.preferred_mount)) continue;
    if (!scanned.some((s) => s.fs_id === fs.id && isAtOrUnder(cand, s.path))) continue;
    if (holder(normalizePath(cand))?.majorMinor !== fs.dev) continue;
    out[cand] = reader.atOrUnder(fs.id, fs.preferred_mount, relToMount(cand, fs.preferred_mount)).map(({ id: _id, ...f }) => f);
  }
  return out;
}

/** The sync state of each configured instance (client_status and sync_sessions, migrations 12 and 17); never synced: syncedAt null. */
export function readClientStates(catalog: CatalogDb, instances: readonly string[]): Record<string, SnapshotClientState> {
  const get = catalog.db.prepare(`SELECT synced_at, failed_at, failure, own_folders FROM client_status WHERE client = ?`);
  // The sync sessions say the same of a success (client_status is written with each; older rows may lack it).
  const lastSession = catalog.db.prepare(`SELECT max(finished_at) FROM sync_sessions WHERE client = ?`).pluck();
  const out: Record<string, SnapshotClientState> = {};
  for (const name of instances) {
    const r = get.get(name) as { synced_at: number | null; failed_at: number | null; failure: string | null; own_folders: string | null } | undefined;
    const session = lastSession.get(name) as number | null;
    const syncedAt = r?.synced_at != null && session != null ? Math.max(r.synced_at, session) : (r?.synced_at ?? session);
    out[name] = { syncedAt, failedAt: r?.failed_at ?? null, failure: r?.failure ?? null, ownFolders: parseOwnFolders(r?.own_folders ?? null) };
  }
  return out;
}

/** client_status.own_folders as written by the sync; NULL or anything else: unknown (null). */
function parseOwnFolders(text: string | null): ClientFolder[] | null {
  if (text === null) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(v)) return null;
  const out: ClientFolder[] = [];
  for (const f of v as unknown[]) {
    const { role, path } = (f ?? {}) as { role?: unknown; path?: unknown };
    if (typeof path !== 'string' || !path.startsWith('/') || !CLIENT_FOLDER_ROLES.includes(role as ClientFolderRole)) return null;
    out.push({ role: role as ClientFolderRole, path });
  }
  return out;
}
