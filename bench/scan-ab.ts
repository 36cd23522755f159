// A/B of the initial scan: builds of hashall (each a dist/ folder) against each other and the bare two-worker hash, alternately, each run a fresh node; best wall and CPU time of each.
//
//   node dist/bench/scan-ab.js [--runs N] [--tree DIR] DIST...      e.g. node dist/bench/scan-ab.js dist/old dist
//
// Each run times what bench/scan.ts times as `initialScanMs` (open a new catalog, scanRoots with hash `all` and 2
// workers, close) or `bareHashMs` (bareHash), after module loading; CPU time is every thread's user + system time and
// the find child's. The tree (default /var/tmp/hashall-scan-ab: bench/scan.ts generateTree, 20k files, 2 GiB, scaled by
// HASHALL_BENCH_SCALE) is made once, kept, and read once before timing (warm page cache). A DIST must lie inside a
// checkout whose node_modules holds better-sqlite3 (module resolution).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateTree, scale } from './scan.js';

type Mode = 'scan' | 'bare';

/** User + system time (ms) of this process's reaped children (find), from /proc/self/stat. */
function childrenMs(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[13]) + Number(f[14])) * 10;
}

async function child(dist: string, mode: Mode, tree: string, catalog: string): Promise<void> {
  const url = (p: string): string => pathToFileURL(path.join(dist, p)).href;
  const { bareHash } = (await import(url('bench/bare-hash.js'))) as typeof import('./bare-hash.js');
  const { openCatalog } = (await import(url('src/catalog/db.js'))) as typeof import('../src/catalog/db.js');
  const { scanRoots } = (await import(url('src/catalog/scan/scan-roots.js'))) as typeof import('../src/catalog/scan/scan-roots.js');
  for (const s of ['', '-wal', '-shm']) rmSync(catalog + s, { force: true });
  const cpu0 = process.cpuUsage();
  const kids0 = childrenMs();
  const t0 = performance.now();
  if (mode === 'bare') await bareHash(tree);
  else {
    const c = openCatalog(catalog);
    try {
      const s = await scanRoots(c, [{ path: tree, kind: 'adhoc' }], { drift: 'metadata', filesystems: {}, now: () => Date.now(), hashWorkers: 2, hash: 'all' });
      if (s.problems.length > 0) throw new Error(`scan problems: ${JSON.stringify(s.problems.slice(0, 3))}`);
    } finally {
      c.close();
    }
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000 + childrenMs() - kids0 }) + '\n');
}

async function main(args: string[]): Promise<void> {
  let runs = 5;
  let tree = '/var/tmp/hashall-scan-ab';
  const dists: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--runs') runs = Number(args[++i]);
    else if (args[i] === '--tree') tree = path.resolve(args[++i] as string);
    else dists.push(path.resolve(args[i] as string));
  }
  if (dists.length === 0) throw new Error('usage: scan-ab.js [--runs N] [--tree DIR] DIST...');
  const files = path.join(tree, 'files');
  if (!existsSync(files)) generateTree(files, Math.round(20_000 * scale()), Math.round(2 * 1024 ** 3 * scale()));
  execFileSync('sync');
  execFileSync('sh', ['-c', `find "$1" -type f -print0 | xargs -0 cat > /dev/null`, 'sh', files]);
  const self = fileURLToPath(import.meta.url);
  const sides: [string, string, Mode][] = [...dists.map((d): [string, string, Mode] => [path.relative(process.cwd(), d) || d, d, 'scan']), ['bare', dists[0] as string, 'bare']];
  const best = new Map<string, { ms: number; cpuMs: number }>();
  for (let r = 0; r < runs; r++) {
    for (const [name, dist, mode] of sides) {
      const out = spawnSync(process.execPath, [self, '--child', dist, mode, files, path.join(tree, 'catalog.db')], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`${name} failed: ${out.stderr}`);
      const m = JSON.parse(out.stdout.trim().split('\n').pop() as string) as { ms: number; cpuMs: number };
      const b = best.get(name) ?? { ms: Infinity, cpuMs: Infinity };
      best.set(name, { ms: Math.min(b.ms, m.ms), cpuMs: Math.min(b.cpuMs, m.cpuMs) });
      process.stderr.write(`run ${r + 1} ${name}: ${Math.round(m.ms)} ms, cpu ${Math.round(m.cpuMs)} ms\n`);
    }
  }
  const bare = best.get('bare') as { ms: number; cpuMs: number };
  const result: Record<string, number> = {};
  for (const [name, b] of best) {
    result[`${name}Ms`] = Math.round(b.ms);
    result[`${name}CpuMs`] = Math.round(b.cpuMs);
    if (name !== 'bare') {
      result[`${name}VsBare`] = +(b.ms / bare.ms).toFixed(2);
      result[`${name}CpuVsBareCpu`] = +(b.cpuMs / bare.cpuMs).toFixed(2);
    }
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--child') await child(process.argv[3] as string, process.argv[4] as Mode, process.argv[5] as string, process.argv[6] as string);
  else await main(process.argv.slice(2));
}
