// What root reads or links from, and what it accepts as already copied, when another local user races it: a donor's or a
// source's folder swapped for a symlink to a root-only folder, a rollback through a swapped view folder, a same-bytes
// file planted at the copy target, a source grown after it was checked, a setuid file's mode.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import type { LinkViewStep, PlanGroup } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, hashTreeSync, makeApplyFixture, makePlan, moveGroup, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { faultyFsPort } from '../../support/faulty-fs.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

/** A root-only folder (0700) on stash holding `name`: a 0644 file of `size` bytes no other user can reach. */
function rootOnly(dir: string, name: string, size: number): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const p = path.join(dir, name);
  writeFileSync(p, bytesFor('secret', size), { mode: 0o644 });
  return p;
}

/** Every regular file under `dir` with the inode of `p` (none when nothing links to it there). */
function linksOf(dir: string, p: string): string[] {
  const ino = lstatSync(p).ino;
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const q = path.join(d, n);
      const st = lstatSync(q);
      if (st.isDirectory()) walk(q);
      else if (st.ino === ino && q !== p) out.push(q);
    }
  };
  walk(dir);
  return out;
}

function viewStep(root: string, links: LinkViewStep['links']): LinkViewStep {
  return { kind: 'link-view', fs: 'stash', torrentHash: 'a'.repeat(40), root, links };
}

describe('link-view as another local user races it', () => {
  it("a donor's folder swapped for a symlink to a root-only folder: root never links the file found there", async () => {
    w = makeApplyFixture();
    const donorDir = path.join(w.stash, 'seeding', 'movies', 'M');
    writeTree(donorDir, { 'sub/a.bin': bytesFor('a', 4096) });
    const secret = rootOnly(path.join(w.stash, 'private'), 'a.bin', 4096);
    const viewRoot = path.join(w.stash, 'seeding', 'xseed', 'M');
    const links = [{ donor: path.join(donorDir, 'sub', 'a.bin'), path: path.join(viewRoot, 'sub', 'a.bin'), size: 4096, sha256: sha256(bytesFor('a', 4096)) }];
    const group: PlanGroup = { ...moveGroup('g1', w, donorDir, path.join(w.pool, 'x')), action: 'reuse', steps: [viewStep(viewRoot, links)] };
    // Right after the probe link (the donor's folder was fine until then), the user moves sub away and points it at the secret's folder.
    const fs = faultyFsPort(realFsPort(), [
      {
        op: 'link',
        nth: 1,
        after: () => {
          renameSync(path.join(donorDir, 'sub'), path.join(donorDir, 'sub-moved'));
          symlinkSync(path.dirname(secret), path.join(donorDir, 'sub'));
        },
      },
    ]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [group]));
    expect(fs.fired.length).toBe(1);
    expect(linksOf(w.stash, secret)).toEqual([]);
    expect(lstatSync(secret).nlink).toBe(1);
    // Either refused (rolled back) or built from the real donor, never from what the symlink leads to.
    if (res.status === 'succeeded') expect(lstatSync(links[0]!.path).ino).toBe(lstatSync(path.join(donorDir, 'sub-moved', 'a.bin')).ino);
    else expect(res.status).toBe('rolled-back');
  });

  it("a rollback never unlinks through a view folder swapped for a symlink (another name of the donor there is kept)", async () => {
    w = makeApplyFixture();
    const donorDir = path.join(w.stash, 'seeding', 'movies', 'M');
    writeTree(donorDir, { 'a.bin': bytesFor('a', 4096) });
    const donor = path.join(donorDir, 'a.bin');
    // A root-only backup holding another hardlink of the donor, at the same relative name as the view's file.
    const backup = path.join(w.stash, 'backup', 'M');
    mkdirSync(backup, { recursive: true, mode: 0o700 });
    linkSync(donor, path.join(backup, 'a.bin'));
    const v1 = path.join(w.stash, 'seeding', 'xseed', 'V1', 'M');
    const v2 = path.join(w.stash, 'seeding', 'xseed', 'V2', 'M');
    const sha = sha256(bytesFor('a', 4096));
    const group: PlanGroup = {
      ...moveGroup('g1', w, donorDir, path.join(w.pool, 'x')),
      action: 'reuse',
      steps: [viewStep(v1, [{ donor, path: path.join(v1, 'a.bin'), size: 4096, sha256: sha }]), viewStep(v2, [{ donor, path: path.join(v2, 'a.bin'), size: 4096, sha256: sha }])],
    };
    const fs = faultyFsPort(realFsPort(), [
      // Once the first view is built (its probe, its file) and the second one's probe made, the user swaps the first
      // view's folder for a symlink to the backup...
      {
        op: 'link',
        nth: 3,
        after: () => {
          renameSync(v1, `${v1}-moved`);
          symlinkSync(backup, v1);
        },
      },
      // ... and the second view's link fails (any error: the group rolls back).
      { op: 'link', nth: 2, pathIncludes: 'V2', code: 'EIO' },
    ]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [group]));
    expect(fs.fired.length).toBe(2);
    expect(res.status).not.toBe('succeeded');
    expect(existsSync(path.join(backup, 'a.bin'))).toBe(true);
    expect(lstatSync(donor).ino).toBe(lstatSync(path.join(backup, 'a.bin')).ino);
  });
});

describe('copy as another local user races it', () => {
  it('a same-bytes file another user planted at the target is not taken for the copy', async () => {
    w = makeApplyFixture();
    const src = path.join(w.stash, 'seeding', 'movies', 'S');
    writeTree(src, { 'a.bin': bytesFor('a', 8192) });
    chownSync(path.join(src, 'a.bin'), 1000, 1000);
    const dst = path.join(w.pool, 'seeding', 'movies', 'S');
    writeTree(dst, { 'a.bin': bytesFor('a', 8192) });
    chownSync(path.join(dst, 'a.bin'), 65534, 65534);
    const res = await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/owned by|owner/);
    expect(lstatSync(path.join(dst, 'a.bin')).uid).toBe(65534); // the stranger's file is not hashall's to touch
  });

  it("a source's folder swapped for a symlink to a root-only folder: root never reads the file found there", async () => {
    w = makeApplyFixture();
    const src = path.join(w.stash, 'seeding', 'movies', 'S');
    writeTree(src, { 'a.bin': bytesFor('a', 8192), 'sub/b.bin': bytesFor('b', 8192) });
    const before = hashTreeSync(src);
    const secret = rootOnly(path.join(w.stash, 'private'), 'b.bin', 8192);
    const dst = path.join(w.pool, 'seeding', 'movies', 'S');
    const group = moveGroup('g1', w, src, dst);
    // After the first file's copy, the user moves sub away and points it at the secret's folder.
    const fs = faultyFsPort(realFsPort(), [
      {
        op: 'copyFileVerified',
        nth: 1,
        after: () => {
          renameSync(path.join(src, 'sub'), path.join(src, 'sub-moved'));
          symlinkSync(path.dirname(secret), path.join(src, 'sub'));
        },
      },
    ]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [group]));
    expect(fs.fired.length).toBe(1);
    // No byte of the secret was written anywhere on pool (nor any error quoting its hash).
    const secretSha = sha256(bytesFor('secret', 8192));
    const onPool = Object.values(existsSync(dst) ? hashTreeSync(dst) : {});
    expect(onPool).not.toContain(secretSha);
    expect(JSON.stringify(res)).not.toContain(secretSha);
    renameSync(path.join(src, 'sub'), path.join(w.stash, 'attacker-link'));
    renameSync(path.join(src, 'sub-moved'), path.join(src, 'sub'));
    expect(hashTreeSync(src)).toEqual(before);
  });

  it('a failure reading a source names its path, not the held folder it was read through (/proc/self/fd/N)', async () => {
    w = makeApplyFixture();
    const src = path.join(w.stash, 'seeding', 'movies', 'S');
    writeTree(src, { 'sub/a.bin': bytesFor('a', 8192) });
    const file = path.join(src, 'sub', 'a.bin');
    // Replaced by a folder between the step's lstat and the copy's open: the copy refuses it (not a regular file).
    const fs = faultyFsPort(realFsPort(), [{ op: 'copyFileVerified', nth: 1, before: () => { rmSync(file); mkdirSync(file); } }]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, path.join(w.pool, 'seeding', 'movies', 'S'))]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toContain(`source ${file} is not a regular file`);
    expect(res.groups[0]!.error).not.toContain('/proc/self/fd');
  });

  it('a source grown (sparse) after it was checked is read no further than its planned size', async () => {
    w = makeApplyFixture();
    const src = path.join(w.stash, 'seeding', 'movies', 'S');
    writeTree(src, { 'a.bin': bytesFor('a', 100_000) });
    const dst = path.join(w.pool, 'seeding', 'movies', 'S');
    const group = moveGroup('g1', w, src, dst);
    const fs = faultyFsPort(realFsPort(), [{ op: 'copyFileVerified', nth: 1, before: () => truncateSync(path.join(src, 'a.bin'), 48 << 20) }]);
    const deps = testDeps(w, { fs });
    const res = await applyPlan(deps, makePlan(w, [group]));
    expect(res.status).toBe('rolled-back');
    const copied = deps.events.flatMap((e) => (e.type === 'copy-progress' ? [e.bytes] : []));
    expect(Math.max(0, ...copied)).toBeLessThanOrEqual(100_000);
    expect(existsSync(dst)).toBe(false);
  });

  it("a setuid/setgid file's copy keeps its mode (chown, which clears those bits, comes before chmod)", async () => {
    w = makeApplyFixture();
    const src = path.join(w.stash, 'seeding', 'tools', 'T');
    writeTree(src, { 'small.bin': bytesFor('s', 1000), 'big.bin': bytesFor('b', 3 << 20) });
    for (const f of ['small.bin', 'big.bin']) {
      chownSync(path.join(src, f), 1000, 1000);
      chmodSync(path.join(src, f), 0o6755);
    }
    const dst = path.join(w.pool, 'seeding', 'tools', 'T');
    const res = await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(res.status).toBe('succeeded');
    for (const f of ['small.bin', 'big.bin']) expect(lstatSync(path.join(dst, f)).mode & 0o7777, f).toBe(0o6755);
  });
});
