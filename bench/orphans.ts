// Benchmark of `hashall orphans` and `hashall reclaim` on a real SQLite catalog of 1M files and 10k torrents, with the ratio to `find` over the same roots.
//
// Setup (not measured) runs in a private mount namespace (`unshare -m`, needs root): a tmpfs stash with a seeding root
// and a library, a real hashall.yaml, filesystem and scan-root rows from a real scan of the empty roots, then 10k
// torrent folders × 100 REAL sparse files (so `find` walks the same tree the catalog describes). Every 50th folder has no
// torrent any more (an orphan tree, 2 % of the files), every 7th torrent's first file is hardlinked into the library,
// and every 10th torrent's first file has a byte-identical copy elsewhere on stash (a dedupe candidate). Rows go in
// with plain INSERTs in one transaction, then the payload summaries are stored as a sync ends.
// Measured, in a fresh child process per run (so maxRSS is the command's own): loadConfig, openCatalog, the report,
// its JSON rendering. Best of HASHALL_BENCH_REPEAT; HASHALL_BENCH_SCALE multiplies the torrent count.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, fstatSync, futimesSync, linkSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCatalog } from '../src/catalog/db.js';
import { scanRoots } from '../src/catalog/scan/scan-roots.js';
import { storeSummaries } from '../src/catalog/payload-summary.js';
import { loadConfig } from '../src/config/load.js';
import { clientListingDigest } from '../src/domain/listing.js';
import { classifyOrphans } from '../src/reconcile/orphans.js';
import { reclaim } from '../src/reconcile/reclaim.js';
import { orphansJson } from '../src/render/orphans-text.js';

const FILES_PER_TORRENT = 100;
const log = (s: string) => process.stderr.write(`[bench orphans] ${s}\n`);

function scale(): number {
  const s = Number(process.env.HASHALL_BENCH_SCALE ?? '1');
  return Number.isFinite(s) && s > 0 ? s : 1;
}

function repeats(): number {
  const n = Number(process.env.HASHALL_BENCH_REPEAT ?? '3');
  return Number.isInteger(n) && n > 0 ? n : 3;
}

function configText(dir: string): string {
  return `version: 1
catalog: ./catalog.db
filesystems:
  stash: { path: ${dir}/stash }
seeding:
  stash: [${dir}/stash/seeding]
libraries: [${dir}/stash/movies]
client:
  type: qbittorrent
  url: http://127.0.0.1:8080
  pathMaps:
    - { client: /data, host: ${dir}/stash }
categories:
  movies: { path: movies }
  tv: { path: tv }
dedupe: { filesystems: [stash], minSize: 0 }
orphans: { minAge: 14d }
safety: { minFree: 0, maxScanAgeHours: 24 }
`;
}

async function setup(dir: string): Promise<void> {
  const torrents = Math.max(1, Math.round(10_000 * scale()));
  mkdirSync(path.join(dir, 'stash'), { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1g,nr_inodes=0', 'bench-orphans', path.join(dir, 'stash')]);
  for (const d of ['stash/seeding/movies', 'stash/seeding/tv', 'stash/movies', 'stash/elsewhere']) mkdirSync(path.join(dir, d), { recursive: true });
  const configPath = path.join(dir, 'hashall.yaml');
  writeFileSync(configPath, configText(dir));
  const { config } = loadConfig(configPath, { env: {}, cwd: dir });
  const catalog = openCatalog(config.catalog);
  const now = Date.now();
  const scanAt = now - 60_000;
  await scanRoots(catalog, [{ path: `${dir}/stash/seeding`, kind: 'seeding' }, { path: `${dir}/stash/movies`, kind: 'library' }], { drift: 'metadata', filesystems: config.filesystems, now: () => scanAt });
  const stash = catalog.db.prepare(`SELECT id, preferred_mount FROM filesystems WHERE name = 'stash'`).get() as { id: number; preferred_mount: string };
  const db = catalog.db;
  const insFile = db.prepare(`INSERT INTO files (fs_id, path, ino, size, mtime_ns, nlink, quick_hash, sha256, hashed_at, status, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, 'active', ?, ?)`);
  const insTorrent = db.prepare(`INSERT INTO torrents (client, hash, name, category, tags, tracker, raw_state, phase, running, progress, amount_left, size, auto_tmm,
    added_on, completion_on, seeding_time, client_save_path, client_content_path, client_download_path, host_content_path, fs_id, unmapped_reason,
    data_status, payload_kind, payload_files, payload_bytes, payload_hash, listing_digest, status, first_seen, synced_at)
    VALUES ('default', ?, ?, ?, '[]', 'https://tracker.example.org/announce', 'stalledUP', 'seeding', 1, 1, 0, ?, 0, 1700000000, 1700000100, 86400, ?, ?, '', ?, ?, NULL,
    'ok', 'dir', ?, ?, NULL, ?, 'active', ?, ?)`);
  const insTFile = db.prepare(`INSERT INTO torrent_files (client, torrent_hash, idx, name, size, progress) VALUES ('default', ?, ?, ?, ?, 1)`);
  const mtime = '1700000000000000000';
  const t0 = performance.now();
  let orphanFiles = 0;
  const fill = db.transaction(() => {
    for (let t = 0; t < torrents; t++) {
      const hash = t.toString(16).padStart(40, '0');
      const name = `Release.${t}.2020.1080p`;
      const cat = t % 3 === 0 ? 'tv' : 'movies';
      const rel = `seeding/${cat}/${name}`;
      const root = `${stash.preferred_mount}/${rel}`;
      for (let d = 0; d < 4; d++) mkdirSync(`${root}/disc${d}`, { recursive: true });
      const orphan = t % 50 === 25;
      const bytes = FILES_PER_TORRENT * 1_000_000 + (FILES_PER_TORRENT * (FILES_PER_TORRENT - 1)) / 2;
      const clientFiles = Array.from({ length: FILES_PER_TORRENT }, (_, f) => ({ name: `${name}/disc${f % 4}/part${f}.mkv`, size: 1_000_000 + f }));
      if (!orphan) {
        const digest = clientListingDigest({ clientSavePath: `/data/seeding/${cat}`, clientContentPath: `/data/seeding/${cat}/${name}`, files: clientFiles });
        insTorrent.run(hash, name, cat, bytes, `/data/seeding/${cat}`, `/data/seeding/${cat}/${name}`, root, stash.id, FILES_PER_TORRENT, bytes, digest, now, now);
      } else orphanFiles += FILES_PER_TORRENT;
      for (let f = 0; f < FILES_PER_TORRENT; f++) {
        const relpath = `disc${f % 4}/part${f}.mkv`;
        const sha = (t * FILES_PER_TORRENT + f).toString(16).padStart(64, '0');
        const size = 1_000_000 + f;
        const fd = openSync(`${root}/${relpath}`, 'w');
        ftruncateSync(fd, size);
        futimesSync(fd, 1_700_000_000, 1_700_000_000);
        const ino = fstatSync(fd).ino;
        closeSync(fd);
        const linked = t % 7 === 0 && f === 0;
        insFile.run(stash.id, `${rel}/${relpath}`, ino, size, mtime, linked ? 2 : 1, sha, now, now, now);
        if (linked) {
          linkSync(`${root}/${relpath}`, `${stash.preferred_mount}/movies/${name}.mkv`);
          insFile.run(stash.id, `movies/${name}.mkv`, ino, size, mtime, 2, sha, now, now, now);
        }
        if (t % 10 === 5 && f === 0) {
          const fd2 = openSync(`${stash.preferred_mount}/elsewhere/${name}.mkv`, 'w');
          ftruncateSync(fd2, size);
          const ino2 = fstatSync(fd2).ino;
          closeSync(fd2);
          insFile.run(stash.id, `elsewhere/${name}.mkv`, ino2, size, mtime, 1, sha, now, now, now);
        }
        if (!orphan) insTFile.run(hash, f, `${name}/${relpath}`, size);
      }
    }
    db.prepare(`INSERT INTO sync_sessions (started_at, finished_at, client_version, torrents, added, changed, removed, unmapped, hash_unknown, serial) VALUES (?, ?, 'v4.5.2', ?, ?, 0, 0, 0, 0, 0)`).run(now, now, torrents, torrents);
    catalog.bumpSerial();
  });
  fill();
  storeSummaries(catalog, config);
  db.pragma('wal_checkpoint(TRUNCATE)');
  catalog.close();
  log(`generated ${torrents} folders × ${FILES_PER_TORRENT} files (${orphanFiles} orphan files) in ${Math.round(performance.now() - t0)} ms`);

  const results: Record<string, number> = { torrents, files: torrents * FILES_PER_TORRENT, orphanFiles };
  // The standard tool over the same roots: list every file (what any orphan finder must at least do).
  let findMs = Infinity;
  let findCpuMs = Infinity;
  for (let i = 0; i < repeats(); i++) {
    const f0 = performance.now();
    // bash's `times`: the second line is the children's user and system time (find and wc).
    const out = execFileSync('bash', ['-c', `find '${dir}/stash/seeding' '${dir}/stash/movies' -type f | wc -l; times`], { encoding: 'utf8', maxBuffer: 1 << 20 });
    findMs = Math.min(findMs, performance.now() - f0);
    const secs = [...(out.trim().split('\n').pop() ?? '').matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
    if (secs.length === 2) findCpuMs = Math.min(findCpuMs, (secs[0]! + secs[1]!) * 1000);
  }
  results.findMs = Math.round(findMs);
  results.findCpuMs = Math.round(findCpuMs);
  for (const what of ['orphans', 'reclaim'] as const) {
    let best: Record<string, number> | null = null;
    for (let i = 0; i < repeats(); i++) {
      // HASHALL_BENCH_PROF=DIR writes a V8 CPU profile of each measured run there (node --cpu-prof).
      const prof = process.env.HASHALL_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.HASHALL_BENCH_PROF}`, `--cpu-prof-name=${what}-${i + 1}.cpuprofile`] : [];
      const r = spawnSync(process.execPath, [...prof, fileURLToPath(import.meta.url), '--measure', configPath, what], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (r.status !== 0) throw new Error(`measure child failed: ${r.stderr}`);
      const m = JSON.parse(r.stdout) as Record<string, number>;
      log(`${what} run ${i + 1}: ${JSON.stringify(m)}`);
      if (!best || (m.totalMs as number) < (best.totalMs as number)) best = m;
    }
    for (const [k, v] of Object.entries(best!)) results[`${what}.${k}`] = v;
    results[`${what}.ratioToFind`] = Math.round(((best!.totalMs as number) / results.findMs) * 100) / 100;
    results[`${what}.cpuRatioToFind`] = Math.round(((best!.cpuMs as number) / results.findCpuMs) * 100) / 100;
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

function measure(configPath: string, what: 'orphans' | 'reclaim'): void {
  const t0 = performance.now();
  const { config } = loadConfig(configPath, { env: {}, cwd: path.dirname(configPath) });
  const catalog = openCatalog(config.catalog, { readonly: true });
  const now = Date.now();
  let out = '';
  let trees = 0;
  if (what === 'orphans') {
    const r = classifyOrphans(catalog, config, now);
    trees = r.trees.length;
    out = JSON.stringify(orphansJson(r));
  } else {
    const r = reclaim(catalog, config, now);
    out = JSON.stringify(r);
    trees = r.filesystems.length;
  }
  catalog.close();
  const totalMs = Math.round(performance.now() - t0);
  // CPU time (user + system) beside the wall time: on a shared, loaded machine it is the figure that does not count the waits for a core.
  const usage = process.resourceUsage();
  const cpuMs = Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000);
  process.stdout.write(JSON.stringify({ totalMs, cpuMs, peakRssMB: Math.round(usage.maxRSS / 1024), outputKB: Math.round(out.length / 1024), entries: trees }) + '\n');
}

export async function run(): Promise<Record<string, number>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hashall-bench-orphans-'));
  try {
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', process.execPath, fileURLToPath(import.meta.url), '--setup', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`orphans bench setup failed (needs root for unshare -m and tmpfs mounts), exit ${r.status}`);
    const results = JSON.parse(r.stdout) as Record<string, number>;
    process.stderr.write(
      `scale ${scale()}: ${results.files} files, ${results.torrents} folders (${results.orphanFiles} orphan files); find ${results.findMs} ms (${results.findCpuMs} ms CPU)\n` +
        `orphans: ${results['orphans.totalMs']} ms (${results['orphans.cpuMs']} ms CPU), ${results['orphans.peakRssMB']} MB, ${results['orphans.ratioToFind']}× find\n` +
        `reclaim: ${results['reclaim.totalMs']} ms (${results['reclaim.cpuMs']} ms CPU), ${results['reclaim.peakRssMB']} MB, ${results['reclaim.ratioToFind']}× find\n`,
    );
    return results;
  } finally {
    // HASHALL_BENCH_KEEP=1 keeps the catalog and config (the tmpfs files are gone with the namespace) for profiling.
    if (process.env.HASHALL_BENCH_KEEP === '1') process.stderr.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] === self) {
  if (process.argv[2] === '--setup') await setup(process.argv[3] as string);
  else if (process.argv[2] === '--measure') measure(process.argv[3] as string, process.argv[4] as 'orphans' | 'reclaim');
  else await run();
}
