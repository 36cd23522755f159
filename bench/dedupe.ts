// Benchmark: dedupe of a fresh tree (20k files, 2k duplicate files in ~1.9k groups) — hashall (scan + plan + apply from an empty catalog, and apply of a saved plan with a current catalog) vs `jdupes -r -L`, util-linux `hardlink` and a checks-free Node floor, same fresh copy for each, result inode sets checked equal.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scale } from './copy.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The installed form: the sh launcher (dist/cli/hashall), run as a user runs `hashall`. */
const bin = path.resolve(here, '../cli/hashall');

interface Tree {
  /** Every file (relpath), and the groups of relpaths that must end up as one inode (each sorted, 2+ paths). */
  files: number;
  groups: string[][];
  bytes: number;
}

/**
 * `files` files under `root` (20 per folder, sizes 16 B – 2×average, all distinct content), of which `dupFiles` are
 * byte-for-byte copies of `groups` originals (one copy each, the first few groups two or more) in a `cross-seed`
 * folder, as cross-seeding leaves them. Same mode and mtime everywhere, so every tool may link every group.
 */
export function generate(root: string, files: number, dupFiles: number, groupCount: number, bytes: number): Tree {
  const pool = randomBytes(16 << 20);
  const unique = files - dupFiles;
  const avg = Math.max(64, Math.floor(bytes / files));
  const stride = Math.max(1, Math.floor(unique / groupCount));
  const groups: string[][] = [];
  const contentOf = (i: number): Buffer => {
    const size = 16 + ((i * 7919) % (2 * avg));
    const off = (i * 104729) % (pool.length - size);
    const buf = Buffer.from(pool.subarray(off, off + size));
    buf.writeUInt32LE(i, 0); // distinct content per original
    return buf;
  };
  let written = 0;
  const write = (rel: string, data: Buffer) => {
    const p = path.join(root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, data, { mode: 0o644 });
    utimesSync(p, 1_600_000_000, 1_600_000_000);
    written += data.length;
  };
  const originals: string[] = [];
  for (let i = 0; i < unique; i++) {
    const rel = `movies/t${Math.floor(i / 20)}/f${i}.bin`;
    write(rel, contentOf(i));
    originals.push(rel);
  }
  let d = 0;
  for (let g = 0; g < groupCount; g++) groups.push([originals[g * stride]!]);
  for (let k = 0; k < dupFiles; k++) {
    const g = k % groupCount;
    const src = groups[g]![0]!;
    const i = Number(/f(\d+)\.bin$/.exec(src)![1]);
    const rel = `cross-seed/t${Math.floor(d / 20)}/f${i}-${Math.floor(k / groupCount)}.bin`;
    d++;
    write(rel, contentOf(i));
    groups[g]!.push(rel);
  }
  return { files, groups: groups.map((x) => x.sort()), bytes: written };
}

/** The link groups found on disk (relpaths sharing an inode, 2+ each, sorted) and the number of distinct inodes. */
function linkGroups(root: string): { groups: string[][]; inodes: number } {
  const byIno = new Map<number, string[]>();
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p, r);
      else if (st.isFile()) byIno.set(st.ino, [...(byIno.get(st.ino) ?? []), r]);
    }
  };
  walk(root, '');
  const groups = [...byIno.values()].filter((g) => g.length > 1).map((g) => g.sort());
  return { groups: groups.sort((a, b) => (a[0]! < b[0]! ? -1 : 1)), inodes: byIno.size };
}

function same(a: string[][], b: string[][]): boolean {
  const key = (g: string[][]) => JSON.stringify([...g].sort((x, y) => (x[0]! < y[0]! ? -1 : 1)));
  return key(a) === key(b);
}

/**
 * The checks-free floor: a fresh node that, for each group, compares every copy with the first byte for byte, links the
 * first to a temporary name beside the copy and renames it over the copy, half the groups on a second thread (both cores,
 * as hashall's compare thread uses them) — what `jdupes -L` does after finding the
 * groups, and nothing hashall adds for safety (no journal, no catalog, no held folders, no inode re-checks, no fsync).
 * It is given the groups, so it walks and hashes nothing. Its time says how near 1.0× any Node implementation of the
 * same links can come on this box.
 */
const FLOOR = String.raw`
const fs = require('node:fs');
const path = require('node:path');
const { Worker, isMainThread, workerData } = require('node:worker_threads');
const work = (root, groups) => {
  for (const group of groups) {
    const keep = path.join(root, group[0]);
    const a = fs.readFileSync(keep);
    for (const rel of group.slice(1)) {
      const dup = path.join(root, rel);
      if (!a.equals(fs.readFileSync(dup))) throw new Error('differs: ' + rel);
      const tmp = dup + '.floor-tmp';
      fs.linkSync(keep, tmp);
      fs.renameSync(tmp, dup);
    }
  }
};
if (isMainThread) {
  const [root, list] = process.argv.slice(2);
  const groups = JSON.parse(fs.readFileSync(list, 'utf8'));
  const half = Math.ceil(groups.length / 2);
  const other = new Worker(__filename, { workerData: { root, groups: groups.slice(half) } });
  other.on('error', (e) => { throw e; });
  work(root, groups.slice(0, half));
} else work(workerData.root, workerData.groups);
`;

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
}

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** A fresh copy of the original tree under `base/name`, written back to disk and left in the page cache. */
function freshCopy(base: string, name: string): string {
  const dir = path.join(base, name);
  mkdirSync(dir, { recursive: true });
  execFileSync('cp', ['-a', path.join(base, 'orig', 'seeding'), path.join(dir, 'seeding')]);
  execFileSync('sync');
  return dir;
}

export function writeConfig(dir: string): string {
  const file = path.join(dir, 'hashall.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      `catalog: ${path.join(dir, 'state', 'catalog.db')}`,
      'filesystems:',
      `  disk: { path: ${dir} }`,
      'seeding:',
      `  disk: [${path.join(dir, 'seeding')}]`,
      'placement: { default: keep }',
      'dedupe: { filesystems: [disk], minSize: 1 }',
      '',
    ].join('\n'),
  );
  return file;
}

function hashall(args: string[], ok: number[] = [0]): void {
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, NO_COLOR: '1' } });
  if (r.status === null || !ok.includes(r.status)) throw new Error(`hashall ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
}

/**
 * Runs `cmd args` under bash and returns its wall time and CPU time (user + system of the child, from bash's `times`):
 * on the shared, loaded machine the CPU time is the figure that does not count the waits for a core or the disk.
 */
function timed(cmd: string, args: string[], errFile: string): { wallMs: number; cpuMs: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', '"$@" >/dev/null 2>"$HASHALL_BENCH_ERR"; s=$?; times; exit $s', 'bash', cmd, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', HASHALL_BENCH_ERR: errFile },
  });
  const wallMs = Math.round(ms(t0));
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${readFileSync(errFile, 'utf8').slice(-2000)}`);
  const secs = (t: string) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(t);
    return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  };
  const [user, sys] = (r.stdout.trim().split('\n')[1] ?? '').trim().split(/\s+/).map(secs);
  return { wallMs, cpuMs: Math.round(((user ?? NaN) + (sys ?? NaN)) * 1000) };
}

export async function run(): Promise<Record<string, number>> {
  const s = scale();
  const files = Math.round(20_000 * s);
  const dupFiles = Math.round(2_000 * s);
  const groupCount = Math.round(1_912 * s);
  const base = mkdtempSync(path.join(tmpdir(), 'hashall-bench-dedupe-'));
  const out: Record<string, number> = {};
  try {
    const tree = generate(path.join(base, 'orig', 'seeding'), files, dupFiles, groupCount, Math.round(2 * 1024 ** 3 * s));
    process.stderr.write(`bench dedupe: ${files} files, ${dupFiles} duplicates in ${groupCount} groups, ${(tree.bytes / 1024 ** 3).toFixed(2)} GiB under ${tmpdir()}\n`);
    out.files = files;
    out.groups = groupCount;
    out.bytes = tree.bytes;
    const expected = tree.groups;
    const check = (name: string, dir: string) => {
      const got = linkGroups(path.join(dir, 'seeding'));
      const ok = same(got.groups, expected);
      out[`${name}Inodes`] = got.inodes;
      out[`${name}SameLinks`] = ok ? 1 : 0;
      if (!ok) process.stderr.write(`bench dedupe: ${name} reached ${got.groups.length} link groups / ${got.inodes} inodes, expected ${expected.length} groups\n`);
    };
    const peers: [string, string, string[]][] = [
      ['jdupes', 'jdupes', ['-r', '-L', '-q']],
      ['hardlink', 'hardlink', ['-q']],
    ];
    for (const [name, cmd, args] of peers) {
      if (!have(cmd)) {
        process.stderr.write(`bench dedupe: PEER MISSING — ${cmd} is not installed (apt-get install ${cmd === 'hardlink' ? 'util-linux' : cmd}); its ratio is left out\n`);
        continue;
      }
      const dir = freshCopy(base, name);
      const t = timed(cmd, [...args, path.join(dir, 'seeding')], path.join(base, 'stderr.txt'));
      out[`${name}Ms`] = t.wallMs;
      out[`${name}CpuMs`] = t.cpuMs;
      check(name, dir);
      rmSync(dir, { recursive: true, force: true });
    }

    // The checks-free floor (FLOOR): the same links with no safety work, given the groups.
    {
      const dir = freshCopy(base, 'floor');
      const script = path.join(base, 'floor.cjs');
      const list = path.join(base, 'floor-groups.json');
      writeFileSync(script, FLOOR);
      writeFileSync(list, JSON.stringify(expected));
      const t = timed(process.execPath, [script, path.join(dir, 'seeding'), list], path.join(base, 'stderr.txt'));
      out.floorMs = t.wallMs;
      out.floorCpuMs = t.cpuMs;
      check('floor', dir);
      rmSync(dir, { recursive: true, force: true });
    }
    // hashall from an empty catalog: `apply --auto-approve` scans, plans and applies.
    {
      const dir = freshCopy(base, 'hashall-empty');
      const cfg = writeConfig(dir);
      const t = timed(bin, ['apply', '--auto-approve', '--config', cfg], path.join(base, 'stderr.txt'));
      out.hashallEmptyCatalogMs = t.wallMs;
      out.hashallEmptyCatalogCpuMs = t.cpuMs;
      check('hashallEmptyCatalog', dir);
      rmSync(dir, { recursive: true, force: true });
    }
    // hashall with a current catalog: scan and plan first (not timed), then `apply PLANFILE`.
    {
      const dir = freshCopy(base, 'hashall-current');
      const cfg = writeConfig(dir);
      const planFile = path.join(dir, 'plan.json');
      hashall(['scan', '--config', cfg]);
      hashall(['plan', '--config', cfg, '--out', planFile], [0, 2]);
      const t = timed(bin, ['apply', planFile, '--config', cfg], path.join(base, 'stderr.txt'));
      out.hashallApplyMs = t.wallMs;
      out.hashallApplyCpuMs = t.cpuMs;
      out.hashallApplyMsPerGroup = Number((out.hashallApplyMs / groupCount).toFixed(3));
      check('hashallApply', dir);
      rmSync(dir, { recursive: true, force: true });
    }
    for (const peer of ['jdupes', 'hardlink']) {
      if (out[`${peer}Ms`] === undefined) continue;
      out[`floorVs${peer[0]!.toUpperCase()}${peer.slice(1)}`] = Number((out.floorMs! / out[`${peer}Ms`]!).toFixed(2));
      out[`applyVs${peer[0]!.toUpperCase()}${peer.slice(1)}`] = Number((out.hashallApplyMs! / out[`${peer}Ms`]!).toFixed(2));
      out[`emptyCatalogVs${peer[0]!.toUpperCase()}${peer.slice(1)}`] = Number((out.hashallEmptyCatalogMs! / out[`${peer}Ms`]!).toFixed(2));
      out[`applyCpuVs${peer[0]!.toUpperCase()}${peer.slice(1)}`] = Number((out.hashallApplyCpuMs! / out[`${peer}CpuMs`]!).toFixed(2));
      out[`emptyCatalogCpuVs${peer[0]!.toUpperCase()}${peer.slice(1)}`] = Number((out.hashallEmptyCatalogCpuMs! / out[`${peer}CpuMs`]!).toFixed(2));
    }
    out.loadAverage1m = Number(loadavg()[0]!.toFixed(2));
    return out;
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await run(), null, 2) + '\n');
}
