// Benchmark: hashall's verified cross-filesystem move (copy step: temp name, SHA-256 while copying, fsync, link into place)
// of a 2 GiB multi-file payload vs `cp -a` + `sync` of the same payload to the same target filesystem. Target ratio ≤ 1.5.
import { singleClient } from '../src/clients/client-set.js';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCatalog } from '../src/catalog/db.js';
import { scanRoots } from '../src/catalog/scan/scan-roots.js';
import type { HashallConfig } from '../src/config/types.js';
import { applyPlan } from '../src/apply/executor.js';
import { realFsPort } from '../src/apply/fs-port.js';
import { PLAN_FORMAT_VERSION, type Plan } from '../src/plan/types.js';

export function scale(): number {
  const s = Number(process.env.HASHALL_BENCH_SCALE ?? '1');
  return Number.isFinite(s) && s > 0 ? s : 1;
}

/** Source on /dev/shm (tmpfs) when it has room, target under the OS temp dir (the disk): two filesystems. */
export function places(bytes: number): { srcBase: string; dstBase: string; note: string } {
  const shm = '/dev/shm';
  let srcParent = tmpdir();
  if (existsSync(shm)) {
    const st = execFileSync('df', ['-B1', '--output=avail', shm], { encoding: 'utf8' }).trim().split('\n')[1];
    if (Number(st) > bytes * 1.2) srcParent = shm;
  }
  const srcBase = mkdtempSync(path.join(srcParent, 'hashall-bench-src-'));
  const dstBase = mkdtempSync(path.join(tmpdir(), 'hashall-bench-dst-'));
  const same = statSync(srcBase).dev === statSync(dstBase).dev;
  return { srcBase, dstBase, note: same ? 'source and target on ONE filesystem (no /dev/shm room)' : `source ${srcParent}, target ${tmpdir()}` };
}

function writePayload(root: string, total: number, files: number): { relpath: string; size: number; sha256: string }[] {
  const block = randomBytes(16 << 20);
  const each = Math.floor(total / files);
  const out: { relpath: string; size: number; sha256: string }[] = [];
  for (let i = 0; i < files; i++) {
    const rel = `${i % 2 ? 'extras/' : ''}part${String(i).padStart(2, '0')}.bin`;
    const p = path.join(root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    const buf = Buffer.allocUnsafe(each);
    for (let o = 0; o < each; o += block.length) block.copy(buf, o, 0, Math.min(block.length, each - o));
    buf.writeUInt32LE(i, 0);
    writeFileSync(p, buf);
    out.push({ relpath: rel, size: each, sha256: createHash('sha256').update(buf).digest('hex') });
  }
  return out;
}

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export interface CopyTimes {
  payloadBytes: number;
  cpSyncMs: number;
  hashallMs: number;
  ratio: number;
}

/**
 * Time `cp -a` + `sync` of the payload at `src` (files as listed) into a fresh directory under `dstBase`, then hashall's
 * apply of one move group (copy step only) of the same payload to `dstBase`/seeding. `srcBase` holds `src`.
 */
export async function measureCopy(srcBase: string, dstBase: string, src: string, files: { relpath: string; size: number; sha256: string }[]): Promise<CopyTimes> {
  const bytes = files.reduce((n, f) => n + f.size, 0);
  // cp -a + sync
  execFileSync('sync');
  const cpTarget = path.join(dstBase, 'cp', 'Payload');
  mkdirSync(path.dirname(cpTarget), { recursive: true });
  let t0 = process.hrtime.bigint();
  execFileSync('cp', ['-a', src, cpTarget]);
  execFileSync('sync');
  const cpMs = ms(t0);
  rmSync(path.dirname(cpTarget), { recursive: true, force: true });
  execFileSync('sync');

  // hashall apply of one move group (copy step only)
  const catalogFile = path.join(dstBase, 'catalog.db');
  const catalog = openCatalog(catalogFile);
  const config: HashallConfig = {
    version: 1,
    configPath: path.join(dstBase, 'hashall.yaml'),
    configHash: 'bench',
    catalog: catalogFile,
    filesystems: { src: { name: 'src', path: srcBase, aliases: [] }, dst: { name: 'dst', path: dstBase, aliases: [] } },
    seeding: { src: [path.join(srcBase, 'seeding')], dst: [path.join(dstBase, 'seeding')] },
    libraries: [],
    clients: {},
    categories: {},
    placement: { default: 'keep', rules: [] },
    dedupe: { filesystems: [], minSize: 0 },
    verify: { everyMs: 30 * 86_400_000, budgetBytes: 200 * 2 ** 30 },
    safety: { verify: 'full', retire: { mode: 'staged', observeHours: 0 }, minFree: 0, maxScanAgeHours: 24 },
  };
  const dst = path.join(dstBase, 'seeding', 'Payload');
  // Apply proves every path is on the filesystem the catalog recorded: register both (a scan, outside the timing).
  mkdirSync(path.join(dstBase, 'seeding'), { recursive: true });
  await scanRoots(
    catalog,
    [path.join(srcBase, 'seeding'), path.join(dstBase, 'seeding')].map((p) => ({ path: p, kind: 'seeding' as const })),
    { drift: 'metadata', filesystems: config.filesystems, now: () => Date.now() },
  );
  const plan: Plan = {
    formatVersion: PLAN_FORMAT_VERSION,
    createdAt: new Date(0).toISOString(),
    configPath: config.configPath,
    configHash: 'bench',
    catalog: { lineage: catalog.lineage, serial: catalog.serial() },
    groups: [
      {
        id: 'g1',
        key: 'bench',
        action: 'move',
        title: 'Payload',
        payloadHash: 'bench',
        torrents: [],
        from: { fs: 'src', path: src },
        to: { fs: 'dst', path: dst },
        reasons: ['bench'],
        rule: null,
        bytesToCopy: bytes,
        bytesToFree: 0,
        steps: [{ kind: 'copy', fromFs: 'src', toFs: 'dst', fromRoot: src, toRoot: dst, files, bytes }],
        fingerprint: { files: [], torrents: [] },
      },
    ],
    summary: { move: 1, reuse: 0, dedupe: 0, retire: 0, keep: 0, stay: 0, pending: 0, blocked: 0, bytesToCopy: bytes, bytesToFree: {} },
  };
  t0 = process.hrtime.bigint();
  const res = await applyPlan(
    {
      catalog,
      config,
      clients: singleClient(null),
      fs: realFsPort(),
      now: () => Date.now(),
      runId: 'bench',
      emit: () => undefined,
      identity: { user: 'bench', host: os.hostname(), pid: process.pid, pidStart: null, command: 'bench', planFile: null, planHash: null },
    },
    plan,
  );
  execFileSync('sync');
  const hashallMs = ms(t0);
  catalog.close();
  if (res.status !== 'succeeded') throw new Error(`bench apply ${res.status}: ${res.groups[0]?.error ?? ''}`);
  return { payloadBytes: bytes, cpSyncMs: Math.round(cpMs), hashallMs: Math.round(hashallMs), ratio: Number((hashallMs / cpMs).toFixed(3)) };
}

export async function run(): Promise<Record<string, number>> {
  const total = Math.round(2 * 1024 ** 3 * scale());
  const fileCount = 16;
  const { srcBase, dstBase, note } = places(total);
  process.stderr.write(`bench copy: ${(total / 1024 ** 3).toFixed(2)} GiB in ${fileCount} files; ${note}\n`);
  try {
    const src = path.join(srcBase, 'seeding', 'Payload');
    const files = writePayload(src, total, fileCount);
    const t = await measureCopy(srcBase, dstBase, src, files);
    return {
      ...t,
      hashallMiBps: Math.round(t.payloadBytes / 1024 ** 2 / (t.hashallMs / 1000)),
      cpMiBps: Math.round(t.payloadBytes / 1024 ** 2 / (t.cpSyncMs / 1000)),
    };
  } finally {
    rmSync(srcBase, { recursive: true, force: true });
    rmSync(dstBase, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await run(), null, 2) + '\n');
}
