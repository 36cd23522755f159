// Scenario: the default `scan.hash: shared-sizes` through the CLI on real tmpfs — dedupe from an empty catalog, a same-size twin arriving later, `dupes` and `verify` over files not hashed yet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../../support/cli.js';
import { contentTree } from '../../support/content-tree.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { openCatalog } from '../../../src/catalog/db.js';
import { stashPoolConfigText } from '../../../src/sandbox/stash-pool-config.js';
import type { VerifyReport } from '../../../src/catalog/verify.js';

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
let tmp: TempDir;
let config: string;
let seed: string;
let poolSeed: string;
/** Path → SHA-256 of every byte under both seeding roots, as written by the test. */
const expected = new Map<string, string>();

function put(rel: string, data: Buffer, root = seed): void {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, data);
  expected.set(p, sha(data));
}
const bytes = (n: number, seedByte: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seedByte) & 0xff));
const ino = (rel: string): number => lstatSync(path.join(seed, rel)).ino;

/** Every byte under both roots is what the test wrote (links keep both paths' bytes). */
function nothingLost(): void {
  const now = new Map<string, string>();
  for (const root of [seed, poolSeed]) for (const [rel, h] of contentTree(root)) now.set(path.join(root, rel), h);
  expect(now).toEqual(expected);
}

function rows(): Map<string, string | null> {
  const catalog = openCatalog(path.join(tmp.path, 'state', 'catalog.db'));
  try {
    const all = catalog.db.prepare(`SELECT abs_path, sha256 FROM file_paths WHERE status = 'active'`).all() as { abs_path: string; sha256: string | null }[];
    return new Map(all.map((r) => [r.abs_path, r.sha256]));
  } finally {
    catalog.close();
  }
}

async function hashall(...args: string[]) {
  return runCli([...args, '--config', config], { cwd: tmp.path });
}

beforeAll(() => {
  tmp = makeTempDir('hashall-size-first-cli-');
  const stash = path.join(tmp.path, 'stash');
  const pool = path.join(tmp.path, 'pool');
  mkdirSync(stash);
  mkdirSync(pool);
  mountTmpfs(stash, 32 << 20, 'stash');
  mountTmpfs(pool, 32 << 20, 'pool');
  seed = path.join(stash, 'seeding');
  poolSeed = path.join(pool, 'seeding');
  put('movies/a.bin', bytes(1000, 1));
  put('movies/b.bin', bytes(2000, 2));
  put('cross-seed/b.bin', bytes(2000, 2));
  put('movies/c1.bin', bytes(3000, 3));
  put('movies/c2.bin', bytes(3000, 4)); // same size as c1, other bytes
  put('movies/solo.bin', bytes(5000, 5), poolSeed);
  config = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(
    config,
    stashPoolConfigText({ catalog: './state/catalog.db', stash, pool, seeding: { stash: [seed], pool: [poolSeed] } }, ['placement: { default: keep }', 'dedupe: { filesystems: [stash], minSize: 1 }']),
  );
});
afterAll(() => tmp?.cleanup());

describe('size-first hashing through the CLI (the default)', () => {
  it('from an empty catalog, apply links the equal pair only; a file of a size nobody else has is not read and stays unknown', async () => {
    const r = await hashall('apply', '--auto-approve');
    expect(r.code, r.stderr).toBe(0);
    expect(ino('movies/b.bin')).toBe(ino('cross-seed/b.bin'));
    expect(ino('movies/c1.bin')).not.toBe(ino('movies/c2.bin'));
    const h = rows();
    expect(h.get(path.join(seed, 'movies/a.bin'))).toBeNull();
    expect(h.get(path.join(poolSeed, 'movies/solo.bin'))).toBeNull();
    expect(h.get(path.join(seed, 'movies/c1.bin'))).toBe(expected.get(path.join(seed, 'movies/c1.bin')));
    nothingLost();
    const s = await hashall('scan');
    expect(s.stdout).toContain('not hashed yet: 2 catalogued file(s)');
  });

  it("the run of an apply without a plan file records no plan file and no plan hash: nothing was written to check one against, and its groups are the plan as run", async () => {
    const list = JSON.parse((await hashall('runs', '--json')).stdout) as { runs: { id: string }[] };
    const runId = list.runs[0]!.id;
    const detail = JSON.parse((await hashall('runs', 'show', runId, '--json')).stdout) as { command: string; planFile: string | null; planHash: string | null; configHash: string | null };
    expect(detail).toMatchObject({ command: 'hashall apply', planFile: null, planHash: null });
    expect(detail.configHash).toMatch(/^[0-9a-f]{64}$/);
    const text = await hashall('runs', 'show', runId);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^ {2}plan not saved \(the groups below are the plan as run\), config sha256 [0-9a-f]{64}$/m);
  });

  it('a same-size twin arriving later: the next apply hashes the old file too and links only the equal one', async () => {
    put('cross-seed/a-twin.bin', bytes(1000, 1));
    put('movies/a-other.bin', bytes(1000, 9)); // same size, other bytes
    const r = await hashall('apply', '--auto-approve');
    expect(r.code, r.stderr).toBe(0);
    expect(ino('movies/a.bin')).toBe(ino('cross-seed/a-twin.bin'));
    expect(ino('movies/a-other.bin')).not.toBe(ino('movies/a.bin'));
    expect(rows().get(path.join(seed, 'movies/a.bin'))).toBe(sha(bytes(1000, 1)));
    nothingLost();
  });

  it('dupes never lists an unhashed file; verify hashes it as its first baseline (not "ok", not a problem), then verifies it', async () => {
    const d = await hashall('dupes', '--json');
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).not.toContain('solo.bin');
    const v = await hashall('verify', '--json');
    expect(v.code, v.stderr).toBe(0);
    const rep = JSON.parse(v.stdout) as VerifyReport;
    expect(rep.findings).toEqual([]);
    const pool = rep.totals.find((t) => t.fs === 'pool');
    expect(pool).toMatchObject({ files: 1, ok: 0, baseline: 1 });
    expect(rows().get(path.join(poolSeed, 'movies/solo.bin'))).toBe(sha(bytes(5000, 5)));
    const text = await hashall('verify');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/pool: 1 files, .* 1 ok, 0 corrupted/);
    nothingLost();
  });
});
