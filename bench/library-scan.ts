// Benchmark of a first adoption's scan of a media library: 1M episode files of distinct sizes (sparse: no space used), initial scan and no-change rescan with the default `scan.hash: shared-sizes`, against `find -printf`, with the peak RSS of each.
// Every size is unique, so size-first hashing reads no byte: what is measured is the walk and the catalog — the part
// of a first adoption that grows with the number of files, not their bytes (which `bench scan` measures on 20k files).
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCatalog } from '../src/catalog/db.js';
import { findOnce, removeCatalog, repeats, rescanInChild, scale } from './scan.js';

/** Episodes per season folder, and season folders per show. */
const PER_SEASON = 100;
const SEASONS = 10;

/**
 * `files` episode files under `root` as a library names them (`Show.N/Season S/Show.Name.SxxEyy.1080p….mkv`), each
 * sparse with a distinct size of about 1 GB: no two share a size, so a size-first scan reads none of them.
 */
export function generateLibrary(root: string, files: number): void {
  for (let i = 0; i < files; i++) {
    const dir = path.join(root, `Show.${Math.floor(i / (PER_SEASON * SEASONS))}`, `Season ${Math.floor(i / PER_SEASON) % SEASONS}`);
    if (i % PER_SEASON === 0) mkdirSync(dir, { recursive: true });
    const fd = openSync(path.join(dir, `Show.Name.S${String((Math.floor(i / PER_SEASON) % SEASONS) + 1).padStart(2, '0')}E${String((i % PER_SEASON) + 1).padStart(2, '0')}.1080p.WEB-DL.x264-GROUP.mkv`), 'w');
    try {
      ftruncateSync(fd, 1_000_000_000 + i * 4096);
    } finally {
      closeSync(fd);
    }
  }
}

/** Active rows of the catalog, and how many of them have a SHA-256 (a check that the run measured what it says). */
function rowsOf(catalogFile: string): { rows: number; hashed: number } {
  const c = openCatalog(catalogFile, { readonly: true });
  try {
    return c.db.prepare(`SELECT count(*) AS rows, count(sha256) AS hashed FROM files WHERE status = 'active'`).get() as { rows: number; hashed: number };
  } finally {
    c.close();
  }
}

export async function run(opts: { files?: number; repeat?: number; dir?: string } = {}): Promise<Record<string, number>> {
  const files = opts.files ?? Math.round(1_000_000 * scale());
  const reps = opts.repeat ?? repeats();
  const base = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'hashall-bench-library-'));
  const root = path.join(base, 'library');
  const catalogFile = path.join(base, 'catalog.db');
  try {
    const t0 = process.hrtime.bigint();
    generateLibrary(root, files);
    process.stderr.write(`bench library: ${files} sparse files of distinct sizes under ${base} (made in ${Math.round(Number(process.hrtime.bigint() - t0) / 1e6)} ms)\n`);
    let find = { ms: Infinity, cpuMs: Infinity };
    let initial = { ms: Infinity, cpuMs: Infinity, maxRssKiB: 0 };
    let rescan = { ms: Infinity, cpuMs: Infinity, maxRssKiB: 0 };
    for (let i = 0; i < reps; i++) {
      const f = findOnce(root);
      find = { ms: Math.min(find.ms, f.ms), cpuMs: Math.min(find.cpuMs, f.cpuMs) };
      removeCatalog(catalogFile);
      const a = rescanInChild(catalogFile, root, 'shared-sizes');
      if (a.ms < initial.ms) initial = { ms: a.ms, cpuMs: a.cpuMs, maxRssKiB: a.maxRssKiB };
      const b = rescanInChild(catalogFile, root, 'shared-sizes');
      if (b.ms < rescan.ms) rescan = { ms: b.ms, cpuMs: b.cpuMs, maxRssKiB: b.maxRssKiB };
    }
    const { rows, hashed } = rowsOf(catalogFile);
    if (rows !== files || hashed !== 0) throw new Error(`bench library: the catalog holds ${rows} rows (${hashed} hashed), expected ${files} unhashed`);
    return {
      files,
      initialScanMs: Math.round(initial.ms),
      initialScanCpuMs: Math.round(initial.cpuMs),
      initialPeakMiB: Math.round(initial.maxRssKiB / 1024),
      findMs: Math.round(find.ms),
      findCpuMs: Math.round(find.cpuMs),
      initialVsFind: +(initial.ms / find.ms).toFixed(2),
      rescanMs: Math.round(rescan.ms),
      rescanCpuMs: Math.round(rescan.cpuMs),
      rescanPeakMiB: Math.round(rescan.maxRssKiB / 1024),
      rescanVsFind: +(rescan.ms / find.ms).toFixed(2),
      repeat: reps,
      loadAvg1: +(loadavg()[0] ?? 0).toFixed(2),
    };
  } finally {
    if (!opts.dir) rmSync(base, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await run(), null, 2) + '\n');
}
