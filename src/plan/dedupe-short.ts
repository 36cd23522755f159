// The short form of a dedupe group in a plan file (each file once, steps by index) ↔ the whole group, exactly (pure).
// A dedupe group's whole form repeats everything per step: the keeper's path, inode, size, mtime, SHA-256 and metadata in
// every step, each duplicate again in the fingerprint, the keeper's place as from and to — ~2.4 KB per linked pair,
// 4.8 MB for the 2,000 pairs of the dedupe bench, which apply parsed and validated before its first link. The short
// form holds the same values once: the group's filesystem, size, SHA-256 and metadata (a dedupe group links only
// files agreeing on all four), its fingerprint files (path, inode, mtime, link count), the keeper's index and each
// step's duplicate by index. Reading it back gives exactly the group the planner made (shortDedupeGroup writes the
// short form only for a group that reads back so, else the whole group is written), so every file the plan names is
// still fingerprinted and a changed one still makes the plan stale.
import type { InodeMeta } from '../domain/snapshot.js';
import type { DedupeFile, DedupeLinkStep, FileFingerprint, Place, PlanGroup } from './types.js';

/** A fingerprint file of a short dedupe group (its size is the group's). */
export interface ShortDedupeFile {
  path: string;
  ino: number;
  mtimeNs: string;
  nlink: number;
}

export interface ShortDedupeGroup {
  id: string;
  key: string;
  action: 'dedupe';
  title: string;
  reasons: string[];
  bytesToFree: number;
  dedupe: {
    fs: string;
    size: number;
    sha256: string;
    meta: InodeMeta;
    /** The group's fingerprint files, in their order (path byte order). */
    files: ShortDedupeFile[];
    /** Index in `files` of the keeper's path. */
    keeper: number;
    /** Index in `files` of each step's duplicate, in step order. */
    duplicates: number[];
  };
}

/** True when `o` has exactly these own keys (a key the short form does not carry would be lost). */
function exactly(o: object, keys: readonly string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(o, k));
}

const GROUP_KEYS = ['id', 'key', 'action', 'title', 'payloadHash', 'torrents', 'from', 'to', 'reasons', 'rule', 'bytesToCopy', 'bytesToFree', 'steps', 'fingerprint'] as const;
const STEP_KEYS = ['kind', 'fs', 'keeper', 'duplicate'] as const;
const FILE_KEYS = ['path', 'ino', 'size', 'mtimeNs', 'sha256', 'meta'] as const;
const FINGERPRINT_FILE_KEYS = ['path', 'ino', 'size', 'mtimeNs', 'nlink'] as const;
const META_KEYS = ['uid', 'gid', 'mode'] as const;

function sameMeta(a: InodeMeta, b: InodeMeta): boolean {
  return exactly(a, META_KEYS) && a.uid === b.uid && a.gid === b.gid && a.mode === b.mode;
}

function samePlace(p: Place | null, fs: string, path: string): boolean {
  return p !== null && exactly(p, ['fs', 'path']) && p.fs === fs && p.path === path;
}

/**
 * The short form each whole group made by wholeDedupeGroup was read from (as shortDedupeGroup would write it): an apply
 * of a saved plan journals every dedupe group in its short form, which it then has without deriving it again (deriving
 * it checks every file and step of the group: 17–34 ms of the main thread for the bench's 1,912 groups). Sound because
 * a plan's objects are never changed once made (a changed copy is another object, derived as before).
 */
const readFrom = new WeakMap<PlanGroup, ShortDedupeGroup>();

/**
 * The short form of `g`, or null when `g` is not a dedupe group that reads back exactly from it (any other action, a
 * field the short form does not carry, files that disagree on size, SHA-256 or metadata, a step naming a file its
 * fingerprint does not hold as the step does): such a group is written whole. A group read from a short form
 * (wholeDedupeGroup) has that form, which reads back to it exactly.
 */
export function shortDedupeGroup(g: PlanGroup): ShortDedupeGroup | null {
  const known = readFrom.get(g);
  if (known) return known;
  if (g.action !== 'dedupe' || !exactly(g, GROUP_KEYS) || g.payloadHash !== null || g.torrents.length !== 0 || g.rule !== null || g.bytesToCopy !== 0) return null;
  const fp = g.fingerprint;
  if (!exactly(fp, ['files', 'torrents']) || fp.torrents.length !== 0 || g.steps.length === 0) return null;
  const first = g.steps[0]!;
  if (first.kind !== 'dedupe-link') return null;
  const { fs, keeper } = first;
  if (!exactly(keeper, FILE_KEYS) || !exactly(keeper.meta, META_KEYS)) return null;
  const { size, sha256, meta } = keeper;
  if (!samePlace(g.from, fs, keeper.path) || !samePlace(g.to, fs, keeper.path)) return null;
  const files: ShortDedupeFile[] = [];
  const index = new Map<string, number>();
  for (const f of fp.files) {
    if (!exactly(f, FINGERPRINT_FILE_KEYS) || f.size !== size || f.nlink === undefined || index.has(f.path)) return null;
    index.set(f.path, files.length);
    files.push({ path: f.path, ino: f.ino, mtimeNs: f.mtimeNs, nlink: f.nlink });
  }
  // A step's file by index: the fingerprint's file at its path, with the group's size, SHA-256 and metadata.
  const at = (d: DedupeFile): number | null => {
    const i = index.get(d.path);
    if (i === undefined || !exactly(d, FILE_KEYS) || d.size !== size || d.sha256 !== sha256 || !sameMeta(d.meta, meta)) return null;
    const f = files[i]!;
    return f.ino === d.ino && f.mtimeNs === d.mtimeNs ? i : null;
  };
  const k = at(keeper);
  if (k === null) return null;
  const duplicates: number[] = [];
  for (const s of g.steps) {
    if (s.kind !== 'dedupe-link' || !exactly(s, STEP_KEYS) || s.fs !== fs || at(s.keeper) !== k) return null;
    const d = at(s.duplicate);
    if (d === null || d === k) return null;
    duplicates.push(d);
  }
  if (new Set(duplicates).size !== duplicates.length) return null;
  return {
    id: g.id,
    key: g.key,
    action: 'dedupe',
    title: g.title,
    reasons: g.reasons,
    bytesToFree: g.bytesToFree,
    dedupe: { fs, size, sha256, meta: { uid: meta.uid, gid: meta.gid, mode: meta.mode }, files, keeper: k, duplicates },
  };
}

/**
 * The whole group of a short form (schema-valid: see schemas/plan.schema.json dedupeGroup), or the problem (an index
 * that is not another file of the group: the file was edited or damaged).
 */
export function wholeDedupeGroup(s: ShortDedupeGroup): PlanGroup | string {
  const { fs, size, sha256, meta, files, keeper, duplicates } = s.dedupe;
  if (keeper >= files.length) return `dedupe/keeper: ${keeper} is not an index of dedupe/files`;
  const seen = new Set<number>();
  for (const [n, i] of duplicates.entries()) {
    if (i >= files.length) return `dedupe/duplicates/${n}: ${i} is not an index of dedupe/files`;
    if (i === keeper) return `dedupe/duplicates/${n}: ${i} is the keeper`;
    if (seen.has(i)) return `dedupe/duplicates/${n}: ${i} is listed twice`;
    seen.add(i);
  }
  // One metadata object for the group's files, and one keeper for its steps (as the planner makes them: nothing
  // changes a plan's objects once made).
  const m: InodeMeta = { uid: meta.uid, gid: meta.gid, mode: meta.mode };
  const file = (f: ShortDedupeFile): DedupeFile => ({ path: f.path, ino: f.ino, size, mtimeNs: f.mtimeNs, sha256, meta: m });
  const k = file(files[keeper]!);
  const steps: DedupeLinkStep[] = duplicates.map((i) => ({ kind: 'dedupe-link', fs, keeper: k, duplicate: file(files[i]!) }));
  const fingerprint: FileFingerprint[] = files.map((f) => ({ path: f.path, ino: f.ino, size, mtimeNs: f.mtimeNs, nlink: f.nlink }));
  const group: PlanGroup = {
    id: s.id,
    key: s.key,
    action: 'dedupe',
    title: s.title,
    payloadHash: null,
    torrents: [],
    from: { fs, path: k.path },
    to: { fs, path: k.path },
    reasons: s.reasons,
    rule: null,
    bytesToCopy: 0,
    bytesToFree: s.bytesToFree,
    steps,
    fingerprint: { files: fingerprint, torrents: [] },
  };
  readFrom.set(group, {
    id: s.id,
    key: s.key,
    action: 'dedupe',
    title: s.title,
    reasons: s.reasons,
    bytesToFree: s.bytesToFree,
    dedupe: { fs, size, sha256, meta: m, files: files.map((f) => ({ path: f.path, ino: f.ino, mtimeNs: f.mtimeNs, nlink: f.nlink })), keeper, duplicates: [...duplicates] },
  });
  return group;
}
