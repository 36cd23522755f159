// The read-only view of catalog + last client sync that the pure planner consumes (pure types).
import type { SymlinkTarget } from './symlink-holds.js';
import type { TorrentPhase } from './torrent-phase.js';
import type { ClientFolder } from './client-folder.js';

/** A filesystem known to the catalog, joined with its config name (null when not configured). */
export interface SnapshotFilesystem {
  id: number;
  name: string | null;
  /** Stable identity: filesystem UUID, ZFS guid, or the documented fallback. */
  uuid: string;
  /** Preferred (canonical) mount point; catalog paths are relative to it. */
  mountPoint: string;
  fsType: string;
  /** Free bytes measured at the last refresh (statfs), null if unknown. */
  freeBytes: number | null;
  /**
   * False when its mount keeps no file permissions (NTFS through ntfs-3g without `-o permissions`, read from mountinfo
   * when the snapshot was read): hashall's private trash cannot live there, so nothing on it is retired. Absent: kept.
   */
  permissionsKept?: boolean;
}

export interface SnapshotRoot {
  /** Canonical absolute path. */
  path: string;
  kind: 'seeding' | 'library';
  /** Config filesystem name the root belongs to (seeding roots), null for libraries. */
  fsName: string | null;
  fsId: number | null;
  /** Last completed scan of this root (or of an ancestor root), epoch ms; null = never scanned. */
  lastScanAt: number | null;
  /** False when that scan was an older version's, which recorded no symlinks (src/catalog/symlinks.ts): links into payloads unknown. */
  linksKnown?: boolean;
}

/** One catalog file (active row) without its hashes: its canonical absolute path and its stamp (what the orphan classification reads). */
export interface CatalogFileMeta {
  fsId: number;
  /** Canonical absolute path. */
  path: string;
  ino: number;
  size: number;
  /** Modification time in nanoseconds, as a decimal string (exceeds 2^53). */
  mtimeNs: string;
  nlink: number;
}

/** One catalog file (active row), with canonical absolute path. */
export interface CatalogFile extends CatalogFileMeta {
  sha256: string | null;
  /**
   * Owner, group and mode of its inode as the snapshot reader found them on disk (lstat of the path, which must still
   * have the catalogued inode, size and mtime), read only where a move may link a torrent's file from another inode
   * (src/plan/link-meta.ts): a loaded payload file whose content the catalog holds on another inode (copiesBySha256),
   * and each of those other inodes. Absent = unknown or not read — the planner then never links the one to the other
   * (dedupe's rule: see DupeGroup).
   */
  meta?: InodeMeta;
}

/** A payload file: a catalog file plus its path relative to the payload root. */
export interface PayloadFile extends CatalogFile {
  /** Relative to the payload root; the basename for a single-file payload. */
  relpath: string;
}

export type ConsumerStatus = 'none' | 'some' | 'unknown';

/** The on-disk content a torrent points to (or a relocation source), as the catalog knows it. */
export interface SnapshotPayload {
  /** Canonical absolute path of the payload root (file or directory). */
  rootPath: string;
  fsId: number;
  kind: 'file' | 'dir';
  /** SHA-256 over sorted `relpath|size|sha256\n` lines; null while any file lacks a full hash. */
  payloadHash: string | null;
  /** Number of files, their total size, and how many lack a full SHA-256 (always present). */
  fileCount: number;
  bytes: number;
  missingHashes: number;
  /** listingDigest (src/domain/listing.ts) of the files' (relpath, size) pairs: equal to a torrent's ⇔ the torrent lists exactly these files. */
  listingDigest: string;
  /**
   * The files, sorted by relpath bytes — or null when the reader did not load them. The reader loads them (and the
   * copies of their content into copiesBySha256) for every payload the planner can act on: the payloads of every
   * group `detailNeeds` (src/plan/needs.ts) names, every relocation source and target, and every payload whose
   * listing differs from one of its torrents'. The planner blocks a group that needs files it was not given.
   */
  files: PayloadFile[] | null;
  /**
   * True when `files` is null although the planner may act on the payload: its files are the catalog's active rows at
   * or under rootPath at the snapshot's serial (a plan names them by reference), no other active row holds the content
   * of any of them (so no donor exists anywhere but the payload itself) — or, when the reader checked the disk, every
   * other such row lies where no donor may lie (SnapshotPlanner.donorPlaces) on another inode —, and, when the reader checked the disk, each
   * matched its row. The reader sets it for a payload only one torrent's group holds (no sibling), so a move needs no
   * file of it: one copy of the whole payload, one view. Absent: `files` null means not loaded.
   */
  filesInCatalog?: true;
  /** Seeding root containing this payload (canonical), null = outside every seeding root. */
  seedingRoot: string | null;
  consumers: {
    status: ConsumerStatus;
    /** Canonical paths outside every seeding root that share an inode with a payload file. */
    paths: string[];
    /** Symlinks (canonical paths of the links) that reach the payload by path — its root, a file in it, a folder above it: consumers too. */
    symlinks?: string[];
    /** Why the status is unknown (library root not scanned, file not in catalog, ...). */
    reasons: string[];
  };
}

export interface SnapshotTorrent {
  /** Client instance name: a torrent is identified by (client, hash); the same hash may be seeded by two instances. */
  client: string;
  hash: string;
  name: string;
  category: string;
  tags: string[];
  tracker: string | null;
  phase: TorrentPhase;
  rawState: string;
  running: boolean;
  progress: number;
  amountLeft: number;
  size: number;
  autoTmm: boolean;
  addedOn: number | null;
  completionOn: number | null;
  seedingTimeSec: number;
  /** As the client reports them. */
  clientSavePath: string;
  clientContentPath: string;
  clientDownloadPath: string;
  /** Canonical host path of content_path; null when no path map translates it. */
  hostContentPath: string | null;
  /** Why hostContentPath is null / untrustworthy, if it is. */
  unmappedReason: string | null;
  /**
   * The client's file list (names relative to the save path, sizes; `wanted: false` for a file the client will not
   * download); null when the reader did not load it: it loads it when listingDigest is null or differs from its
   * payload's (the planner then says what differs), or on request.
   */
  files: { name: string; size: number; wanted?: false }[] | null;
  /** clientListingDigest (src/domain/listing.ts) of the file list as recorded by the sync; null when it does not map or was not recorded. */
  listingDigest: string | null;
  /**
   * libtorrent's part file of this torrent (`.<hash>.parts` in its save path: the pieces its unwanted files share with
   * wanted ones), canonical path, when the catalog holds one. A move of the torrent makes libtorrent move it itself.
   */
  partFile?: string;
  /** Epoch ms of the client sync that recorded this torrent. */
  syncedAt: number;
}

/** One client instance's last sync outcome (catalog table client_status). */
export interface SnapshotClientState {
  /** Epoch ms of its last successful sync; null = never synced. */
  syncedAt: number | null;
  /** Epoch ms of its last failed sync attempt when newer than its last success, else null. */
  failedAt: number | null;
  /** Why that attempt failed (redacted client error text). */
  failure: string | null;
  /**
   * The folders the instance writes its own files to, as its last successful sync read them (canonical host paths);
   * null = unknown (never synced, or synced by a version that did not ask).
   */
  ownFolders: readonly ClientFolder[] | null;
}

/** A relocation recorded by apply: torrents were repointed from source to target at `repointedAt`. */
export interface SnapshotRelocation {
  id: number;
  payloadHash: string;
  sourceFsId: number;
  sourceRoot: string;
  targetFsId: number;
  targetRoot: string;
  torrentHashes: string[];
  /** Instance of each torrent of torrentHashes (same order); absent: every one is of the single instance `default`. */
  torrentClients?: string[];
  repointedAt: number; // epoch ms
  retiredAt: number | null;
  /**
   * The last sync that saw one of its torrents at the target and not settled, and what it saw (absent or null: never):
   * the observation window counts from the later of this and repointedAt.
   */
  unhealthy?: { at: number; what: string } | null;
}

/** What every path of an inode shows besides its bytes: owner, group and permission bits (mode & 0o7777). */
export interface InodeMeta {
  uid: number;
  gid: number;
  mode: number;
}

/** Files with equal size and full SHA-256 on one filesystem, grouped by inode. */
export interface DupeGroup {
  fsId: number;
  size: number;
  sha256: string;
  /**
   * `meta`: owner, group and mode as the snapshot reader found them on disk (lstat of the inode, which must still
   * have the catalogued inode, size and mtime); absent = unknown (not checked, changed since the scan, unreadable) —
   * the planner never links an inode whose metadata it does not know.
   */
  inodes: { ino: number; nlink: number; mtimeNs: string; paths: string[]; meta?: InodeMeta }[];
}

export interface CatalogSnapshot {
  lineage: string;
  serial: number;
  filesystems: SnapshotFilesystem[];
  roots: SnapshotRoot[];
  torrents: SnapshotTorrent[];
  /** Keyed by canonical root path; every torrent payload and every unretired relocation source. */
  payloads: Record<string, SnapshotPayload>;
  /**
   * For every payload whose files are loaded (see SnapshotPayload.files): every active catalog file whose sha256
   * equals that of one of its files, keyed by sha256 (when the reader
   * checks the disk: minus files whose inode, size or mtime changed since the scan — they are no donors; when the
   * planner names where donors may lie, SnapshotPlanner.donorPlaces: minus the copies elsewhere, but for the payload
   * files and the other paths of their inodes). A sha256 whose ONLY such file is a payload file itself (and, when
   * checked, unchanged on disk) may have no key: a missing key means "the payload files with that sha256 are its only
   * copies" (the planner treats a payload's own files as the copies on its filesystem), never "unknown". An empty list
   * means no usable copy.
   * A Map: the reader fills it by the tens of thousands, and an object of that many keys is a slow dictionary.
   */
  copiesBySha256: ReadonlyMap<string, CatalogFile[]>;
  relocations: SnapshotRelocation[];
  dupes: DupeGroup[];
  /** Epoch ms of the oldest last successful sync of the configured instances; null = some instance never synced. */
  lastSyncAt: number | null;
  /**
   * Each configured instance's sync state by name. An instance whose last sync attempt failed after its last success
   * (failedAt set) is unreachable: what it seeds now is unknown, and the planner blocks every group that touches it.
   * Absent in snapshots built without it: no instance is known to be down.
   */
  clients?: Record<string, SnapshotClientState>;
  /** The symlinks the scans recorded (src/catalog/symlinks.ts), by canonical paths; the reader already marked the payloads they reach as held. Absent = none known. */
  symlinks?: readonly SymlinkTarget[];
  /**
   * What already lies at the places the planner may move payloads to (hitchhiker protection). Keyed by every
   * canonical path that the reader's `SnapshotPlanner.targets` (the planner's `targetCandidates`,
   * src/plan/target-path.ts) returns for the snapshot without this field; value = every active catalog file whose canonical path is that path or lies
   * under it (empty array = nothing there). A candidate missing from the record is unknown, and the planner
   * blocks a group that needs it; a snapshot without the field blocks every move and reuse.
   */
  occupiedPaths?: Record<string, CatalogFile[]>;
  /**
   * Every active path whose inode has an open integrity problem (src/catalog/integrity.ts): corrupted bytes or unreadable.
   * The planner blocks any group that would copy, link, dedupe or retire with one. Absent = none known.
   */
  integrityProblems?: IntegritySnapshotProblem[];
}

/** A file known to be bad: corrupted (same size and mtime, other bytes) or unreadable when last verified. */
export interface IntegritySnapshotProblem {
  path: string;
  kind: 'corrupted' | 'unreadable';
}

/**
 * What the snapshot reader asks of the planner while it reads (the planner is handed in; the catalog never imports
 * it): which payloads' file lists the groups that act need, and which target paths' occupancy it may consult.
 * `snapshotPlanner(config, now)` (src/plan/needs.ts) is the planner's answer; reports that plan nothing pass
 * {@link NO_PLANNER}.
 */
export interface SnapshotPlanner {
  /** Payload roots to load beyond `loaded` (see detailNeeds). */
  needs(snapshot: CatalogSnapshot, loaded: ReadonlySet<string>): Iterable<string>;
  /**
   * Paths whose occupancy the reader fills into `occupiedPaths` (see targetCandidates). With the live check the reader
   * asks before the live verdicts are in (consumers, donors): the answer may depend on which payloads have file lists
   * (loaded or left to the catalog), never on those.
   */
  targets(snapshot: CatalogSnapshot): Iterable<string>;
  /**
   * Where a donor may lie (see insideRoots, src/plan/snapshot-index.ts): the reader leaves every other copy out of
   * copiesBySha256 and never checks it on disk — the planner would pass it over. Absent: every copy may be a donor.
   */
  donorPlaces?(snapshot: CatalogSnapshot): (path: string) => boolean;
}

/** For readers that build no plan: no extra file lists, no occupancy. */
export const NO_PLANNER: SnapshotPlanner = { needs: () => [], targets: () => [] };
