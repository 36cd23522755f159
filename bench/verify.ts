// Benchmark of `hashall verify` (re-read every catalogued inode, compare with its SHA-256) against find | xargs -P2 openssl dgst -sha256 on the same tree.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCatalog } from '../src/catalog/db.js';
import { scanRoots } from '../src/catalog/scan/scan-roots.js';
import { verifyCatalog } from '../src/catalog/verify.js';
import { loadConfig } from '../src/config/load.js';
import { generateTree } from './scan.js';

function scale(): number {
  const s = Number(process.env.HASHALL_BENCH_SCALE ?? '1');
  return Number.isFinite(s) && s > 0 ? s : 1;
}

function repeats(): number {
  const n = Number(process.env.HASHALL_BENCH_REPEAT ?? '3');
  return Number.isInteger(n) && n > 0 ? n : 3;
}

async function timed(fn: () => unknown): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/**
 * Same fairness as the scan benchmark: dirty pages written back and the tree read once before timing (warm page
 * cache for both), the sides alternate, the best run of each is compared; 2 openssl processes against 2 hashing threads.
 */
export async function run(): Promise<Record<string, number>> {
  const s = scale();
  const files = Math.round(20_000 * s);
  const bytes = Math.round(2 * 1024 ** 3 * s);
  const base = mkdtempSync(path.join(tmpdir(), 'hashall-bench-verify-'));
  const tree = path.join(base, 'tree');
  try {
    generateTree(tree, files, bytes);
    const configFile = path.join(base, 'hashall.yaml');
    writeFileSync(configFile, `version: 1\ncatalog: ./catalog.db\nfilesystems:\n  bench: { path: ${tree} }\nseeding:\n  bench: [${tree}]\n`);
    const { config } = loadConfig(configFile, { env: {}, cwd: base });
    const catalog = openCatalog(config.catalog);
    try {
      const scan = await scanRoots(catalog, [{ path: tree, kind: 'adhoc' }], { drift: 'metadata', filesystems: config.filesystems, now: () => Date.now(), hashWorkers: 2 });
      if (scan.status !== 'completed') throw new Error(`scan ${scan.status}`);
      execFileSync('sync');
      execFileSync('sh', ['-c', `find "$1" -type f -print0 | xargs -0 cat > /dev/null`, 'sh', tree]);
      let opensslMs = Infinity;
      let verifyMs = Infinity;
      let inodes = 0;
      let bytesRead = 0;
      for (let i = 0; i < repeats(); i++) {
        opensslMs = Math.min(opensslMs, await timed(() => execFileSync('sh', ['-c', `find "$1" -type f -print0 | xargs -0 -P2 -n256 openssl dgst -sha256 > /dev/null`, 'sh', tree])));
        verifyMs = Math.min(
          verifyMs,
          await timed(async () => {
            const r = await verifyCatalog(catalog, config, { now: () => Date.now(), hashWorkers: 2 });
            if (r.findings.length > 0) throw new Error(`verify found ${r.findings.length} problem(s) in an untouched tree`);
            inodes = r.inodes;
            bytesRead = r.bytesRead;
          }),
        );
      }
      return {
        files,
        bytes,
        inodes,
        bytesRead,
        verifyMs: Math.round(verifyMs),
        opensslMs: Math.round(opensslMs),
        // The target is a rate ≥ 0.9× openssl's: this time ratio ≤ 1.11.
        verifyVsOpenssl: +(verifyMs / opensslMs).toFixed(2),
        rateVsOpenssl: +(opensslMs / verifyMs).toFixed(2),
        repeat: repeats(),
      };
    } finally {
      catalog.close();
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await run(), null, 2) + '\n');
}
