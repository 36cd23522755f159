// Scenario: the pool is an NTFS disk mounted by ntfs-3g (fuseblk on a real loop device), as a Windows USB disk is on a
// Linux server — every file mode 0777 and owner root whatever chmod and chown say, times to 100 ns. A torrent moves
// there from the tmpfs stash with a real qBittorrent, every byte re-hashed; duplicates on it are linked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, readFileSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { hashTreeSync } from '../../support/apply-fixture.js';
import { detachLoop, makeTempDir, mountNtfsImage, mountTmpfs, unmount, type TempDir } from '../../support/mounts.js';
import { runCli } from '../../support/cli.js';
import { stashPoolConfigText } from '../../../src/sandbox/stash-pool-config.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { createQbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';

const qbts = qbtSandboxes();
let tmp: TempDir;
let device: string;
let spare: string | null = null;
let stash: string;
let pool: string;
let configFile: string;
let qbt: QbtSandbox;
let qc: TorrentClient;
let t: MadeTorrent;
let before: Record<string, string>;
const cli = (...args: string[]) => runCli([...args, '--config', configFile], { cwd: tmp.path, env: { ...process.env, NO_COLOR: '1' } });

beforeAll(async () => {
  tmp = makeTempDir('hashall-ntfs-');
  stash = path.join(tmp.path, 'stash');
  pool = path.join(tmp.path, 'pool');
  mountTmpfs(stash, 64 << 20, 'ntfs-stash');
  device = mountNtfsImage(path.join(tmp.path, 'pool.img'), pool);
  for (const d of [path.join(stash, 'seeding', 'movies'), path.join(pool, 'seeding'), path.join(stash, 'library')]) mkdirSync(d, { recursive: true });
  t = makeTorrent({ saveDir: path.join(stash, 'seeding', 'movies'), name: 'Win', files: [{ path: 'w.mkv', size: 3 << 20 }, { path: 'sub/w.srt', size: 2000 }], trackers: ['http://127.0.0.1:1/announce'] });
  before = hashTreeSync(t.contentPath);
  qbt = await qbts.start({ dir: path.join(tmp.path, 'qbt') });
  qc = createQbittorrentClient({ url: qbt.url, timeoutMs: 10_000 });
  await addTorrent(qbt, t, { savepath: path.join(stash, 'seeding', 'movies'), paused: false });
  configFile = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(
    configFile,
    stashPoolConfigText(
      { catalog: 'catalog.db', stash, pool, seeding: { stash: [path.join(stash, 'seeding')], pool: [path.join(pool, 'seeding')] }, libraries: [path.join(stash, 'library')], clients: { qbt: { type: 'qbittorrent', url: qbt.url } } },
      ['placement: { default: pool }', 'safety: { minFree: 1MiB, retire: { observeHours: 0h } }', 'dedupe: { filesystems: [pool], minSize: 1 }'],
    ),
  );
}, 120_000);

afterAll(async () => {
  await qc?.close();
  await qbts.stopAll();
  tmp?.cleanup();
  for (const d of [device, spare]) if (d) detachLoop(d);
});

describe('an NTFS pool (ntfs-3g)', () => {
  it('the premise: ntfs-3g keeps neither mode nor owner (chmod and chown succeed and change nothing)', () => {
    const f = path.join(pool, 'probe');
    writeFileSync(f, 'x', { mode: 0o600 });
    chmodSync(f, 0o640);
    chownSync(f, 1000, 1000);
    expect(lstatSync(f)).toMatchObject({ uid: 0, gid: 0 });
    expect(lstatSync(f).mode & 0o7777).toBe(0o777);
    rmSync(f);
  });

  it('a torrent moves onto it: its data re-hashed there, the client seeding from it', async () => {
    const plan = await cli('plan');
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/move/);
    const r = await cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const x = await qc.waitFor(t.infoHash, (y) => y.phase !== 'checking', { timeoutMs: 30_000, intervalMs: 100, what: 'finish checking' });
    expect(x).toMatchObject({ savePath: path.join(pool, 'seeding', 'movies'), progress: 1 });
    expect(hashTreeSync(path.join(pool, 'seeding', 'movies', 'Win'))).toEqual(before);
  });

  it('the stash copy is retired; a second run has nothing left to do', async () => {
    const r = await cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/retire/);
    expect(existsSync(t.contentPath)).toBe(false);
    expect(hashTreeSync(path.join(pool, 'seeding', 'movies', 'Win'))).toEqual(before);
    const again = await cli('plan', '--detailed-exitcode');
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it('duplicates on it are linked: one inode, every byte still there', async () => {
    const data = Buffer.alloc(300_000, 7);
    for (const d of ['a', 'b']) {
      mkdirSync(path.join(pool, 'seeding', 'other', d), { recursive: true });
      writeFileSync(path.join(pool, 'seeding', 'other', d, 'same.bin'), data);
    }
    const r = await cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const [a, b] = ['a', 'b'].map((d) => lstatSync(path.join(pool, 'seeding', 'other', d, 'same.bin')));
    expect(a!.ino).toBe(b!.ino);
    expect(a!.nlink).toBe(2);
    const want = createHash('sha256').update(data).digest('hex');
    expect(Object.values(hashTreeSync(path.join(pool, 'seeding', 'other')))).toEqual([want, want]);
    const again = await cli('plan', '--detailed-exitcode');
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it('a catalog from before hashall read NTFS identities (the fallback spelling) takes the UUID on the next scan: the same filesystem, nothing to do', async () => {
    const db = new Database(path.join(tmp.path, 'catalog.db'));
    const row = () => db.prepare(`SELECT id, uuid FROM filesystems WHERE name = 'pool'`).get() as { id: number; uuid: string };
    const { id, uuid } = row();
    expect(uuid).toBe('uuid:' + execFileSync('blkid', ['-o', 'value', '-s', 'UUID', device], { encoding: 'utf8' }).trim());
    // What the previous version recorded: type, source and mount point.
    db.prepare(`UPDATE filesystems SET uuid = ? WHERE id = ?`).run(`fallback:fuseblk:${device}:${pool}`, id);
    const again = await cli('plan', '--detailed-exitcode');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(row()).toEqual({ id, uuid });
    db.close();
  });

  it('unplugged and plugged in again as another device (a USB disk that comes back as sdc, not sdb): the same filesystem, nothing to do', async () => {
    const devBefore = lstatSync(pool).dev;
    unmount(pool);
    for (let i = 0; i < 50 && execFileSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' }).split('\n').includes(pool); i++) await new Promise((r) => setTimeout(r, 100));
    detachLoop(device);
    // Another disk takes the old device number meanwhile.
    const other = path.join(tmp.path, 'other.img');
    execFileSync('truncate', ['-s', '1M', other]);
    spare = execFileSync('losetup', ['-f', '--show', other], { encoding: 'utf8' }).trim();
    device = execFileSync('losetup', ['-f', '--show', path.join(tmp.path, 'pool.img')], { encoding: 'utf8' }).trim();
    execFileSync('ntfs-3g', [device, pool]);
    expect(lstatSync(pool).dev).not.toBe(devBefore);
    const again = await cli('plan', '--detailed-exitcode');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(hashTreeSync(path.join(pool, 'seeding', 'movies', 'Win'))).toEqual(before);
  });

  it('an orphan retire there is blocked by the plan with the cause and the fix — the disk keeps no permissions, so a private trash cannot live there; a plan made while it kept them is refused by apply, leaving nothing behind', async () => {
    const stray = path.join(pool, 'seeding', 'stray', 'Old');
    mkdirSync(stray, { recursive: true });
    writeFileSync(path.join(stray, 'old.mkv'), Buffer.alloc(100_000, 3));
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('placement: { default: pool }', 'placement: { default: pool }\norphans: { action: retire, minAge: 0s }'));
    // The plan knows it from the mount's options: blocked, said why and what to do; apply has nothing to do.
    const plan = await cli('plan');
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/pool is mounted without permission checks \(every file shows mode 0777\): hashall's private \.hashall-trash cannot live there, so orphan .*seeding\/stray is not retired; mount it with `-o permissions` \(ntfs-3g\)/);
    const quiet = await cli('apply', '--auto-approve');
    expect(quiet.code, quiet.stdout + quiet.stderr).toBe(0);
    expect(existsSync(path.join(pool, '.hashall-trash'))).toBe(false);
    // doctor says so too, with the fix.
    const doctor = await cli('doctor', '--no-notify');
    expect(doctor.stdout).toMatch(/WARN +filesystem pool at .*: permissions: .* is mounted without permission checks: every file shows mode 0777, so hashall's private \.hashall-trash cannot live there/);
    expect(doctor.stdout).toMatch(/mount it with `-o permissions` \(ntfs-3g\)/);
    // Mounted with -o permissions the orphan is planned for retirement; that plan applied after a remount without
    // them meets the apply's own check: refused with the cause, and the folder it made removed.
    const remount = async (opts: string[]): Promise<void> => {
      unmount(pool);
      for (let i = 0; i < 50 && execFileSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' }).split('\n').includes(pool); i++) await new Promise((r) => setTimeout(r, 100));
      execFileSync('ntfs-3g', [...opts, device, pool]);
    };
    await remount(['-o', 'permissions']);
    const planFile = path.join(tmp.path, 'orphan-plan.json');
    const planned = await cli('plan', '--out', planFile);
    expect(planned.code, planned.stdout + planned.stderr).toBe(0);
    expect(planned.stdout).not.toMatch(/mounted without permission checks/);
    expect(readFileSync(planFile, 'utf8')).toContain('"retire-orphan"');
    await remount([]);
    const r = await cli('apply', planFile);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain(`${pool} does not keep permissions: .hashall-trash, made there just now with mode 0700 by uid 0, shows mode 777 and uid 0, so hashall's own folder could not be private there`);
    expect(r.stderr).toMatch(/hint: mount that filesystem with permission support \(ntfs-3g: `-o permissions`\)/);
    // No trash folder left for `hashall trash` to flag for ever; the orphan and every other file as they were.
    expect(existsSync(path.join(pool, '.hashall-trash'))).toBe(false);
    const t = await cli('trash');
    expect(t.code, t.stdout + t.stderr).toBe(0);
    expect(t.stdout).not.toMatch(/PROBLEM/);
    expect(Object.values(hashTreeSync(stray))).toEqual([createHash('sha256').update(Buffer.alloc(100_000, 3)).digest('hex')]);
    expect(hashTreeSync(path.join(pool, 'seeding', 'movies', 'Win'))).toEqual(before);
  });
});
