// Benchmark of the scanner on generated trees of 20k and 200k files: initial scan against the bare two-worker Node hash
// (and openssl), no-change rescan against `find -printf` (in-process and as a user runs it: `hashall scan`), peak RSS.
import { execFileSync, spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCatalog } from '../src/catalog/db.js';
import { scanRoots } from '../src/catalog/scan/scan-roots.js';
import type { ScanHashMode } from '../src/catalog/scan/types.js';
import { bareHash } from './bare-hash.js';
import { procCpuMs } from './proc-cpu.js';

export interface ScanBenchOptions {
  dir?: string;
  files?: number;
  bytes?: number;
  /** Files of the peak-RSS rescan tree (default 200k). */
  rssFiles?: number;
  /** Timed runs of each side; the best of each is compared (default HASHALL_BENCH_REPEAT or 3). */
  repeat?: number;
}

export function scale(): number {
  const s = Number(process.env.HASHALL_BENCH_SCALE ?? '1');
  return Number.isFinite(s) && s > 0 ? s : 1;
}

/** ~`files` files totalling ~`bytes`: 95% small (0–64 KiB), a few large, 3% hardlinks, 2% duplicates. */
export function generateTree(dir: string, files: number, bytes: number): void {
  const pool = randomBytes(8 * 1024 * 1024);
  const large = Math.max(1, Math.floor(files * 0.005));
  const smallCount = files - large;
  let written = 0;
  const prev: string[] = [];
  for (let i = 0; i < smallCount; i++) {
    const d = path.join(dir, `cat${Math.floor(i / 50) % 7}`, `t${Math.floor(i / 50)}`);
    if (i % 50 === 0) mkdirSync(d, { recursive: true });
    const p = path.join(d, `f${i}.bin`);
    if (i % 33 === 5 && prev.length) {
      linkSync(prev[prev.length - 1] as string, p);
      continue;
    }
    const size = i % 50 === 7 ? 0 : (i * 7919) % 65536;
    const off = i % 50 === 9 && prev.length ? 0 : (i * 104729) % (pool.length - 65536);
    writeFileSync(p, pool.subarray(off, off + size));
    written += size;
    prev.push(p);
  }
  const each = Math.max(1, Math.floor((bytes - written) / large));
  mkdirSync(path.join(dir, 'large'), { recursive: true });
  for (let i = 0; i < large; i++) {
    const buf = Buffer.allocUnsafe(each);
    for (let o = 0; o < each; o += pool.length) pool.copy(buf, o, (i * 4099) % 1024, Math.min(pool.length, (i * 4099) % 1024 + each - o));
    buf.writeUInt32LE(i, 0);
    writeFileSync(path.join(dir, 'large', `big${i}.bin`), buf);
  }
}

export function repeats(): number {
  const n = Number(process.env.HASHALL_BENCH_REPEAT ?? '3');
  return Number.isInteger(n) && n > 0 ? n : 3;
}

/**
 * Fairness: dirty pages are written back (`sync`) and the tree is read once by both tools before timing, so every
 * timed run reads from a warm page cache; the two sides alternate and the best run of each is compared (the machine
 * may be shared). The reference hashes with 2 parallel openssl processes, the scanner with 2 hashing threads.
 */
function warmCache(dir: string): void {
  execFileSync('sync');
  execFileSync('sh', ['-c', `find "$1" -type f -print0 | xargs -0 cat > /dev/null`, 'sh', dir]);
}

function timed(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}
async function timedAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

export function removeCatalog(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
}

async function scanOnce(catalogFile: string, dir: string, hash: ScanHashMode = 'all'): Promise<void> {
  const c = openCatalog(catalogFile);
  try {
    await scanRoots(c, [{ path: dir, kind: 'adhoc' }], { drift: 'metadata', filesystems: {}, now: () => Date.now(), hashWorkers: 2, hash });
  } finally {
    c.close();
  }
}

/** User + system CPU time of the ended child processes (the scan's find), from /proc/self/stat (clock ticks of 10 ms). */
function childrenCpuMs(): number {
  return procCpuMs('/proc/self/stat', true);
}

/**
 * Child mode: one no-change rescan (hash mode `all`, or `shared-sizes`: the configured default), then print {ms, cpuMs,
 * maxRssKiB} as JSON (cpuMs: every thread's user + system time, and the find process's).
 */
async function child(catalogFile: string, dir: string, hash: ScanHashMode): Promise<void> {
  const cpu0 = process.cpuUsage();
  const kids0 = childrenCpuMs();
  const ms = await timedAsync(() => scanOnce(catalogFile, dir, hash));
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 + childrenCpuMs() - kids0;
  process.stdout.write(JSON.stringify({ ms, cpuMs, maxRssKiB: process.resourceUsage().maxRSS }) + '\n');
}

/** `find -printf` over `dir`: wall time and its user + system CPU time (the shell's `times`), which a busy machine inflates far less. */
export function findOnce(dir: string): { ms: number; cpuMs: number } {
  let out = '';
  const ms = timed(() => {
    out = execFileSync('sh', ['-c', `find "$1" -printf '%i %s %T@ %p\\n' > /dev/null; times`, 'sh', dir], { encoding: 'utf8' });
  });
  const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(out.trim());
  const cpuMs = m ? (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000 : NaN;
  return { ms, cpuMs };
}

export function rescanInChild(catalogFile: string, dir: string, hash: ScanHashMode = 'all'): { ms: number; cpuMs: number; wallMs: number; maxRssKiB: number } {
  const t = process.hrtime.bigint();
  const self = fileURLToPath(import.meta.url);
  // Run from its TypeScript source (the suite: test/unit/bench), the child loads it the way the suite's children do.
  const loader = self.endsWith('.ts') ? ['--import', path.resolve(path.dirname(self), '../test/support/ts-register.mjs')] : [];
  const r = spawnSync(process.execPath, [...loader, self, '--child', catalogFile, dir, hash], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`rescan child failed: ${r.stderr}`);
  const wallMs = Number(process.hrtime.bigint() - t) / 1e6;
  return { ...(JSON.parse(r.stdout.trim().split('\n').pop() as string) as { ms: number; cpuMs: number; maxRssKiB: number }), wallMs };
}

/** The installed form: the sh launcher (dist/cli/hashall), run as a user runs `hashall`. */
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../cli/hashall');

/** A config of the installed CLI's defaults (`scan.hash: shared-sizes`) with its catalog in `dir`, naming `fsPath`'s filesystem. */
function cliConfig(dir: string, fsPath: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'hashall.yaml');
  writeFileSync(file, ['version: 1', `catalog: ${path.join(dir, 'catalog.db')}`, 'filesystems:', `  disk: { path: ${fsPath} }`, ''].join('\n'));
  return file;
}

/**
 * `cmd args…` under bash: wall time from before the spawn, and the CPU time of bash's children (node and the find it
 * starts: bash's `times`). Output is discarded (the CLI's progress goes to stderr).
 */
function once(cmd: string, args: string[]): { ms: number; cpuMs: number } {
  const t = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', '"$@" >/dev/null 2>&1; s=$?; times; exit $s', 'bash', cmd, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}`);
  const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(r.stdout.trim());
  return { ms, cpuMs: m ? (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000 : NaN };
}

export async function run(opts: ScanBenchOptions = {}): Promise<Record<string, number>> {
  const s = scale();
  const files = opts.files ?? Math.round(20_000 * s);
  const bytes = opts.bytes ?? Math.round(2 * 1024 ** 3 * s);
  const rssFiles = opts.rssFiles ?? Math.round(200_000 * s);
  const base = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'hashall-bench-'));
  const tree = path.join(base, 'tree');
  const rssTree = path.join(base, 'rss-tree');
  try {
    const reps = opts.repeat ?? repeats();
    generateTree(tree, files, bytes);
    warmCache(tree);
    const catalogFile = path.join(base, 'catalog.db');
    let opensslMs = Infinity;
    let bareMs = Infinity;
    let initialMs = Infinity;
    for (let i = 0; i < reps; i++) {
      removeCatalog(catalogFile);
      opensslMs = Math.min(opensslMs, timed(() => execFileSync('sh', ['-c', `find "$1" -type f -print0 | xargs -0 -P2 -n256 openssl dgst -sha256 > /dev/null`, 'sh', tree])));
      bareMs = Math.min(bareMs, await timedAsync(() => bareHash(tree)));
      initialMs = Math.min(initialMs, await timedAsync(() => scanOnce(catalogFile, tree)));
    }
    // What a user runs: the configured default `scan.hash: shared-sizes` (a catalog where most files are not hashed
    // yet), in-process and through the installed CLI (`hashall scan PATH`: a fresh node, its start-up, the config).
    const sharedCatalog = path.join(base, 'catalog-shared.db');
    await scanOnce(sharedCatalog, tree, 'shared-sizes');
    const config = cliConfig(path.join(base, 'cli'), base);
    once(cli, ['scan', '--config', config, tree]);
    let find = { ms: Infinity, cpuMs: Infinity };
    let rescan = { ms: Infinity, cpuMs: Infinity, wallMs: Infinity, maxRssKiB: 0 };
    let shared = { ms: Infinity, cpuMs: Infinity };
    let cliScan = { ms: Infinity, cpuMs: Infinity };
    let nodeStart = { ms: Infinity, cpuMs: Infinity };
    const best = (a: { ms: number; cpuMs: number }, b: { ms: number; cpuMs: number }) => ({ ms: Math.min(a.ms, b.ms), cpuMs: Math.min(a.cpuMs, b.cpuMs) });
    for (let i = 0; i < reps; i++) {
      const f = findOnce(tree);
      find = { ms: Math.min(find.ms, f.ms), cpuMs: Math.min(find.cpuMs, f.cpuMs) };
      const r = rescanInChild(catalogFile, tree);
      if (r.ms < rescan.ms) rescan = { ...r, cpuMs: Math.min(r.cpuMs, rescan.cpuMs) };
      else rescan.cpuMs = Math.min(rescan.cpuMs, r.cpuMs);
      shared = best(shared, rescanInChild(sharedCatalog, tree, 'shared-sizes'));
      cliScan = best(cliScan, once(cli, ['scan', '--config', config, tree]));
      nodeStart = best(nodeStart, once(process.execPath, ['-e', '0']));
    }
    const findMs = find.ms;
    // Peak RSS of a no-change rescan of many small files.
    for (let i = 0; i < rssFiles; i++) {
      if (i % 1000 === 0) mkdirSync(path.join(rssTree, `d${i / 1000}`), { recursive: true });
      writeFileSync(path.join(rssTree, `d${Math.floor(i / 1000)}`, `f${i}`), String(i));
    }
    execFileSync('sync');
    warmCache(rssTree);
    const rssCatalog = path.join(base, 'rss.db');
    let rssBareMs = Infinity;
    let rssInitialMs = Infinity;
    for (let i = 0; i < reps; i++) {
      removeCatalog(rssCatalog);
      rssBareMs = Math.min(rssBareMs, await timedAsync(() => bareHash(rssTree)));
      rssInitialMs = Math.min(rssInitialMs, await timedAsync(() => scanOnce(rssCatalog, rssTree)));
    }
    let rssFind = { ms: Infinity, cpuMs: Infinity };
    let big = { ms: Infinity, cpuMs: Infinity, wallMs: Infinity, maxRssKiB: 0 };
    let peakKiB = 0;
    for (let i = 0; i < reps; i++) {
      const f = findOnce(rssTree);
      rssFind = { ms: Math.min(rssFind.ms, f.ms), cpuMs: Math.min(rssFind.cpuMs, f.cpuMs) };
      const r = rescanInChild(rssCatalog, rssTree);
      peakKiB = Math.max(peakKiB, r.maxRssKiB);
      if (r.ms < big.ms) big = { ...r, cpuMs: Math.min(r.cpuMs, big.cpuMs) };
      else big.cpuMs = Math.min(big.cpuMs, r.cpuMs);
    }
    const rssFindMs = rssFind.ms;
    return {
      files,
      bytes,
      initialScanMs: Math.round(initialMs),
      opensslMs: Math.round(opensslMs),
      initialVsOpenssl: +(initialMs / opensslMs).toFixed(2),
      bareHashMs: Math.round(bareMs),
      initialVsBareHash: +(initialMs / bareMs).toFixed(2),
      rescanMs: Math.round(rescan.ms),
      findMs: Math.round(findMs),
      rescanVsFind: +(rescan.ms / findMs).toFixed(2),
      rescanCpuMs: Math.round(rescan.cpuMs),
      findCpuMs: Math.round(find.cpuMs),
      rescanCpuVsFindCpu: +(rescan.cpuMs / find.cpuMs).toFixed(2),
      rescanWallMs: Math.round(rescan.wallMs),
      rescanWallVsFind: +(rescan.wallMs / findMs).toFixed(2),
      sharedRescanMs: Math.round(shared.ms),
      sharedRescanVsFind: +(shared.ms / findMs).toFixed(2),
      sharedRescanCpuMs: Math.round(shared.cpuMs),
      cliRescanMs: Math.round(cliScan.ms),
      cliRescanVsFind: +(cliScan.ms / findMs).toFixed(2),
      cliRescanCpuMs: Math.round(cliScan.cpuMs),
      cliRescanCpuVsFindCpu: +(cliScan.cpuMs / find.cpuMs).toFixed(2),
      nodeStartMs: Math.round(nodeStart.ms),
      nodeStartCpuMs: Math.round(nodeStart.cpuMs),
      rssFiles,
      rssInitialScanMs: Math.round(rssInitialMs),
      rssBareHashMs: Math.round(rssBareMs),
      rssInitialVsBareHash: +(rssInitialMs / rssBareMs).toFixed(2),
      rssRescanMs: Math.round(big.ms),
      rssFindMs: Math.round(rssFindMs),
      rssRescanVsFind: +(big.ms / rssFindMs).toFixed(2),
      rssRescanWallVsFind: +(big.wallMs / rssFindMs).toFixed(2),
      rssRescanCpuMs: Math.round(big.cpuMs),
      rssFindCpuMs: Math.round(rssFind.cpuMs),
      rssRescanCpuVsFindCpu: +(big.cpuMs / rssFind.cpuMs).toFixed(2),
      rssRescanPeakMiB: Math.round(peakKiB / 1024),
      repeat: reps,
      // The machine may be shared: the 1-minute load average when the run ended.
      loadAvg1: +(loadavg()[0] ?? 0).toFixed(2),
    };
  } finally {
    if (!opts.dir) rmSync(base, { recursive: true, force: true });
  }
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] === self) {
  if (process.argv[2] === '--child') {
    await child(process.argv[3] as string, process.argv[4] as string, (process.argv[5] ?? 'all') as ScanHashMode);
  } else {
    const r = await run();
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  }
}
