// The Plan data model: a closed set of group actions and executor steps, saved as versioned JSON (pure types).
import type { UnresolvedRun } from '../domain/unresolved-run.js';

import type { InodeMeta } from '../domain/snapshot.js';

/** The version plan files are written with (2: dedupe groups in their short form, see dedupe-short.ts). */
export const PLAN_FORMAT_VERSION = 2;

/** The versions a plan file is read in: 1 is 2 without the short dedupe groups, read as it always was. */
export const READ_PLAN_FORMAT_VERSIONS = [1, PLAN_FORMAT_VERSION] as const;

/**
 * What happens to one group. Actionable: move, reuse, dedupe, retire.
 * Informational: keep (already where it belongs), stay (held warm by a consumer), pending (waiting for
 * an observation window), blocked (something is unknown or unsafe).
 */
export type GroupAction = 'move' | 'reuse' | 'dedupe' | 'retire' | 'repair' | 'keep' | 'stay' | 'pending' | 'blocked';

/** `repair` groups are built by `hashall verify --repair` only (never by the planner, never saved in a plan file). */
export const ACTIONABLE: readonly GroupAction[] = ['move', 'reuse', 'dedupe', 'retire', 'repair'];

/** A place: filesystem name + canonical host path. */
export interface Place {
  fs: string;
  path: string;
}

export interface PlanTorrent {
  /** Client instance (absent in plans written before `clients:`: `default`, see domain/instance.ts). */
  client?: string;
  hash: string;
  name: string;
  category: string;
  tracker: string | null;
}

/** File identity recorded at planning time; apply refuses the group if any of it changed. */
export interface FileFingerprint {
  path: string;
  ino: number;
  size: number;
  mtimeNs: string;
  /**
   * Link count the plan was made with (the catalog's). Apply refuses the plan when the disk differs: a link added since
   * may be an external consumer (a library import), a link gone means the catalog no longer describes the disk.
   * Absent in plans written before it existed (then not checked).
   */
  nlink?: number;
}

export interface TorrentFingerprint {
  /** Client instance (absent in plans written before `clients:`: `default`). */
  client?: string;
  hash: string;
  phase: string;
  clientSavePath: string;
  clientContentPath: string;
}

/**
 * The files of a payload left to the catalog: its active rows at or under `root` on filesystem `fs` (config name), as the
 * catalog held them at the plan's serial. Apply refuses a plan whose catalog serial changed, so these are the rows the
 * planner read; src/apply/plan-expand.ts `expandPlan` reads them back (apply, show) and checks them against the plan.
 */
export interface CatalogPayloadRef {
  fs: string;
  root: string;
}

export interface GroupFingerprint {
  /** Listed in the plan (with `payloads`: the files besides theirs, e.g. reuse donors). */
  files: FileFingerprint[];
  /**
   * Payloads whose every file is fingerprinted too, read from the catalog when the plan is expanded: the whole list is
   * then the fingerprints of these payloads' files and of `files`, once per path, in path byte order (a single payload
   * alone: its files in relpath order). Absent: `files` is the whole list.
   */
  payloads?: CatalogPayloadRef[];
  torrents: TorrentFingerprint[];
  /**
   * Every torrent the client listed when the plan was made (count, and SHA-256 over the sorted lower-case hashes), for
   * decisions that rest on "no torrent uses this" (orphan retirement): a torrent added or removed since makes the plan
   * stale. Absent for other groups.
   */
  clientTorrents?: { count: number; digest: string };
}

/** Copy payload files across filesystems into `toRoot` (temp name → verify → rename). */
export interface CopyStep {
  kind: 'copy';
  fromFs: string;
  toFs: string;
  fromRoot: string;
  toRoot: string;
  /**
   * The files to copy, in relpath byte order. Absent in a plan as planned when `catalogFiles` is set: they are then the
   * payload at `fromRoot` on `fromFs` as the catalog holds it at the plan's serial (see CatalogPayloadRef), filled in by
   * `expandPlan` before apply runs the step.
   */
  files?: CopyFile[];
  /** How many files the catalog holds for the payload at `fromRoot` when `files` is left to it. */
  catalogFiles?: number;
  bytes: number;
}

export interface CopyFile {
  relpath: string;
  size: number;
  sha256: string;
}

/** The files of a copy step of an expanded plan; a step still leaving them to the catalog is a bug of the caller (apply expands first). */
export function copyFilesOf(step: CopyStep): CopyFile[] {
  if (step.files === undefined) throw new Error(`copy step ${step.fromRoot} → ${step.toRoot} has no file list: the plan was not expanded from the catalog (expandPlan) before use`);
  return step.files;
}

/** One hardlink of a view: `path` becomes a link of `donor` (a file of `size` bytes whose SHA-256 is `sha256`). */
export interface LinkViewLink {
  donor: string;
  path: string;
  size: number;
  sha256: string;
  /**
   * The donor is a file this plan does not write — one already on the target that a move links instead of copying
   * (a payload partly there, src/plan/torrent-groups.ts): apply reads its bytes and links it only when they hash to
   * `sha256` and it is unchanged since (inode, size, mtime). Absent: its content is proven otherwise (a copy of the
   * group wrote and verified it; a reuse's donor by its fingerprint). An older hashall refuses a plan holding it (the
   * schema allows no unknown property), so no hashall links such a donor unread.
   */
  hashDonor?: true;
  /**
   * The donor is a copy this plan makes of another inode of equal content (a move linking a file from another torrent's
   * copy, src/plan/linked-moves.ts): `metaOf` is the linked file's own source (filesystem, path, inode), which the
   * planner found with the same owner, group and mode as the copy's source. Apply links it only while that source, read
   * through its held folder, still is that inode and shows the donor's owner, group and mode — else the file would
   * change owner or mode, which dedupe never does. An older hashall refuses a plan holding it (no unknown property).
   */
  metaOf?: { fs: string; path: string; ino: number };
}

/** Build one torrent's view at `root` by hardlinking donors on the same filesystem. */
export interface LinkViewStep {
  kind: 'link-view';
  fs: string;
  torrentHash: string;
  /** Canonical host path of the view's content root (what content_path will become). */
  root: string;
  links: LinkViewLink[];
  /**
   * Relpaths (under `root`) of every file the view holds when built, linked now or already in place. Apply refuses
   * the step when `root` already holds anything else (two torrents' trees never share a directory). Absent for a
   * single-file view (its root is the file) and in plans written before it existed (then not checked).
   */
  expected?: string[];
}

/** Repoint one torrent at its view: pause → setLocation → recheck → confirm → resume if it was running. */
export interface RepointStep {
  kind: 'repoint';
  /** Client instance holding the torrent (absent in plans written before `clients:`: `default`). */
  client?: string;
  torrentHash: string;
  torrentName: string;
  /** Client-side spellings (already translated through path maps). */
  fromSavePath: string;
  toSavePath: string;
  expectedContentPath: string;
  /** Host paths, for checks and messages. */
  hostFrom: string;
  hostTo: string;
  bytes: number;
  /**
   * The payload hash of the torrent's content when it is not the group's: a group moving torrents whose payloads share
   * files by hardlink (src/plan/linked-moves.ts). Its relocation — and so its retire — is recorded with this hash.
   * Absent: the group's. (An older hashall refuses a plan holding it: the schema allows no unknown property.)
   */
  payloadHash?: string;
}

/** A file of a dedupe step: its fingerprint, full SHA-256 and the owner, group and mode its inode shows (see InodeMeta). */
export type DedupeFile = FileFingerprint & { sha256: string; meta: InodeMeta };

/**
 * Replace `duplicate` with a hardlink of `keeper` (same filesystem, equal size + SHA-256). The duplicate's path then
 * shows the keeper's metadata: the planner pairs only files whose owner, group and mode agree (`meta`), and apply
 * refuses the step when either differs from the plan.
 */
export interface DedupeLinkStep {
  kind: 'dedupe-link';
  fs: string;
  keeper: DedupeFile;
  duplicate: DedupeFile;
}

/** Staged removal of a superseded source copy: rename into trash, re-check the target, delete. */
export interface RetireStep {
  kind: 'retire';
  fs: string;
  root: string;
  payloadHash: string;
  /** The copy that must still be healthy before anything is deleted. */
  keptRoot: string;
  keptFs: string;
  relocationId: number;
  bytes: number;
}

/**
 * Restore a corrupted inode from a copy proven good (`hashall verify --repair`): the good bytes are copied to a temp
 * name beside the first path (hashed while copying, must be `sha256`), the damaged file is renamed into the trash of
 * its filesystem, the copy is linked into its place and every other path of the damaged inode is swapped to it.
 */
export interface RepairStep {
  kind: 'repair';
  fs: string;
  /** Every active path of the damaged inode (canonical host paths); the first is where the restored copy is written. */
  paths: string[];
  /** The damaged inode as verify found it: apply refuses to touch it if any of this changed since. */
  damaged: { ino: number; size: number; mtimeNs: string };
  /** The recorded (good) SHA-256 of the content. */
  sha256: string;
  /** A catalogued copy on another inode, re-hashed to `sha256` when chosen and again while it is copied. */
  source: { fs: string; path: string; ino: number; size: number; mtimeNs: string };
}

/**
 * Ask the client holding a torrent to recheck it (`hashall verify --repair`, when files of the torrent are corrupted and
 * no good copy exists anywhere): the check marks the damaged pieces missing and the client re-downloads them from the
 * swarm into the same files. hashall writes no byte; the client is never asked to move anything.
 */
export interface RecheckStep {
  kind: 'recheck';
  /** Client instance holding the torrent (identity: instance + info-hash). */
  client: string;
  torrentHash: string;
  torrentName: string;
  /** The client's spellings of its save and content path when chosen: it must still report exactly these. */
  clientSavePath: string;
  clientContentPath: string;
  /** Host path of its content root (folder, or the file of a one-file torrent). */
  hostRoot: string;
  /** Filesystem of the damaged files. */
  fs: string;
  /** The damaged files of the torrent as verify found them; `relpath` is relative to the content root (the basename for a one-file torrent). */
  damaged: { path: string; relpath: string; ino: number; size: number; mtimeNs: string }[];
  /** Torrent size (bounds the wait for its check). */
  bytes: number;
}

/**
 * Stage an orphan tree (a directory whose files no torrent and no consumer uses, or one such file) into the trash on
 * its filesystem, restorable with `hashall trash restore` and purged after observeHours. Its files are the group's
 * fingerprint files: what lies there at apply time must be exactly those.
 */
export interface RetireOrphanStep {
  kind: 'retire-orphan';
  fs: string;
  /** The seeding root holding it. */
  seedingRoot: string;
  /** The tree's top (canonical host path). */
  path: string;
  treeKind: 'dir' | 'file';
  files: number;
  /** Bytes freed once purged (inodes wholly inside orphan trees). */
  bytes: number;
}

export type PlanStep = CopyStep | LinkViewStep | RepointStep | DedupeLinkStep | RetireStep | RepairStep | RecheckStep | RetireOrphanStep;

export interface PlanGroup {
  /** Stable id within the plan (e.g. `g1`), and a deterministic key of the content/torrents. */
  id: string;
  key: string;
  action: GroupAction;
  /** Short human title, e.g. the torrent name or the duplicate file name. */
  title: string;
  payloadHash: string | null;
  torrents: PlanTorrent[];
  from: Place | null;
  to: Place | null;
  /** Why, in words a user understands months later. First reason is the headline. */
  reasons: string[];
  /** Placement rule that decided the desired filesystem, if any. */
  rule: string | null;
  bytesToCopy: number;
  bytesToFree: number;
  steps: PlanStep[];
  fingerprint: GroupFingerprint;
}

export interface PlanSummary {
  move: number;
  reuse: number;
  dedupe: number;
  retire: number;
  /** Repair groups (`verify --repair` only; absent from planned and saved plans). */
  repair?: number;
  keep: number;
  stay: number;
  pending: number;
  blocked: number;
  bytesToCopy: number;
  /** Bytes freed per filesystem name. */
  bytesToFree: Record<string, number>;
}

export interface Plan {
  /**
   * Apply runs not resolved when the plan was made (needs attention, unfinished), shown first; the groups touching
   * their paths are blocked. Absent when there are none.
   */
  unresolvedRuns?: UnresolvedRun[];
  formatVersion: typeof PLAN_FORMAT_VERSION;
  createdAt: string; // ISO time, passed in
  configPath: string;
  configHash: string;
  catalog: { lineage: string; serial: number };
  groups: PlanGroup[];
  summary: PlanSummary;
}
