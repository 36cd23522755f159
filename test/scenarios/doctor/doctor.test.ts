// `hashall doctor` on real tmpfs and a real qbittorrent-nox with a login: a healthy world exits 0; a broken one names each problem and exits 1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { plantLockRecord } from '../../support/lock-record.js';
import { openCatalog } from '../../../src/catalog/db.js';
import type { DoctorReport } from '../../../src/doctor/checks.js';
import { runCli } from '../../support/cli.js';
import { makeTempDir, mountTmpfs, unmount, type TempDir } from '../../support/mounts.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent } from '../../../src/sandbox/torrent-file.js';

const qbts = qbtSandboxes();
let qb: QbtSandbox;
let tmp: TempDir;
let stash: string;
let pool: string;
let config: string;
const PASSWORD = 'doctor-secret-7731';

function writeConfig(opts: { poolMap?: string } = {}): void {
  writeFileSync(
    config,
    [
      'version: 1',
      'catalog: ./state/catalog.db',
      'filesystems:',
      `  stash: { path: ${stash} }`,
      `  pool: { path: ${pool} }`,
      'seeding:',
      `  stash: [${stash}/seeding]`,
      `  pool: [${pool}/seeding]`,
      'client:',
      `  url: ${qb.url}`,
      `  username: ${qb.username}`,
      '  password: ${DOCTOR_QBT_PASSWORD}',
      '  pathMaps:',
      `    - { client: /data/stash, host: ${stash} }`,
      `    - { client: /data/pool, host: ${opts.poolMap ?? pool} }`,
      'safety: { minFree: 1MiB }',
      '',
    ].join('\n'),
  );
}

async function doctor(password = PASSWORD): Promise<{ code: number; report: DoctorReport; text: string }> {
  const env = { ...process.env, DOCTOR_QBT_PASSWORD: password };
  const j = await runCli(['doctor', '--json', '--config', config], { env });
  const t = await runCli(['doctor', '--config', config], { env });
  expect(t.code).toBe(j.code);
  return { code: j.code, report: JSON.parse(j.stdout) as DoctorReport, text: t.stdout + t.stderr };
}

const status = (r: DoctorReport, id: string): string | undefined => r.checks.find((c) => c.id === id)?.status;

beforeAll(async () => {
  tmp = makeTempDir('hashall-doctor-');
  stash = path.join(tmp.path, 'stash');
  pool = path.join(tmp.path, 'pool');
  mountTmpfs(stash, 16 << 20, 'stash');
  mountTmpfs(pool, 16 << 20, 'pool');
  for (const d of [`${stash}/seeding/movies`, `${pool}/seeding/movies`]) mkdirSync(d, { recursive: true });
  // qBittorrent sees the host's directories under /data/... (its own mount namespace, like a container).
  qb = await qbts.start({ auth: true, username: 'admin', password: PASSWORD, prelude: [`mkdir -p /data/stash /data/pool`, `mount --bind ${stash} /data/stash`, `mount --bind ${pool} /data/pool`] });
  const t = makeTorrent({ saveDir: `${stash}/seeding/movies`, name: 'Film.2020', files: [{ path: 'film.mkv', size: 40_000 }], trackers: ['http://127.0.0.1:1/announce'] });
  await addTorrent(qb, t, { savepath: '/data/stash/seeding/movies', skipChecking: true, paused: true });
  config = path.join(tmp.path, 'hashall.yaml');
  writeConfig();
  const env = { ...process.env, DOCTOR_QBT_PASSWORD: PASSWORD };
  expect((await runCli(['scan', '--config', config], { env })).code).toBe(0);
  expect((await runCli(['sync', '--config', config], { env })).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await qbts.stopAll();
  tmp?.cleanup();
});

describe('hashall doctor', () => {
  it('a healthy world: every check ok, exit 0, no probe file left, the password never printed', async () => {
    const { code, report, text } = await doctor();
    expect(code, text).toBe(0);
    expect(report.healthy).toBe(true);
    for (const id of ['config', 'catalog', 'filesystem:stash', 'filesystem:pool', `hardlinks:${stash}/seeding`, `hardlinks:${pool}/seeding`, 'client', 'client:path-maps', 'lock', 'runs', 'integrity']) {
      expect(status(report, id), id).toBe('ok');
    }
    expect(report.checks.find((c) => c.id === 'client')!.detail).toMatch(/v\d/);
    expect(text).not.toContain(PASSWORD);
    expect(readdirSync(`${stash}/seeding`).filter((n) => n.startsWith('.hashall-probe'))).toEqual([]);
  });

  it('another filesystem mounted inside a seeding root (a ZFS dataset per category) is a warning naming it: the scan never enters it', async () => {
    const tv = `${stash}/seeding/tv`;
    mountTmpfs(tv, 1 << 20, 'tv');
    try {
      const { code, report, text } = await doctor();
      expect(code, text).toBe(0);
      const c = report.checks.find((x) => x.id === `mounts:${stash}/seeding`);
      expect(c?.status).toBe('warn');
      expect(c?.detail).toContain(tv);
      expect(c?.fix).toMatch(/filesystem of its own/);
      expect(report.checks.find((x) => x.id === `mounts:${pool}/seeding`)).toBeUndefined();
    } finally {
      unmount(tv);
    }
    const after = await doctor();
    expect(after.report.checks.find((x) => x.id === `mounts:${stash}/seeding`)).toBeUndefined();
  });

  it('a broken world: wrong password, pool unmounted, a stale lock, a needs-attention run — each named, exit 1', async () => {
    // A stale lock (its process is gone) and a needs-attention run nobody acknowledged.
    const dead = spawnSync('true').pid!;
    const catalog = openCatalog(path.join(tmp.path, 'state', 'catalog.db'));
    plantLockRecord(catalog.db, { runId: 'r-dead', pid: dead, pidStart: null, host: os.hostname(), command: 'hashall apply', startedAt: Date.now() });
    catalog.db
      .prepare(`INSERT INTO runs (id, started_at, ended_at, user, host, pid, command, status, attention) VALUES ('r-attn', ?, ?, 'root', ?, 1, 'hashall apply', 'needs-attention', ?)`)
      .run(Date.now() - 1000, Date.now(), os.hostname(), JSON.stringify(['move /x back by hand']));
    catalog.close();

    const wrongPw = await doctor('not-the-password');
    expect(wrongPw.code).toBe(1);
    expect(status(wrongPw.report, 'client')).toBe('problem');
    expect(wrongPw.report.checks.find((c) => c.id === 'client')!.fix).toMatch(/password/);
    expect(wrongPw.text).not.toContain(PASSWORD);
    expect(wrongPw.text).not.toContain('not-the-password');
    expect(status(wrongPw.report, 'lock')).toBe('problem');
    expect(status(wrongPw.report, 'runs')).toBe('problem');
    expect(wrongPw.report.checks.find((c) => c.id === 'runs')!.detail).toMatch(/r-attn \(needs-attention\)/);
    expect(wrongPw.text).toMatch(/PROBLEM .*apply lock: held by a run whose process is gone/);
    // recover clears a stale lock itself: an unlock after it would find none ("no hashall run holds the lock").
    expect(wrongPw.report.checks.find((c) => c.id === 'lock')!.fix).toBe('`hashall recover` rolls its work back and clears the lock (`hashall unlock r-dead` clears the lock alone)');

    unmount(pool);
    try {
      const { code, report, text } = await doctor();
      expect(code).toBe(1);
        expect(status(report, 'filesystem:pool')).toBe('problem');
      expect(report.checks.find((c) => c.id === 'filesystem:pool')!.detail).toMatch(/is pool mounted\?|not on filesystem pool/);
      expect(status(report, `hardlinks:${pool}/seeding`)).toBe('skipped');
      expect(status(report, 'filesystem:stash')).toBe('ok');
      expect(text).toMatch(/fix: mount pool at/);
      // No probe was written onto the disk under the empty mountpoint.
      expect(existsSync(`${pool}/seeding`) ? readdirSync(`${pool}/seeding`) : []).toEqual([]);
    } finally {
      mountTmpfs(pool, 16 << 20, 'pool');
    }
  });

  it('a save path whose mapped host directory does not exist is a path-map problem', async () => {
    writeConfig({ poolMap: path.join(tmp.path, 'nowhere') });
    await qb.api('POST', '/torrents/setLocation', { hashes: 'all', location: '/data/pool/seeding/movies' });
    try {
      const { code, report } = await doctor();
      expect(code).toBe(1);
      const pm = report.checks.find((c) => c.id === 'client:path-maps')!;
      expect(pm.status).toBe('problem');
      expect(pm.detail).toMatch(/map to a host directory that does not exist, e\.g\. Film\.2020: \/data\/pool\/seeding\/movies → .*nowhere\/seeding\/movies/);
    } finally {
      await qb.api('POST', '/torrents/setLocation', { hashes: 'all', location: '/data/stash/seeding/movies' });
      writeConfig();
    }
  });

  it('a client on the host itself (no pathMaps): its save paths are host paths, as plan and sync read them — no path-map problem', async () => {
    const own = await qbts.start();
    const native = path.join(tmp.path, 'native.yaml');
    const t = makeTorrent({ saveDir: `${stash}/seeding/movies`, name: 'Native.2021', files: [{ path: 'n.mkv', size: 10_000 }], trackers: ['http://127.0.0.1:1/announce'] });
    await addTorrent(own, t, { savepath: `${stash}/seeding/movies`, skipChecking: true, paused: true });
    writeFileSync(native, readFileSync(config, 'utf8').replace(/client:[\s\S]*?safety:/, `client:\n  url: ${own.url}\nsafety:`));
    try {
      const j = await runCli(['doctor', '--json', '--config', native]);
      const pm = (JSON.parse(j.stdout) as DoctorReport).checks.find((c) => c.id === 'client:path-maps')!;
      expect(pm.status, pm.detail).toBe('ok');
    } finally {
      await own.stop();
    }
  });

  it('a catalog on a filesystem mounted read-only is a problem naming the mount, exit 1: every scan, sync and apply would fail writing it', async () => {
    const state = path.join(tmp.path, 'state');
    // The catalog's own folder bind-mounted onto itself and remounted read-only: the catalog reads fine (quick_check ok).
    execFileSync('mount', ['--bind', state, state]);
    try {
      execFileSync('mount', ['-o', 'remount,bind,ro', state]);
      const { code, report, text } = await doctor();
      expect(code, text).toBe(1);
      expect(report.healthy).toBe(false);
      const check = report.checks.find((c) => c.id === 'catalog:writable');
      expect(check?.status, text).toBe('problem');
      expect(check?.detail).toContain(state);
      expect(check?.detail).toMatch(/read-only/);
      expect(check?.fix).toMatch(/remount|move the catalog/);
      expect(status(report, 'catalog')).toBe('ok');
      expect(status(report, 'client')).toBe('ok');
    } finally {
      unmount(state);
    }
    const again = await doctor();
    expect(again.report.checks.find((c) => c.id === 'catalog:writable')?.status, again.text).toBe('ok');
  });

  it('a damaged catalog file is a catalog problem with the fix, and the other checks still run', async () => {
    const file = path.join(tmp.path, 'state', 'catalog.db');
    for (const suffix of ['-wal', '-shm']) if (existsSync(file + suffix)) spawnSync('rm', ['-f', file + suffix]);
    writeFileSync(file, Buffer.alloc(8192, 0x41));
    const { code, report, text } = await doctor();
    expect(code).toBe(1);
    expect(status(report, 'catalog')).toBe('problem');
    expect(text).toMatch(/fix: the catalog file is damaged: move it aside/);
    expect(status(report, 'client')).toBe('ok');
  });
});
