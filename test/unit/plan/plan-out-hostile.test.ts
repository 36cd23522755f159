// `plan --out PATH` run as root where a folder on the way belongs to another local user: their symlink on the way, or a
// folder of theirs swapped for one between the check before the refresh and the write after it, must not send root's
// write (a rename over whatever file has the plan's name) into a folder only root may write.
// Runs as root (the suite does): the other user is uid 65534, acting through setpriv.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkPlanOut, readPlanFile, writePlanFile, type FolderOpener } from '../../../src/plan/plan-file-io.js';
import { openJudged } from '../../../src/fs/judged-open.js';
import { showcasePlan } from '../render/showcase.js';

const OTHER = 65534;
/** As `plan --out` opens its folder (src/cli/commands/plan.ts). */
const open: FolderOpener = (folder, flags) => openJudged(folder, flags, { owners: new Set([0]), who: 'root' });
let dir: string;
let rootOnly: string;
let theirs: string;

/** Run a shell command as the other user, in their folder. */
const asThem = (script: string): void => {
  execFileSync('setpriv', [`--reuid=${OTHER}`, `--regid=${OTHER}`, '--clear-groups', 'sh', '-c', script], { cwd: theirs, stdio: 'pipe' });
};

beforeEach(() => {
  dir = mkdtempSync('/tmp/hashall-plan-out-');
  chmodSync(dir, 0o755);
  rootOnly = path.join(dir, 'root-only');
  mkdirSync(rootOnly, { mode: 0o700 });
  writeFileSync(path.join(rootOnly, 'plan.json'), 'root’s own file\n');
  theirs = path.join(dir, 'theirs');
  mkdirSync(theirs, { mode: 0o755 });
  chownSync(theirs, OTHER, OTHER);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('plan --out through a folder another user controls', () => {
  it('their symlink on the way (to a folder only root writes) is refused before anything is written; root’s file is untouched', () => {
    asThem(`ln -s ${rootOnly} plans`);
    const file = path.join(theirs, 'plans', 'plan.json');
    expect(() => checkPlanOut(file, open)).toThrow(`symlink ${path.join(theirs, 'plans')} on the way to it is owned by uid ${OTHER}, not root`);
    expect(() => writePlanFile(file, showcasePlan(), undefined, open)).toThrow(`symlink ${path.join(theirs, 'plans')} on the way to it is owned by uid ${OTHER}, not root`);
    expect(readFileSync(path.join(rootOnly, 'plan.json'), 'utf8')).toBe('root’s own file\n');
    expect(readdirSync(rootOnly)).toEqual(['plan.json']);
  });

  it('their folder swapped for a symlink between the check (before the refresh) and the write: nothing lands in root’s folder', () => {
    asThem('mkdir plans');
    const file = path.join(theirs, 'plans', 'plan.json');
    const out = checkPlanOut(file, open);
    try {
      // During the refresh (minutes), they move their folder aside and put a link to root's folder in its place.
      asThem(`mv plans plans.old && ln -s ${rootOnly} plans`);
      expect(() => writePlanFile(file, showcasePlan(), out, open)).toThrow(/was replaced|on the way to it/);
    } finally {
      out?.close();
    }
    expect(readFileSync(path.join(rootOnly, 'plan.json'), 'utf8')).toBe('root’s own file\n');
    expect(readdirSync(rootOnly)).toEqual(['plan.json']);
    expect(readdirSync(path.join(theirs, 'plans.old'))).toEqual([]);
  });

  it('their own folder, left as it was: the plan is written there, 0600, through the folder held since the check', () => {
    asThem('mkdir plans');
    const file = path.join(theirs, 'plans', 'plan.json');
    const out = checkPlanOut(file, open);
    try {
      writePlanFile(file, showcasePlan(), out, open);
    } finally {
      out?.close();
    }
    expect(readPlanFile(file).plan).toEqual(showcasePlan());
    expect(readdirSync(path.join(theirs, 'plans'))).toEqual(['plan.json']);
  });
});
