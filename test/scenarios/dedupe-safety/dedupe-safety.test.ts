// Dedupe on real files with a real qBittorrent: never links unfinished downloads, never changes a consumer's owner, mode or mtime.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, lstatSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { startQbt, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, waitSettled, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { runCli } from '../../support/cli.js';
import type { Plan, PlanGroup } from '../../../src/plan/types.js';

const KiB = 1024;
let tmp: TempDir;
let qbt: QbtSandbox;
let configPath: string;
let seed: string;
let lib: string;
const t: Record<'alpha' | 'beta' | 'gamma' | 'delta', MadeTorrent> = {} as never;
let gammaLib: string;
let deltaLib: string;
const LIB_MTIME = new Date('2023-05-01T12:00:00Z');

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
const hashall = (...args: string[]) => runCli([...args, '--config', configPath], { cwd: tmp.path });
const dedupeGroups = (plan: Plan): PlanGroup[] => plan.groups.filter((g) => g.key.startsWith('dedupe:'));
const linkedPaths = (g: PlanGroup): string[] => g.steps.flatMap((s) => (s.kind === 'dedupe-link' ? [s.keeper.path, s.duplicate.path] : []));

beforeAll(async () => {
  tmp = makeTempDir('hashall-dedupe-safety-');
  const stash = path.join(tmp.path, 'stash');
  mkdirSync(stash);
  mountTmpfs(stash, 64 << 20, 'stash');
  seed = path.join(stash, 'seeding');
  lib = path.join(stash, 'library');
  mkdirSync(path.join(seed, 'movies'), { recursive: true });
  mkdirSync(lib, { recursive: true });
  const movies = path.join(seed, 'movies');
  // Two different torrents whose data are zero-filled placeholders of equal size (interrupted, preallocated).
  t.alpha = makeTorrent({ saveDir: movies, name: 'Alpha.2020.bin', files: [{ size: 512 * KiB }] });
  t.beta = makeTorrent({ saveDir: movies, name: 'Beta.2021.bin', files: [{ size: 512 * KiB }] });
  for (const x of [t.alpha, t.beta]) writeFileSync(x.paths[0]!, Buffer.alloc(512 * KiB));
  // A complete torrent and a library copy owned by another user with another mode: never linked together.
  t.gamma = makeTorrent({ saveDir: movies, name: 'Gamma.2019.bin', files: [{ size: 300 * KiB }] });
  gammaLib = path.join(lib, 'Gamma (2019).bin');
  copyFileSync(t.gamma.paths[0]!, gammaLib);
  chownSync(gammaLib, 1001, 1001);
  chmodSync(gammaLib, 0o640);
  // A complete torrent and a library copy with the same owner and mode (other mtimes): linked, the library's file kept.
  t.delta = makeTorrent({ saveDir: movies, name: 'Delta.2018.bin', files: [{ size: 200 * KiB }] });
  deltaLib = path.join(lib, 'Delta (2018).bin');
  copyFileSync(t.delta.paths[0]!, deltaLib);
  for (const p of [deltaLib, t.delta.paths[0]!]) {
    chownSync(p, 1001, 1001);
    chmodSync(p, 0o640);
  }
  utimesSync(deltaLib, LIB_MTIME, LIB_MTIME);

  qbt = await startQbt({ dir: path.join(tmp.path, 'qbt') });
  for (const x of [t.alpha, t.beta]) await addTorrent(qbt, x, { savepath: movies, paused: true });
  for (const x of [t.gamma, t.delta]) await addTorrent(qbt, x, { savepath: movies, paused: false });
  for (const x of [t.gamma, t.delta]) expect((await waitSettled(qbt, x.infoHash)).progress).toBe(1);
  for (const x of [t.alpha, t.beta]) expect((await waitSettled(qbt, x.infoHash)).progress).toBeLessThan(1);

  configPath = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(
    configPath,
    [
      'version: 1',
      'catalog: catalog.db',
      'filesystems:',
      `  stash: { path: ${JSON.stringify(stash)} }`,
      'seeding:',
      `  stash: [${JSON.stringify(seed)}]`,
      `libraries: [${JSON.stringify(lib)}]`,
      'client:',
      '  type: qbittorrent',
      `  url: ${qbt.url}`,
      'placement: { default: keep }',
      'dedupe: { filesystems: [stash], minSize: 1 }',
      '',
    ].join('\n'),
  );
}, 120_000);

afterAll(async () => {
  await qbt?.stop();
  tmp?.cleanup();
});

describe('dedupe on a real world', () => {
  let plan: Plan;

  it('plans no link for unfinished downloads, nor across owners and modes, and says why', async () => {
    const r = await hashall('plan', '--json');
    expect(r.code, r.stderr).toBe(0);
    plan = JSON.parse(r.stdout) as Plan;
    const groups = dedupeGroups(plan);
    const zeros = groups.find((g) => g.reasons.join('\n').includes(t.alpha.paths[0]!))!;
    expect(zeros.action).toBe('blocked');
    expect(zeros.reasons.join('\n')).toContain(`${t.alpha.paths[0]} belongs to an unfinished download: torrent "Alpha.2020.bin"`);
    expect(zeros.reasons.join('\n')).toContain(`${t.beta.paths[0]} belongs to an unfinished download: torrent "Beta.2021.bin"`);
    for (const g of groups) for (const p of linkedPaths(g)) expect([t.alpha.paths[0], t.beta.paths[0], gammaLib]).not.toContain(p);

    const gamma = groups.find((g) => g.reasons.join('\n').includes(gammaLib))!;
    expect(gamma.action).toBe('blocked');
    expect(gamma.reasons.join('\n')).toContain('owner, group or mode differ between the copies');
    expect(gamma.reasons.join('\n')).toContain(`owner 1001:1001, mode 0640 (${gammaLib})`);

    const delta = groups.find((g) => g.action === 'dedupe')!;
    expect(delta.steps).toHaveLength(1);
    const step = delta.steps[0]!;
    if (step.kind !== 'dedupe-link') throw new Error('expected dedupe-link');
    expect(step.keeper.path).toBe(deltaLib);
    expect(step.duplicate.path).toBe(t.delta.paths[0]);
    expect(step.keeper.meta).toEqual({ uid: 1001, gid: 1001, mode: 0o640 });
    expect(delta.reasons.join('\n')).toContain(`metadata: the keeper's wins — owner 1001:1001, mode 0640`);

    const text = await hashall('plan', '--no-refresh');
    expect(text.stdout).toContain(`= ${deltaLib} ← ${t.delta.paths[0]}`);
    expect(text.stdout).toContain('belongs to an unfinished download');
  });

  it('applies: only the agreeing pair is linked; the library file keeps owner, mode and mtime; no byte lost', async () => {
    const before = Object.fromEntries([...Object.values(t).map((x) => x.paths[0]!), gammaLib, deltaLib].map((p) => [p, { sha: sha(p), st: lstatSync(p) }]));
    const r = await hashall('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const [p, b] of Object.entries(before)) expect(sha(p), p).toBe(b.sha);
    // The unfinished downloads are still two files; the library's Gamma is untouched.
    expect(lstatSync(t.alpha.paths[0]!).ino).toBe(before[t.alpha.paths[0]!]!.st.ino);
    expect(lstatSync(t.beta.paths[0]!).ino).toBe(before[t.beta.paths[0]!]!.st.ino);
    expect(lstatSync(t.alpha.paths[0]!).ino).not.toBe(lstatSync(t.beta.paths[0]!).ino);
    expect(lstatSync(gammaLib).ino).toBe(before[gammaLib]!.st.ino);
    // Delta: one inode, which is the library's own, with its owner, mode and mtime.
    const libNow = lstatSync(deltaLib);
    expect(lstatSync(t.delta.paths[0]!).ino).toBe(libNow.ino);
    expect(libNow.ino).toBe(before[deltaLib]!.st.ino);
    expect([libNow.uid, libNow.gid, libNow.mode & 0o7777]).toEqual([1001, 1001, 0o640]);
    expect(libNow.mtimeMs).toBe(LIB_MTIME.getTime());
  });
});
