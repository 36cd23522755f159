// Proves, right before apply acts, that every path of a step lies on the filesystem the plan names (catalog identity, device, root birth time).
// Must never: accept a path merely because it exists — an unmounted pool leaves an empty directory on the system disk,
// and a tmpfs mounted in its place has the same fallback identity and device number; nor measure free space elsewhere.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import { filesystemsNamedReader } from '../catalog/filesystems.js';
import type { HashallConfig } from '../config/types.js';
import { FsError } from '../errors.js';
import { bytesToPathText, fsPathArg } from '../fs/path-encoding.js';
import { identifyFilesystem, rootBirthAt, systemProbes, type IdentityProbes } from '../fs/filesystem-identity.js';
import { devToMajorMinor, findMountFor, readMountInfo, type MountEntry } from '../fs/mountinfo.js';
import type { PlanGroup, PlanStep } from '../plan/types.js';
import type { FsPort, FsStat } from './fs-port.js';
import { existingAncestorStat } from './paths.js';
import { refusedFs } from '../fs/refused-fs.js';

/** A path a step reads or writes, and the filesystem (config name) the plan says it is on. */
export interface Place {
  fs: string;
  path: string;
}

export interface FilesystemGuard {
  /**
   * For each place, the deepest existing directory at or above it (the place itself when it exists), proven to lie on
   * the filesystem the place names; throws FsError naming the first that does not. Reads mountinfo once per call.
   */
  prove(places: Place[]): Promise<Map<Place, string>>;
}

function when(ns: string | null): string {
  return ns === null ? 'unknown' : new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();
}

function refuse(p: string, fsName: string, why: string, hint?: string): FsError {
  return new FsError(`refusing to touch ${p}: it is not on filesystem ${fsName} as the catalog recorded it — ${why}; nothing was changed there`, {
    path: p,
    hint: hint ?? `mount ${fsName} where hashall.yaml says, then run \`hashall plan\` again`,
  });
}

/** realpath(3) of `p`, or `p` as spelled when it cannot be resolved (the mount lookup then fails the device check). */
function resolved(p: string): string {
  try {
    return bytesToPathText(realpathSync.native(fsPathArg(p), { encoding: 'buffer' }));
  } catch {
    return p;
  }
}

/**
 * The real path of `p` (normalized, absolute), which the lstat `st` just found: a directory or file there is no
 * symbolic link, so its real path is its parent's real path and its own name — one realpath(3) per distinct parent
 * within one prove() call, not one per place (a dedupe batch proves hundreds of folders in a few parents; each
 * realpath reads every component again). Anything else there (a symlink) is resolved whole.
 */
function realOf(p: string, st: FsStat, once: <T>(key: string, read: () => T) => T): string {
  const parent = path.dirname(p);
  if ((st.kind !== 'dir' && st.kind !== 'file') || parent === p) return once(`real\0${p}`, () => resolved(p));
  return path.join(once(`real\0${parent}`, () => resolved(parent)), path.basename(p));
}

export function filesystemGuard(deps: { catalog: CatalogDb; config: HashallConfig; fs: FsPort; probes?: IdentityProbes; mountInfoFile?: string }): FilesystemGuard {
  const probes = deps.probes ?? systemProbes();
  const named = filesystemsNamedReader(deps.catalog.db); // read afresh at every call, prepared once (a run proves ~3 times per group)

  /**
   * What one prove() call reads once however many places it proves (a dedupe batch proves hundreds of folders): the
   * catalog rows of a filesystem name, the identity of a mount, the birth time of a recorded root.
   */
  function callMemo(mounts: MountEntry[]) {
    const memo = new Map<string, unknown>();
    const once = <T>(key: string, read: () => T): T => {
      if (!memo.has(key)) memo.set(key, read());
      return memo.get(key) as T;
    };
    return {
      rows: (name: string) => once(`rows\0${name}`, () => named(name)),
      identity: (mount: MountEntry) => once(`ident\0${mount.mountId}`, () => identifyFilesystem(mount, mounts, probes)),
      refused: (mount: MountEntry) => once(`refused\0${mount.mountId}`, () => refusedFs(mount, probes.readDevice)),
      birth: (dir: string, dev: string) => once(`birth\0${dir}\0${dev}`, () => rootBirthAt(dir, dev)),
      real: (p: string, st: FsStat) => realOf(p, st, once),
    };
  }

  async function proveOne(place: Place, mounts: MountEntry[], memo: ReturnType<typeof callMemo>): Promise<string> {
    const { fs: name, path: p } = place;
    if (!deps.config.filesystems[name]) throw refuse(p, name, `hashall.yaml has no filesystem ${JSON.stringify(name)}`, 'the plan was made with another hashall.yaml; run `hashall plan` again');
    const rows = memo.rows(name);
    if (rows.length === 0) throw refuse(p, name, `the catalog does not know filesystem ${name} yet`, 'run `hashall scan`, then `hashall plan`');
    // The device is the one the lstat that found the ancestor read (no second read of the same path).
    const { path: where, stat: st } = await existingAncestorStat(deps.fs, p);
    if (!st) throw refuse(p, name, `nothing at or above ${where} could be read`);
    const dev = devToMajorMinor(st.dev);
    const real = memo.real(where, st);
    const mount = findMountFor(mounts, real);
    const row = rows.find((r) => r.dev === dev);
    const expected = rows.map((r) => `device ${r.dev} mounted at ${r.preferred_mount}`).join(' or ');
    if (!row) {
      const missing = where !== p ? ` (${p} does not exist; ${where} does)` : '';
      throw refuse(p, name, `${where} is on device ${dev}${mount ? ` mounted at ${mount.mountPoint}` : ''}, ${name} is ${expected}${missing} — is ${name} mounted?`);
    }
    if (!mount || mount.majorMinor !== dev) throw refuse(p, name, `/proc/self/mountinfo shows no mount of device ${dev} holding ${real}`);
    const refused = memo.refused(mount);
    if (refused !== null) throw new FsError(`refusing to touch ${p}: it is on ${refused.what}; nothing was changed there`, { path: p, hint: refused.hint });
    const ident = memo.identity(mount);
    if (ident.uuid !== row.uuid) throw refuse(p, name, `device ${dev} now holds ${ident.uuid}, the catalog's ${name} is ${row.uuid}`);
    const birth = memo.birth(row.preferred_mount, dev);
    if (birth !== row.root_birth) {
      if (row.root_birth === null) throw refuse(p, name, `the catalog has not recorded when the root of ${name} was created (a catalog from before this check)`, 'run `hashall scan`, then `hashall plan`');
      throw refuse(p, name, `another filesystem is mounted at ${row.preferred_mount}: its root was created ${when(birth)}, the one the catalog knows as ${name} at ${when(row.root_birth)}`);
    }
    return where;
  }

  return {
    async prove(places) {
      const mounts = readMountInfo(deps.mountInfoFile);
      const memo = callMemo(mounts);
      // Each distinct place once, all at once (their lstats overlap on the thread pool: a pass for 200 groups proves
      // 400 places); the refusal thrown is that of the first place, in the order given, that fails.
      const byKey = new Map<string, Place>();
      for (const place of places) {
        const key = `${place.fs}\0${place.path}`;
        if (!byKey.has(key)) byKey.set(key, place);
      }
      const keys = [...byKey.keys()];
      const proven = await Promise.allSettled(keys.map((k) => proveOne(byKey.get(k)!, mounts, memo)));
      const dirs = new Map<string, string>();
      for (const [i, r] of proven.entries()) {
        if (r.status === 'rejected') throw r.reason;
        dirs.set(keys[i]!, r.value);
      }
      return new Map(places.map((place) => [place, dirs.get(`${place.fs}\0${place.path}`)!]));
    },
  };
}

/**
 * The places a step reads or writes. Files of a view or a dedupe are represented by their directories (one proof per
 * directory). A repoint's target is on the group's target filesystem.
 */
export function stepPlaces(step: PlanStep, group: PlanGroup): Place[] {
  switch (step.kind) {
    case 'copy':
      return [
        { fs: step.fromFs, path: step.fromRoot },
        { fs: step.toFs, path: step.toRoot },
      ];
    case 'link-view': {
      const dirs = new Set([step.root, ...step.links.flatMap((l) => [path.dirname(l.donor), path.dirname(l.path)])]);
      // The folders of the files whose owner and mode a link from another inode's copy re-reads (metaOf): on their own filesystem.
      const sources = new Map<string, Place>();
      for (const l of step.links) if (l.metaOf !== undefined) sources.set(`${l.metaOf.fs}\0${path.dirname(l.metaOf.path)}`, { fs: l.metaOf.fs, path: path.dirname(l.metaOf.path) });
      return [...[...dirs].map((d) => ({ fs: step.fs, path: d })), ...sources.values()];
    }
    case 'repoint':
      // Only where the client is sent: siblings may seed from sources on different filesystems, and none is touched.
      return group.to ? [{ fs: group.to.fs, path: step.hostTo }] : [];
    case 'dedupe-link':
      return [
        { fs: step.fs, path: path.dirname(step.keeper.path) },
        { fs: step.fs, path: path.dirname(step.duplicate.path) },
      ];
    case 'retire':
      return [
        { fs: step.fs, path: step.root },
        { fs: step.keptFs, path: step.keptRoot },
      ];
    case 'repair':
      return [...new Set(step.paths.map((p) => path.dirname(p)))].map((d) => ({ fs: step.fs, path: d })).concat({ fs: step.source.fs, path: path.dirname(step.source.path) });
    case 'recheck':
      // The client writes into the damaged files where they are: their folders must be on the filesystem verify read.
      return [...new Set(step.damaged.map((d) => path.dirname(d.path)))].map((d) => ({ fs: step.fs, path: d }));
    case 'retire-orphan':
      return [{ fs: step.fs, path: step.path }];
  }
}

/** Throws unless every place of every step of `steps` is on the filesystem the plan names. */
export async function proveSteps(guard: FilesystemGuard, group: PlanGroup, steps: PlanStep[]): Promise<void> {
  await guard.prove(steps.flatMap((s) => stepPlaces(s, group)));
}
