// trash restore and purge --older-than on real tmpfs: a retired source comes back with the same inodes and bytes; anything in the way refuses and loses nothing; a swapped parent or trash never redirects it.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { Journal } from '../../../src/apply/journal.js';
import { getRun, listRuns } from '../../../src/apply/run-store.js';
import { listTrash } from '../../../src/apply/trash-list.js';
import type { TrashRecord } from '../../../src/apply/trash-record.js';
import { restoreFromTrash, type RestoreDeps } from '../../../src/apply/trash-restore.js';
import { runTrashCommand } from '../../../src/apply/trash-run.js';
import { purgeTrash } from '../../../src/apply/trash.js';
import { loadConfig } from '../../../src/config/load.js';
import type { PlanGroup } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, hashTreeSync, makeApplyFixture, makePlan, moveGroup, payloadHashOf, writeTree, writeFixtureConfig, type ApplyFixture } from '../../support/apply-fixture.js';
import { runCli } from '../../support/cli.js';

const HOUR = 3_600_000;
let w: ApplyFixture;
afterEach(() => w?.cleanup());

function retireGroup(src: string, dst: string, hash: string, relId: number, bytes: number): PlanGroup {
  return {
    id: 'r1',
    key: 'retire-1',
    action: 'retire',
    title: path.basename(src),
    payloadHash: hash,
    torrents: [],
    from: { fs: 'stash', path: src },
    to: null,
    reasons: ['test: superseded by the pool copy'],
    rule: null,
    bytesToCopy: 0,
    bytesToFree: bytes,
    steps: [{ kind: 'retire', fs: 'stash', root: src, payloadHash: hash, keptRoot: dst, keptFs: 'pool', relocationId: relId, bytes }],
    fingerprint: { files: [], torrents: [] },
  };
}

/** Every file's inode under `dir` (relpath → ino). */
function inodes(dir: string): Record<string, number> {
  return Object.fromEntries(Object.keys(hashTreeSync(dir)).map((r) => [r, lstatSync(path.join(dir, r)).ino]));
}

/**
 * A payload moved to the pool and its stash source retired into the trash (a real apply of both). With `neighbour`,
 * another torrent's folder stays beside it, so its parent folder is not emptied (and not removed) by the retire.
 */
async function retired(opts: { neighbour?: boolean } = {}) {
  w = makeApplyFixture();
  const src = path.join(w.stash, 'seeding', 'movies', 'R');
  writeTree(src, { 'a.bin': bytesFor('ra', 40_000), 'sub/b.bin': bytesFor('rb', 3000), 'sub/deep/c.bin': bytesFor('rc', 10) });
  if (opts.neighbour) writeTree(path.join(w.stash, 'seeding', 'movies', 'Other'), { 'o.bin': bytesFor('other', 500) });
  const movies = path.join(w.stash, 'seeding', 'movies');
  chownSync(movies, 65534, 65534);
  chmodSync(movies, 0o751);
  const before = hashTreeSync(src);
  const inos = inodes(src);
  const srcIno = lstatSync(src).ino;
  const dst = path.join(w.pool, 'seeding', 'movies', 'R');
  const hash = payloadHashOf(src);
  expect((await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]))).status).toBe('succeeded');
  const relId = (w.catalog.db.prepare(`SELECT id FROM relocations`).get() as { id: number }).id;
  const kept = hashTreeSync(dst);
  const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(src, dst, hash, relId, 43_010)]));
  expect(res.status).toBe('succeeded');
  expect(existsSync(src)).toBe(false);
  const staged = path.join(w.stash, '.hashall-trash', res.runId, 'seeding', 'movies', 'R');
  expect(hashTreeSync(staged)).toEqual(before);
  return { src, dst, before, inos, srcIno, kept, staged, runId: res.runId, movies };
}

/** Restore `target` as the CLI does: under the lock, with its own run record. */
async function restore(target: string, over: Partial<RestoreDeps> = {}) {
  return runTrashCommand({ config: w.config, command: `hashall trash restore ${target}`, now: () => Date.now(), catalog: w.catalog }, async ({ catalog, runId }) => {
    const out = await restoreFromTrash({ catalog, config: w.config, fs: realFsPort(), now: () => Date.now(), runId, ...over }, target);
    return { result: out, status: out.every((o) => o.action === 'restored') ? 'succeeded' : 'failed', error: null };
  });
}

describe('trash restore after a real retire', () => {
  it('brings back every file with the same inodes and bytes, re-makes the folder the retire removed as it was, and records a restore run', async () => {
    const r = await retired();
    expect(existsSync(r.movies)).toBe(false); // the retire tidied the emptied folder away
    const { runId, result } = await restore(r.runId);
    expect(result.map((o) => o.action)).toEqual(['restored']);
    expect(hashTreeSync(r.src)).toEqual(r.before);
    expect(inodes(r.src)).toEqual(r.inos);
    expect(lstatSync(r.src).ino).toBe(r.srcIno);
    expect(lstatSync(r.movies)).toMatchObject({ uid: 65534, gid: 65534, mode: 0o40751 });
    expect(hashTreeSync(r.dst)).toEqual(r.kept);
    // Nothing of it is left in the trash; the trash directory itself stays.
    expect(readdirSync(path.join(w.stash, '.hashall-trash'))).toEqual([]);
    const run = getRun(w.catalog.db, runId)!;
    expect(run).toMatchObject({ status: 'succeeded', command: `hashall trash restore ${r.runId}` });
    expect(run.notes.join('\n')).toMatch(/trash restore restored: .*R → .*seeding\/movies\/R/);
    expect(getRun(w.catalog.db, r.runId)!.notes.join('\n')).toMatch(new RegExp(`restored to .*seeding/movies/R by ${runId}`));
    expect(listRuns(w.catalog.db).map((x) => x.id)).toContain(runId);
    // A second restore finds it back in place.
    const again = await restore(r.src);
    expect(again.result.map((o) => o.action)).toEqual(['already-restored']);
  });

  it('refuses an entry that is no longer what was staged — a file planted in it, or a purge that stopped half way — moving nothing', async () => {
    const r = await retired({ neighbour: true });
    // A process kept its working directory inside the staged tree and left a file there.
    writeTree(path.join(r.staged, 'sub'), { 'zz-planted.bin': bytesFor('planted', 10) });
    let { result } = await restore(r.runId);
    expect(result[0]).toMatchObject({ action: 'refused' });
    expect(result[0]!.reason).toMatch(/sub\/zz-planted\.bin is a file that was not staged there/);
    expect(existsSync(r.src)).toBe(false);
    // The purge removes what was recorded and stops at the stranger: what is left is not the original either.
    await purgeTrash({ catalog: w.catalog, config: w.config, fs: realFsPort(), now: () => Date.now() + 1000 * HOUR, emit: () => undefined, runId: 'later' });
    expect(hashTreeSync(r.staged)).toEqual({ 'sub/zz-planted.bin': createHash('sha256').update(bytesFor('planted', 10)).digest('hex') });
    ({ result } = await restore(r.runId));
    expect(result[0]).toMatchObject({ action: 'refused' });
    expect(result[0]!.reason).toMatch(/not staged there|are gone/);
    expect(existsSync(r.src)).toBe(false);
  });

  it('refuses when a file now sits at the original path, saying what it is; neither it nor the staged tree changes', async () => {
    const r = await retired({ neighbour: true });
    writeFileSync(r.src, bytesFor('newcomer', 777));
    const { result } = await restore(r.src);
    expect(result[0]).toMatchObject({ action: 'refused' });
    expect(result[0]!.reason).toMatch(/seeding\/movies\/R is in the way: a file of 777 bytes \(device \d+ inode \d+, owner uid 0/);
    expect(readFileSync(r.src)).toEqual(bytesFor('newcomer', 777));
    expect(hashTreeSync(r.staged)).toEqual(r.before);
    expect(inodes(r.staged)).toEqual(r.inos);
  });

  it('refuses an empty or a non-empty directory and a symlink in the way alike, touching none', async () => {
    const r = await retired({ neighbour: true });
    mkdirSync(r.src);
    expect((await restore(r.src)).result[0]!.reason).toMatch(/is in the way: a directory/);
    writeTree(r.src, { 'x.bin': bytesFor('x', 10) });
    expect((await restore(r.src)).result[0]!.reason).toMatch(/is in the way: a directory/);
    expect(hashTreeSync(r.src)).toEqual({ 'x.bin': expect.any(String) as string });
    renameSync(r.src, `${r.src}.mine`);
    symlinkSync(path.join(w.stash, 'library'), r.src);
    expect((await restore(r.src)).result[0]!.reason).toMatch(/is in the way: a symbolic link/);
    expect(lstatSync(r.src).isSymbolicLink()).toBe(true);
    expect(hashTreeSync(r.staged)).toEqual(r.before);
  });
});

describe('trash restore against a local user who can write the original parents', () => {
  it('a parent swapped for a symlink to a victim before the restore: refused, nothing is written through it', async () => {
    const r = await retired({ neighbour: true });
    const victim = path.join(w.stash, 'library', 'Victim');
    writeTree(victim, { 'v.bin': bytesFor('victim', 900) });
    const victimBefore = hashTreeSync(victim);
    renameSync(r.movies, `${r.movies}.old`);
    symlinkSync(victim, r.movies);
    const { result } = await restore(r.runId);
    expect(result[0]).toMatchObject({ action: 'refused' });
    expect(result[0]!.reason).toMatch(/movies is a symbolic link; hashall never follows it/);
    expect(hashTreeSync(victim)).toEqual(victimBefore);
    expect(hashTreeSync(r.staged)).toEqual(r.before);
  });

  for (const swap of ['a symlink', 'another directory'] as const) {
    it(`a parent swapped for ${swap} between the check and the rename: the restored tree goes back to the trash, reported as an attack; the victim is untouched`, async () => {
      const r = await retired({ neighbour: true });
      const victim = path.join(w.stash, 'library', 'Victim');
      writeTree(victim, { 'v.bin': bytesFor('victim', 900) });
      const victimBefore = hashTreeSync(victim);
      let swapped = 0;
      const { result } = await restore(r.runId, {
        beforeAct: () => {
          swapped++;
          renameSync(r.movies, `${r.movies}.moved`);
          if (swap === 'a symlink') symlinkSync(victim, r.movies);
          else mkdirSync(r.movies);
        },
      });
      expect(swapped).toBe(1);
      expect(result[0]).toMatchObject({ action: 'refused' });
      expect(result[0]!.reason).toMatch(/changed while the restore was under way .* looks like an attack .* moved back to/);
      expect(hashTreeSync(victim)).toEqual(victimBefore);
      expect(existsSync(path.join(`${r.movies}.moved`, 'R'))).toBe(false);
      expect(hashTreeSync(r.staged)).toEqual(r.before);
      expect(inodes(r.staged)).toEqual(r.inos);
    });
  }

  it('a trash directory replaced (the original renamed away, another planted with the same layout): refused, nothing moves', async () => {
    const r = await retired({ neighbour: true });
    const trash = path.join(w.stash, '.hashall-trash');
    renameSync(trash, `${trash}.orig`);
    mkdirSync(trash, { mode: 0o700 });
    writeTree(path.join(trash, r.runId, 'seeding', 'movies', 'R'), { 'evil.bin': bytesFor('evil', 100) });
    const { result } = await restore(r.runId);
    expect(result[0]).toMatchObject({ action: 'refused' });
    expect(result[0]!.reason).toMatch(/is not the trash directory it was staged in/);
    expect(existsSync(r.src)).toBe(false);
    expect(hashTreeSync(path.join(`${trash}.orig`, r.runId, 'seeding', 'movies', 'R'))).toEqual(r.before);
  });

  it('a trash directory that is a symlink is refused', async () => {
    const r = await retired({ neighbour: true });
    const trash = path.join(w.stash, '.hashall-trash');
    renameSync(trash, `${trash}.orig`);
    symlinkSync(`${trash}.orig`, trash);
    const { result } = await restore(r.runId);
    expect(result[0]!.reason).toMatch(/symbolic link/);
    expect(existsSync(r.src)).toBe(false);
  });
});

/** A file staged as a retire of `run` records it (the orphan retire writes the same record). */
function stageFile(runId: string) {
  w = makeApplyFixture();
  const origin = path.join(w.stash, 'seeding', 'loose', 'one file.mkv');
  writeTree(path.dirname(origin), { 'one file.mkv': bytesFor('one', 5000) });
  const ino = lstatSync(origin).ino;
  const trashRoot = path.join(w.stash, '.hashall-trash');
  mkdirSync(path.join(trashRoot, runId, 'seeding', 'loose'), { recursive: true, mode: 0o700 });
  chmodSync(trashRoot, 0o700);
  const trash = path.join(trashRoot, runId, 'seeding', 'loose', 'one file.mkv');
  renameSync(origin, trash);
  const j = new Journal(w.catalog.db, () => Date.now());
  j.startRun({ id: runId, startedAt: Date.now(), user: 't', host: 'h', pid: 1, pidStart: null, command: 'hashall apply', planFile: null, planHash: null, configHash: null, catalogSerial: null });
  const rec: TrashRecord = {
    trash,
    trashRel: `${runId}/seeding/loose/one file.mkv`,
    trashRootId: { dev: lstatSync(trashRoot).dev, ino: lstatSync(trashRoot).ino },
    trashId: { dev: lstatSync(trash).dev, ino },
    trashDirs: [runId, `${runId}/seeding`, `${runId}/seeding/loose`],
    inos: [ino],
    fs: 'stash',
    origin,
    files: 1,
    bytes: 5000,
    reason: 'test: an orphan',
  };
  const step = { kind: 'retire' as const, fs: 'stash', root: origin, payloadHash: 'p'.repeat(64), keptRoot: '/k', keptFs: 'pool', relocationId: 1, bytes: 5000 };
  const group = { id: 'g', key: 'k', action: 'retire' as const, title: 't', payloadHash: null, torrents: [], from: null, to: null, reasons: ['r'], rule: null, bytesToCopy: 0, bytesToFree: 0, steps: [step], fingerprint: { files: [], torrents: [] } };
  j.planGroup(runId, 0, group as unknown as PlanGroup);
  j.stepRunning(runId, 'g', 0, { ...rec, phase: 'kept' });
  j.stepFinished(runId, 'g', 0, 'done', null, null);
  j.finishRun(runId, 'succeeded', { bytesCopied: 0, bytesFreed: 0, error: null });
  return { origin, trash, ino };
}

describe('trash restore of a single staged file (link, then unlink of the trash name)', () => {
  it('comes back as the same inode; a crash between link and unlink (both names) is finished by the next restore', async () => {
    const f = stageFile('r-file');
    const { result } = await restore(f.origin);
    expect(result.map((o) => o.action)).toEqual(['restored']);
    expect(lstatSync(f.origin)).toMatchObject({ ino: f.ino, nlink: 1 });
    expect(readFileSync(f.origin)).toEqual(bytesFor('one', 5000));
    expect(existsSync(f.trash)).toBe(false);
    // As if a restore was killed right after link(): both names, one inode.
    mkdirSync(path.dirname(f.trash), { recursive: true, mode: 0o700 });
    renameSync(f.origin, f.trash);
    linkSync(f.trash, f.origin);
    const again = await restore('r-file');
    expect(again.result.map((o) => o.action)).toEqual(['restored']);
    expect(lstatSync(f.origin)).toMatchObject({ ino: f.ino, nlink: 1 });
    expect(existsSync(f.trash)).toBe(false);
  });

  it('refuses a different file in the way and keeps both', async () => {
    const f = stageFile('r-file');
    writeFileSync(f.origin, 'mine');
    const { result } = await restore('r-file');
    expect(result[0]!.reason).toMatch(/in the way: a file of 4 bytes/);
    expect(readFileSync(f.origin, 'utf8')).toBe('mine');
    expect(readFileSync(f.trash)).toEqual(bytesFor('one', 5000));
  });
});

describe('trash list and purge --older-than', () => {
  it('lists run, original path, bytes, purge time and why; purge --older-than removes only what is older, by the recorded inodes', async () => {
    const r = await retired({ neighbour: true });
    const ended = getRun(w.catalog.db, r.runId)!.endedAt!;
    w.config.safety.retire = { mode: 'staged', observeHours: 72 };
    const items = await listTrash({ catalog: w.catalog, config: w.config, fs: realFsPort() });
    expect(items).toEqual([
      expect.objectContaining({ fs: 'stash', runId: r.runId, origin: r.src, bytes: 43_010, files: 3, purgeAfter: ended + 72 * HOUR, state: 'staged' }),
    ]);
    expect(items[0]!.reason).toMatch(/superseded by the verified copy at .*pool.*test: superseded by the pool copy/);
    const purge = (now: number, olderThanMs?: number) => purgeTrash({ catalog: w.catalog, config: w.config, fs: realFsPort(), now: () => now, emit: () => undefined, runId: 'p', olderThanMs });
    // 10 hours later: kept by observeHours 72 and by --older-than 12h; removed by --older-than 6h.
    expect((await purge(ended + 10 * HOUR)).map((o) => o.action)).toEqual(['kept']);
    expect((await purge(ended + 10 * HOUR, 12 * HOUR)).map((o) => [o.action, o.reason])).toEqual([['kept', expect.stringMatching(/within --older-than 12h/)]]);
    expect(hashTreeSync(r.staged)).toEqual(r.before);
    const out = await purge(ended + 10 * HOUR, 6 * HOUR);
    expect(out.map((o) => o.action)).toEqual(['removed']);
    expect(existsSync(r.staged)).toBe(false);
    expect(hashTreeSync(r.dst)).toEqual(r.kept);
    expect(await listTrash({ catalog: w.catalog, config: w.config, fs: realFsPort() })).toEqual([]);
  });

  it('the CLI: `trash --json`, `trash restore`, `trash purge --older-than` (bad duration: exit 1), and `runs` shows the restore', async () => {
    const r = await retired({ neighbour: true });
    const cfg = writeFixtureConfig(w);
    w.config = loadConfig(cfg, { env: {}, cwd: w.root }).config;
    const list = await runCli(['trash', '--json', '--config', cfg]);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { items: { runId: string; origin: string }[] }).items).toEqual([expect.objectContaining({ runId: r.runId, origin: r.src })]);
    const text = await runCli(['trash', '--config', cfg]);
    expect(text.stdout).toMatch(new RegExp(`run ${r.runId} \\(succeeded\\); from .*seeding/movies/R\\n  purged after .* \\(run ended \\+ observeHours 72\\)`));
    const bad = await runCli(['trash', 'purge', '--older-than', 'soon', '--config', cfg]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--older-than "soon" is not a duration/);
    const kept = await runCli(['trash', 'purge', '--older-than', '7d', '--config', cfg]);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toMatch(/0 removed .* 1 kept/);
    const back = await runCli(['trash', 'restore', r.src, '--config', cfg]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/RESTORED .* → .*seeding\/movies\/R: back at/);
    expect(back.stdout).toMatch(/no torrent client is repointed/);
    expect(inodes(r.src)).toEqual(r.inos);
    const again = await runCli(['trash', 'restore', 'no-such-thing', '--config', cfg]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/nothing hashall staged in a trash is named by "no-such-thing"/);
    const runs = await runCli(['runs', '--config', cfg]);
    expect(runs.stdout).toMatch(/hashall trash restore /);
  });
});

/** The stash rows under `rel` (path → status, SHA-256, when hashed). */
function rowsUnder(rel: string): Record<string, { status: string; sha256: string | null; hashed_at: number | null }> {
  const rows = w.catalog.db
    .prepare(`SELECT f.path, f.status, f.sha256, f.hashed_at FROM files f JOIN filesystems fs ON fs.id = f.fs_id WHERE fs.name = 'stash' AND f.path >= ? AND f.path < ? ORDER BY f.path`)
    .all(`${rel}/`, `${rel}0`) as { path: string; status: string; sha256: string | null; hashed_at: number | null }[];
  return Object.fromEntries(rows.map((r) => [r.path, { status: r.status, sha256: r.sha256, hashed_at: r.hashed_at }]));
}

/**
 * A tree hashed by a real `hashall scan --hash-all`, moved to the pool and its source retired into the trash (real
 * applies on the clock `applyNow`, which dates the stamps the retire records of what it staged). Sizes no other
 * catalogued file has: a scan records such a file it takes for new without its hash (`scan.hash: shared-sizes`).
 */
async function hashedThenRetired(applyNow: () => number) {
  w = makeApplyFixture();
  const src = path.join(w.stash, 'seeding', 'movies', 'K');
  writeTree(src, { 'a.bin': bytesFor('ka', 40_001), 'sub/b.bin': bytesFor('kb', 3001) });
  writeTree(path.join(w.stash, 'seeding', 'movies', 'Other'), { 'o.bin': bytesFor('other', 501) });
  const cfg = writeFixtureConfig(w);
  w.config = loadConfig(cfg, { env: {}, cwd: w.root }).config;
  w.config.safety.retire.observeHours = 0; // the applies below only: the retire may follow its move at once
  const scan = await runCli(['scan', '--hash-all', path.join(w.stash, 'seeding'), '--config', cfg]);
  expect(scan.code, scan.stderr).toBe(0);
  const before = rowsUnder('seeding/movies/K');
  expect(Object.values(before).map((r) => r.sha256 !== null && r.status === 'active')).toEqual([true, true]);
  const dst = path.join(w.pool, 'seeding', 'movies', 'K');
  const hash = payloadHashOf(src);
  expect((await applyPlan(testDeps(w, { now: applyNow }), makePlan(w, [moveGroup('g1', w, src, dst)]))).status).toBe('succeeded');
  const relId = (w.catalog.db.prepare(`SELECT id FROM relocations`).get() as { id: number }).id;
  const res = await applyPlan(testDeps(w, { now: applyNow }), makePlan(w, [retireGroup(src, dst, hash, relId, 43_002)]));
  expect(res.status, JSON.stringify(res)).toBe('succeeded');
  // The retire recorded its source gone: the rows are deleted, their hashes still in them.
  expect(Object.values(rowsUnder('seeding/movies/K')).map((r) => r.status)).toEqual(['deleted', 'deleted']);
  return { src, cfg, before, runId: res.runId, staged: path.join(w.stash, '.hashall-trash', res.runId, 'seeding', 'movies', 'K') };
}

/** The real FsPort, with every file the restore reads in full listed in `reads`. */
function countingFs(reads: string[]) {
  const real = realFsPort();
  return {
    ...real,
    hashFile: (p: string, e?: { dev: number; ino: number }) => (reads.push(p), real.hashFile(p, e)),
    hashFileStamped: (p: string, e?: { dev: number; ino: number }, on?: (n: number) => void) => (reads.push(p), real.hashFileStamped(p, e, on)),
  };
}

/** `hashall verify PATH --json`: its exit code and its totals summed. */
async function verifyTotals(cfg: string, p: string) {
  const v = await runCli(['verify', p, '--json', '--config', cfg]);
  const totals = (JSON.parse(v.stdout) as { totals: { ok: number; baseline: number; corrupted: number; changed: number }[] }).totals;
  const sum = (k: 'ok' | 'baseline' | 'corrupted' | 'changed') => totals.reduce((n, t) => n + t[k], 0);
  return { code: v.code, ok: sum('ok'), baseline: sum('baseline'), corrupted: sum('corrupted'), changed: sum('changed') };
}

describe('what trash restore puts back keeps the SHA-256 the catalog recorded', () => {
  it('stamps unchanged since the staging: the rows come back with their hashes, nothing is read, the next scan reads nothing either and verify says ok', async () => {
    const r = await hashedThenRetired(() => Date.now() + 5000);
    const reads: string[] = [];
    const { result } = await restore(r.runId, { fs: countingFs(reads) });
    expect(result.map((o) => o.action)).toEqual(['restored']);
    expect(rowsUnder('seeding/movies/K')).toEqual(r.before);
    expect(result[0]!.reason).toMatch(/the catalog keeps the SHA-256 it recorded for 2 file\(s\)/);
    expect(reads).toEqual([]);
    const scan = await runCli(['scan', path.join(w.stash, 'seeding'), '--json', '--config', r.cfg]);
    expect(scan.code, scan.stderr).toBe(0);
    expect(JSON.parse(scan.stdout)).toMatchObject({ filesHashed: 0 });
    expect(rowsUnder('seeding/movies/K')).toEqual(r.before);
    expect(await verifyTotals(r.cfg, r.src)).toEqual({ code: 0, ok: 2, baseline: 0, corrupted: 0, changed: 0 });
  });

  it('stamps taken in the clock tick of their ctime prove nothing: each file is read once by the restore, and kept only because its bytes still hash as recorded', async () => {
    const r = await hashedThenRetired(() => Date.now() - 5000);
    const reads: string[] = [];
    const { result } = await restore(r.runId, { fs: countingFs(reads) });
    expect(result.map((o) => o.action)).toEqual(['restored']);
    expect(rowsUnder('seeding/movies/K')).toEqual(r.before);
    expect(result[0]!.reason).toMatch(/keeps the SHA-256 it recorded for 2 file\(s\)/);
    expect(reads).toHaveLength(2);
    const scan = await runCli(['scan', path.join(w.stash, 'seeding'), '--config', r.cfg]);
    expect(scan.code, scan.stderr).toBe(0);
    expect(rowsUnder('seeding/movies/K')).toEqual(r.before);
    expect(await verifyTotals(r.cfg, r.src)).toMatchObject({ code: 0, ok: 2 });
  });

  for (const when of ['after the staging (its stamp moved)', 'within the tick of the staging (its stamp unsettled)'] as const) {
    it(`a staged file whose bytes were changed in the trash ${when}, its mtime set back with touch -r: never given its old hash — the restore says so, the scan reads it as new, verify does not call it ok`, async () => {
      const r = await hashedThenRetired(when.startsWith('after') ? () => Date.now() + 5000 : () => Date.now() - 5000);
      const victim = path.join(r.staged, 'a.bin');
      const ref = path.join(w.root, 'mtime-ref');
      const st = lstatSync(victim, { bigint: true });
      writeFileSync(ref, '');
      expect(spawnSync('touch', ['-r', victim, ref]).status).toBe(0);
      writeFileSync(victim, bytesFor('rewritten', 40_001));
      expect(spawnSync('touch', ['-r', ref, victim]).status).toBe(0);
      expect(lstatSync(victim, { bigint: true })).toMatchObject({ ino: st.ino, size: st.size, mtimeNs: st.mtimeNs });
      const back = await runCli(['trash', 'restore', r.runId, '--config', r.cfg]);
      expect(back.code, back.stdout + back.stderr).toBe(0);
      expect(back.stdout).toMatch(/keeps the SHA-256 it recorded for 1 file\(s\); 1 file\(s\) no longer hold the SHA-256 recorded for them \(changed while in the trash\).*K\/a\.bin/);
      const stale = r.before['seeding/movies/K/a.bin']!.sha256;
      const rows = rowsUnder('seeding/movies/K');
      expect(rows['seeding/movies/K/a.bin']!.status).toBe('active');
      expect([null, sha(path.join(r.src, 'a.bin'))]).toContain(rows['seeding/movies/K/a.bin']!.sha256);
      expect(rows['seeding/movies/K/a.bin']!.sha256).not.toBe(stale);
      expect(rows['seeding/movies/K/sub/b.bin']).toEqual(r.before['seeding/movies/K/sub/b.bin']);
      const v = await verifyTotals(r.cfg, r.src);
      expect(v).toMatchObject({ code: 0, ok: 1, corrupted: 0 });
      expect(rowsUnder('seeding/movies/K')['seeding/movies/K/a.bin']!.sha256).toBe(sha(path.join(r.src, 'a.bin')));
    });
  }
});

describe('kill -9 of `hashall trash restore` at every journal boundary', () => {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  for (const kind of ['a directory', 'a single file'] as const) {
    it(`${kind}: each crash leaves it whole in the trash or back in place; recover, then restore again, brings back the same inodes`, async () => {
      let finished = false;
      let crashes = 0;
      for (let n = 1; n <= 10 && !finished; n++) {
        let origin: string;
        let target: string;
        let before: Record<string, string>;
        let inos: Record<string, number> | number;
        let trashPath: string;
        if (kind === 'a directory') {
          const r = await retired({ neighbour: true });
          [origin, target, before, inos, trashPath] = [r.src, r.runId, r.before, r.inos, r.staged];
        } else {
          const f = stageFile('r-file');
          [origin, target, before, inos, trashPath] = [f.origin, 'r-file', { '': sha(f.trash) }, f.ino, f.trash];
        }
        const whole = (p: string): boolean => (kind === 'a directory' ? JSON.stringify(hashTreeSync(p)) === JSON.stringify(before) : sha(p) === before['']);
        const sameInodes = (p: string): boolean => (kind === 'a directory' ? JSON.stringify(inodes(p)) === JSON.stringify(inos) : lstatSync(p).ino === inos);
        const cfg = writeFixtureConfig(w);
        try {
          const child = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'src/cli/bin.ts', 'trash', 'restore', target, '--config', cfg], {
            cwd: repo,
            env: { ...process.env, HASHALL_TEST_CRASH_AT: String(n) },
            encoding: 'utf8',
            timeout: 60_000,
          });
          if (child.signal !== 'SIGKILL') {
            expect(child.status, child.stdout + child.stderr).toBe(0);
            finished = true;
          } else crashes++;
          // Whole in exactly one place (a file may have both names: one inode), never half moved, nothing copied.
          const atOrigin = existsSync(origin);
          const inTrash = existsSync(trashPath);
          expect(atOrigin || inTrash, `crash at ${n}`).toBe(true);
          if (atOrigin) expect(whole(origin) && sameInodes(origin)).toBe(true);
          if (inTrash) expect(whole(trashPath) && sameInodes(trashPath)).toBe(true);
          if (atOrigin && inTrash) expect(kind).toBe('a single file');
          // The killed restore's run is recovered like any run; then a restore finishes the job.
          const rec = await runCli(['recover', '--config', cfg]);
          expect(rec.code, rec.stderr).toBe(0);
          const again = await runCli(['trash', 'restore', target, '--config', cfg]);
          expect(again.code, again.stdout + again.stderr).toBe(0);
          expect(whole(origin) && sameInodes(origin), `crash at ${n}: ${again.stdout}`).toBe(true);
          expect(existsSync(trashPath)).toBe(false);
        } finally {
          w.cleanup();
        }
      }
      expect(finished).toBe(true);
      expect(crashes).toBeGreaterThanOrEqual(3);
    }, 300_000);
  }
});

function sha(p: string): string {
  return createHash('sha256').update(readFileSync(p)).digest('hex');
}
