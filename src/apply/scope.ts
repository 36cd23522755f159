// Refuses plan steps whose paths leave the configured roots (a hand-edited or corrupt plan): checked before a group runs.
// Rules: every path is absolute and normalized (no `..`, no `//`); copy/view/retire/repoint targets lie strictly inside a
// seeding root of their filesystem, dedupe files and view donors inside a seeding or library root of theirs; a copy
// never nests source and target; no existing component from the root down is a symlink (writes would land elsewhere);
// a repoint sends the client exactly to its host path as the path maps translate it.
import path from 'node:path';
import { canonicalizeByAliases } from '../config/normalize.js';
import { hostToClient } from '../domain/path-map.js';
import type { HashallConfig } from '../config/types.js';
import { FsError } from '../errors.js';
import type { PlanGroup, PlanStep } from '../plan/types.js';
import type { FsPort } from './fs-port.js';
import { isUnder, trimSlash } from './paths.js';

function refuse(step: PlanStep, what: string): never {
  throw new FsError(`refusing ${step.kind} step: ${what}`, {
    hint: 'the plan does not match hashall.yaml (edited by hand, or made with another config); run `hashall plan` again',
  });
}

function strictlyUnder(p: string, root: string): boolean {
  return isUnder(p, root) && path.resolve(p) !== path.resolve(root);
}

function normalized(step: PlanStep, p: string, what: string): void {
  if (!path.isAbsolute(p) || path.resolve(p) !== p) refuse(step, `${what} ${JSON.stringify(p)} is not an absolute, normalized path`);
}

function seedingRoots(config: HashallConfig, fsName: string): string[] {
  return config.seeding[fsName] ?? [];
}

/** Seeding roots of `fsName` plus the library roots on that filesystem: every place a scan covers. */
function scannedRoots(config: HashallConfig, fsName: string): string[] {
  const fsConf = config.filesystems[fsName];
  const libs = fsConf ? config.libraries.filter((l) => isUnder(l, fsConf.path)) : [];
  return [...seedingRoots(config, fsName), ...libs];
}

/**
 * The root `p` lies strictly inside (judged on the canonical spelling: a filesystem alias counts as the filesystem),
 * returned in `p`'s own spelling so the symlink walk follows the path that will be written; or a refusal.
 */
function rootOf(step: PlanStep, config: HashallConfig, p: string, roots: string[], what: string): string {
  normalized(step, p, what);
  const c = canonicalizeByAliases(p, config.filesystems);
  const root = roots.find((r) => strictlyUnder(c, r));
  if (!root) refuse(step, `${what} ${p} is not inside ${roots.length ? roots.join(', ') : 'any configured root'}`);
  return p.slice(0, p.length - (c.length - trimSlash(root).length));
}

function relpathInside(step: PlanStep, base: string, rel: string): string {
  const p = path.join(base, rel);
  if (path.isAbsolute(rel) || !strictlyUnder(p, base) || path.relative(base, p) !== rel) refuse(step, `file ${JSON.stringify(rel)} escapes ${base}`);
  return p;
}

/** Every existing component of `p` from `root` down (both included) must be a real directory or the final file. */
async function noSymlinks(step: PlanStep, fs: FsPort, root: string, p: string): Promise<void> {
  const parts = path.relative(root, p).split(path.sep).filter(Boolean);
  let cur = root;
  for (let i = 0; i <= parts.length; i++) {
    if (i > 0) cur = path.join(cur, parts[i - 1]!);
    const st = await fs.lstat(cur);
    if (!st) return;
    if (st.kind === 'symlink') refuse(step, `${cur} is a symbolic link (on the way to ${p}); hashall never writes or deletes through symlinks`);
    if (i < parts.length && st.kind !== 'dir') return; // the step itself reports a file where a directory should be
  }
}

/** Throws (FsError) when a step of `group` reaches outside the configured roots; touches nothing. */
export async function checkGroupScope(group: PlanGroup, config: HashallConfig, fs: FsPort): Promise<void> {
  const known = (step: PlanStep, name: string) => {
    if (!config.filesystems[name]) refuse(step, `filesystem ${JSON.stringify(name)} is not in hashall.yaml`);
  };
  const canon = (p: string) => canonicalizeByAliases(p, config.filesystems);
  const nest = (a: string, b: string) => isUnder(canon(a), canon(b)) || isUnder(canon(b), canon(a));
  const allSeeding = Object.keys(config.filesystems).flatMap((n) => seedingRoots(config, n));
  for (const step of group.steps) {
    switch (step.kind) {
      case 'copy': {
        known(step, step.fromFs);
        known(step, step.toFs);
        if (step.fromFs === step.toFs) refuse(step, `copy from ${step.fromFs} to itself`);
        const fromRoot = rootOf(step, config, step.fromRoot, seedingRoots(config, step.fromFs), 'source');
        const toRoot = rootOf(step, config, step.toRoot, seedingRoots(config, step.toFs), 'target');
        if (nest(step.toRoot, step.fromRoot)) refuse(step, `source ${step.fromRoot} and target ${step.toRoot} nest`);
        await noSymlinks(step, fs, fromRoot, step.fromRoot);
        await noSymlinks(step, fs, toRoot, step.toRoot);
        for (const f of step.files) {
          // A single-file payload's relpath is its basename and is not joined; a directory's relpaths must stay inside.
          relpathInside(step, step.fromRoot, f.relpath);
          await noSymlinks(step, fs, toRoot, relpathInside(step, step.toRoot, f.relpath));
        }
        break;
      }
      case 'link-view': {
        known(step, step.fs);
        const viewRoot = rootOf(step, config, step.root, seedingRoots(config, step.fs), 'view');
        for (const l of step.links) {
          normalized(step, l.path, 'view path');
          if (!isUnder(canon(l.path), canon(step.root))) refuse(step, `view path ${l.path} is outside the view ${step.root}`);
          await noSymlinks(step, fs, viewRoot, l.path);
          const donorRoot = rootOf(step, config, l.donor, scannedRoots(config, step.fs), 'donor');
          await noSymlinks(step, fs, donorRoot, l.donor);
        }
        break;
      }
      case 'repoint': {
        rootOf(step, config, step.hostTo, allSeeding, 'new location');
        // The client must be sent exactly where the files were checked: the host path and the client paths agree.
        const maps = config.client?.pathMaps ?? [];
        const spellings = [step.hostTo, canon(step.hostTo)].map((h) => (maps.length ? hostToClient(maps, h) : h));
        const agrees = spellings.some((c) => c !== null && trimSlash(c) === trimSlash(step.expectedContentPath));
        if (!agrees || !isUnder(step.expectedContentPath, step.toSavePath)) {
          refuse(step, `the client location ${step.toSavePath} / ${step.expectedContentPath} does not match the host path ${step.hostTo} under the path maps in hashall.yaml`);
        }
        break;
      }
      case 'dedupe-link': {
        known(step, step.fs);
        for (const f of [step.keeper, step.duplicate]) {
          const root = rootOf(step, config, f.path, scannedRoots(config, step.fs), 'file');
          await noSymlinks(step, fs, root, f.path);
        }
        break;
      }
      case 'retire': {
        known(step, step.fs);
        known(step, step.keptFs);
        const root = rootOf(step, config, step.root, seedingRoots(config, step.fs), 'retired copy');
        const kept = rootOf(step, config, step.keptRoot, seedingRoots(config, step.keptFs), 'kept copy');
        if (nest(step.keptRoot, step.root)) refuse(step, `retired ${step.root} and kept ${step.keptRoot} nest`);
        await noSymlinks(step, fs, root, step.root);
        await noSymlinks(step, fs, kept, step.keptRoot);
        break;
      }
    }
  }
}
