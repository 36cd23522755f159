// Filesystem rows in the catalog stand only for configured filesystems: real tmpfs, a shadowing mount, the real CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../../support/cli.js';
import { makeTempDir, mountTmpfs, unmount, type TempDir } from '../../support/mounts.js';
import { openCatalog } from '../../../src/catalog/db.js';

let tmp: TempDir;
let stash: string;
let pool: string;

function config(poolRoots: string[]): string {
  const file = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(
    file,
    ['version: 1', 'catalog: ./state/catalog.db', 'filesystems:', `  stash: { path: ${stash} }`, `  pool: { path: ${pool} }`, 'seeding:', `  stash: [${stash}/seeding]`, `  pool: [${poolRoots.map((r) => `${pool}/${r}`).join(', ')}]`, ''].join('\n'),
  );
  return file;
}

interface Stats {
  filesystems: { name: string | null; uuid: string; mountPoint: string; lastScanAt: number | null }[];
}
async function stats(cfg: string): Promise<Stats> {
  const r = await runCli(['catalog', 'stats', '--json', '--config', cfg]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Stats;
}

beforeAll(() => {
  tmp = makeTempDir('hashall-stalefs-');
  stash = path.join(tmp.path, 'stash');
  pool = path.join(tmp.path, 'pool');
  mountTmpfs(stash, 8 << 20, 'stalefs-stash');
  mountTmpfs(pool, 8 << 20, 'stalefs-pool');
  for (const d of [`${stash}/seeding/a`, `${pool}/seeding/b`]) mkdirSync(d, { recursive: true });
  writeFileSync(`${stash}/seeding/a/f`, 'stash-bytes');
  writeFileSync(`${pool}/seeding/b/g`, 'pool-bytes');
});
afterAll(() => tmp?.cleanup());

describe('stale filesystem rows', () => {
  it('a scan while another filesystem is mounted in the pool\'s place records nothing under "pool"; a stale row is pruned once the pool is back', async () => {
    const cfg = config(['seeding']);
    expect((await runCli(['scan', '--config', cfg])).code).toBe(0);
    const good = await stats(cfg);
    expect(good.filesystems.map((f) => [f.name, f.lastScanAt !== null])).toEqual([
      ['pool', true],
      ['stash', true],
    ]);

    // The pool is hidden by another filesystem (as after an unmount, where the system disk shows through), and a
    // new pool root that was never scanned comes first: the scan must not register the impostor as "pool".
    mountTmpfs(pool, 8 << 20, 'stalefs-impostor');
    mkdirSync(`${pool}/fresh`, { recursive: true });
    mkdirSync(`${pool}/seeding`, { recursive: true });
    const both = config(['fresh', 'seeding']);
    const refused = await runCli(['scan', '--config', both]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is pool mounted\?/);
    expect((await stats(both)).filesystems.map((f) => f.uuid).sort()).toEqual(good.filesystems.map((f) => f.uuid).sort());
    const plan = await runCli(['plan', '--config', both]);
    expect(plan.code).toBe(1);
    expect((await stats(both)).filesystems.map((f) => f.uuid).sort()).toEqual(good.filesystems.map((f) => f.uuid).sort());

    // A catalog from before this fix holds such a row: recorded under "pool", never scanned to completion.
    const catalog = openCatalog(path.join(tmp.path, 'state/catalog.db'));
    catalog.db
      .prepare(
        `INSERT INTO filesystems (uuid, dev, fs_type, source, mount_point, preferred_mount, preferred_root, name, first_seen, last_seen)
         VALUES ('fallback:tmpfs:stalefs-impostor:${pool}', '0:999', 'tmpfs', 'stalefs-impostor', ?, ?, '/', 'pool', 1, 1)`,
      )
      .run(pool, pool);
    catalog.close();
    expect((await stats(cfg)).filesystems).toHaveLength(3);
    unmount(pool);
    config(['seeding']);
    const again = await runCli(['scan', '--config', cfg]);
    expect(again.code, again.stderr).toBe(0);
    const after = await stats(cfg);
    expect(after.filesystems.map((f) => [f.name, f.uuid])).toEqual(good.filesystems.map((f) => [f.name, f.uuid]));
  });
});
