// Small path helpers for apply: containment, temp names, missing directories (effects only through FsPort).
import path from 'node:path';
import type { DirOwner, FsPort, FsStat } from './fs-port.js';
import { FsError } from '../errors.js';
import { isAtOrUnder, trimSlash } from '../domain/path-string.js';


/** A temp name in `dir` owned by this run and step; the `.hashall-` prefix marks it as hashall's. */
export function tempName(dir: string, runId: string, tag: string): string {
  return path.join(dir, `.hashall-${runId}-${tag}.part`);
}

/** The exact names {@link tempName} gives (run ids of newRunId, tags `g<N>-<step>-<file index|probe|dedupe>`). */
const TEMP_NAME = /^\.hashall-(\d{8}T\d{6}Z-[0-9a-f]{4})-g\d+-\d+-(?:\d+|probe|dedupe|repair\d*)\.part$/;

/** The run id in one of hashall's temp names, or null when `name` is not exactly such a name. */
export function tempRunId(name: string): string | null {
  return TEMP_NAME.exec(name)?.[1] ?? null;
}

/** Directories between `dir` and its nearest existing ancestor that do not exist yet (outermost first). */
export async function missingDirs(fs: FsPort, dir: string): Promise<string[]> {
  const out: string[] = [];
  let cur = path.resolve(dir);
  for (let i = 0; i < 4096; i++) {
    const st = await fs.lstat(cur);
    if (st) break;
    out.unshift(cur);
    const parent = path.dirname(cur);
    if (parent === cur) break;
    cur = parent;
  }
  return out;
}

/**
 * The owner, group and mode a directory a step creates takes (FsPort.mkdirp's `like`): those of its counterpart (the
 * source directory it mirrors) when that exists, else of the seeding root holding it (new category folders), else of
 * its parent. Never root:root 0755 by accident: a client running as another user must rename, add and delete there.
 */
export function ownerLike(fs: FsPort, seedingRoots: readonly string[], counterpart: (dir: string) => string | null): (dir: string) => Promise<DirOwner | null> {
  return async (dir) => {
    const root = seedingRoots.filter((r) => isAtOrUnder(dir, r) && trimSlash(r) !== trimSlash(dir)).sort((a, b) => b.length - a.length)[0];
    for (const c of [counterpart(dir), root, path.dirname(dir)]) {
      if (!c) continue;
      const st = await fs.lstat(c);
      if (st?.kind === 'dir') return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
    }
    return null;
  };
}

/** `dir` under `root` mirrored under `mirror` (same relative path), or null when `dir` is not under `root`. */
export function mirrorOf(dir: string, root: string, mirror: string): string | null {
  return isAtOrUnder(dir, root) ? path.join(mirror, path.relative(root, dir)) : null;
}

/** Nearest existing ancestor of `p` (itself if it exists). */
export async function existingAncestor(fs: FsPort, p: string): Promise<string> {
  return (await existingAncestorStat(fs, p)).path;
}

/**
 * Nearest existing ancestor of `p` (itself if it exists) and the lstat that found it there (null only when not even
 * `/` could be read): a caller that needs the status of that ancestor reads it once, not a second time.
 */
export async function existingAncestorStat(fs: FsPort, p: string): Promise<{ path: string; stat: FsStat | null }> {
  let cur = path.resolve(p);
  for (let i = 0; i < 4096; i++) {
    const stat = await fs.lstat(cur);
    if (stat) return { path: cur, stat };
    const parent = path.dirname(cur);
    if (parent === cur) return { path: cur, stat: null };
    cur = parent;
  }
  return { path: cur, stat: null };
}

/**
 * Remove directories this step created, deepest first; a directory that is not empty is left (not ours alone), and so is
 * one whose (dev, ino) differs from what `ids` recorded at its creation. Each is read and removed at the spelling
 * `reach` gives (by default its path; a held parent's anchored spelling, folder-hold.ts dirForUndo), or left when it
 * gives null (nothing of the step's can be reached there any more).
 */
export async function removeCreatedDirs(
  fs: FsPort,
  dirs: string[],
  ids?: Record<string, { dev: number; ino: number }>,
  reach: (dir: string) => Promise<string | null> = async (d) => d,
): Promise<string[]> {
  const notes: string[] = [];
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    const id = ids?.[d];
    const at = await reach(d);
    if (at === null) continue;
    // Directories are journaled before they are made: one that never came to be (mkdir failed — EROFS, ENOSPC) is
    // skipped here, since rmdir on a read-only filesystem fails with EROFS even for a path that does not exist.
    const st = await fs.lstat(at);
    if (!st) continue;
    if (id) {
      // Recorded when created: anything else at that path now (a symlink, another directory) is not ours to remove.
      if (st.kind !== 'dir' || st.dev !== id.dev || st.ino !== id.ino) {
        notes.push(`left ${d}: it is not the directory hashall created there (replaced by ${st.kind === 'dir' ? 'another directory' : `a ${st.kind}`})`);
        continue;
      }
    }
    try {
      await fs.rmdir(at);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT') continue;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        notes.push(`left directory ${d}: it holds files hashall did not create`);
        continue;
      }
      throw err;
    }
  }
  return notes;
}

/**
 * Entries under an existing directory `root` that are not among `planned` (relpaths), at most `limit`, depth first
 * in name order; hashall's own temp names of run `runId` are not strangers, nor a file `belongs` says is the
 * payload's own. Putting a payload beside them would make two torrents' trees share a directory, so a step refuses
 * instead. A root that is absent or no directory has none.
 */
export async function strangersUnder(
  fs: FsPort,
  root: string,
  planned: ReadonlySet<string>,
  runId: string,
  limit = 5,
  belongs: (relpath: string, size: number) => boolean = () => false,
): Promise<string[]> {
  const top = await fs.lstat(root);
  if (!top || top.kind !== 'dir') return [];
  const ours = `.hashall-${runId}-`;
  const out: string[] = [];
  const stack = [''];
  for (let seen = 0; stack.length && out.length < limit; seen++) {
    if (seen > 1_000_000) throw new FsError(`${root} holds too many entries to check`, { path: root });
    const rel = stack.pop()!;
    for (const name of (await fs.readdir(rel ? path.join(root, rel) : root)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await fs.lstat(path.join(root, r));
      if (st?.kind === 'dir') stack.push(r);
      else if (st && !planned.has(r) && !name.startsWith(ours) && !(st.kind === 'file' && belongs(r, st.size))) out.push(r);
    }
  }
  return out.slice(0, limit);
}

/** Created-directory identities as a step journals them: a record (saved whole) plus a list (appended per batch). */
export function createdDirIds(
  record: Record<string, { dev: number; ino: number }> | undefined,
  list: readonly { path: string; dev: number; ino: number }[] | undefined,
): Record<string, { dev: number; ino: number }> {
  return { ...record, ...Object.fromEntries((list ?? []).map((d) => [d.path, { dev: d.dev, ino: d.ino }])) };
}
