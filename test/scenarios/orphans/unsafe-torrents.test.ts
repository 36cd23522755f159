// Orphans beside torrents a real qBittorrent reports as missingFiles (a file deleted, a folder moved by hand, found on restart) and error (a file turned into a directory, found by a recheck): nothing is proven an orphan, retirement is blocked naming each torrent, apply touches nothing; every byte re-hashed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, fixtureBytes, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import type { Plan } from '../../../src/plan/types.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { runCli, type CliResult } from '../../support/cli.js';
import { contentTree } from '../../support/content-tree.js';
import { CLOCK_AHEAD } from './orphan-fixture.js';

const TRACKER = 'http://127.0.0.1:1/announce';
const qbts = qbtSandboxes();
let tmp: TempDir;
let qbt: QbtSandbox;
let stash: string;
let movies: string;
let configPath: string;
let before: Map<string, string>;
const t: Record<'good' | 'missing' | 'moved' | 'broken', MadeTorrent> = {} as never;

const hashall = (...args: string[]): Promise<CliResult> => runCli([...args, '--config', configPath], { cwd: tmp.path, now: () => Date.now() + CLOCK_AHEAD });

/** Poll a torrent's state until `want` (bounded: 200 polls of 100 ms). */
async function waitState(hash: string, want: string): Promise<void> {
  let last = '';
  for (let i = 0; i < 200; i++) {
    const r = await qbt.api('GET', `/torrents/info?hashes=${hash}`);
    last = (JSON.parse(r.text) as { state: string }[])[0]?.state ?? 'not listed';
    if (last === want) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`torrent ${hash} never reached ${want} (last: ${last})\n${qbt.logTail(10)}`);
}

beforeAll(async () => {
  tmp = makeTempDir('hashall-unsafe-');
  stash = path.join(tmp.path, 'stash');
  mountTmpfs(stash, 16 << 20, 'unsafe-stash');
  const seed = path.join(stash, 'seeding');
  movies = path.join(seed, 'movies');
  mkdirSync(movies, { recursive: true });
  qbt = await qbts.start({ dir: path.join(tmp.path, 'qbt') });
  const make = (name: string, tag: string) =>
    makeTorrent({ saveDir: movies, name, files: [{ path: `${tag}1.mkv`, size: 20_000 }, { path: `${tag}2.mkv`, size: 21_000 }], trackers: [TRACKER], pieceLength: 16 * 1024 });
  t.good = make('Good.2020', 'g');
  t.missing = make('Missing.2019', 'm');
  t.moved = make('Moved.2018', 'v');
  t.broken = make('Broken.2017', 'b');
  for (const x of Object.values(t)) await addTorrent(qbt, x, { savepath: movies, category: 'movies', paused: false, skipChecking: true });
  // A real orphan beside them: a removed torrent's folder.
  mkdirSync(path.join(movies, 'Old.Removed'));
  writeFileSync(path.join(movies, 'Old.Removed', 'o.bin'), fixtureBytes('old-removed', 9_000));

  // missingFiles, as qBittorrent finds it on restart: one file deleted, and a whole folder moved by hand (the moved
  // folder is data no torrent names now — what a path-based cleaner deletes).
  await qbt.stop();
  rmSync(path.join(movies, 'Missing.2019', 'm2.mkv'));
  renameSync(path.join(movies, 'Moved.2018'), path.join(movies, 'Moved.2018 (moved by hand)'));
  await qbt.restart();
  await waitState(t.missing.infoHash, 'missingFiles');
  await waitState(t.moved.infoHash, 'missingFiles');
  // error: a file turned into a directory; the recheck's read fails (EISDIR) and qBittorrent puts the torrent in error.
  await waitState(t.broken.infoHash, 'stalledUP');
  rmSync(path.join(movies, 'Broken.2017', 'b2.mkv'));
  mkdirSync(path.join(movies, 'Broken.2017', 'b2.mkv'));
  const re = await qbt.api('POST', '/torrents/recheck', { hashes: t.broken.infoHash });
  expect(re.status).toBe(200);
  await waitState(t.broken.infoHash, 'error');

  configPath = path.join(tmp.path, 'hashall.yaml');
  const q = (s: string): string => JSON.stringify(s);
  writeFileSync(
    configPath,
    [
      'version: 1',
      'catalog: catalog.db',
      'filesystems:',
      `  stash: { path: ${q(stash)} }`,
      'seeding:',
      `  stash: [${q(seed)}]`,
      'libraries: []',
      'client:',
      '  type: qbittorrent',
      `  url: ${qbt.url}`,
      'categories:',
      '  movies: { path: movies }',
      'orphans: { action: retire }',
      'safety: { minFree: 1MiB, retire: { mode: staged, observeHours: 1 } }',
      '',
    ].join('\n'),
  );
  before = contentTree(stash);
}, 180_000);
afterAll(async () => {
  await qbts.stopAll();
  tmp?.cleanup();
});

/** Every content byte re-read: the same files with the same bytes as before, nothing moved into a trash. */
function nothingTouched(): void {
  expect(contentTree(stash)).toEqual(before);
}

describe('orphans beside torrents in missingFiles and error (real qBittorrent)', () => {
  it('nothing is proven an orphan; each such torrent is named as the reason; their remaining files are never candidates', async () => {
    const scan = await hashall('scan');
    expect(scan.code, scan.stderr).toBe(0);
    const sync = await hashall('sync');
    expect(sync.code, sync.stderr).toBe(0);
    const r = await hashall('orphans', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { proven: boolean; blockers: string[]; trees: { path: string }[]; classes: { files: Record<string, number> } };
    expect(doc.proven).toBe(false);
    const why = doc.blockers.join('\n');
    expect(why).toMatch(new RegExp(`torrent "Missing\\.2019" \\(default/${t.missing.infoHash.slice(0, 8)}.*\\) is missing-files \\(missingFiles\\)`));
    expect(why).toMatch(/torrent "Moved\.2018" .* is missing-files \(missingFiles\)/);
    expect(why).toMatch(/torrent "Broken\.2017" .* is error \(error\)/);
    expect(why).not.toMatch(/Good\.2020/);
    // No file of a torrent is a candidate; the removed torrent's folder and the hand-moved folder are only candidates.
    const candidates = doc.trees.map((x) => path.relative(movies, x.path)).sort();
    expect(candidates).toEqual(['Moved.2018 (moved by hand)', 'Old.Removed']);
    // The kept files of the missingFiles and error torrents are theirs (unfinished: in progress), never orphans.
    expect(doc.classes.files.orphan).toBe(3);
    expect(doc.classes.files['in-progress']).toBe(2);
    const text = await hashall('orphans');
    expect(text.stdout).toMatch(/^NOT PROVEN/);
    expect(text.stdout).toMatch(/candidate tree\(s\)/);
    nothingTouched();
  });

  it('plan blocks orphan retirement with those reasons; apply retires nothing; every byte re-hashed', async () => {
    const out = path.join(tmp.path, 'plan.json');
    const p = await hashall('plan', '--json', '--no-refresh', '--out', out);
    const plan = JSON.parse(p.stdout) as Plan;
    expect(plan.groups.filter((g) => g.steps.some((s) => s.kind === 'retire-orphan'))).toEqual([]);
    const blocked = plan.groups.find((g) => g.key === 'orphans:blocked');
    expect(blocked?.action, p.stdout).toBe('blocked');
    expect(blocked!.reasons[0]).toMatch(/no orphan is proven, so none is retired \(2 candidate tree\(s\)\)/);
    expect(blocked!.reasons[0]).toMatch(/Missing\.2019.*missing-files|Broken\.2017.*error/);
    const a = await hashall('apply', out, '--auto-approve');
    expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(a.stdout + a.stderr).not.toMatch(/retire-orphan/);
    nothingTouched();
    const trash = await hashall('trash', '--json');
    expect(trash.code, trash.stderr).toBe(0);
    expect(JSON.parse(trash.stdout)).toMatchObject({ items: [] });
  });
});
