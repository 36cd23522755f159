// Test support for the layout matrix: every layout qBittorrent produces, on real tmpfs stash/pool, through the real CLI.
export { contentTree } from '../../support/content-tree.js';
import { contentTree } from '../../support/content-tree.js';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, waitSettled, type MadeTorrent, type RawTorrent } from '../../../src/sandbox/torrent-file.js';
import { runCli, type CliResult } from '../../support/cli.js';
import type { Plan, PlanGroup } from '../../../src/plan/types.js';
import { stashPoolConfigText } from '../../../src/sandbox/stash-pool-config.js';

export interface LayoutCase {
  key: string;
  torrent: MadeTorrent;
  running: boolean;
  /** Name of the payload root in the save directory (the root folder, or the file of a one-file torrent without one). */
  root: string;
  /** content_path below the save path as qBittorrent reports it. */
  contentRel: string;
  /** Set when the layout must be blocked: what the reason says. */
  blocked?: RegExp;
}

export interface LayoutFixture {
  tmp: TempDir;
  base: string;
  stash: string;
  pool: string;
  /** The save directory every torrent starts in (category `movies`). */
  saveDir: string;
  /** Where the moved payloads land: pool seeding root + the category folder (`films` when mapped, else `movies`). */
  targetDir: string;
  configPath: string;
  qbt: QbtSandbox;
  cases: LayoutCase[];
  hashall(...args: string[]): Promise<CliResult>;
  clockOffset: number;
  stop(): Promise<void>;
}

const TRACKER = 'http://127.0.0.1:1/announce';

/** A payload root (file or folder) as relpath → sha256; a file root is keyed by its name. */
export function payloadTree(root: string): Map<string, string> {
  if (lstatSync(root).isFile()) return new Map([[path.basename(root), createHash('sha256').update(readFileSync(root)).digest('hex')]]);
  return contentTree(root);
}

/** The multiset of content hashes on both filesystems (what must never shrink). */
export function allContent(w: Pick<LayoutFixture, 'stash' | 'pool'>): Set<string> {
  return new Set([...contentTree(w.stash).values(), ...contentTree(w.pool).values()]);
}

export async function torrentInfo(w: LayoutFixture): Promise<Map<string, RawTorrent & { running: boolean }>> {
  const res = await w.qbt.api('GET', '/torrents/info');
  const list = JSON.parse(res.text) as RawTorrent[];
  return new Map(list.map((t) => [t.hash, { ...t, running: !/^(paused|stopped)/.test(t.state) }]));
}

/** Build the world: two tmpfs filesystems, one qBittorrent per test file, one torrent per layout, a config. */
export async function buildLayoutFixture(qbts: ReturnType<typeof qbtSandboxes>, opts: { mapped: boolean }): Promise<LayoutFixture> {
  const tmp = makeTempDir(opts.mapped ? 'hashall-layouts-mapped-' : 'hashall-layouts-plain-');
  const base = tmp.path;
  const stash = path.join(base, 'stash');
  const pool = path.join(base, 'pool');
  mountTmpfs(stash, 16 << 20, 'layout-stash');
  mountTmpfs(pool, 16 << 20, 'layout-pool');
  const seedStash = path.join(stash, 'seeding');
  const seedPool = path.join(pool, 'seeding');
  const saveDir = path.join(seedStash, 'movies');
  mkdirSync(saveDir, { recursive: true });
  mkdirSync(seedPool, { recursive: true });
  const qbt = await qbts.start({ dir: path.join(base, 'qbt') });

  const cases: LayoutCase[] = [];
  const add = async (c: Omit<LayoutCase, 'torrent'> & { make: () => MadeTorrent; layout?: string }): Promise<LayoutCase> => {
    const torrent = c.make();
    await addTorrent(qbt, torrent, { savepath: saveDir, category: 'movies', skipChecking: true, paused: !c.running, contentLayout: c.layout ?? 'Original' });
    const lc: LayoutCase = { key: c.key, torrent, running: c.running, root: c.root, contentRel: c.contentRel, ...(c.blocked ? { blocked: c.blocked } : {}) };
    cases.push(lc);
    return lc;
  };
  const multi = (name: string, files: { path: string; size: number }[], saveAt = saveDir) => () =>
    makeTorrent({ saveDir: saveAt, name, files, trackers: [TRACKER], pieceLength: 16 * 1024 });

  // 1. One file directly in the save path.
  await add({ key: 'single file in the save path', running: true, root: 'Single File 2020.mkv', contentRel: 'Single File 2020.mkv', make: () => makeTorrent({ saveDir, name: 'Single File 2020.mkv', files: [{ size: 40_000 }], trackers: [TRACKER] }) });
  // 2. One file inside its folder: the most common movie layout; qBittorrent reports the FILE as content_path.
  await add({ key: 'single file inside a folder', running: true, root: 'X.2024', contentRel: 'X.2024/X.2024.mkv', make: multi('X.2024', [{ path: 'X.2024.mkv', size: 50_000 }]) });
  // 3. One file two levels down in its folder.
  await add({ key: 'single file in a subfolder of its folder', running: false, root: 'Deep.2023', contentRel: 'Deep.2023/extras/Deep.2023.mkv', make: multi('Deep.2023', [{ path: 'extras/Deep.2023.mkv', size: 30_000 }]) });
  // 4. Multi-file, root folder renamed in the client (files renamed on disk by qBittorrent).
  const renamed = await add({ key: 'multi-file with the root folder renamed in the client', running: true, root: 'Show S01 (renamed)', contentRel: 'Show S01 (renamed)', make: multi('Show.S01', [{ path: 'e01.mkv', size: 20_000 }, { path: 'e02.mkv', size: 21_000 }]) });
  const ren = await qbt.api('POST', '/torrents/renameFolder', { hash: renamed.torrent.infoHash, oldPath: 'Show.S01', newPath: 'Show S01 (renamed)' });
  if (ren.status !== 200) throw new Error(`renameFolder answered ${ren.status} ${ren.text}`);
  for (let i = 0; i < 200 && !existsSync(path.join(saveDir, 'Show S01 (renamed)', 'e01.mkv')); i++) await new Promise((r) => setTimeout(r, 50));
  await waitSettled(qbt, renamed.torrent.infoHash);
  // 5. Nested subfolders.
  await add({
    key: 'multi-file with nested subfolders',
    running: false,
    root: 'Album (2019)',
    contentRel: 'Album (2019)',
    make: multi('Album (2019)', [{ path: 'CD1/01 Intro.flac', size: 12_000 }, { path: 'CD2/sub/deep/02.flac', size: 13_000 }, { path: 'Scans/cover.jpg', size: 5_000 }]),
  });
  // 6. Spaces, unicode, a newline and a tab in names. qBittorrent lays control characters out as "_" on disk and in
  // its API (it would download them there), so that is where the data lies.
  await add({
    key: 'names with spaces, unicode and a newline',
    running: true,
    root: 'Ünïcødé 映画_2021',
    contentRel: 'Ünïcødé 映画_2021',
    make: () => {
      const t = multi('Ünïcødé 映画\n2021', [{ path: 'a\nb.mkv', size: 15_000 }, { path: 'ß/ç\td.srt', size: 700 }])();
      const raw = path.join(saveDir, 'Ünïcødé 映画\n2021');
      for (const p of t.paths) {
        const dst = path.join(saveDir, path.relative(saveDir, p).replace(/[\x00-\x1f]/g, '_'));
        mkdirSync(path.dirname(dst), { recursive: true });
        renameSync(p, dst);
      }
      rmSync(raw, { recursive: true });
      return t;
    },
  });
  // 7. Multi-file without a root folder ("don't create subfolder"): its files lie directly in the save path, beside
  // the other torrents' — hashall must not move it (two torrents' trees would share a directory).
  const staging = path.join(stash, 'staging');
  const loose = await add({
    key: 'multi-file without a root folder',
    running: true,
    root: '',
    contentRel: '',
    blocked: /has no root folder: its files lie directly in its save path/,
    layout: 'NoSubfolder',
    make: () => {
      const t = multi('Loose', [{ path: 'loose-a.bin', size: 9_000 }, { path: 'loose-b.bin', size: 9_500 }], staging)();
      for (const p of t.paths) renameSync(p, path.join(saveDir, path.basename(p)));
      rmSync(staging, { recursive: true, force: true });
      return t;
    },
  });
  const info = await torrentInfo({ qbt } as LayoutFixture);
  for (const c of cases) {
    const t = info.get(c.torrent.infoHash);
    const want = c === loose ? saveDir : path.join(saveDir, c.contentRel);
    if (!t || t.content_path !== want || t.progress !== 1) throw new Error(`layout "${c.key}": qBittorrent reports ${JSON.stringify(t)}, expected content ${want} complete\n${qbt.logTail(10)}`);
  }

  const configPath = path.join(base, 'hashall.yaml');
  writeFileSync(
    configPath,
    stashPoolConfigText({ catalog: 'catalog.db', stash, pool, seeding: { stash: [seedStash], pool: [seedPool] }, client: { type: 'qbittorrent', url: qbt.url } }, [
      ...(opts.mapped ? ['categories:', '  movies: { path: films }'] : []),
      'placement:',
      '  default: pool',
      'safety: { minFree: 1MiB, retire: { mode: staged, observeHours: 1 } }',
    ]),
  );
  const w: LayoutFixture = {
    tmp,
    base,
    stash,
    pool,
    saveDir,
    targetDir: path.join(seedPool, opts.mapped ? 'films' : 'movies'),
    configPath,
    qbt,
    cases,
    clockOffset: 0,
    hashall: (...args: string[]) => runCli([...args, '--config', configPath], { cwd: base, now: () => Date.now() + w.clockOffset }),
    async stop() {
      await qbt.stop();
      tmp.cleanup();
    },
  };
  return w;
}

export async function planJson(w: LayoutFixture, ...extra: string[]): Promise<Plan> {
  const r = await w.hashall('plan', '--json', ...extra);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Plan;
}

/** Groups of a plan that name the torrent. */
export function groupsOf(plan: Plan, hash: string): PlanGroup[] {
  return plan.groups.filter((g) => g.torrents.some((t) => t.hash === hash));
}

/**
 * plan → apply → (plan without refresh) → retire after the window, for every layout, re-hashing every content byte
 * before and after each phase. Shared by the mapped and plain test files.
 */
export async function runLayoutMatrix(w: LayoutFixture): Promise<void> {
  const before = allContent(w);
  const sources = new Map(w.cases.filter((c) => !c.blocked).map((c) => [c.key, payloadTree(path.join(w.saveDir, c.root))]));
  const looseBefore = new Map(w.cases.find((c) => c.blocked)!.torrent.paths.map((p) => [path.basename(p), createHash('sha256').update(readFileSync(path.join(w.saveDir, path.basename(p)))).digest('hex')]));

  // plan: every layout gets its own root at the target, the save path keeps it; the rootless one is blocked.
  const plan = await planJson(w);
  for (const c of w.cases) {
    const gs = groupsOf(plan, c.torrent.infoHash);
    expect(gs.length, `${c.key}: one group`).toBe(1);
    const g = gs[0]!;
    if (c.blocked) {
      expect(g.action, `${c.key}: ${g.reasons.join('; ')}`).toBe('blocked');
      expect(g.reasons.join('\n')).toMatch(c.blocked);
      continue;
    }
    expect(g.action, `${c.key}: ${g.reasons.join('; ')}`).toBe('move');
    expect(g.to?.path, c.key).toBe(path.join(w.targetDir, c.root));
    const rp = g.steps.find((s) => s.kind === 'repoint');
    expect(rp, c.key).toMatchObject({ toSavePath: w.targetDir, expectedContentPath: path.join(w.targetDir, c.contentRel), hostTo: path.join(w.targetDir, c.root) });
  }

  // apply: every torrent seeds from the pool, complete, in its former running state; every byte arrived.
  const applied = await w.hashall('apply', '--auto-approve');
  expect(applied.code, applied.stdout + applied.stderr).toBe(0);
  expect(applied.stderr).not.toMatch(/catalog not refreshed/);
  const info = await torrentInfo(w);
  for (const c of w.cases) {
    const t = info.get(c.torrent.infoHash)!;
    if (c.blocked) {
      expect(t, c.key).toMatchObject({ save_path: w.saveDir, content_path: w.saveDir, progress: 1, running: c.running });
      continue;
    }
    expect(t, c.key).toMatchObject({ save_path: w.targetDir, content_path: path.join(w.targetDir, c.contentRel), progress: 1, running: c.running });
    expect(payloadTree(path.join(w.targetDir, c.root)), c.key).toEqual(sources.get(c.key));
    expect(payloadTree(path.join(w.saveDir, c.root)), `${c.key}: the source stays until retire`).toEqual(sources.get(c.key));
  }
  for (const h of before) expect(allContent(w).has(h)).toBe(true);
  // Nothing hashall did not plan appeared on the pool: exactly the moved payloads (no stray copy by the client).
  const expectedPool = new Set<string>();
  for (const c of w.cases.filter((x) => !x.blocked)) for (const rel of payloadTree(path.join(w.targetDir, c.root)).keys()) expectedPool.add(lstatSync(path.join(w.targetDir, c.root)).isFile() ? path.join(path.relative(w.pool, w.targetDir), c.root) : path.join(path.relative(w.pool, w.targetDir), c.root, rel));
  expect(new Set(contentTree(w.pool).keys())).toEqual(expectedPool);

  // Right after apply, without a refresh, the catalog already knows every new place: nothing to move or reuse, each
  // relocated torrent's source waits for the window, and no torrent is in two groups.
  const after = await planJson(w, '--no-refresh');
  for (const c of w.cases) {
    const gs = groupsOf(after, c.torrent.infoHash);
    const actions = gs.map((g) => g.action).sort();
    if (c.blocked) expect(actions, c.key).toEqual(['blocked']);
    else expect(actions, `${c.key}: ${gs.map((g) => `${g.action}: ${g.reasons.join('; ')}`).join(' | ')}`).toEqual(['keep', 'pending']);
  }

  // retire after the window: the sources leave the stash; the rootless torrent's files and the pool copies stay.
  w.clockOffset = 2 * 3_600_000;
  const retirePlan = await planJson(w);
  expect(retirePlan.groups.filter((g) => g.action === 'retire').length, JSON.stringify(retirePlan.groups.map((g) => [g.action, g.title, g.reasons]))).toBe(sources.size);
  const retired = await w.hashall('apply', '--auto-approve');
  expect(retired.code, retired.stdout + retired.stderr).toBe(0);
  for (const c of w.cases.filter((x) => !x.blocked)) {
    expect(existsSync(path.join(w.saveDir, c.root)), c.key).toBe(false);
    expect(payloadTree(path.join(w.targetDir, c.root)), c.key).toEqual(sources.get(c.key));
  }
  const left = contentTree(w.saveDir);
  expect(new Map([...left].filter(([rel]) => !rel.startsWith('.hashall-trash')))).toEqual(looseBefore);
  const final = await torrentInfo(w);
  for (const c of w.cases) expect(final.get(c.torrent.infoHash), c.key).toMatchObject({ progress: 1, running: c.running });
  for (const h of before) expect(allContent(w).has(h), 'no content lost').toBe(true);
  const converged = await w.hashall('plan', '--detailed-exitcode');
  expect(converged.code, converged.stdout + converged.stderr).toBe(0);
}
