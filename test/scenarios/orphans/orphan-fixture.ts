// Test support for orphans: a real tmpfs stash with every layout peers' orphan cleaners got wrong, a real qBittorrent, real orphans beside them.
import { createHash } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import type { qbtSandboxes, QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, fixtureBytes, makeTorrent, waitSettled, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { runCli, type CliResult } from '../../support/cli.js';
import { bytesToPathText } from '../../../src/fs/path-encoding.js';
import { stashPoolConfigText } from '../../../src/sandbox/stash-pool-config.js';

const TRACKER = 'http://127.0.0.1:1/announce';
/** The hashall clock runs this far ahead, so every file written now is older than orphans.minAge (14d). */
export const CLOCK_AHEAD = 30 * 86_400_000;
/** `caf<0xe9>`: not valid UTF-8. */
export const ODD = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9])]);

export interface OrphanFixture {
  tmp: TempDir;
  base: string;
  stash: string;
  pool: string;
  seed: string;
  library: string;
  movies: string;
  temp: string;
  configPath: string;
  qbt: QbtSandbox;
  /** Infohash by case name. */
  torrents: Map<string, MadeTorrent>;
  /** Paths that ARE orphans (canonical, as the catalog spells them). */
  expectedOrphans: string[];
  hashall(...args: string[]): Promise<CliResult>;
  stop(): Promise<void>;
}

/** Every regular file under `dir` (raw byte names) as relative path bytes (latin1 text) → sha256; re-reads every byte. */
export function contentTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: Buffer, rel: string): void => {
    for (const name of readdirSync(d, { encoding: 'buffer' })) {
      const p = Buffer.concat([d, Buffer.from('/'), name]);
      const r = rel ? `${rel}/${name.toString('latin1')}` : name.toString('latin1');
      const st = lstatSync(p);
      if (st.isSymbolicLink()) throw new Error(`symlink found at ${p.toString('latin1')}`);
      if (st.isDirectory()) walk(p, r);
      else out.set(r, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(Buffer.from(dir), '');
  return out;
}

function write(p: string | Buffer, data: Buffer): void {
  mkdirSync(typeof p === 'string' ? path.dirname(p) : p.subarray(0, p.lastIndexOf('/')), { recursive: true });
  writeFileSync(p, data);
}

/** Build the world; `config` extra lines are appended to hashall.yaml. */
export async function buildOrphanFixture(qbts: ReturnType<typeof qbtSandboxes>, extraConfig: string[] = []): Promise<OrphanFixture> {
  const tmp = makeTempDir('hashall-orphans-');
  const base = tmp.path;
  const stash = path.join(base, 'stash');
  mountTmpfs(stash, 32 << 20, 'orphan-stash');
  const pool = path.join(base, 'pool');
  mountTmpfs(pool, 8 << 20, 'orphan-pool');
  const poolLibrary = path.join(pool, 'library');
  const seed = path.join(stash, 'seeding');
  const library = path.join(stash, 'library');
  const movies = path.join(seed, 'movies');
  const temp = path.join(seed, 'incomplete');
  for (const d of [movies, library, temp]) mkdirSync(d, { recursive: true });
  const qbt = await qbts.start({ dir: path.join(base, 'qbt') });
  const prefs = await qbt.api('POST', '/app/setPreferences', { json: JSON.stringify({ temp_path_enabled: true, temp_path: temp, incomplete_files_ext: true }) });
  if (prefs.status !== 200) throw new Error(`setPreferences answered ${prefs.status}`);
  const torrents = new Map<string, MadeTorrent>();
  const multi = (saveDir: string, name: string, files: { path: string; size: number }[]) => makeTorrent({ saveDir, name, files, trackers: [TRACKER], pieceLength: 16 * 1024 });
  const add = async (key: string, t: MadeTorrent, o: Parameters<typeof addTorrent>[2]) => {
    torrents.set(key, t);
    await addTorrent(qbt, t, { skipChecking: true, ...o });
  };

  // 1. Root folder renamed in the client (qBittorrent renames it on disk).
  const renamed = multi(movies, 'Show.S01', [{ path: 'e01.mkv', size: 20_000 }, { path: 'e02.mkv', size: 21_000 }]);
  await add('renamed root', renamed, { savepath: movies, category: 'movies', paused: false });
  const ren = await qbt.api('POST', '/torrents/renameFolder', { hash: renamed.infoHash, oldPath: 'Show.S01', newPath: 'Show S01 (renamed)' });
  if (ren.status !== 200) throw new Error(`renameFolder answered ${ren.status}`);
  for (let i = 0; i < 200 && !existsSafe(path.join(movies, 'Show S01 (renamed)', 'e01.mkv')); i++) await new Promise((r) => setTimeout(r, 50));
  await waitSettled(qbt, renamed.infoHash);
  // 2. One file directly in the save path.
  await add('single file in the save path', makeTorrent({ saveDir: movies, name: 'Single File 2020.mkv', files: [{ size: 30_000 }], trackers: [TRACKER] }), { savepath: movies, category: 'movies', paused: false });
  // 3. Paused (complete).
  await add('paused', multi(movies, 'Paused.2019', [{ path: 'p.mkv', size: 25_000 }]), { savepath: movies, category: 'movies', paused: true });
  // 4. Missing files: one of its two files deleted behind the client's back, then a recheck finds it missing.
  const missing = multi(movies, 'Half.Gone.2018', [{ path: 'kept.mkv', size: 18_000 }, { path: 'gone.mkv', size: 18_000 }]);
  await add('missing files', missing, { savepath: movies, category: 'movies', paused: true });
  // 5. Cross-seed linked into another folder (same inodes, another name and category folder).
  const xsDir = path.join(seed, 'cross-seed', 'tracker.example');
  const original = multi(movies, 'Cross.Movie.2021', [{ path: 'cm.mkv', size: 22_000 }, { path: 'cm.nfo', size: 500 }]);
  await add('cross-seed original', original, { savepath: movies, category: 'movies', paused: false });
  for (const p of original.paths) {
    const dst = path.join(xsDir, 'Cross Movie 2021 [linked]', path.basename(p));
    mkdirSync(path.dirname(dst), { recursive: true });
    linkSync(p, dst);
  }
  await add('cross-seed linked', makeTorrent({ saveDir: xsDir, name: 'Cross Movie 2021 [linked]', files: [{ path: 'cm.mkv', size: 22_000 }, { path: 'cm.nfo', size: 500 }], trackers: [TRACKER], pieceLength: 16 * 1024, write: false }), {
    savepath: xsDir,
    category: 'cross-seed',
    paused: false,
  });
  // 6. Category save path (automatic torrent management puts it in the category's folder, not under its name).
  const tvDir = path.join(seed, 'tv-shows');
  const cat = await qbt.api('POST', '/torrents/createCategory', { category: 'tv', savePath: tvDir });
  if (cat.status !== 200) throw new Error(`createCategory answered ${cat.status}`);
  const tv = multi(tvDir, 'Series.S02', [{ path: 'x01.mkv', size: 16_000 }]);
  await add('category save path', tv, { savepath: tvDir, category: 'tv', paused: false });
  // 7. Spaces, a newline and a tab in names: qBittorrent lays control characters out as "_" on disk.
  const odd = multi(movies, 'Odd Names\n2022', [{ path: 'a\nb.mkv', size: 15_000 }, { path: 'sub dir/c\td.srt', size: 700 }]);
  for (const p of odd.paths) {
    const dst = path.join(movies, path.relative(movies, p).replace(/[\x00-\x1f]/g, '_'));
    mkdirSync(path.dirname(dst), { recursive: true });
    renameSync(p, dst);
  }
  rmSync(path.join(movies, 'Odd Names\n2022'), { recursive: true });
  await add('odd names', odd, { savepath: movies, category: 'movies', paused: false });
  // 8. Incomplete download: qBittorrent downloads into the temp folder with `.!qB` names (written here by hand, as
  // no peer exists); its data is not in the save path yet.
  const staging = path.join(base, 'staging');
  const inc = multi(staging, 'Incoming.2024', [{ path: 'i1.mkv', size: 40_000 }, { path: 'i2.mkv', size: 40_000 }]);
  rmSync(staging, { recursive: true });
  await add('incomplete download', inc, { savepath: movies, category: 'movies', paused: false, skipChecking: false });
  write(path.join(temp, 'Incoming.2024', 'i1.mkv.!qB'), fixtureBytes('partial', 16_384));
  // 9. Library-only hardlinks: no torrent, but the library imported it.
  const imported = path.join(movies, 'Imported.Only.2015', 'imported.mkv');
  write(imported, fixtureBytes('imported', 12_000));
  mkdirSync(path.join(library, 'Movies'), { recursive: true });
  linkSync(imported, path.join(library, 'Movies', 'imported.mkv'));
  // 9b. The same with a name that is not UTF-8.
  const oddImported = Buffer.concat([Buffer.from(path.join(movies, 'Lib ')), ODD, Buffer.from('.mkv')]);
  write(oddImported, fixtureBytes('odd-imported', 9_000));
  linkSync(oddImported, Buffer.concat([Buffer.from(path.join(library, 'Movies', 'lib ')), ODD, Buffer.from('.mkv')]));
  // 10. A stray `.!qB` file no torrent names (a client's leftover while it may still write): in progress, never orphan.
  write(path.join(movies, 'Stray.Download', 'part.mkv.!qB'), fixtureBytes('stray-part', 5_000));

  // Real orphans: a removed torrent's folder (one file duplicates a payload file), a lone file beside torrents, a
  // folder with a non-UTF-8 name, and a hardlinked pair inside one orphan tree.
  const removed = path.join(movies, 'Removed.Torrent.2010');
  write(path.join(removed, 'r.mkv'), fixtureBytes('removed', 33_000));
  // A copy of it on the other filesystem (a library there): the orphan's content also exists elsewhere.
  write(path.join(poolLibrary, 'r-copy.mkv'), fixtureBytes('removed', 33_000));
  write(path.join(removed, 'Extras', 'copy-of-e01.mkv'), readFileSync(path.join(movies, 'Show S01 (renamed)', 'e01.mkv')));
  linkSync(path.join(removed, 'r.mkv'), path.join(removed, 'Extras', 'r-link.mkv'));
  write(path.join(movies, 'lonely.nfo'), fixtureBytes('lonely', 300));
  const oddDir = Buffer.concat([Buffer.from(path.join(seed, 'old ')), ODD]);
  write(Buffer.concat([oddDir, Buffer.from('/f.bin')]), fixtureBytes('odd-orphan', 7_000));
  // A young folder (modified "just now" by the test clock): in progress, not an orphan yet.
  const young = path.join(movies, 'Just.Written', 'y.bin');
  write(young, fixtureBytes('young', 4_000));
  const soon = (Date.now() + CLOCK_AHEAD - 3_600_000) / 1000;
  utimesSync(young, soon, soon);

  const configPath = path.join(base, 'hashall.yaml');
  writeFileSync(
    configPath,
    stashPoolConfigText({ catalog: 'catalog.db', stash, pool, seeding: { stash: [seed] }, libraries: [library, poolLibrary], client: { type: 'qbittorrent', url: qbt.url } }, [
      'categories:',
      '  movies: { path: movies }',
      '  cross-seed: { path: "cross-seed/{tracker}" }',
      'safety: { minFree: 1MiB, retire: { mode: staged, observeHours: 1 } }',
      ...extraConfig,
    ]),
  );
  const w: OrphanFixture = {
    tmp,
    base,
    stash,
    pool,
    seed,
    library,
    movies,
    temp,
    configPath,
    qbt,
    torrents,
    expectedOrphans: [removed, path.join(movies, 'lonely.nfo'), bytesToPathText(oddDir)],
    hashall: (...args: string[]) => runCli([...args, '--config', configPath], { cwd: base, now: () => Date.now() + CLOCK_AHEAD }),
    async stop() {
      await qbt.stop();
      tmp.cleanup();
    },
  };
  // The missing file goes last, and a recheck makes the client see it.
  rmSync(missing.paths[1]!);
  await qbt.api('POST', '/torrents/recheck', { hashes: missing.infoHash });
  // Now incomplete, qBittorrent moves it into its temp folder (temp_path_enabled): wait until it has (bounded).
  let where = '';
  for (let i = 0; i < 200; i++) {
    const t = await waitSettled(qbt, missing.infoHash);
    where = `${t.state} ${t.content_path}`;
    if (t.content_path.startsWith(temp + '/') && existsSafe(path.join(t.content_path, 'kept.mkv' + '.!qB'))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!existsSafe(path.join(temp, 'Half.Gone.2018', 'kept.mkv.!qB'))) throw new Error(`missing-files torrent: ${where}\n${qbt.logTail(10)}`);
  return w;
}

function existsSafe(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
