// A mergerfs pool (two real tmpfs branches joined by a real mergerfs) configured as a filesystem is refused with the reason — before, moves onto it were rolled back leaving copies behind, and its hashed inode numbers crashed the scan.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, mountMergerfs, mountTmpfs, unmount, type TempDir } from '../../support/mounts.js';
import { runCli } from '../../support/cli.js';
import { openCatalog } from '../../../src/catalog/db.js';
import { stashPoolConfigText } from '../../../src/sandbox/stash-pool-config.js';

let tmp: TempDir;
let stash: string;
let pool: string;
let configPath: string;

const hashall = (...args: string[]) => runCli([...args, '--config', configPath], { cwd: tmp.path });

function branchFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  for (const b of ['b1', 'b2']) walk(path.join(tmp.path, b), `${b}/`);
  return out.sort();
}

beforeAll(() => {
  tmp = makeTempDir('hashall-mergerfs-');
  stash = path.join(tmp.path, 'stash');
  pool = path.join(tmp.path, 'pool');
  mountTmpfs(stash, 16 << 20, 'mfs-stash');
  mountTmpfs(path.join(tmp.path, 'b1'), 16 << 20, 'mfs-b1');
  mountTmpfs(path.join(tmp.path, 'b2'), 16 << 20, 'mfs-b2');
  // As the guides write it: new files on the branch with the most free space.
  mountMergerfs([path.join(tmp.path, 'b1'), path.join(tmp.path, 'b2')], pool);
  for (const d of [path.join(stash, 'seeding', 'movies'), path.join(pool, 'seeding', 'movies', 'Kept.2001')]) mkdirSync(d, { recursive: true });
  writeFileSync(path.join(pool, 'seeding', 'movies', 'Kept.2001', 'kept.mkv'), 'kept on the pool\n');
  writeFileSync(path.join(stash, 'seeding', 'movies', 'stash.mkv'), 'on the stash\n');
  configPath = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(
    configPath,
    stashPoolConfigText({ catalog: 'catalog.db', stash, pool, seeding: { stash: [path.join(stash, 'seeding')], pool: [path.join(pool, 'seeding')] } }, ['dedupe: { filesystems: [stash, pool], minSize: 1 }']),
  );
});

afterAll(() => {
  if (tmp) {
    unmount(pool);
    tmp.cleanup();
  }
});

describe('a mergerfs pool as a configured filesystem', () => {
  it('is what the probe showed: a hardlink made through it shows another inode number than its file', () => {
    const a = path.join(pool, 'probe-a');
    writeFileSync(a, 'x');
    linkSync(a, `${a}.link`);
    const differ = lstatSync(a).ino !== lstatSync(`${a}.link`).ino;
    rmSync(a);
    rmSync(`${a}.link`);
    expect(differ, 'mergerfs 2.33 with default options').toBe(true);
  });

  it('scan refuses it before reading or recording anything there, naming the pool and why', async () => {
    const r = await hashall('scan');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`scan root ${path.join(pool, 'seeding')} is on a mergerfs pool (fuse.mergerfs): its inode numbers do not identify files`);
    expect(r.stderr).toMatch(/hint: configure the branch disks themselves as filesystems/);
    const cat = openCatalog(path.join(tmp.path, 'catalog.db'));
    try {
      expect(cat.db.prepare(`SELECT count(*) FROM filesystems WHERE mount_point LIKE ?`).pluck().get(`${pool}%`)).toBe(0);
      expect(cat.db.prepare(`SELECT count(*) FROM files`).pluck().get()).toBe(0);
    } finally {
      cat.close();
    }
    // plan's refresh says the same and plans nothing; the pool's branches hold what they held.
    const p = await hashall('plan');
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/is on a mergerfs pool \(fuse\.mergerfs\)/);
    expect(branchFiles()).toHaveLength(1);
  });

  it('doctor names it as a problem without a catalog entry for it', async () => {
    const r = await hashall('doctor');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`PROBLEM +filesystem pool at ${pool.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: it is on a mergerfs pool \\(fuse\\.mergerfs\\)`));
  });
});
