// Benchmark of `hashall plan --no-refresh` on a real SQLite catalog of 1M files and 10k torrents: time per phase and peak RSS.
//
// Setup (not measured) runs in a private mount namespace (`unshare -m`, needs root): two tmpfs filesystems
// (stash, pool) with seeding roots and a library, a real hashall.yaml read by the real loader, the filesystem and
// scan-root rows written by a real scan of the (still empty) roots, then 10k torrents × 100 payload files created
// as REAL empty files on stash (their catalog rows carry the real inodes, so the live lstat check sees the
// catalog's truth), every 7th torrent hardlinked once into the library (an external consumer), and every 20th
// torrent's content also recorded on pool (catalog rows only: a reuse donor). Rows go in with plain INSERTs in
// one transaction (torrent rows with the listing digest a sync records); then the payload summaries are stored
// exactly as a sync ends (timed: `summariesMs`). Half the torrents have seeded 90 days.
//
// Measured, in a fresh child process per run (so maxRSS is the plan's own): what `plan --no-refresh` does —
// loadConfig, openCatalog, readSnapshot, buildPlan, renderPlanText — for two placement rules over the same catalog
// (`steady`: 1 % of the groups move, the daily cron run; `adoption`: every torrent seeded 60+ days goes to pool, half
// the library), each with the live check (the CLI default: one lstat per file of the payloads the plan acts on) and
// with `liveCheck: false` (the catalog alone). Best of HASHALL_BENCH_REPEAT; HASHALL_BENCH_MODES picks
// `<world>.<live|catalog>` pairs; HASHALL_BENCH_SCALE multiplies the torrent count (files per torrent stay 100).
// Each run prints `cpuMs` (user + system time of every thread of the measured part: on a loaded machine the wall time
// is the load's), `mainCpuMs` (the main thread's alone: the part the live-check workers cannot take) and `planSha`,
// a fingerprint of every decision, to compare plans across code changes.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, ftruncateSync, futimesSync, linkSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { openCatalog } from '../src/catalog/db.js';
import { scanRoots } from '../src/catalog/scan/scan-roots.js';
import { readSnapshot } from '../src/catalog/snapshot.js';
import { expandPlan } from '../src/apply/plan-expand.js';
import { loadConfig } from '../src/config/load.js';
import { buildPlan } from '../src/plan/build.js';
import { snapshotPlanner } from '../src/plan/needs.js';
import { storeSummaries } from '../src/catalog/payload-summary.js';
import { clientListingDigest } from '../src/domain/listing.js';
import { renderPlanText } from '../src/render/plan-text.js';
import { raiseOptimizerBudget } from '../src/cli/optimizer-budget.js';
import { procCpuMs } from './proc-cpu.js';

const FILES_PER_TORRENT = 100;

function scale(): number {
  const s = Number(process.env.HASHALL_BENCH_SCALE ?? '1');
  return Number.isFinite(s) && s > 0 ? s : 1;
}

function repeats(): number {
  const n = Number(process.env.HASHALL_BENCH_REPEAT ?? '3');
  return Number.isInteger(n) && n > 0 ? n : 3;
}

function sha1ish(n: number): string {
  return (n * 2654435761 % 4294967296).toString(16).padStart(8, '0') + n.toString(16).padStart(32, '0');
}

/** The placement rule of each measured world: `adoption` sends every torrent seeded 60+ days (half of them) to pool; `steady` only 1 %. */
const RULES = {
  adoption: `{ name: old, match: { minSeedingDays: 60 }, place: pool }`,
  steady: `{ name: old, match: { minSeedingDays: 60, paths: ["*/Release.*00.2020.1080p"] }, place: pool }`,
} as const;
type World = keyof typeof RULES;

function configText(dir: string, world: World = 'adoption'): string {
  return `version: 1
catalog: ./catalog.db
filesystems:
  stash: { path: ${dir}/stash }
  pool: { path: ${dir}/pool }
seeding:
  stash: [${dir}/stash/seeding]
  pool: [${dir}/pool/seeding]
libraries: [${dir}/stash/movies]
client:
  type: qbittorrent
  url: http://127.0.0.1:8080
  pathMaps:
    - { client: /data, host: ${dir}/stash }
    - { client: /pdata, host: ${dir}/pool }
categories:
  cross-seed: { path: "cross-seed/{tracker}" }
placement:
  default: stash
  rules:
    - ${RULES[world]}
dedupe: { filesystems: [stash], minSize: 0 }
safety:
  verify: full
  retire: { mode: staged, observeHours: 72 }
  minFree: 0
  maxScanAgeHours: 24
`;
}

const log = (s: string) => process.stderr.write(`[bench plan] ${s}\n`);

/** Inside the private mount namespace: build the world, then time each measured mode in fresh child processes. */
async function setup(dir: string): Promise<void> {
  const torrents = Math.max(1, Math.round(10_000 * scale()));
  for (const fs of ['stash', 'pool']) {
    mkdirSync(path.join(dir, fs), { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1g,nr_inodes=0', `bench-${fs}`, path.join(dir, fs)]);
  }
  for (const d of ['stash/seeding/movies', 'stash/seeding/tv', 'stash/movies', 'pool/seeding']) mkdirSync(path.join(dir, d), { recursive: true });
  const configPath = path.join(dir, 'hashall.yaml');
  writeFileSync(configPath, configText(dir));
  writeFileSync(path.join(dir, 'steady.yaml'), configText(dir, 'steady'));
  const { config } = loadConfig(configPath, { env: {}, cwd: dir });
  const catalog = openCatalog(config.catalog);
  const now = Date.now();
  await scanRoots(
    catalog,
    [
      { path: `${dir}/stash/seeding`, kind: 'seeding' },
      { path: `${dir}/pool/seeding`, kind: 'seeding' },
      { path: `${dir}/stash/movies`, kind: 'library' },
    ],
    { drift: 'metadata', filesystems: config.filesystems, now: () => now },
  );
  const fsRows = catalog.db.prepare(`SELECT id, name, preferred_mount FROM filesystems`).all() as { id: number; name: string; preferred_mount: string }[];
  const stash = fsRows.find((r) => r.name === 'stash');
  const pool = fsRows.find((r) => r.name === 'pool');
  if (!stash || !pool) throw new Error(`scan did not record both filesystems: ${JSON.stringify(fsRows)}`);

  const t0 = performance.now();
  const db = catalog.db;
  const insFile = db.prepare(`INSERT INTO files (fs_id, path, ino, size, mtime_ns, nlink, quick_hash, sha256, hashed_at, status, first_seen, last_seen)
    VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, 'active', ?, ?)`);
  const insTorrent = db.prepare(`INSERT INTO torrents (client, hash, name, category, tags, tracker, raw_state, phase, running, progress, amount_left, size, auto_tmm,
    added_on, completion_on, seeding_time, client_save_path, client_content_path, client_download_path, host_content_path, fs_id, unmapped_reason,
    data_status, payload_kind, payload_files, payload_bytes, payload_hash, listing_digest, status, first_seen, synced_at)
    VALUES ('default', ?, ?, ?, '[]', 'https://tracker.example.org/announce', 'stalledUP', 'seeding', 1, 1, 0, ?, 0, 1700000000, 1700000100, ?, ?, ?, '', ?, ?, NULL,
    'ok', 'dir', ?, ?, NULL, ?, 'active', ?, ?)`);
  const insTFile = db.prepare(`INSERT INTO torrent_files (client, torrent_hash, idx, name, size, progress) VALUES ('default', ?, ?, ?, ?, 1)`);
  const mtime = '1700000000000000000';
  let fakeIno = 1_000_000_000;
  const fill = db.transaction(() => {
    for (let t = 0; t < torrents; t++) {
      const hash = sha1ish(t);
      const name = `Release.${t}.2020.1080p`;
      const cat = t % 3 === 0 ? 'tv' : 'movies';
      const rel = `seeding/${cat}/${name}`;
      const root = `${stash.preferred_mount}/${rel}`;
      for (let d = 0; d < 4; d++) mkdirSync(`${root}/disc${d}`, { recursive: true });
      const seeding = (t % 2 === 0 ? 90 : 10) * 86_400;
      const bytes = FILES_PER_TORRENT * 1_000_000 + (FILES_PER_TORRENT * (FILES_PER_TORRENT - 1)) / 2;
      const clientFiles = Array.from({ length: FILES_PER_TORRENT }, (_, f) => ({ name: `${name}/disc${f % 4}/part${f}.mkv`, size: 1_000_000 + f }));
      const digest = clientListingDigest({ clientSavePath: `/data/seeding/${cat}`, clientContentPath: `/data/seeding/${cat}/${name}`, files: clientFiles });
      insTorrent.run(hash, name, cat, bytes, seeding, `/data/seeding/${cat}`, `/data/seeding/${cat}/${name}`, root, stash.id, FILES_PER_TORRENT, bytes, digest, now, now);
      for (let f = 0; f < FILES_PER_TORRENT; f++) {
        const relpath = `disc${f % 4}/part${f}.mkv`;
        const sha = (t * FILES_PER_TORRENT + f).toString(16).padStart(64, '0');
        const size = 1_000_000 + f;
        const fd = openSync(`${root}/${relpath}`, 'w');
        // Sparse file with the catalog row's size and mtime, so the live check sees it unchanged since the "scan".
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
        if (t % 20 === 2) insFile.run(pool.id, `archive/${name}/${relpath}`, fakeIno++, size, mtime, 1, sha, now, now, now);
        insTFile.run(hash, f, `${name}/${relpath}`, size);
      }
    }
    db.prepare(`INSERT INTO sync_sessions (started_at, finished_at, client_version, torrents, added, changed, removed, unmapped, hash_unknown, serial)
      VALUES (?, ?, 'v4.5.2', ?, ?, 0, 0, 0, 0, 0)`).run(now, now, torrents, torrents);
    catalog.bumpSerial();
  });
  fill();
  // What a sync ends with: the payload summaries and duplicate groups for this serial (timed: a sync pays this once).
  const t1 = performance.now();
  storeSummaries(catalog, config);
  const summariesMs = Math.round(performance.now() - t1);
  // As a sync's statfs of a large pool would record it (the tmpfs itself is small): free space never blocks here.
  db.prepare(`UPDATE filesystems SET free_bytes = ?, free_at = ?`).run(1e15, now);
  db.pragma('wal_checkpoint(TRUNCATE)');
  catalog.close();
  log(`generated ${torrents} torrents, ${torrents * FILES_PER_TORRENT} payload files in ${Math.round(performance.now() - t0)} ms; summaries stored in ${summariesMs} ms`);

  // HASHALL_BENCH_HOLD: a command run inside the namespace once the world is built (BENCH_DIR names it), before any
  // measurement — e.g. `sleep 3600`, then `nsenter -t PID -m node dist/bench/plan.js --measure $BENCH_DIR/hashall.yaml live`.
  if (process.env.HASHALL_BENCH_HOLD) spawnSync('sh', ['-c', process.env.HASHALL_BENCH_HOLD], { stdio: ['ignore', 2, 2], env: { ...process.env, BENCH_DIR: dir } });
  const results: Record<string, number> = { torrents, files: torrents * FILES_PER_TORRENT, summariesMs };
  // HASHALL_BENCH_NODE_ARGS: extra node flags for the measured child (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
  const nodeArgs = (process.env.HASHALL_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const modes = (process.env.HASHALL_BENCH_MODES ?? 'steady.live,steady.catalog,adoption.live,adoption.catalog').split(',');
  for (const mode of modes) {
    const [world, check] = mode.split('.') as [World, 'live' | 'catalog'];
    const cfg = world === 'steady' ? path.join(dir, 'steady.yaml') : configPath;
    let best: Record<string, number> | null = null;
    for (let i = 0; i < repeats(); i++) {
      const r = spawnSync(process.execPath, [...nodeArgs, fileURLToPath(import.meta.url), '--measure', cfg, check], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (r.status !== 0) throw new Error(`measure child failed: ${r.stderr}`);
      process.stderr.write(r.stderr);
      const m = JSON.parse(r.stdout) as Record<string, number>;
      log(`${mode} run ${i + 1}: ${JSON.stringify(m)}`);
      if (!best || (m.totalMs as number) < (best.totalMs as number)) best = m;
    }
    for (const [k, v] of Object.entries(best!)) results[`${mode}.${k}`] = v;
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

/**
 * CPU time (user + system, ms) of this process's main thread alone, from /proc/self/task/PID/stat (10 ms ticks): with
 * worker threads on a shared machine, the main thread's CPU is the critical path that wall time hides under load.
 */
function mainThreadCpuMs(): number {
  return procCpuMs(`/proc/self/task/${process.pid}/stat`);
}

/** One measured `plan --no-refresh` (mode `live` as the CLI does it, or `catalog` without the lstat check). */
function measure(configPath: string, mode: 'live' | 'catalog'): void {
  raiseOptimizerBudget(); // as the plan command does before it plans
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const t0 = performance.now();
  const { config } = loadConfig(configPath, { env: {}, cwd: path.dirname(configPath) });
  const catalog = openCatalog(config.catalog);
  const now = Date.now();
  const t1 = performance.now();
  const snapshot = readSnapshot(catalog, config, { planner: snapshotPlanner(config, now), liveCheck: mode === 'live' });
  const t2 = performance.now();
  const plan = buildPlan({ config, snapshot, now, createdAt: new Date(now).toISOString() });
  const t3 = performance.now();
  const text = renderPlanText(plan, { color: false });
  const t4 = performance.now();
  catalog.close();
  const t5 = performance.now();
  const cpu = process.cpuUsage(cpu0); // every thread of the process (the live-check workers too)
  const mainCpuMs = mainThreadCpuMs() - main0;
  const s = plan.summary;
  const peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024); // before the fingerprint below adds its own memory
  // Fingerprint of every decision (the groups with their per-file lists read back from the catalog as apply reads
  // them — expandPlan — and the run's temporary directory spelled <dir>), to compare plans across code changes.
  const reopened = openCatalog(config.catalog);
  const expanded = expandPlan(reopened, plan);
  reopened.close();
  const planSha = createHash('sha256').update(JSON.stringify(expanded.groups).split(path.dirname(configPath)).join('<dir>')).digest('hex').slice(0, 16);
  if (process.env.HASHALL_BENCH_DEBUG) for (const g of expanded.groups.filter((x) => x.action === 'blocked').slice(0, 3)) process.stderr.write(`blocked ${g.title}: ${g.reasons.join(' | ')}\n`);
  process.stdout.write(
    JSON.stringify({
      openMs: Math.round(t1 - t0),
      readSnapshotMs: Math.round(t2 - t1),
      buildPlanMs: Math.round(t3 - t2),
      renderMs: Math.round(t4 - t3),
      totalMs: Math.round(t5 - t0),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      mainCpuMs,
      peakRssMB,
      outputKB: Math.round(text.length / 1024),
      move: s.move,
      reuse: s.reuse,
      stay: s.stay,
      keep: s.keep,
      blocked: s.blocked,
      planSha,
    }) + '\n',
  );
}

function table(r: Record<string, number>): string {
  const rows = ['openMs', 'readSnapshotMs', 'buildPlanMs', 'renderMs', 'totalMs', 'cpuMs', 'mainCpuMs', 'peakRssMB', 'move', 'reuse', 'stay', 'keep', 'blocked'];
  const cols = ['steady.live', 'steady.catalog', 'adoption.live', 'adoption.catalog'].filter((c) => r[`${c}.totalMs`] !== undefined);
  const lines = [
    `scale ${scale()}: ${r.torrents} torrents, ${r.files} payload files; summaries stored by the "sync" in ${r.summariesMs} ms`,
    `${'phase'.padEnd(16)}${cols.map((c) => c.padStart(18)).join('')}`,
  ];
  for (const k of rows) lines.push(`${k.padEnd(16)}${cols.map((c) => String(r[`${c}.${k}`]).padStart(18)).join('')}`);
  return lines.join('\n') + '\n';
}

export async function run(): Promise<Record<string, number>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hashall-bench-plan-'));
  try {
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', process.execPath, fileURLToPath(import.meta.url), '--setup', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    });
    if (r.status !== 0) throw new Error(`plan bench setup failed (needs root for unshare -m and tmpfs mounts), exit ${r.status}`);
    const results = JSON.parse(r.stdout) as Record<string, number>;
    process.stderr.write(table(results));
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] === self) {
  if (process.argv[2] === '--setup') await setup(process.argv[3] as string);
  else if (process.argv[2] === '--measure') measure(process.argv[3] as string, process.argv[4] as 'live' | 'catalog');
  else await run();
}
