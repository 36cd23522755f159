// Orphan classification: every catalogued file under a seeding root is payload, consumer-held, in progress, hashall's own, excluded, unknown or orphan; orphan trees and what reclaiming them frees (pure).
//
// Must never: call a file an orphan while anything about it is unknown. The rules, in order, for a file under a
// seeding root (its canonical catalog path):
//   excluded     it matches an `orphans.exclude` glob (relative to its seeding root);
//   hashall      it lies in `.hashall-trash` or is one of hashall's temp files (`.hashall-*.part`);
//   payload      a torrent uses it: it lies at or under a torrent's payload root (the root the sync derived from the
//                torrent's file list: its folder, or the file of a one-file torrent), or — for a torrent without a
//                root folder — it is one of the torrent's listed files, or it is libtorrent's part file of the
//                torrent (`.<info-hash>.parts` in its save path);
//   client       it lies in a folder a client writes its own files to (its session or configuration, .torrent
//                copies, a watched or an incomplete-downloads folder: src/domain/client-folder.ts), as its last sync
//                read them — whatever its age or name;
//   in progress  an unfinished torrent holds it (content or download folder), it lies at or under the source of a
//                move waiting for its own retire, it has a client's in-progress name (`.!qB`, `.part`, `.!ut`), or it
//                was modified less than `orphans.minAge` ago;
//   consumer     one of its hardlinks lies outside every seeding root (a library import);
//   unknown      a torrent whose file list or place is unknown holds its folder; or it has more links than the catalog
//                knows (a link outside every scanned root); or a library root was never scanned and it has links;
//                or some torrent has no host spelling at all (it could be using any file);
//   orphan       none of the above.
// An orphan tree is the top-most directory under a seeding root whose catalogued files are all orphans — never the
// seeding root itself nor a category folder (clients and the *arr apps expect those; their orphan contents are
// reported one entry each) — or a single orphan file whose folder also holds other files.
// Blockers are the reasons no orphan is proven at all (they stop retirement; the report shows them): client never
// synced, or not since the last scan, or too long ago, or last synced by a version that did not ask for its folders; a
// seeding or library root not scanned (or too long ago); a torrent without a host path, without a file list, or in
// error / missing files / an unknown state; no client.
import { symlinkHolderOf } from '../domain/symlink-holds.js';
import { mapsOf } from './client-spelling.js';
import { torrentLabel } from '../domain/instance.js';
import type { HashallConfig } from '../config/types.js';
import { DEFAULT_ORPHANS } from '../config/types.js';
import type { CatalogFileMeta, SnapshotClientState, SnapshotRoot, SnapshotTorrent } from '../domain/snapshot.js';
import { compareBytes } from '../domain/payload-hash.js';
import { contentRelOf } from '../domain/listing.js';
import { baseName, dirName, isAtOrUnder, joinPath } from '../domain/path-string.js';
import { hostSpelling } from '../domain/path-map.js';
import { formatDuration } from '../domain/format-bytes.js';
import { globToRegExp } from '../policy/glob.js';
import { isSettled } from '../domain/torrent-phase.js';
import { describeClientFolder, type ClientFolderRole } from '../domain/client-folder.js';
import { NearestClaims, type Claim } from './nearest-claim.js';
import { TRASH_SEGMENT } from '../domain/trash-dir.js';
import { partFileName } from '../domain/part-file.js';

export type FileClass = 'payload' | 'consumer' | 'client' | 'in-progress' | 'hashall' | 'excluded' | 'unknown' | 'orphan';

export const FILE_CLASSES: readonly FileClass[] = ['payload', 'consumer', 'client', 'in-progress', 'hashall', 'excluded', 'unknown', 'orphan'];

/** What the catalog knows of an inode's other links (only for files with nlink > 1). */
export interface InodeLinks {
  /** Active catalog paths of the inode (the file's own included). */
  known: number;
  /** Of those, paths outside every seeding root (external consumers). */
  outside: number;
}

export interface OrphanInput {
  config: HashallConfig;
  now: number;
  /** Seeding and library roots with their last completed scan (snapshotRoots). */
  roots: readonly SnapshotRoot[];
  /** Every active torrent of the catalog. */
  torrents: readonly SnapshotTorrent[];
  /** How many files the sync recorded in a torrent's client file list (0 = the client reported none); asked only when its listing digest is null. */
  fileCount: (t: { client: string; hash: string }) => number;
  /** A torrent's client file list as synced (names relative to its save path); read only for torrents without a root folder. */
  torrentFiles: (t: { client: string; hash: string }) => readonly { name: string; size: number }[];
  /** The oldest last successful sync of the configured instances; null = one never synced. */
  lastSyncAt: number | null;
  /** Each configured instance's sync state: one that did not answer its last sync makes every verdict unknown. */
  clients?: Record<string, SnapshotClientState>;
  /** Config name of each catalog filesystem id (null = not configured). */
  fsName: (fsId: number) => string | null;
  /** What each recorded symlink names (canonical resolved path → the link): a file a link reaches is held by a consumer. */
  symlinks?: ReadonlyMap<string, string>;
  /**
   * The sources of open moves (relocations whose source is not retired yet): no torrent uses one any more, but its
   * move's own retire removes it, after the target has seeded for the observation window — in progress, never orphan.
   */
  moveSources?: readonly string[];
}

export interface OrphanFile extends CatalogFileMeta {
  /** Links of the inode outside the orphan trees (filled by orphanReport). */
  linkedElsewhere?: boolean;
}

export interface OrphanTree {
  fs: string;
  fsId: number;
  /** The tree's top: a directory, or one file. */
  path: string;
  kind: 'dir' | 'file';
  seedingRoot: string;
  files: OrphanFile[];
  bytes: number;
  fileCount: number;
  /** Newest modification time among its files, ms since the epoch. */
  newestMtimeMs: number;
  /** Bytes an orphan retirement would free: inodes whose every link lies in orphan trees, counted once. */
  freedBytes: number;
  /** Of freedBytes, content that also exists elsewhere (another inode with the same SHA-256: a payload, a library file, or an orphan tree counted before as its only copy). */
  duplicatedBytes: number;
  /** Of freedBytes, content with no other known copy outside the orphan trees, counted in the first tree that holds it (lost for good once every tree holding it is retired and purged). */
  uniqueBytes: number;
  /** Bytes of inodes also linked outside the orphan trees: reclaiming them frees nothing. */
  linkedBytes: number;
  /** Bytes of files whose full SHA-256 is not known (neither proven duplicated nor unique). */
  unhashedBytes: number;
  /** Why it is an orphan, in words. */
  why: string;
}

export interface OrphanClassification {
  /** Reasons nothing can be proven an orphan; empty = the classification is complete. */
  blockers: string[];
  /** Files per class. */
  counts: Record<FileClass, number>;
  bytes: Record<FileClass, number>;
  /** Trees sorted by path bytes; each with its files (filled with reclaim figures by orphanReport). */
  trees: OrphanTree[];
  /** Files classified unknown, a few, for the report (path → why). */
  unknownSamples: { path: string; why: string }[];
  /** The clients' own folders at, under or above a seeding root (their files are the client's), sorted by path. */
  clientFolders: { client: string; role: ClientFolderRole; path: string }[];
}

export interface OrphanClassifier {
  /** Every subtree a torrent claims (payload roots, download folders): the reader counts their files instead of handing each over. */
  subtrees(): string[];
  /** A claimed subtree (one of subtrees()) holds `count` catalog files of `bytes` below seeding root `root`. */
  subtree(path: string, root: string, count: number, bytes: number): void;
  /** Classify one file outside the claimed subtrees; `root` is the (longest) seeding root holding it, `links` its inode's links when nlink > 1. */
  file(row: CatalogFileMeta, root: string, links: InodeLinks | null): FileClass;
  finish(): OrphanClassification;
}

const IN_PROGRESS_SUFFIXES = ['.!qB', '.part', '.!ut'];
const HASHALL_TEMP = /^\.hashall-.*\.part$/s;
const UNSAFE_PHASES = new Set(['error', 'missing-files', 'unknown']);
const SAMPLES = 20;

interface DirAgg {
  orphans: number;
  others: number;
}

function describeTorrent(t: SnapshotTorrent): string {
  return `torrent "${t.name}" (${torrentLabel(t)})`;
}

/** True when `rel` (below a seeding root) is a category folder or a prefix of one (`cross-seed` of `cross-seed/{tracker}`). */
export function isCategoryFolder(config: HashallConfig, rel: string): boolean {
  const parts = rel.split('/');
  for (const c of Object.values(config.categories)) {
    const segs = c.path.split('/').filter(Boolean);
    if (parts.length <= segs.length && parts.every((seg, i) => /^\{[^}]*\}$/.test(segs[i]!) || segs[i] === seg)) return true;
  }
  return false;
}

/** Reasons the whole classification is unknown, from the roots, the sync and the torrents (see the rules above). */
function globalBlockers(input: OrphanInput): string[] {
  const { config, now, roots, lastSyncAt } = input;
  const out: string[] = [];
  const maxMs = config.safety.maxScanAgeHours * 3_600_000;
  for (const r of roots) {
    const what = r.kind === 'seeding' ? 'seeding root' : 'library root';
    if (r.lastScanAt === null) out.push(`${what} ${r.path} has never been scanned (run \`hashall scan\`)`);
    else if (now - r.lastScanAt > maxMs) out.push(`${what} ${r.path} was last scanned ${formatDuration(now - r.lastScanAt)} ago, longer than safety.maxScanAgeHours`);
    else if (r.linksKnown === false) out.push(`${what} ${r.path} was last scanned by an older hashall, which recorded no symlinks: one there may reach what looks unused (scan it again)`);
  }
  if (Object.keys(config.clients).length === 0) {
    out.push('no torrent client is configured in hashall.yaml, so nothing proves that no torrent uses the data under the seeding roots');
    return out;
  }
  for (const [name, c] of Object.entries(input.clients ?? {})) {
    if (c.failedAt !== null) out.push(`torrent client "${name}" did not answer its last sync, so what its torrents use now is unknown (refresh when it is back)`);
    if (c.syncedAt !== null && c.ownFolders === null) {
      out.push(`torrent client "${name}" was last synced by an older hashall, which did not ask which folders it keeps its own files in (session, .torrent copies, watched, incomplete): refresh, or run \`hashall sync\``);
    }
  }
  if (lastSyncAt === null) out.push('the torrent client has never been synced (refresh, or run `hashall sync`)');
  else {
    if (now - lastSyncAt > maxMs) out.push(`the torrent client was last synced ${formatDuration(now - lastSyncAt)} ago, longer than safety.maxScanAgeHours (refresh, or run \`hashall sync\`)`);
    const lastScan = Math.max(...roots.filter((r) => r.kind === 'seeding').map((r) => r.lastScanAt ?? 0), 0);
    if (lastSyncAt < lastScan) out.push('the torrent client was not synced after the last scan (was it unreachable during the refresh?): a torrent added since may use what the scan found; refresh, or run `hashall sync`');
  }
  return out;
}

export function orphanClassifier(input: OrphanInput): OrphanClassifier {
  const { config, now } = input;
  const policy = config.orphans ?? DEFAULT_ORPHANS;
  // mtimes are decimal nanosecond strings without leading zeros: compare by length, then as text (no BigInt per file).
  const youngAfter = String(BigInt(Math.max(0, now - policy.minAgeMs)) * 1_000_000n);
  const young = (mtimeNs: string): boolean => mtimeNs.length > youngAfter.length || (mtimeNs.length === youngAfter.length && mtimeNs > youngAfter);
  const excludes = policy.exclude.map(globToRegExp);
  const symlinks = input.symlinks !== undefined && input.symlinks.size > 0 ? input.symlinks : null;
  const hostOf = (t: SnapshotTorrent, clientPath: string): string | null => {
    const maps = mapsOf(config, t.client);
    return clientPath === '' ? null : hostSpelling(maps, clientPath);
  };
  const blockers = globalBlockers(input);
  const seedingRoots = input.roots.filter((r) => r.kind === 'seeding').map((r) => r.path);
  const unscannedLibrary = input.roots.some((r) => r.kind === 'library' && r.lastScanAt === null);

  // Claims of the torrents: subtrees (payload roots, download folders; the nearest at or above a file claims it, the
  // most careful word of one path: src/plan/nearest-claim.ts) and exact files (torrents without a root folder).
  const subtree = new NearestClaims();
  const exact = new NearestClaims();
  let everywhere: string | null = null;
  for (const t of [...input.torrents].sort((a, b) => compareBytes(a.hash, b.hash) || compareBytes(a.client, b.client))) {
    const who = describeTorrent(t);
    const place = t.hostContentPath ?? hostOf(t, t.clientContentPath);
    if (UNSAFE_PHASES.has(t.phase)) blockers.push(`${who} is ${t.phase} (${t.rawState}): what it uses cannot be proven`);
    if (place === null) {
      const why = `${who} has no host spelling (${t.unmappedReason ?? (t.clientContentPath || 'no content path')}), so it may be using any file`;
      blockers.push(why);
      everywhere ??= why;
      continue;
    }
    const settled = isSettled(t);
    const cls: Claim['cls'] = settled ? 'payload' : 'in-progress';
    const why = settled ? `used by ${who}` : `${who} is ${t.phase} (${t.rawState}); the client may still write it`;
    // A listing digest exists only for a non-empty list that maps onto a root (src/domain/listing.ts).
    if (t.listingDigest === null && input.fileCount(t) === 0) {
      blockers.push(`${who} has no file list in the catalog (no metadata yet, or the client reported none)`);
      subtree.set(place, { cls: 'unknown', why: `${who} holds this folder but its file list is unknown` });
    } else if (contentRelOf(t) === '') {
      // No root folder: the save directory holds its files beside other content; only its own files are its.
      for (const f of input.torrentFiles(t)) exact.set(joinPath(place, f.name), { cls, why });
    } else {
      subtree.set(place, { cls, why });
    }
    // A file list that does not lie under the content path the client reports (a client's content path that does not
    // follow a renamed root folder — Deluge's did before it was taken from the file list; a list naming a file twice; a
    // content path outside the save path): the files the client names, where it names them — in the save path — are
    // the torrent's too. The claim above alone would leave the renamed folder to no one: an orphan, retired while it seeds.
    if (t.listingDigest === null && input.fileCount(t) > 0 && contentRelOf(t) !== '') {
      const save = hostOf(t, t.clientSavePath);
      if (save === null) {
        const unknown = `${who}'s file list does not lie under its content path and its save path ${t.clientSavePath || '(none)'} has no host spelling, so it may be using any file`;
        blockers.push(unknown);
        everywhere ??= unknown;
        continue;
      }
      for (const f of input.torrentFiles(t)) {
        const first = f.name.split('/').find((seg) => seg !== '' && seg !== '.');
        if (first !== undefined && first !== '..') subtree.set(joinPath(save, first), { cls, why });
        exact.set(joinPath(save, f.name), { cls, why });
      }
    }
    const dl = hostOf(t, t.clientDownloadPath);
    if (dl !== null) subtree.set(dl, { cls: 'in-progress', why: `in the download (temp) folder of ${who}` });
    // libtorrent (qBittorrent, Deluge) keeps the pieces its unwanted files share with wanted ones in `.<hash>.parts`
    // in the save path, beside the payload: the torrent's too.
    const save = hostOf(t, t.clientSavePath);
    if (save !== null) exact.set(joinPath(save, partFileName(t.hash)), { cls, why: `libtorrent's part file of ${who}` });
  }

  // A move's source waits for its own retire: in progress (a torrent's claim at the same place, if any, says more).
  for (const source of input.moveSources ?? []) {
    subtree.set(source, { cls: 'in-progress', why: 'the source of a move waiting for its own retire (after the target has seeded for the observation window)' });
  }

  // The clients' own folders: every file in one is the client's (a payload claimed deeper still wins, being nearer).
  const clientFolders: OrphanClassification['clientFolders'] = [];
  for (const [name, c] of Object.entries(input.clients ?? {})) {
    for (const f of c.ownFolders ?? []) {
      subtree.set(f.path, { cls: 'client', why: `in ${describeClientFolder(f.role, name)}` });
      if (seedingRoots.some((r) => isAtOrUnder(f.path, r) || isAtOrUnder(r, f.path))) clientFolders.push({ client: name, role: f.role, path: f.path });
    }
  }
  clientFolders.sort((a, b) => compareBytes(a.path, b.path) || compareBytes(a.client, b.client) || compareBytes(a.role, b.role));

  const counts = Object.fromEntries(FILE_CLASSES.map((c) => [c, 0])) as Record<FileClass, number>;
  const bytes = Object.fromEntries(FILE_CLASSES.map((c) => [c, 0])) as Record<FileClass, number>;
  const unknownSamples: { path: string; why: string }[] = [];
  const dirs = new Map<string, DirAgg>();
  const orphansByDir = new Map<string, OrphanFile[]>();
  const rootOfDir = new Map<string, string>();
  let lastDir = '';
  let lastDirClaim: Claim | null = null;
  let lastAgg: DirAgg | null = null;

  const decide = (row: CatalogFileMeta, root: string, links: InodeLinks | null): { cls: FileClass; why?: string } => {
    if (excludes.length > 0) {
      const rel = row.path.slice(root.length + 1);
      if (excludes.some((re) => re.test(rel))) return { cls: 'excluded' };
    }
    const name = baseName(row.path);
    if (row.path.includes(TRASH_SEGMENT) || HASHALL_TEMP.test(name)) return { cls: 'hashall' };
    const claim = exact.at(row.path) ?? subtree.at(row.path) ?? lastDirClaim;
    if (claim) return { cls: claim.cls, why: claim.why };
    if (IN_PROGRESS_SUFFIXES.some((s) => name.endsWith(s))) return { cls: 'in-progress' };
    if (symlinks !== null && symlinkHolderOf(symlinks, row.path) !== null) return { cls: 'consumer' };
    if (row.nlink > 1) {
      if (links && links.outside > 0) return { cls: 'consumer' };
      if (!links || links.known < row.nlink) return { cls: 'unknown', why: `${row.path} has ${row.nlink} links but the catalog knows ${links?.known ?? 1}: a link lives outside every scanned root` };
      if (unscannedLibrary) return { cls: 'unknown', why: `${row.path} has other links and a library root was never scanned` };
    }
    if (young(row.mtimeNs)) return { cls: 'in-progress', why: `modified less than ${formatDuration(policy.minAgeMs)} ago` };
    if (everywhere !== null) return { cls: 'unknown', why: everywhere };
    return { cls: 'orphan' };
  };

  const aggOf = (dir: string, root: string): DirAgg => {
    let agg = dirs.get(dir);
    if (!agg) {
      agg = { orphans: 0, others: 0 };
      dirs.set(dir, agg);
      rootOfDir.set(dir, root);
    }
    return agg;
  };

  return {
    subtrees: () => subtree.paths(),
    subtree(path, root, count, size) {
      const claim = subtree.at(path);
      const cls: FileClass = claim?.cls ?? 'unknown';
      counts[cls] += count;
      bytes[cls] += size;
      // Its files are not orphans: the folder holding it is not an orphan tree.
      aggOf(path === root ? path : dirName(path), root).others += count;
      if (cls === 'unknown' && unknownSamples.length < SAMPLES) unknownSamples.push({ path, why: claim?.why ?? 'unknown' });
    },
    file(row, root, links) {
      const slash = row.path.lastIndexOf('/');
      const dir = slash <= 0 ? '/' : row.path.slice(0, slash);
      if (dir !== lastDir || lastAgg === null) {
        lastDir = dir;
        lastDirClaim = subtree.above(dir);
        lastAgg = aggOf(dir, root);
      }
      const { cls, why } = decide(row, root, links);
      counts[cls] += 1;
      bytes[cls] += row.size;
      if (cls === 'orphan') {
        lastAgg.orphans += 1;
        const list = orphansByDir.get(dir);
        const f: OrphanFile = { fsId: row.fsId, path: row.path, ino: row.ino, size: row.size, mtimeNs: row.mtimeNs, nlink: row.nlink };
        if (list) list.push(f);
        else orphansByDir.set(dir, [f]);
      } else {
        lastAgg.others += 1;
        if (cls === 'unknown' && unknownSamples.length < SAMPLES) unknownSamples.push({ path: row.path, why: why ?? 'unknown' });
      }
      return cls;
    },
    finish() {
      const trees = orphanTrees(config, dirs, orphansByDir, rootOfDir, input.fsName);
      return { blockers: [...new Set(blockers)], counts, bytes, trees, unknownSamples, clientFolders };
    },
  };

  /** Roll directory counts up to the seeding roots, then pick the top-most all-orphan entries. */
  function orphanTrees(
    cfg: HashallConfig,
    leafDirs: Map<string, DirAgg>,
    filesByDir: Map<string, OrphanFile[]>,
    rootOf: Map<string, string>,
    fsName: (id: number) => string | null,
  ): OrphanTree[] {
    const total = new Map<string, DirAgg>();
    const children = new Map<string, Set<string>>();
    const ordered = [...leafDirs.keys()].sort((a, b) => b.length - a.length);
    for (const d of ordered) {
      const root = rootOf.get(d)!;
      const own = leafDirs.get(d)!;
      for (let p = d; ; p = dirName(p)) {
        const agg = total.get(p) ?? { orphans: 0, others: 0 };
        agg.orphans += own.orphans;
        agg.others += own.others;
        total.set(p, agg);
        if (!rootOf.has(p)) rootOf.set(p, root);
        if (p === root || !isAtOrUnder(p, root)) break;
        const parent = dirName(p);
        const set = children.get(parent) ?? new Set<string>();
        set.add(p);
        children.set(parent, set);
      }
    }
    const out: OrphanTree[] = [];
    const filesUnder = (dir: string): OrphanFile[] => {
      const acc: OrphanFile[] = [...(filesByDir.get(dir) ?? [])];
      for (const c of children.get(dir) ?? []) acc.push(...filesUnder(c));
      return acc;
    };
    const emit = (top: string, kind: 'dir' | 'file', root: string, files: OrphanFile[]): void => {
      if (files.length === 0) return;
      files.sort((a, b) => compareBytes(a.path, b.path));
      const fsId = files[0]!.fsId;
      let newest = 0n;
      let sum = 0;
      for (const f of files) {
        sum += f.size;
        const m = BigInt(f.mtimeNs);
        if (m > newest) newest = m;
      }
      out.push({
        fs: fsName(fsId) ?? `fs#${fsId}`,
        fsId,
        path: top,
        kind,
        seedingRoot: root,
        files,
        bytes: sum,
        fileCount: files.length,
        newestMtimeMs: Number(newest / 1_000_000n),
        freedBytes: 0,
        duplicatedBytes: 0,
        uniqueBytes: 0,
        linkedBytes: 0,
        unhashedBytes: 0,
        why:
          kind === 'dir'
            ? `no torrent uses any of its ${files.length} file(s), no external consumer links them, and none was modified in the last ${formatDuration(policy.minAgeMs)}`
            : `no torrent uses it, no external consumer links it, and it was not modified in the last ${formatDuration(policy.minAgeMs)}`,
      });
    };
    const visit = (dir: string, root: string): void => {
      const agg = total.get(dir);
      if (!agg || agg.orphans === 0) return;
      const protectedDir = dir === root || isCategoryFolder(cfg, dir.slice(root.length + 1));
      if (agg.others === 0 && !protectedDir) {
        emit(dir, 'dir', root, filesUnder(dir));
        return;
      }
      for (const f of filesByDir.get(dir) ?? []) emit(f.path, 'file', root, [f]);
      for (const c of [...(children.get(dir) ?? [])].sort(compareBytes)) visit(c, root);
    };
    const tops = [...new Set(seedingRoots)].filter((r) => !seedingRoots.some((o) => o !== r && isAtOrUnder(r, o)));
    for (const r of tops.sort(compareBytes)) visit(r, r);
    return out.sort((a, b) => compareBytes(a.path, b.path));
  }
}

/**
 * Reclaim figures of each tree, and totals per filesystem. An inode is freed when every one of its links lies in the
 * orphan trees (counted once); `content` says, for a freed inode, whether its full SHA-256 is known and whether another
 * inode outside the trees holds the same content (the catalog answers it: src/catalog/orphan-rows.ts).
 */
export function orphanReport(c: OrphanClassification, content: (f: OrphanFile) => 'unhashed' | 'duplicated' | 'unique'): OrphanReport {
  const perFs = new Map<string, FsOrphanTotals>();
  const counted = new Set<string>();
  const inTrees = new Map<string, number>();
  for (const t of c.trees) for (const f of t.files) inTrees.set(`${f.fsId}:${f.ino}`, (inTrees.get(`${f.fsId}:${f.ino}`) ?? 0) + 1);
  for (const t of c.trees) {
    for (const f of t.files) {
      const key = `${f.fsId}:${f.ino}`;
      if (counted.has(key)) continue;
      counted.add(key);
      if ((inTrees.get(key) ?? 0) < f.nlink) {
        f.linkedElsewhere = true;
        t.linkedBytes += f.size;
        continue;
      }
      t.freedBytes += f.size;
      const what = content(f);
      if (what === 'unhashed') t.unhashedBytes += f.size;
      else if (what === 'duplicated') t.duplicatedBytes += f.size;
      else t.uniqueBytes += f.size;
    }
    const tot = perFs.get(t.fs) ?? { fs: t.fs, trees: 0, files: 0, bytes: 0, freedBytes: 0, duplicatedBytes: 0, uniqueBytes: 0, linkedBytes: 0, unhashedBytes: 0 };
    tot.trees += 1;
    tot.files += t.fileCount;
    tot.bytes += t.bytes;
    tot.freedBytes += t.freedBytes;
    tot.duplicatedBytes += t.duplicatedBytes;
    tot.uniqueBytes += t.uniqueBytes;
    tot.linkedBytes += t.linkedBytes;
    tot.unhashedBytes += t.unhashedBytes;
    perFs.set(t.fs, tot);
  }
  return { ...c, proven: c.blockers.length === 0, totals: [...perFs.values()].sort((a, b) => compareBytes(a.fs, b.fs)) };
}

export interface FsOrphanTotals {
  fs: string;
  trees: number;
  files: number;
  bytes: number;
  freedBytes: number;
  duplicatedBytes: number;
  uniqueBytes: number;
  linkedBytes: number;
  unhashedBytes: number;
}

export interface OrphanReport extends OrphanClassification {
  /** True when nothing blocks: the trees are proven orphans. */
  proven: boolean;
  totals: FsOrphanTotals[];
}
