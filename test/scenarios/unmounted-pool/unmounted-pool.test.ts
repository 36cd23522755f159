// End to end: a saved plan applied while the pool is unmounted, or another tmpfs sits in its place, is refused before any write; once the pool is back the same plan applies.
import { contentTree } from '../../support/content-tree.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSeedboxOnTmpfs } from '../../support/demo-on-tmpfs.js';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openCatalog } from '../../../src/catalog/db.js';
import type { DemoSeedbox } from '../../../src/demo/seedbox.js';
import type { Plan } from '../../../src/plan/types.js';
import { runCli } from '../../support/cli.js';
import { makeTempDir, mountTmpfs, unmount, type TempDir } from '../../support/mounts.js';

let tmp: TempDir;
let seedbox: DemoSeedbox;
let side: string;
let planFile: string;

async function hashall(...args: string[]) {
  return runCli([...args, '--config', seedbox.configPath], { cwd: seedbox.base });
}

async function savePaths(): Promise<string[]> {
  const res = await seedbox.qbt.api('GET', '/torrents/info');
  return (JSON.parse(res.text) as { hash: string; save_path: string }[]).sort((a, b) => (a.hash < b.hash ? -1 : 1)).map((t) => t.save_path);
}

function poolRows(): unknown[] {
  const c = openCatalog(path.join(seedbox.base, 'catalog.db'));
  try {
    return c.db.prepare(`SELECT uuid, dev, root_birth FROM filesystems WHERE name = 'pool'`).all();
  } finally {
    c.close();
  }
}

const reusePlanFile = () => path.join(seedbox.base, 'plan-reuse.json');
let stashBefore: Map<string, string>;
let poolBefore: Map<string, string>;
let torrentsBefore: string[];
let rowsBefore: unknown[];

beforeAll(async () => {
  tmp = makeTempDir('hashall-unmounted-');
  side = path.join(tmp.path, 'pool-kept');
  mkdirSync(side);
  seedbox = await demoSeedboxOnTmpfs(tmp.path);
  // The saved plan, its moves only: a reuse's fingerprint names donor files on the pool, and their absence alone makes
  // the plan stale (exit 5); the stash dedupe would change the catalog and make the plan stale for the next test.
  planFile = path.join(seedbox.base, 'plan.json');
  const r = await hashall('plan', '--out', planFile);
  expect(r.code, r.stderr).toBe(0);
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
  writeFileSync(reusePlanFile(), JSON.stringify({ ...plan, groups: plan.groups.filter((g) => g.action === 'reuse') }));
  plan.groups = plan.groups.filter((g) => g.action === 'move');
  expect(plan.groups.map((g) => g.to?.fs)).toEqual(['pool', 'pool']);
  writeFileSync(planFile, JSON.stringify(plan));
  stashBefore = contentTree(seedbox.stash);
  poolBefore = contentTree(seedbox.pool);
  torrentsBefore = await savePaths();
  rowsBefore = poolRows();
  // Keep the real pool reachable elsewhere, so it can come back as the very same filesystem.
  execFileSync('mount', ['--bind', seedbox.pool, side]);
});

afterAll(async () => {
  await seedbox?.qbt.stop();
  tmp?.cleanup();
});

describe('a saved plan and a pool that is not there', () => {
  it('pool unmounted: apply exits 1, says the pool is not mounted, writes nothing onto the disk below the mount point, registers nothing', async () => {
    unmount(seedbox.pool);
    expect(readdirSync(seedbox.pool)).toEqual([]); // an empty directory on the disk holding the test's temp dir
    const r = await hashall('apply', planFile, '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/Apply rolled-back: 0\/2 group\(s\) done, 0 B copied/);
    expect(r.stdout).toMatch(/not on filesystem pool as the catalog recorded it .*is pool mounted\?/);
    expect(readdirSync(seedbox.pool)).toEqual([]);
    expect(contentTree(seedbox.stash)).toEqual(stashBefore);
    expect(await savePaths()).toEqual(torrentsBefore);
    expect(poolRows()).toEqual(rowsBefore);
    // A reuse's fingerprint names its donor files on the pool: they are missing, but the plan is not stale — the pool
    // is not there. Exit 1 with what to do, not exit 5 with "re-plan" (a plan now could not scan the pool).
    const reuse = await hashall('apply', reusePlanFile(), '--auto-approve');
    expect(reuse.code, reuse.stdout + reuse.stderr).toBe(1);
    expect(reuse.stderr).toMatch(/the saved plan cannot be applied now: .*is pool mounted\?/);
    expect(reuse.stderr).toMatch(/apply the same plan again/);
    expect(readdirSync(seedbox.pool)).toEqual([]);
  });

  it('another tmpfs mounted at the pool mount point: refused, nothing written to it', async () => {
    mountTmpfs(seedbox.pool, 128 << 20, 'pool');
    try {
      const r = await hashall('apply', planFile, '--auto-approve');
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(/not on filesystem pool as the catalog recorded it/);
      expect(readdirSync(seedbox.pool)).toEqual([]);
      expect(contentTree(seedbox.stash)).toEqual(stashBefore);
      expect(await savePaths()).toEqual(torrentsBefore);
      expect(poolRows()).toEqual(rowsBefore);
    } finally {
      unmount(seedbox.pool);
    }
  });

  it('the real pool back at its place: the same saved plan applies, and every byte is still there', async () => {
    execFileSync('mount', ['--bind', side, seedbox.pool]);
    unmount(side);
    expect(contentTree(seedbox.pool)).toEqual(poolBefore);
    const r = await hashall('apply', planFile, '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(contentTree(seedbox.stash)).toEqual(stashBefore); // sources stay until retire
    const onPool = new Set(contentTree(seedbox.pool).values());
    for (const h of poolBefore.values()) expect(onPool.has(h)).toBe(true);
    const moved = contentTree(path.join(seedbox.seedStash, 'movies', 'Old.Movie.2009'));
    for (const h of moved.values()) expect(onPool.has(h)).toBe(true);
    expect((await savePaths()).filter((p) => p.startsWith(seedbox.seedPool)).length).toBe(3);
    expect(poolRows()).toEqual(rowsBefore);
  });
});
