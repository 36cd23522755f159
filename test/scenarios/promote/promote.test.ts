// Promote (cold → warm) end to end on real tmpfs + qBittorrent: reuse of a warm copy works; without one it is blocked, never blind-copied.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { startQbt, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { runCli } from '../../support/cli.js';
import type { Plan } from '../../../src/plan/types.js';

let tmp: TempDir;
let qbt: QbtSandbox;
let config: string;
let seedStash: string;
let seedPool: string;
let hot: MadeTorrent;
let cold: MadeTorrent;
let warmIno: number;

const cli = (...args: string[]) => runCli([...args, '--config', config], { cwd: tmp.path });

beforeAll(async () => {
  tmp = makeTempDir('hashall-promote-');
  const stash = path.join(tmp.path, 'stash');
  const pool = path.join(tmp.path, 'pool');
  mountTmpfs(stash, 64 << 20, 'stash');
  mountTmpfs(pool, 64 << 20, 'pool');
  seedStash = path.join(stash, 'seeding');
  seedPool = path.join(pool, 'seeding');
  const library = path.join(stash, 'library');
  for (const d of [seedStash, seedPool, library]) mkdirSync(d, { recursive: true });
  // Seeding from pool; the same bytes also sit on stash (e.g. left behind by an earlier layout) → promote by reuse.
  hot = makeTorrent({ saveDir: path.join(seedPool, 'movies'), name: 'Hot.Movie', files: [{ path: 'hot.mkv', size: 3 << 20 }, { path: 'hot.nfo', size: 500 }] });
  mkdirSync(path.join(seedStash, 'movies', 'Hot.Movie'), { recursive: true });
  for (const p of hot.paths) copyFileSync(p, path.join(seedStash, 'movies', 'Hot.Movie', path.basename(p)));
  // Seeding from pool with no warm copy anywhere → blocked: never a blind copy back.
  cold = makeTorrent({ saveDir: path.join(seedPool, 'movies'), name: 'Cold.Movie', files: [{ path: 'cold.mkv', size: 2 << 20 }] });
  warmIno = lstatSync(path.join(seedStash, 'movies', 'Hot.Movie', 'hot.mkv')).ino;
  qbt = await startQbt({ dir: path.join(tmp.path, 'qbt') });
  await addTorrent(qbt, hot, { savepath: path.join(seedPool, 'movies'), tags: ['hot'], paused: false });
  await addTorrent(qbt, cold, { savepath: path.join(seedPool, 'movies'), tags: ['hot'], paused: false });
  config = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(
    config,
    [
      'version: 1',
      'catalog: catalog.db',
      'filesystems:',
      `  stash: { path: ${JSON.stringify(stash)} }`,
      `  pool: { path: ${JSON.stringify(pool)} }`,
      `seeding: { stash: [${JSON.stringify(seedStash)}], pool: [${JSON.stringify(seedPool)}] }`,
      `libraries: [${JSON.stringify(library)}]`,
      `client: { type: qbittorrent, url: ${JSON.stringify(qbt.url)} }`,
      'placement: { default: keep, rules: [{ name: hot-to-stash, match: { tags: [hot] }, place: stash }] }',
      'safety: { minFree: 1MiB }',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await qbt?.stop();
  tmp?.cleanup();
});

describe('promote', () => {
  it('plans a reuse for the torrent with a warm copy and blocks the one without ("no blind copy")', async () => {
    const r = await cli('plan', '--json');
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as Plan;
    const byTitle = Object.fromEntries(plan.groups.map((g) => [g.title, g]));
    expect(byTitle['Hot.Movie']).toMatchObject({ action: 'reuse', bytesToCopy: 0, to: { fs: 'stash' } });
    expect(byTitle['Cold.Movie']?.action).toBe('blocked');
    expect(byTitle['Cold.Movie']?.reasons.join('\n')).toMatch(/no blind copy/);
  });

  it('applies: the reused torrent seeds from stash with the same inodes as the warm copy; the blocked one is untouched', async () => {
    const r = await cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const info = JSON.parse((await qbt.api('GET', '/torrents/info')).text) as { hash: string; save_path: string; progress: number; state: string }[];
    const h = info.find((t) => t.hash === hot.infoHash);
    const c = info.find((t) => t.hash === cold.infoHash);
    expect(h?.save_path.startsWith(seedStash)).toBe(true);
    expect(h?.progress).toBe(1);
    expect(c?.save_path).toBe(path.join(seedPool, 'movies'));
    expect(c?.progress).toBe(1);
    // Zero bytes copied: the view is the warm copy's inode.
    const view = path.join(seedStash, 'movies', 'Hot.Movie', 'hot.mkv');
    expect(lstatSync(view).ino).toBe(warmIno);
    // Nothing was copied onto stash for the cold movie.
    expect(readdirSync(path.join(seedStash, 'movies')).sort()).toEqual(['Hot.Movie']);
    // The pool copy of the hot movie stays until it is retired after the observation window.
    expect(existsSync(hot.paths[0] as string)).toBe(true);
  });
});
