// The folder a step writes into, swapped by another local user between its proof and the write: copy's temp file, link-view's links (the probe and the view's own) and each missing level of their folders are made only in the folder that was proven (or just made), never through the symlink put in its place; an undo removes only what was made, through the folder that holds it.
// A real non-root user (uid 65534) owns the payload's folders — the torrent client's user — so it owns the target folders
// hashall makes as their mirror, and it swaps one for a symlink to a root-only folder right before root's write (the
// FsPort hook on that very write: the window between the folder chain's proof and the open is made deterministic).
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { linkViewStep } from '../../../src/apply/steps/link-view.js';
import { realFsPort, type FsPort } from '../../../src/apply/fs-port.js';
import type { LinkViewStep, PlanGroup, RepairStep } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, fingerprint, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, moveGroup, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { faultyFsPort, type FsOp } from '../../support/faulty-fs.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

const NOBODY = ['--reuid', '65534', '--regid', '65534', '--clear-groups'];

/** As uid 65534, in `dir`: move `name` away (to `movedTo`, by default `name`-moved beside it) and put a symlink to `to` in its place. */
function swapAsNobody(dir: string, name: string, to: string, movedTo = `${name}-moved`): void {
  execFileSync('setpriv', [...NOBODY, 'sh', '-c', `mv '${name}' '${movedTo}' && ln -s '${to}' '${name}'`], { cwd: dir, stdio: 'inherit' });
}

/** A root-only folder (0700) holding one file of root's: what the attacker aims root's writes at. */
function rootOnly(dir: string): { dir: string; before: Record<string, string> } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  writeFileSync(path.join(dir, 'secret'), bytesFor('secret', 1000), { mode: 0o600 });
  return { dir, before: hashTreeSync(dir) };
}

/**
 * Faults on the `nth` call of `op`: right before it, the swap; right after it, what the root-only folder holds then
 * (the old code's write had landed there by that time, and a rollback may remove it again).
 */
function swapBefore(op: FsOp, nth: number, swap: () => void, target: string, seen: string[][], also?: { dir: string; seen: string[][] }) {
  return faultyFsPort(realFsPort(), [
    { op, nth, before: swap },
    {
      op,
      nth,
      after: () => {
        seen.push(readdirSync(target));
        also?.seen.push(readdirSync(also.dir));
      },
    },
  ]);
}

describe('copy: the target folder swapped for a symlink to a root-only folder between its proof and the temp file', () => {
  // The folder proven is moved beside itself (still in the seeding root), or out of the seeding root into a folder of the
  // user's on the same filesystem: the copy lands in it (its descriptor is held), and is removed from it at once.
  it.each([
    ['beside it', false],
    ['out of the seeding root', true],
  ])('the temp file is made only in the folder proven (moved %s): nothing lands in the root-only folder, the group rolls back, nothing is lost', async (_, out) => {
    w = makeApplyFixture();
    chmodSync(w.root, 0o755);
    const src = path.join(w.stash, 'seeding', 'movies', 'S');
    writeTree(src, { 'd/a.bin': bytesFor('a', 20_000), 'd/b.bin': bytesFor('b', 3 << 20) });
    execFileSync('chown', ['-R', '65534:65534', src]); // the client's files: the target folders mirror their owner
    const before = hashTreeSync(src);
    const secret = rootOnly(path.join(w.pool, 'private'));
    const dst = path.join(w.pool, 'seeding', 'movies', 'S');
    const home = path.join(w.pool, 'home');
    mkdirSync(home);
    chownSync(home, 65534, 65534);
    const moved = out ? path.join(home, 'd') : path.join(dst, 'd-moved');
    const seen: string[][] = [];
    const inMoved: string[][] = [];
    const fs = swapBefore('copyFileVerified', 1, () => swapAsNobody(dst, 'd', secret.dir, moved), secret.dir, seen, { dir: moved, seen: inMoved });
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(fs.fired.length).toBe(2);
    expect(lstatSync(path.join(dst, 'd')).isSymbolicLink()).toBe(true); // the swap happened (and is not hashall's to undo)
    expect(seen).toEqual([['secret']]); // right after the copy: nothing of root's in the root-only folder
    expect(inMoved).toEqual([[expect.stringMatching(/^\.hashall-.*\.part$/)]]); // but in the folder proven, wherever it went
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/looks like an attack/);
    expect(hashTreeSync(secret.dir)).toEqual(secret.before);
    expect(readdirSync(secret.dir)).toEqual(['secret']);
    // What hashall made in the folder it proved (moved away by the user, still inside the seeding root) is gone again.
    expect(hashallLeftovers(w.pool)).toEqual([]);
    expect(readdirSync(moved)).toEqual([]);
    expect(hashTreeSync(src)).toEqual(before);
  });
});

describe("copy's rollback: the target folder swapped for a symlink to a root-only folder between the undo's check of a file and its unlink", () => {
  it("removes hashall's copy from the folder it checked, never the root-only folder's file of the same name", async () => {
    w = makeApplyFixture();
    chmodSync(w.root, 0o755);
    const src = path.join(w.stash, 'seeding', 'movies', 'S');
    writeTree(src, { 'd/a.bin': bytesFor('a', 20_000) });
    execFileSync('chown', ['-R', '65534:65534', src]);
    const before = hashTreeSync(src);
    const secret = rootOnly(path.join(w.pool, 'private'));
    writeFileSync(path.join(secret.dir, 'a.bin'), bytesFor('root', 500), { mode: 0o600 }); // a root file by the copy's name
    secret.before = hashTreeSync(secret.dir);
    const dst = path.join(w.pool, 'seeding', 'movies', 'S');
    // The copy lands; making it durable fails (the group rolls back); the undo checks d/a.bin is its copy and, right
    // before it unlinks it, the user swaps d for a symlink to the root-only folder.
    const fs = faultyFsPort(realFsPort(), [
      { op: 'fsyncFile', nth: 1, code: 'EIO' },
      { op: 'unlink', nth: 1, pathIncludes: 'a.bin', before: () => swapAsNobody(dst, 'd', secret.dir) },
    ]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(fs.fired.length).toBe(2);
    expect(res.status).toBe('rolled-back');
    expect(hashTreeSync(secret.dir)).toEqual(secret.before);
    expect(readdirSync(path.join(dst, 'd-moved'))).toEqual([]);
    expect(hashTreeSync(src)).toEqual(before);
  });
});

describe('link-view: a view folder swapped for a symlink to a root-only folder between its proof and a link', () => {
  // The 1st link is the probe (a temp name), the 2nd the view's first file.
  it.each([
    [1, 'the probe link'],
    [2, "the view's own link"],
  ])('%s (%s): no link of the donor lands in the root-only folder, the group rolls back, nothing is lost', async (nth) => {
    w = makeApplyFixture();
    chmodSync(w.root, 0o755);
    const donorDir = path.join(w.stash, 'seeding', 'movies', 'M');
    writeTree(donorDir, { 'sub/a.bin': bytesFor('a', 4096), 'sub/b.bin': bytesFor('b', 4096) });
    execFileSync('chown', ['-R', '65534:65534', donorDir]);
    const before = hashTreeSync(donorDir);
    const secret = rootOnly(path.join(w.stash, 'private'));
    const viewRoot = path.join(w.stash, 'seeding', 'xseed', 'M');
    const links = ['a.bin', 'b.bin'].map((n) => ({ donor: path.join(donorDir, 'sub', n), path: path.join(viewRoot, 'sub', n), size: 4096, sha256: sha256(bytesFor(n[0]!, 4096)) }));
    const step: LinkViewStep = { kind: 'link-view', fs: 'stash', torrentHash: 'a'.repeat(40), root: viewRoot, links };
    const group: PlanGroup = { ...moveGroup('g1', w, donorDir, path.join(w.pool, 'x')), action: 'reuse', steps: [step] };
    const seen: string[][] = [];
    const fs = swapBefore('link', nth, () => swapAsNobody(viewRoot, 'sub', secret.dir), secret.dir, seen);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [group]));
    expect(fs.fired.length).toBe(2);
    expect(lstatSync(path.join(viewRoot, 'sub')).isSymbolicLink()).toBe(true);
    expect(seen).toEqual([['secret']]);
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/looks like an attack/);
    expect(readdirSync(secret.dir)).toEqual(['secret']);
    expect(hashTreeSync(secret.dir)).toEqual(secret.before);
    // The links made in the folder proven (moved away, still inside the seeding root) are gone again: the donors are single again.
    expect(hashallLeftovers(w.stash)).toEqual([]);
    expect(existsSync(path.join(viewRoot, 'sub-moved')) ? readdirSync(path.join(viewRoot, 'sub-moved')) : []).toEqual([]);
    for (const l of links) expect(lstatSync(l.donor).nlink).toBe(1);
    expect(hashTreeSync(donorDir)).toEqual(before);
  });
});

/**
 * A fresh fixture with a donor payload of the client user's (uid 65534, one file `sub/a.bin`) and an empty view folder of
 * theirs (`xseed/M/sub`); the link-view step linking the file into it, as the one step of a reuse group.
 */
function clientUserView() {
  w = makeApplyFixture();
  chmodSync(w.root, 0o755);
  const donorDir = path.join(w.stash, 'seeding', 'movies', 'M');
  writeTree(donorDir, { 'sub/a.bin': bytesFor('a', 4096) });
  execFileSync('chown', ['-R', '65534:65534', donorDir]);
  const viewRoot = path.join(w.stash, 'seeding', 'xseed', 'M');
  mkdirSync(path.join(viewRoot, 'sub'), { recursive: true });
  execFileSync('chown', ['-R', '65534:65534', path.join(w.stash, 'seeding', 'xseed')]);
  const links = [{ donor: path.join(donorDir, 'sub', 'a.bin'), path: path.join(viewRoot, 'sub', 'a.bin'), size: 4096, sha256: sha256(bytesFor('a', 4096)) }];
  const step: LinkViewStep = { kind: 'link-view', fs: 'stash', torrentHash: 'a'.repeat(40), root: viewRoot, links };
  const group: PlanGroup = { ...moveGroup('g1', w, donorDir, path.join(w.pool, 'x')), action: 'reuse', steps: [step] };
  return { donorDir, viewRoot, step, group, before: hashTreeSync(donorDir) };
}

describe('link-view: the probe link swapped for another user’s file before its removal, and the group rolled back', () => {
  it('the undo leaves their file at the probe name (not the donor’s inode hashall linked there); the donor is whole', async () => {
    const { donorDir, viewRoot, group, before } = clientUserView();
    let probe = '';
    // Right before root removes its probe: the view folder's user moves the probe away and puts a file of theirs at its
    // name; the removal then fails (EIO), and the group is rolled back.
    const fs = faultyFsPort(realFsPort(), [
      {
        op: 'unlink',
        nth: 1,
        pathIncludes: '-probe.part',
        before: () => {
          probe = readdirSync(path.join(viewRoot, 'sub')).find((n) => n.endsWith('-probe.part'))!;
          execFileSync('setpriv', [...NOBODY, 'sh', '-c', `mv '${probe}' moved.bin && echo theirs > '${probe}'`], { cwd: path.join(viewRoot, 'sub'), stdio: 'inherit' });
          throw Object.assign(new Error('injected EIO'), { code: 'EIO' });
        },
      },
    ]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [group]));
    expect(res.status).toBe('rolled-back');
    expect(probe, res.groups[0]!.error ?? '').not.toBe('');
    const left = path.join(viewRoot, 'sub', probe);
    expect(existsSync(left)).toBe(true);
    expect(lstatSync(left).uid).toBe(65534);
    expect(hashTreeSync(donorDir)).toEqual(before);
  });
});

describe('link-view: the undo of a probe journaled by an older hashall (its name only, no identity)', () => {
  /** A donor of the client user's and an empty view folder of theirs; the step linking one file; its undo context. */
  function legacyProbe() {
    const { donorDir, viewRoot, step, group, before } = clientUserView();
    const d = testDeps(w);
    const ctx = { fs: realFsPort(), clients: d.clients, config: w.config, catalog: w.catalog, runId: '20261126T014442Z-3f9a', group, stepIndex: 0, now: d.now, emit: d.emit, clientTimeoutMs: () => 10_000, note: () => undefined };
    const probe = path.join(viewRoot, 'sub', `.hashall-${ctx.runId}-g1-0-probe.part`);
    return { donorDir, step, ctx, probe, before };
  }

  it('a file of the user at the probe name (not a link of the donor) is left, said; nothing else is removed', async () => {
    const { donorDir, step, ctx, probe, before } = legacyProbe();
    // Between the crash and the recovery the view folder's user puts a file of theirs — its only copy — at the probe name.
    execFileSync('setpriv', [...NOBODY, 'sh', '-c', `echo theirs > '${path.basename(probe)}'`], { cwd: path.dirname(probe), stdio: 'inherit' });
    const notes = await linkViewStep.undo(step, ctx, { dirs: [], links: [], probe });
    expect(existsSync(probe)).toBe(true);
    expect(lstatSync(probe).uid).toBe(65534);
    expect(notes.join('\n')).toMatch(/recorded no identity of its probe link, and it is not a hardlink of a donor/);
    expect(hashTreeSync(donorDir)).toEqual(before);
  });

  it('a hardlink of the donor at the probe name (the probe a crash left) is removed; the donor keeps its bytes', async () => {
    const { donorDir, step, ctx, probe, before } = legacyProbe();
    execFileSync('ln', [step.links[0]!.donor, probe]);
    const notes = await linkViewStep.undo(step, ctx, { dirs: [], links: [], probe });
    expect(notes).toEqual([]);
    expect(existsSync(probe)).toBe(false);
    expect(lstatSync(step.links[0]!.donor).nlink).toBe(1);
    expect(hashTreeSync(donorDir)).toEqual(before);
  });
});

/**
 * The real FsPort, but right before the step looks up the owner of folder `counterpart`'s mirror (its lstat: the moment
 * between making one missing level of a target folder and the next), `swap` runs once, when `when()` holds; the listing
 * of `watch` is taken at the first folder-chain read after it — right after root made the next level, before any undo.
 */
function swapWhileMakingFolders(counterpart: string, when: () => boolean, swap: () => void, watch: string) {
  const base = realFsPort();
  const state = { swapped: false, seen: [] as string[][] };
  const fs: FsPort = {
    ...base,
    lstat: async (p) => {
      if (!state.swapped && p === counterpart && when()) {
        state.swapped = true;
        swap();
      }
      return base.lstat(p);
    },
    lstatId: async (p) => {
      if (state.swapped && state.seen.length === 0) state.seen.push(readdirSync(watch));
      return base.lstatId(p);
    },
  };
  return { fs, state };
}

describe('copy: a target folder hashall just made (and gave the client user) swapped for a symlink to a root-only folder before the next level is made', () => {
  it('the next level is made only in the folder hashall made: no folder of the user appears in the root-only folder, the group rolls back, nothing is lost', async () => {
    w = makeApplyFixture();
    chmodSync(w.root, 0o755);
    const src = path.join(w.stash, 'seeding', 'movies', 'S');
    writeTree(src, { 'd/e/a.bin': bytesFor('a', 20_000) });
    execFileSync('chown', ['-R', '65534:65534', src]); // the client's files: S and S/d at the target become the user's
    const before = hashTreeSync(src);
    const secret = rootOnly(path.join(w.pool, 'private'));
    const dst = path.join(w.pool, 'seeding', 'movies', 'S');
    // Right before d/e is made (its owner looked up from the source's d/e), the user swaps d — theirs — for a symlink.
    const { fs, state } = swapWhileMakingFolders(path.join(src, 'd', 'e'), () => existsSync(path.join(dst, 'd')), () => swapAsNobody(dst, 'd', secret.dir), secret.dir);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(state.swapped).toBe(true);
    expect(lstatSync(path.join(dst, 'd')).isSymbolicLink()).toBe(true);
    expect(state.seen).toEqual([['secret']]); // right after the mkdir: nothing made in the root-only folder
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/looks like an attack/);
    expect(readdirSync(secret.dir)).toEqual(['secret']);
    expect(hashTreeSync(secret.dir)).toEqual(secret.before);
    // The level made in the folder hashall made (moved away by the user) is removed again through that folder.
    expect(readdirSync(path.join(dst, 'd-moved'))).toEqual([]);
    expect(hashallLeftovers(w.pool)).toEqual([]);
    expect(hashTreeSync(src)).toEqual(before);
  });
});

describe('link-view: a view folder hashall just made swapped for a symlink to a root-only folder before the next level is made', () => {
  it('the next level is made only in the folder hashall made: nothing appears in the root-only folder, the group rolls back, nothing is lost', async () => {
    w = makeApplyFixture();
    chmodSync(w.root, 0o755);
    const donorDir = path.join(w.stash, 'seeding', 'movies', 'M');
    writeTree(donorDir, { 'sub/deep/a.bin': bytesFor('a', 4096) });
    execFileSync('chown', ['-R', '65534:65534', donorDir]);
    const before = hashTreeSync(donorDir);
    const secret = rootOnly(path.join(w.stash, 'private'));
    const viewRoot = path.join(w.stash, 'seeding', 'xseed', 'M');
    const links = [{ donor: path.join(donorDir, 'sub', 'deep', 'a.bin'), path: path.join(viewRoot, 'sub', 'deep', 'a.bin'), size: 4096, sha256: sha256(bytesFor('a', 4096)) }];
    const step: LinkViewStep = { kind: 'link-view', fs: 'stash', torrentHash: 'a'.repeat(40), root: viewRoot, links };
    const group: PlanGroup = { ...moveGroup('g1', w, donorDir, path.join(w.pool, 'x')), action: 'reuse', steps: [step] };
    const { fs, state } = swapWhileMakingFolders(path.join(donorDir, 'sub', 'deep'), () => existsSync(path.join(viewRoot, 'sub')), () => swapAsNobody(viewRoot, 'sub', secret.dir), secret.dir);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [group]));
    expect(state.swapped).toBe(true);
    expect(lstatSync(path.join(viewRoot, 'sub')).isSymbolicLink()).toBe(true);
    expect(state.seen).toEqual([['secret']]);
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/looks like an attack/);
    expect(readdirSync(secret.dir)).toEqual(['secret']);
    expect(hashTreeSync(secret.dir)).toEqual(secret.before);
    expect(readdirSync(path.join(viewRoot, 'sub-moved'))).toEqual([]);
    expect(hashallLeftovers(w.stash)).toEqual([]);
    expect(lstatSync(links[0]!.donor).nlink).toBe(1);
    expect(hashTreeSync(donorDir)).toEqual(before);
  });
});

describe("copy's rollback: a folder hashall made swapped for a symlink to a root-only folder between the undo's check of a folder below it and its rmdir", () => {
  it("removes the folder hashall made, through the folder it checked, never the root-only folder's empty folder of the same name", async () => {
    w = makeApplyFixture();
    chmodSync(w.root, 0o755);
    const src = path.join(w.stash, 'seeding', 'movies', 'S');
    writeTree(src, { 'd/e/a.bin': bytesFor('a', 20_000) });
    execFileSync('chown', ['-R', '65534:65534', src]);
    const before = hashTreeSync(src);
    const secret = rootOnly(path.join(w.pool, 'private'));
    mkdirSync(path.join(secret.dir, 'e'), { mode: 0o700 }); // root's empty folder by the name of the one hashall makes
    const dst = path.join(w.pool, 'seeding', 'movies', 'S');
    // The copy lands; making it durable fails (the group rolls back); the undo removes a.bin, checks d/e is the folder
    // it made and, right before its rmdir, the user swaps d for a symlink to the root-only folder.
    const fs = faultyFsPort(realFsPort(), [
      { op: 'fsyncFile', nth: 1, code: 'EIO' },
      { op: 'rmdir', nth: 1, before: () => swapAsNobody(dst, 'd', secret.dir) },
    ]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(fs.fired.length).toBe(2);
    expect(res.status).toBe('rolled-back');
    expect(readdirSync(secret.dir).sort()).toEqual(['e', 'secret']);
    expect(hashTreeSync(secret.dir)).toEqual(secret.before);
    expect(readdirSync(path.join(dst, 'd-moved'))).toEqual([]);
    expect(hashTreeSync(src)).toEqual(before);
  });
});

describe('repair: the damaged file\'s folder swapped for a symlink to a root-only folder between its proof and the restored copy', () => {
  it('the good bytes are written only in the folder proven: nothing lands in the root-only folder, the group rolls back, the damaged file stays whole', async () => {
    w = makeApplyFixture();
    chmodSync(w.root, 0o755);
    const good = bytesFor('good', 30_000);
    const R = path.join(w.stash, 'seeding', 'movies', 'R');
    writeTree(R, { 'd/a.bin': good });
    execFileSync('chown', ['-R', '65534:65534', R]);
    const bad = path.join(R, 'd', 'a.bin');
    execFileSync('sh', ['-c', `printf 'X' | dd of='${bad}' bs=1 seek=100 conv=notrunc status=none`]);
    const rotten = hashTreeSync(R);
    const copyDir = path.join(w.pool, 'seeding', 'movies', 'R', 'd');
    writeTree(copyDir, { 'a.bin': good });
    const secret = rootOnly(path.join(w.stash, 'private'));
    const st = lstatSync(bad, { bigint: true });
    const cst = lstatSync(path.join(copyDir, 'a.bin'), { bigint: true });
    const step: RepairStep = {
      kind: 'repair',
      fs: 'stash',
      paths: [bad],
      damaged: { ino: Number(st.ino), size: Number(st.size), mtimeNs: String(st.mtimeNs) },
      sha256: sha256(good),
      source: { fs: 'pool', path: path.join(copyDir, 'a.bin'), ino: Number(cst.ino), size: Number(cst.size), mtimeNs: String(cst.mtimeNs) },
    };
    const group: PlanGroup = { ...moveGroup('g1', w, R, path.join(w.pool, 'x')), action: 'repair', payloadHash: null, steps: [step], fingerprint: { files: [fingerprint(bad), fingerprint(step.source.path)], torrents: [] } };
    const seen: string[][] = [];
    const fs = swapBefore('copyFileVerified', 1, () => swapAsNobody(R, 'd', secret.dir), secret.dir, seen);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [group]));
    expect(fs.fired.length).toBe(2);
    expect(lstatSync(path.join(R, 'd')).isSymbolicLink()).toBe(true);
    expect(seen).toEqual([['secret']]); // right after the copy: nothing of root's in the root-only folder
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/looks like an attack/);
    expect(readdirSync(secret.dir)).toEqual(['secret']);
    expect(hashTreeSync(secret.dir)).toEqual(secret.before);
    // The damaged file is where the user moved it, every byte as it was; nothing of hashall's is left beside it.
    expect(hashTreeSync(path.join(R, 'd-moved'))).toEqual({ 'a.bin': rotten['d/a.bin'] });
    expect(hashallLeftovers(w.stash)).toEqual([]);
  });
});
