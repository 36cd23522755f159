// An exFAT disk (a real exFAT on a loop device, mounted by exfat-fuse) configured as a filesystem is refused with the reason: it cannot hold a hardlink, and its driver makes up inode numbers — before, hashall scanned it like any disk and would move torrents onto it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { detachLoop, makeTempDir, mountExfatImage, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { runCli } from '../../support/cli.js';
import { openCatalog } from '../../../src/catalog/db.js';
import { stashPoolConfigText } from '../../../src/sandbox/stash-pool-config.js';

let tmp: TempDir;
let stash: string;
let pool: string;
let device: string;
let configPath: string;

const hashall = (...args: string[]) => runCli([...args, '--config', configPath], { cwd: tmp.path });

beforeAll(() => {
  tmp = makeTempDir('hashall-exfat-');
  stash = path.join(tmp.path, 'stash');
  pool = path.join(tmp.path, 'pool');
  mountTmpfs(stash, 16 << 20, 'exfat-stash');
  device = mountExfatImage(path.join(tmp.path, 'pool.img'), pool);
  for (const d of [path.join(stash, 'seeding', 'movies'), path.join(pool, 'seeding', 'movies', 'Kept.2001')]) mkdirSync(d, { recursive: true });
  writeFileSync(path.join(pool, 'seeding', 'movies', 'Kept.2001', 'kept.mkv'), 'kept on the card\n');
  writeFileSync(path.join(stash, 'seeding', 'movies', 'stash.mkv'), 'on the stash\n');
  configPath = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(
    configPath,
    stashPoolConfigText({ catalog: 'catalog.db', stash, pool, seeding: { stash: [path.join(stash, 'seeding')], pool: [path.join(pool, 'seeding')] } }, ['placement: { default: pool }']),
  );
});

afterAll(() => {
  tmp?.cleanup();
  if (device) detachLoop(device);
});

describe('an exFAT disk as a configured filesystem', () => {
  it('is what the probe showed: a hardlink cannot be made on it', () => {
    const a = path.join(pool, 'probe-a');
    writeFileSync(a, 'x');
    expect(() => linkSync(a, `${a}.link`)).toThrow(/EPERM/);
  });

  it('scan refuses it before reading or recording anything there, naming the filesystem and why; plan says the same', async () => {
    const r = await hashall('scan');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`scan root ${path.join(pool, 'seeding')} is on exFAT (fuseblk): it cannot hold a hardlink, and its driver makes up the inode numbers`);
    expect(r.stderr).toMatch(/hint: keep seeding and library data on a filesystem with hardlinks/);
    const cat = openCatalog(path.join(tmp.path, 'catalog.db'));
    try {
      expect(cat.db.prepare(`SELECT count(*) FROM filesystems WHERE mount_point LIKE ?`).pluck().get(`${pool}%`)).toBe(0);
    } finally {
      cat.close();
    }
    const p = await hashall('plan');
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/is on exFAT \(fuseblk\)/);
    expect(readdirSync(path.join(pool, 'seeding', 'movies')).sort()).toEqual(['Kept.2001']);
  });

  it('doctor names it as a problem', async () => {
    const r = await hashall('doctor');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`PROBLEM +filesystem pool at ${pool.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: it is on exFAT \\(fuseblk\\)`));
  });
});
