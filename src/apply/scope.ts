// Refuses plan steps whose paths leave the configured roots (a hand-edited or corrupt plan): checked before a group runs.
// Rules: every path is absolute and normalized (no `..`, no `//`); copy/view/retire/repoint targets lie strictly inside a
// seeding root of their filesystem, dedupe files and view donors inside a seeding or library root of theirs; a copy
// never nests source and target; no existing component from the root down is a symlink (writes would land elsewhere);
// a repoint sends the client exactly where the planner would (content and save path, inside a seeding root of the target).
import { instanceOf, torrentKey, torrentLabel } from '../domain/instance.js';
import path from 'node:path';
import { canonicalizeByAliases } from '../config/normalize.js';
import { hostToClient } from '../domain/path-map.js';
import type { HashallConfig } from '../config/types.js';
import { FsError } from '../errors.js';
import { contentRelOf } from '../domain/listing.js';
import { isAtOrUnder, normalizePath, segments, trimSlash } from '../domain/path-string.js';
import { rootHolding, scannedRootsOf, seedingRootsOf, strictlyUnder } from '../config/filesystem-roots.js';
import { copyFilesOf, type PlanGroup, type PlanStep, type RepointStep } from '../plan/types.js';
import { chainOf } from './dir-chain.js';
import type { FsPort } from './fs-port.js';

function refuse(step: PlanStep, what: string): never {
  throw new FsError(`refusing ${step.kind} step: ${what}`, {
    hint: 'the plan does not match hashall.yaml (edited by hand, or made with another config); run `hashall plan` again',
  });
}

function normalized(step: PlanStep, p: string, what: string): void {
  if (!path.isAbsolute(p) || normalizePath(p) !== p) refuse(step, `${what} ${JSON.stringify(p)} is not an absolute, normalized path`);
}

// The roots of each filesystem come from src/config/filesystem-roots.ts, the rule the planner plans by: a group the
// planner proposes is never refused here for where its files lie. Comparisons are on lexical normal forms
// (normalizePath: what path.resolve gives for an absolute path, without its cost — a dedupe batch checks thousands of
// paths; a relative path is refused or never under an absolute root).
/**
 * The root `p` lies strictly inside (judged on the canonical spelling: a filesystem alias counts as the filesystem),
 * returned in `p`'s own spelling so the symlink walk follows the path that will be written; or a refusal.
 */
function rootOf(step: PlanStep, config: HashallConfig, p: string, roots: string[], what: string): string {
  normalized(step, p, what);
  const held = rootHolding(config, p, roots);
  if (!held) refuse(step, `${what} ${p} is not inside ${roots.length ? roots.join(', ') : 'any configured root'}`);
  return held.ownSpelling;
}

/**
 * The seeding root (`kind` 'seeding') or scanned root ('scanned': seeding or library) of filesystem `fsName` that `p`
 * lies strictly inside, in `p`'s own spelling — where a step's writes are anchored (see dir-chain.ts). Throws when
 * there is none (the scope check refuses such a step before it runs).
 */
export function rootInside(config: HashallConfig, fsName: string, p: string, kind: 'seeding' | 'scanned'): string {
  const roots = kind === 'seeding' ? seedingRootsOf(config, fsName) : scannedRootsOf(config, fsName);
  const held = rootHolding(config, p, roots);
  if (!held) throw new FsError(`${p} is not inside ${roots.join(', ') || 'any configured root'} of ${fsName}`, { path: p });
  return held.ownSpelling;
}

function relpathInside(step: PlanStep, base: string, rel: string): string {
  const p = path.join(base, rel);
  if (path.isAbsolute(rel) || !strictlyUnder(p, base) || path.relative(base, p) !== rel) refuse(step, `file ${JSON.stringify(rel)} escapes ${base}`);
  return p;
}

/**
 * Every existing component of `p` from `root` down (both included) must be a real directory or the final file. The
 * directories already found real by the same scope check (`dirs`) are not read again, the final component included
 * (a dedupe step names its files' folders: many files share one).
 */
async function noSymlinksBelow(step: PlanStep, fs: FsPort, root: string, p: string, dirs: Set<string>): Promise<void> {
  const chain = chainOf(root, p);
  for (const [i, cur] of chain.entries()) {
    const last = i === chain.length - 1;
    if (dirs.has(cur)) continue;
    const st = await fs.lstatId(cur);
    if (!st) return;
    if (st.kind === 'symlink') refuse(step, `${cur} is a symbolic link (on the way to ${p}); hashall never writes or deletes through symlinks`);
    if (st.kind === 'dir') dirs.add(cur);
    else if (!last) return; // the step itself reports a file where a directory should be
  }
}

/**
 * A repoint sends the client exactly where the planner would: the content to the client spelling of `hostTo` (strictly
 * inside a seeding root of the group's target filesystem), the save path to the client spelling of `hostTo` minus as
 * many segments as the torrent's content path lies below its save path (from the group's fingerprint, which preflight
 * proved against the live client) — and that save path must still lie in the seeding root. Checking only that the
 * content path is under the save path would let an edited plan send the client to `/` or the mount point.
 */
function checkRepoint(step: RepointStep, group: PlanGroup, config: HashallConfig): void {
  const target = group.to?.fs;
  if (!target || !config.filesystems[target]) refuse(step, `the group names no target filesystem of hashall.yaml (${JSON.stringify(target ?? null)})`);
  const canonTo = canonicalizeByAliases(step.hostTo, config.filesystems);
  rootOf(step, config, step.hostTo, seedingRootsOf(config, target), 'new location');
  const seedRoot = seedingRootsOf(config, target).find((r) => strictlyUnder(canonTo, r))!;
  const fp = group.fingerprint.torrents.find((t) => torrentKey(t) === torrentKey({ client: step.client, hash: step.torrentHash }));
  if (!fp) refuse(step, `torrent ${torrentLabel({ client: step.client, hash: step.torrentHash })} has no fingerprint in the plan, so its live state was never checked`);
  const rel = contentRelOf(fp);
  if (rel === null || rel === '') refuse(step, `the content path ${fp.clientContentPath} of ${step.torrentName} is not inside its save path ${fp.clientSavePath}`);
  // The new location is the torrent's payload root (from its file list: its root folder, or its only file), one level
  // below its save path; content_path lies at it, or at the file inside it for a one-file torrent in a folder.
  if (segments(rel)[0] !== path.basename(canonTo)) refuse(step, `the new location ${step.hostTo} is not the root "${segments(rel)[0]}" of ${step.torrentName}`);
  const hostSave = path.dirname(canonTo);
  if (!isAtOrUnder(hostSave, seedRoot)) refuse(step, `the new save path ${hostSave} would lie outside the seeding root ${seedRoot}`);
  // The client must be sent exactly where the files were checked: the host path and the client paths agree.
  // An instance hashall.yaml does not configure has no client either: the step fails there, touching nothing.
  const maps = config.clients[instanceOf(step)]?.pathMaps ?? [];
  const spell = (h: string) => (maps.length ? hostToClient(maps, h) : h);
  const saves = [step.hostTo, canonTo].map((h) => spell(path.dirname(h)));
  const agrees = saves.some((save) => save !== null && trimSlash(save) === trimSlash(step.toSavePath) && trimSlash(step.expectedContentPath) === `${trimSlash(save)}/${segments(rel).join('/')}`);
  if (!agrees) {
    refuse(step, `the client save path ${step.toSavePath} / content path ${step.expectedContentPath} is not where the host path ${step.hostTo} lies under the path maps of client "${instanceOf(step)}" in hashall.yaml (expected save path ${saves.map((x) => x ?? '(unmapped)').join(' or ')})`);
  }
}

/**
 * Throws (FsError) when a step of `group` reaches outside the configured roots; touches nothing. `dirs` are the
 * directories this check found real (no symlink) — a dedupe batch shares one set across its groups' checks, made at the
 * same moment (each directory is proven again, (dev, ino), right before every write below it: dir-chain.ts).
 */
export async function checkGroupScope(group: PlanGroup, config: HashallConfig, fs: FsPort, dirs: Set<string> = new Set()): Promise<void> {
  const noSymlinks = (step: PlanStep, fsPort: FsPort, root: string, p: string) => noSymlinksBelow(step, fsPort, root, p, dirs);
  const known = (step: PlanStep, name: string) => {
    if (!config.filesystems[name]) refuse(step, `filesystem ${JSON.stringify(name)} is not in hashall.yaml`);
  };
  const canon = (p: string) => canonicalizeByAliases(p, config.filesystems);
  const nest = (a: string, b: string) => isAtOrUnder(canon(a), canon(b)) || isAtOrUnder(canon(b), canon(a));
  for (const step of group.steps) {
    switch (step.kind) {
      case 'copy': {
        known(step, step.fromFs);
        known(step, step.toFs);
        if (step.fromFs === step.toFs) refuse(step, `copy from ${step.fromFs} to itself`);
        const fromRoot = rootOf(step, config, step.fromRoot, seedingRootsOf(config, step.fromFs), 'source');
        const toRoot = rootOf(step, config, step.toRoot, seedingRootsOf(config, step.toFs), 'target');
        if (nest(step.toRoot, step.fromRoot)) refuse(step, `source ${step.fromRoot} and target ${step.toRoot} nest`);
        await noSymlinks(step, fs, fromRoot, step.fromRoot);
        await noSymlinks(step, fs, toRoot, step.toRoot);
        for (const f of copyFilesOf(step)) {
          // A single-file payload's relpath is its basename and is not joined; a directory's relpaths must stay inside.
          relpathInside(step, step.fromRoot, f.relpath);
          await noSymlinks(step, fs, toRoot, relpathInside(step, step.toRoot, f.relpath));
        }
        break;
      }
      case 'link-view': {
        known(step, step.fs);
        const viewRoot = rootOf(step, config, step.root, seedingRootsOf(config, step.fs), 'view');
        for (const l of step.links) {
          normalized(step, l.path, 'view path');
          if (!isAtOrUnder(canon(l.path), canon(step.root))) refuse(step, `view path ${l.path} is outside the view ${step.root}`);
          await noSymlinks(step, fs, viewRoot, l.path);
          const donorRoot = rootOf(step, config, l.donor, scannedRootsOf(config, step.fs), 'donor');
          await noSymlinks(step, fs, donorRoot, l.donor);
          if (l.metaOf !== undefined) {
            // Only read (its owner, group and mode), on its own filesystem.
            known(step, l.metaOf.fs);
            await noSymlinks(step, fs, rootOf(step, config, l.metaOf.path, scannedRootsOf(config, l.metaOf.fs), 'linked file\'s source'), l.metaOf.path);
          }
        }
        break;
      }
      case 'repoint': {
        checkRepoint(step, group, config);
        break;
      }
      case 'dedupe-link': {
        known(step, step.fs);
        for (const f of [step.keeper, step.duplicate]) {
          const root = rootOf(step, config, f.path, scannedRootsOf(config, step.fs), 'file');
          // The folders only: the step's own check reads each file (lstat) right after this and refuses anything but a
          // regular file of the planned inode, a symlink first (dedupe-link.ts) — reading it here too was a second statx.
          await noSymlinks(step, fs, root, path.dirname(f.path));
        }
        break;
      }
      case 'repair': {
        known(step, step.fs);
        known(step, step.source.fs);
        for (const p of step.paths) await noSymlinks(step, fs, rootOf(step, config, p, scannedRootsOf(config, step.fs), 'repaired file'), p);
        await noSymlinks(step, fs, rootOf(step, config, step.source.path, scannedRootsOf(config, step.source.fs), 'good copy'), step.source.path);
        if (step.paths.some((p) => canon(p) === canon(step.source.path))) refuse(step, `the good copy ${step.source.path} is one of the paths it repairs`);
        break;
      }
      case 'recheck': {
        known(step, step.fs);
        for (const d of step.damaged) await noSymlinks(step, fs, rootOf(step, config, d.path, scannedRootsOf(config, step.fs), 'damaged file'), d.path);
        break;
      }
      case 'retire': {
        known(step, step.fs);
        known(step, step.keptFs);
        const root = rootOf(step, config, step.root, seedingRootsOf(config, step.fs), 'retired copy');
        const kept = rootOf(step, config, step.keptRoot, seedingRootsOf(config, step.keptFs), 'kept copy');
        if (nest(step.keptRoot, step.root)) refuse(step, `retired ${step.root} and kept ${step.keptRoot} nest`);
        await noSymlinks(step, fs, root, step.root);
        await noSymlinks(step, fs, kept, step.keptRoot);
        break;
      }
      case 'retire-orphan': {
        known(step, step.fs);
        const root = rootOf(step, config, step.path, seedingRootsOf(config, step.fs), 'orphan');
        await noSymlinks(step, fs, root, step.path);
        break;
      }
    }
  }
}
