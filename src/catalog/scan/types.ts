// The scanner's public shapes: roots to scan, options, progress and the summary a scan returns.
import type { FilesystemConfig } from '../../config/types.js';
import type { IdentityProbes } from '../../fs/filesystem-identity.js';
import type { HashJob, HashResult } from '../../fs/hash.js';
import type { DriftPolicy } from './decide.js';

export type { DriftPolicy } from './decide.js';

export type ScanHashMode = 'all' | 'shared-sizes';

export interface ScanRootSpec {
  path: string;
  kind: 'seeding' | 'library' | 'adhoc';
}

export interface ScanProgress {
  root: string;
  filesSeen: number;
  bytesSeen: number;
  filesHashed: number;
  bytesHashed: number;
  /** Bytes queued for hashing so far (grows while walking). */
  bytesToHash: number;
  walking: boolean;
}

export interface ScanOptions {
  /** `metadata`: same inode+size+mtime keeps hashes; `quick`: re-check the quick hash; `full`: re-hash everything. */
  drift: DriftPolicy;
  /** Defer full SHA-256 of new/changed files (quick hash only). */
  quickOnly?: boolean;
  /**
   * `all` (the default here): full SHA-256 of every new or changed file. `shared-sizes` (the configured default,
   * `scan.hash`): only of files whose size another inode in the catalog or this scan has; the others are recorded
   * with their hash unknown (no read at all) until a file of their size appears — then the scan that records it
   * reads them too. Ignored under drift `full` (reads everything) and --quick-only.
   */
  hash?: ScanHashMode;
  /** Config filesystems: names, preferred spellings and aliases. */
  filesystems: Record<string, FilesystemConfig>;
  /** Called after every walked batch (a few hundred entries); throttle display in the caller. */
  progress?: (p: ScanProgress) => void;
  signal?: AbortSignal;
  now: () => number;
  hashWorkers?: number;
  /** How many files size-first hashing keeps held in memory at most (default MAX_HELD in size-gate.ts; tests lower it). */
  maxHeld?: number;
  /**
   * Every root must be on the filesystem the catalog already knows under this config name (identity, device, root birth
   * time), else the scan is refused before anything is recorded (apply's bookkeeping after a group).
   */
  expectFilesystem?: string;
  /** Injection points for tests. */
  probes?: IdentityProbes;
  mountInfoFile?: string;
  /** The GNU find program of the stat walk (default `find`; null: the Node walk). See WalkOptions.find. */
  findProgram?: string | null;
  /**
   * Files apply's copies wrote and proved: for a new or changed file that is exactly such a file (same path, inode,
   * size and mtime as when its copy ended — the rule by which a scan takes any catalogued file as unedited), its
   * content's hashes; it is recorded with them instead of read again (never under drift `full`). Null: read as usual.
   */
  proven?: (path: string, dev: bigint, ino: bigint, size: number, mtimeNs: bigint) => { sha256: string; quickHash: string } | null;
  /** Wraps the scan's hash pool (tests inject read failures the real disk cannot produce on cue). */
  wrapHash?: (hash: (job: HashJob) => Promise<HashResult>) => (job: HashJob) => Promise<HashResult>;
}

export interface ScanProblem {
  path: string;
  code: string;
  message: string;
}

export interface ScanRootSummary {
  input: string;
  path: string;
  kind: ScanRootSpec['kind'];
  filesystem: { id: number; uuid: string; name: string | null };
  /** Canonical path of the root that already covers this one, if any. */
  coveredBy: string | null;
  files: number;
  deleted: number;
}

export interface ScanSummary {
  sessionId: number;
  status: 'completed' | 'interrupted';
  drift: DriftPolicy;
  roots: ScanRootSummary[];
  filesSeen: number;
  added: number;
  changed: number;
  unchanged: number;
  deleted: number;
  symlinks: number;
  special: number;
  /** Directories not entered because they are other mounts/filesystems (canonical paths). */
  skippedMounts: string[];
  problems: ScanProblem[];
  bytesSeen: number;
  bytesHashed: number;
  filesHashed: number;
  /** Active files of the whole catalog whose full hash is unknown after this scan (size-first: no other inode has their size; or --quick-only, or unreadable). */
  unhashed: number;
  /** Of filesHashed: catalogued files read after the walk because this scan found another inode of their size. */
  hashedLater: number;
  durationMs: number;
  serial: number;
}
