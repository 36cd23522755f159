// Pure per-file decisions of a scan: a walked file against its catalog row, a re-read against the recorded hashes, and
// which unseen rows are gone. No filesystem, SQLite or clock: the scanner feeds in what it read and acts on the verdict.
import { isAtOrUnder } from '../../domain/path-string.js';

export type DriftPolicy = 'metadata' | 'quick' | 'full';

/** What the walk saw of a regular file. */
export interface SeenFile {
  ino: bigint;
  size: number;
  mtimeNs: bigint;
  nlink: number;
}

/** What the per-directory lookup keeps of a catalog row: its metadata and whether its hashes are known. */
export interface RowMeta {
  id: number;
  ino: number;
  size: number;
  mtime_ns: string;
  nlink: number;
  status: 'active' | 'deleted';
  hasQuick: boolean;
  hasSha: boolean;
}

/** A row's recorded hashes (read on demand: the lookup holds flags only). */
export interface RecordedHashes {
  quick_hash: string | null;
  sha256: string | null;
  hashed_at: number | null;
}

/** What reading a file gave (the hash pool's answer). */
export interface ReadResult {
  quickHash?: string | null;
  sha256?: string | null;
  /** The file changed between the walk and the read, or while being read. */
  changed?: boolean;
  error?: { code: string; message: string };
}

export interface DecisionPolicy {
  drift: DriftPolicy;
  /** Full SHA-256 of new, changed and not yet fully hashed files (false under --quick-only: quick hash only). */
  fullOnNew: boolean;
  /**
   * Size-first (`hash: shared-sizes`, never with drift `full` or without fullOnNew): a full read is wanted only when
   * another inode has the file's size — the scanner's size gate decides; see sizeFirstRead.
   */
  sizeFirst?: boolean;
}

/** The policy of a scan: size-first only where full hashes are wanted and not every byte is to be re-read. */
export function decisionPolicy(drift: DriftPolicy, quickOnly: boolean, hash: 'all' | 'shared-sizes'): DecisionPolicy {
  return { drift, fullOnNew: !quickOnly, sizeFirst: hash === 'shared-sizes' && !quickOnly && drift !== 'full' };
}

/**
 * Size-first: a new or changed file the decision wants read in full waits for the scanner's size gate — read once
 * another inode has its size, else recorded unhashed (no read). (An unchanged row without a full hash: decideSameMetadata.)
 */
export function waitsForSizeGate(d: FileDecision, policy: DecisionPolicy): boolean {
  return policy.sizeFirst === true && (d.kind === 'new' || d.kind === 'content-changed') && d.full;
}

export type FileDecision =
  /** Same inode, size, mtime and link count, hashes known: nothing to read or write. */
  | { kind: 'unchanged' }
  /** Same inode, size and mtime, another link count: the row is rewritten with its recorded hashes. */
  | { kind: 'metadata-changed' }
  /** Same inode, size and mtime, but the drift policy (or a hash not yet known) asks for a read: see judgeReread. */
  | { kind: 'reread'; full: boolean }
  /** No active row at this path (a deleted row comes back as new). */
  | { kind: 'new'; full: boolean; mayShareLink: boolean }
  /** Another inode, size or mtime: an edit or a replacement. It ends the open integrity problem of the row's old inode. */
  | { kind: 'content-changed'; full: boolean; mayShareLink: boolean; endsProblemOf: number | null };

/** Same inode, size and mtime as recorded: the file is taken as unedited (an edit moves the mtime). */
export function sameMetadata(row: RowMeta, f: SeenFile): boolean {
  return BigInt(row.ino) === f.ino && row.size === f.size && row.mtime_ns === String(f.mtimeNs);
}

/**
 * What a walked file means against its row (any status; undefined when the path was never catalogued).
 * `mayShareLink`: a hardlink may take the hashes of a catalogued link of the same inode with identical metadata,
 * never under drift `full` (which reads everything). `isTroubled` tells whether an inode has an open integrity problem.
 */
export function decideFile(row: RowMeta | undefined, f: SeenFile, policy: DecisionPolicy, isTroubled: (ino: number) => boolean): FileDecision {
  const active = row !== undefined && row.status === 'active' ? row : undefined;
  if (active !== undefined && sameMetadata(active, f)) return decideSameMetadata(active, f.nlink, policy);
  const mayShareLink = f.nlink > 1 && policy.drift !== 'full';
  if (active === undefined) return { kind: 'new', full: policy.fullOnNew, mayShareLink };
  return { kind: 'content-changed', full: policy.fullOnNew, mayShareLink, endsProblemOf: isTroubled(active.ino) ? active.ino : null };
}

/** What a file with the inode, size and mtime of its active row means, given its link count now. */
export function decideSameMetadata(active: RowMeta, nlink: number, policy: DecisionPolicy): FileDecision {
  const full = policy.drift === 'full' || (policy.fullOnNew && !active.hasSha);
  // Size-first: a row without a full hash stays as it is — its link count rewritten if it moved, its quick hash
  // re-checked under drift quick — until another inode has its size (the scan that records that one reads it too).
  if (full && policy.sizeFirst && policy.drift !== 'full') {
    if (policy.drift === 'quick' && active.hasQuick) return { kind: 'reread', full: false };
    return active.nlink !== nlink ? { kind: 'metadata-changed' } : { kind: 'unchanged' };
  }
  if (policy.drift === 'metadata' && active.hasQuick && !full) return active.nlink !== nlink ? { kind: 'metadata-changed' } : { kind: 'unchanged' };
  return { kind: 'reread', full };
}

/** Hashes of another link of the same inode are enough unless a full hash is wanted and that link has none. */
export function linkHashesSuffice(known: RecordedHashes, policy: DecisionPolicy): boolean {
  return known.sha256 !== null || !policy.fullOnNew;
}

/** A read that failed or saw the file change yields no hashes: the file is a problem of this scan, never deleted. */
export function readFailed(res: ReadResult): boolean {
  return res.error !== undefined || res.changed === true;
}

export type RereadVerdict =
  /** The read failed: reported as a problem; the row keeps its hashes. */
  | { kind: 'unreadable' }
  /** The quick hash moved and no full hash was read: read the full content to record what is there now. */
  | { kind: 'escalate' }
  /**
   * Same inode, size and mtime, other bytes: not an edit — bit rot, a bad disk. Never absorbed: the row keeps its
   * recorded hashes and the inode becomes (or stays) an integrity problem; `found` is what was read.
   */
  | { kind: 'corrupted'; found: string | null }
  /** The inode has an open integrity problem: its recorded hashes are never replaced by what a scan reads. */
  | { kind: 'kept' }
  /** Content as recorded (or hashes filled in): the row takes these hashes. */
  | { kind: 'confirmed'; quick: string | null; sha: string | null; hashedAt: number | null };

/**
 * Judge a re-read of a file whose metadata is unchanged. `quickMoved`: an earlier read of this file already found
 * the quick hash moved (this is the escalated full read). `now` stamps a fresh full hash.
 */
export function judgeReread(row: RecordedHashes, res: ReadResult, policy: DecisionPolicy, troubled: boolean, now: number, quickMoved = false): RereadVerdict {
  if (readFailed(res)) return { kind: 'unreadable' };
  let moved = quickMoved;
  if (!moved && policy.drift === 'quick' && row.quick_hash !== null && res.quickHash !== row.quick_hash) {
    moved = true;
    if (!res.sha256 && policy.fullOnNew) return { kind: 'escalate' };
  }
  if (policy.drift === 'full' && row.sha256 !== null && res.sha256 !== row.sha256) moved = true;
  if (moved) return { kind: 'corrupted', found: res.sha256 ?? null };
  if (troubled) return { kind: 'kept' };
  return { kind: 'confirmed', quick: res.quickHash ?? null, sha: res.sha256 ?? row.sha256, hashedAt: res.sha256 ? now : row.hashed_at };
}

/**
 * A catalogued row this scan did not see is gone only when it existed before the scan began (`id <= maxIdAtStart`)
 * and lies outside every directory the scan could not read or did not enter (unreadable, another mount): unknown is
 * never gone.
 */
export function isVanished(id: number, seen: { has(id: number): boolean }, maxIdAtStart: number): boolean {
  return id <= maxIdAtStart && !seen.has(id);
}
/** Inside a directory the scan could not read or did not enter: its rows are kept whatever the walk saw. */
export function isShielded(path: string, protectedDirs: readonly string[]): boolean {
  return protectedDirs.some((d) => isAtOrUnder(path, d));
}

/**
 * Whether the deletion pass may skip reading the root's rows: `knownBefore` rows were active under the root when the
 * scan began and are still active (counted after the walk, ids up to the start mark), and the walk found
 * `seenKnown` distinct rows that were active at lookup, under the root, with ids up to that mark — a subset of them.
 * Equal counts mean the subset is the whole set: no row can have vanished.
 */
export function allKnownSeen(knownBefore: number, seenKnown: number): boolean {
  return knownBefore === seenKnown;
}

/** An empty root the catalog knows files under is refused, never emptied: it is unmounted until proven otherwise. */
export function emptyRootSuspect(filesSeen: number, knownActive: number): boolean {
  return filesSeen === 0 && knownActive > 0;
}
