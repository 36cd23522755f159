// Scenario: stash on a real btrfs (loop-mounted image) — its files' st_dev is a subvolume's, never the device mountinfo names: scan, plan and dedupe work; subvolumes are filesystems of their own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { runCli } from '../../support/cli.js';
import { makeTempDir, mountBtrfsImage, mountBtrfsSubvolume, type TempDir } from '../../support/mounts.js';
import { openCatalog } from '../../../src/catalog/db.js';
import { devToMajorMinor, readMountInfo } from '../../../src/fs/mountinfo.js';

let tmp: TempDir;
let stash: string;
let pool: string;
let device: string;

function config(name: string, lines: string[]): string {
  const file = path.join(tmp.path, `${name}.yaml`);
  writeFileSync(file, ['version: 1', `catalog: ./${name}.db`, ...lines, ''].join('\n'));
  return file;
}

beforeAll(() => {
  tmp = makeTempDir('hashall-btrfs-');
  stash = path.join(tmp.path, 'stash');
  pool = path.join(tmp.path, 'pool');
  device = mountBtrfsImage(path.join(tmp.path, 'btrfs.img'), stash);
  // The pool: a subvolume of the same btrfs, mounted on its own (subvol=@pool), as fstab lines for @-subvolumes do.
  execFileSync('btrfs', ['subvolume', 'create', `${stash}/@pool`], { stdio: 'ignore' });
  mountBtrfsSubvolume(device, '@pool', pool);
  const movie = randomBytes(2 * 1024 * 1024);
  for (const d of [`${stash}/torrents/a`, `${stash}/torrents/b`, `${stash}/media`, `${pool}/torrents/a`]) mkdirSync(d, { recursive: true });
  writeFileSync(`${stash}/torrents/a/movie.mkv`, movie);
  writeFileSync(`${stash}/torrents/b/movie.mkv`, movie);
  writeFileSync(`${pool}/torrents/a/movie.mkv`, movie);
  // A subvolume inside a seeding root, not mounted: its files have yet another device number.
  execFileSync('btrfs', ['subvolume', 'create', `${stash}/torrents/nested`], { stdio: 'ignore' });
  writeFileSync(`${stash}/torrents/nested/movie.mkv`, movie);
});
afterAll(() => tmp?.cleanup());

describe('btrfs', () => {
  it("the files' device is the subvolume's, not mountinfo's (the premise of this file)", () => {
    const info = execFileSync('findmnt', ['-n', '-o', 'MAJ:MIN', '--mountpoint', stash], { encoding: 'utf8' }).trim();
    const st = lstatSync(`${stash}/torrents/a/movie.mkv`);
    expect(`${Math.floor(st.dev / 256)}:${st.dev % 256}`).not.toBe(info);
  });

  it('scans, plans and dedupes a btrfs mount like any filesystem; a nested subvolume is left alone like a mount', async () => {
    const cfg = config('top', ['filesystems:', `  stash: { path: ${stash} }`, 'seeding:', `  stash: [${stash}/torrents]`, 'dedupe: { filesystems: [stash], minSize: 1 }']);
    const scan = await runCli(['scan', '--json', '--config', cfg]);
    expect(scan.code, scan.stderr).toBe(0);
    const s = JSON.parse(scan.stdout);
    expect(s).toMatchObject({ status: 'completed', added: 2 });
    expect(JSON.stringify(s)).toContain(`${stash}/torrents/nested`);
    const apply = await runCli(['apply', '--auto-approve', '--config', cfg]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(lstatSync(`${stash}/torrents/a/movie.mkv`).ino).toBe(lstatSync(`${stash}/torrents/b/movie.mkv`).ino);
    expect(lstatSync(`${stash}/torrents/nested/movie.mkv`).nlink).toBe(1);
  });

  it('two subvolumes mounted on their own are two filesystems (hardlinks cannot cross them): each its own identity, nothing linked across', async () => {
    const cfg = config('two', [
      'filesystems:',
      `  stash: { path: ${stash} }`,
      `  pool: { path: ${pool} }`,
      'seeding:',
      `  stash: [${stash}/torrents]`,
      `  pool: [${pool}/torrents]`,
      'dedupe: { filesystems: [stash, pool], minSize: 1 }',
    ]);
    const scan = await runCli(['scan', '--config', cfg]);
    expect(scan.code, scan.stderr).toBe(0);
    const c = openCatalog(path.join(tmp.path, 'two.db'), { readonly: true });
    try {
      const rows = c.db.prepare(`SELECT name, uuid, dev FROM filesystems WHERE name IS NOT NULL ORDER BY name`).all() as { name: string; uuid: string; dev: string }[];
      expect(rows.map((r) => r.name)).toEqual(['pool', 'stash']);
      expect(rows[0]!.uuid).not.toBe(rows[1]!.uuid);
      expect(rows[0]!.dev).not.toBe(rows[1]!.dev);
    } finally {
      c.close();
    }
    const plan = await runCli(['plan', '--no-refresh', '--json', '--config', cfg]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).not.toContain(`${pool}/torrents/a/movie.mkv ←`);
  });

  it("takes a mount's device from its root only when proven: a symlink or another mount at its place keeps mountinfo's", () => {
    const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === stash)!;
    const real = readMountInfo().find((m) => m.mountPoint === stash)!;
    expect(real.majorMinor).toBe(devToMajorMinor(lstatSync(`${stash}/torrents/a/movie.mkv`).dev));
    expect(real.superMajorMinor).toBe(line.split(' ')[2]);
    const alias = path.join(tmp.path, 'alias');
    symlinkSync(stash, alias);
    const other = path.join(tmp.path, 'plain');
    mkdirSync(other);
    for (const place of [alias, other]) {
      const fake = path.join(tmp.path, 'mountinfo');
      writeFileSync(fake, `${line.split(' ').map((f, i) => (i === 4 ? place : f)).join(' ')}\n`);
      const [m] = readMountInfo(fake);
      expect(m!.majorMinor).toBe(line.split(' ')[2]);
      expect(m!.superMajorMinor).toBeUndefined();
    }
  });

  it('a seeding root that is a subvolume not mounted on its own is refused with the reason and the way out', async () => {
    const cfg = config('nested', ['filesystems:', `  stash: { path: ${stash} }`, 'seeding:', `  stash: [${stash}/torrents/nested]`]);
    const scan = await runCli(['scan', '--config', cfg]);
    expect(scan.code).toBe(1);
    expect(scan.stderr).toMatch(/btrfs subvolume/);
    expect(scan.stderr).toMatch(/subvol=/);
    // doctor says so too, before any scan.
    const doctor = await runCli(['doctor', '--config', cfg]);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/seeding root .*nested.*btrfs subvolume that is not mounted on its own/);
    expect(doctor.stdout).toMatch(/subvol=/);
  });
});
