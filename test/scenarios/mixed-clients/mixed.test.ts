// Several client instances on REAL daemons: qBittorrent and Transmission seed the same payload (same info-hash) on real tmpfs.
// One sibling group spans both; a failed recheck in one rolls back both; kill -9 mid-repoint then `hashall recover`
// restores both; one instance down blocks exactly its groups; apply moves both together. Every byte is re-hashed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { hashTreeSync } from '../../support/apply-fixture.js';
import { runCli } from '../../support/cli.js';
import { startQbt, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { transmissionSandboxes, type TransmissionSandbox } from '../../../src/sandbox/transmission-sandbox.js';
import { addTorrent, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { createQbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import { createTransmissionClient } from '../../../src/clients/transmission/client.js';
import { clientSet } from '../../../src/clients/client-set.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import { loadConfig } from '../../../src/config/load.js';
import { runApply } from '../../../src/reconcile/apply.js';
import { readPlanFile } from '../../../src/plan/plan-file-io.js';
import type { Plan, PlanGroup, RepointStep } from '../../../src/plan/types.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TRACKER = 'http://127.0.0.1:1/announce';
const trs = transmissionSandboxes();
let tmp: TempDir;
let qbt: QbtSandbox;
let tr: TransmissionSandbox;
let qb: TorrentClient;
let tc: TorrentClient;
let configFile: string;
let stashMovies: string;
let poolMovies: string;
let mixed: MadeTorrent;
let mixedRoot: string;
let mixedBytes: Record<string, string>;

const cli = (...args: string[]) => runCli([...args, '--config', configFile], { cwd: tmp.path });

function writeYaml(trUrl: string): void {
  const stash = path.join(tmp.path, 'stash');
  const pool = path.join(tmp.path, 'pool');
  writeFileSync(
    configFile,
    [
      'version: 1',
      'catalog: catalog.db',
      'filesystems:',
      `  stash: { path: ${JSON.stringify(stash)} }`,
      `  pool: { path: ${JSON.stringify(pool)} }`,
      `seeding: { stash: [${JSON.stringify(path.join(stash, 'seeding'))}], pool: [${JSON.stringify(path.join(pool, 'seeding'))}] }`,
      `libraries: [${JSON.stringify(path.join(stash, 'library'))}]`,
      'clients:',
      `  qbt: { type: qbittorrent, url: ${JSON.stringify(qbt.url)} }`,
      `  tr: { type: transmission, url: ${JSON.stringify(trUrl)} }`,
      'placement: { default: pool }',
      'safety: { minFree: 1MiB, retire: { observeHours: 1000h } }',
      '',
    ].join('\n'),
  );
}

async function settled(client: TorrentClient, hash: string): Promise<void> {
  await client.waitFor(hash, (t) => t.phase === 'seeding' && t.progress === 1, { timeoutMs: 60_000, intervalMs: 100, what: 'seed' });
}

/** Seed `t` (data already in `saveDir`) in the named daemons, running, and wait until each seeds it. */
async function seed(t: MadeTorrent, saveDir: string, where: ('qbt' | 'tr')[]): Promise<void> {
  if (where.includes('qbt')) {
    await addTorrent(qbt, t, { savepath: saveDir, paused: false });
    await settled(qb, t.infoHash);
  }
  if (where.includes('tr')) {
    await tr.add(t, { downloadDir: saveDir, paused: false });
    await settled(tc, t.infoHash);
  }
}

async function planToFile(): Promise<{ file: string; plan: Plan; group: PlanGroup }> {
  const file = path.join(tmp.path, `plan-${Date.now()}.json`);
  const r = await cli('plan', '--out', file);
  expect([0, 2], r.stdout + r.stderr).toContain(r.code);
  const { plan } = readPlanFile(file);
  const group = plan.groups.find((g) => g.title === 'Mixed.Movie')!;
  expect(group.action, group.reasons.join('\n')).toBe('move');
  return { file, plan, group };
}

/** Both daemons report the torrent complete and running at `saveDir`. */
async function bothAt(saveDir: string): Promise<void> {
  for (const c of [qb, tc]) {
    const t = await c.waitFor(mixed.infoHash, (x) => x.phase !== 'checking', { timeoutMs: 60_000, intervalMs: 100, what: 'finish checking' });
    expect(t).toMatchObject({ savePath: saveDir, contentPath: path.join(saveDir, 'Mixed.Movie'), progress: 1, running: true });
  }
}

beforeAll(async () => {
  tmp = makeTempDir('hashall-mixed-');
  const stash = path.join(tmp.path, 'stash');
  const pool = path.join(tmp.path, 'pool');
  mountTmpfs(stash, 64 << 20, 'stash');
  mountTmpfs(pool, 64 << 20, 'pool');
  stashMovies = path.join(stash, 'seeding', 'movies');
  poolMovies = path.join(pool, 'seeding', 'movies');
  for (const d of [stashMovies, path.join(pool, 'seeding'), path.join(stash, 'library')]) mkdirSync(d, { recursive: true });
  mixed = makeTorrent({ saveDir: stashMovies, name: 'Mixed.Movie', files: [{ path: 'movie.mkv', size: 3 << 20 }, { path: 'subs/en.srt', content: 'subtitle\n' }], trackers: [TRACKER] });
  mixedRoot = path.join(stashMovies, 'Mixed.Movie');
  mixedBytes = hashTreeSync(mixedRoot);
  qbt = await startQbt({ dir: path.join(tmp.path, 'qbt') });
  tr = await trs.start({ dir: path.join(tmp.path, 'tr') });
  qb = createQbittorrentClient({ url: qbt.url, timeoutMs: 10_000 });
  tc = createTransmissionClient({ url: tr.url, timeoutMs: 10_000 });
  await seed(mixed, stashMovies, ['qbt', 'tr']);
  configFile = path.join(tmp.path, 'hashall.yaml');
  writeYaml(tr.url);
}, 180_000);

afterAll(async () => {
  await qb?.close();
  await tc?.close();
  await qbt?.stop();
  await trs.stopAll();
  tmp?.cleanup();
});

describe('several client instances: qBittorrent + Transmission seeding the same payload', () => {
  it('plans one sibling group across both instances, a repoint in each, and names the instance everywhere', async () => {
    const r = await cli('plan', '--json');
    expect([0, 2], r.stderr).toContain(r.code);
    const plan = JSON.parse(r.stdout) as Plan;
    expect(plan.groups.map((g) => g.title)).toEqual(['Mixed.Movie']);
    const g = plan.groups[0]!;
    expect(g).toMatchObject({ action: 'move', from: { fs: 'stash', path: mixedRoot }, to: { fs: 'pool', path: path.join(poolMovies, 'Mixed.Movie') } });
    expect(g.torrents.map((t) => `${t.client}/${t.hash}`)).toEqual([`qbt/${mixed.infoHash}`, `tr/${mixed.infoHash}`]);
    const repoints = g.steps.filter((s): s is RepointStep => s.kind === 'repoint');
    expect(repoints.map((s) => [s.client, s.torrentHash, s.toSavePath])).toEqual([
      ['qbt', mixed.infoHash, poolMovies],
      ['tr', mixed.infoHash, poolMovies],
    ]);
    expect(g.fingerprint.torrents.map((t) => t.client)).toEqual(['qbt', 'tr']);
    const text = await cli('plan', '--no-refresh');
    const short = mixed.infoHash.slice(0, 8);
    expect(text.stdout).toContain(`qbt/${short}`);
    expect(text.stdout).toContain(`tr/${short}`);
    const torrents = await cli('torrents');
    expect(torrents.stdout).toContain(`Mixed.Movie [qbt/${short}]`);
    expect(torrents.stdout).toContain(`Mixed.Movie [tr/${short}]`);
    const where = await cli('whereis', short);
    expect(where.code, where.stderr).toBe(0);
    expect(where.stdout).toContain(`[qbt/${short}]`);
    expect(where.stdout).toContain(`[tr/${short}]`);
  });

  it('a recheck that fails for real in Transmission (its target bytes corrupted) rolls back both instances; nothing is lost', async () => {
    const { file, group } = await planToFile();
    const target = path.join(poolMovies, 'Mixed.Movie', 'movie.mkv');
    // Transmission's repoint comes second: qBittorrent already seeds from the copy when one byte of it rots.
    const corrupting: TorrentClient = {
      ...tc,
      setLocation: async (hashes, loc) => {
        const fd = openSync(target, 'r+');
        writeSync(fd, Buffer.from([0xff ^ readFileSync(target)[1000]!]), 0, 1, 1000);
        closeSync(fd);
        return tc.setLocation(hashes, loc);
      },
    };
    const { config } = loadConfig(configFile, { env: process.env, cwd: tmp.path });
    const out = await runApply({
      config,
      clients: clientSet([
        ['qbt', qb],
        ['tr', corrupting],
      ]),
      ...readPlanFile(file),
      planFile: file,
      planHash: null,
      command: 'test apply (corrupting)',
      now: () => Date.now(),
      emit: () => undefined,
      clientTimeoutMs: () => 30_000,
    });
    const res = out.result.groups.find((x) => x.id === group.id)!;
    expect(res.status, JSON.stringify(out.result)).toBe('rolled-back');
    expect(res.error).toMatch(/recheck|incomplete|progress/);
    await bothAt(stashMovies);
    expect(hashTreeSync(mixedRoot)).toEqual(mixedBytes);
    expect(existsSync(path.join(poolMovies, 'Mixed.Movie'))).toBe(false);
    // The run record names each step's instance.
    const show = await cli('runs', 'show', out.result.runId, '--json');
    const run = JSON.parse(show.stdout) as { groupRecords: { id: string; steps: { step: { kind: string; client?: string }; status: string }[] }[] };
    const steps = run.groupRecords.find((x) => x.id === group.id)!.steps;
    expect(steps.filter((s) => s.step.kind === 'repoint').map((s) => [s.step.client, s.status])).toEqual([
      ['qbt', 'undone'],
      ['tr', 'undone'],
    ]);
  });

  it('kill -9 in the middle of the repoints, then `hashall recover`, restores both instances; nothing is lost', async () => {
    for (const at of ['step-undo-data', 'step-running']) {
      const { file, group } = await planToFile();
      const trStep = group.steps.findIndex((s) => s.kind === 'repoint' && s.client === 'tr');
      const { config } = loadConfig(configFile, { env: process.env, cwd: tmp.path });
      const cfgJson = path.join(tmp.path, 'config.json');
      writeFileSync(cfgJson, JSON.stringify(config));
      const child = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgJson, file], {
        cwd: repo,
        env: { ...process.env, HASHALL_TEST_CRASH_AT_BOUNDARY: `${at} ${group.id}#${trStep}` },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(child.signal, child.stderr).toBe('SIGKILL');
      // qBittorrent was repointed before the kill.
      expect((await qb.getTorrent(mixed.infoHash))?.savePath).toBe(poolMovies);
      expect(hashTreeSync(mixedRoot)).toEqual(mixedBytes);
      const rec = await cli('recover', '--json');
      expect(rec.code, rec.stdout + rec.stderr).toBe(0);
      expect(JSON.parse(rec.stdout)).toMatchObject({ recovered: [{ status: 'recovered', groups: [{ id: group.id, action: 'rolled-back' }] }] });
      await bothAt(stashMovies);
      expect(hashTreeSync(mixedRoot)).toEqual(mixedBytes);
      expect(existsSync(path.join(poolMovies, 'Mixed.Movie'))).toBe(false);
    }
  });

  it('one instance down blocks exactly the groups that touch it; the others are planned', async () => {
    const solo = makeTorrent({ saveDir: stashMovies, name: 'Solo.Movie', files: [{ path: 'solo.mkv', size: 1 << 20 }], trackers: [TRACKER] });
    const only = makeTorrent({ saveDir: stashMovies, name: 'Tr.Movie', files: [{ path: 'tr.mkv', size: 1 << 20 }, { path: 'tr.nfo', content: 'nfo\n' }], trackers: [TRACKER] });
    await seed(solo, stashMovies, ['qbt']);
    await seed(only, stashMovies, ['tr']);
    expect((await cli('sync')).code).toBe(0);
    await tr.stop();
    const r = await cli('plan', '--json');
    expect([0, 2], r.stderr).toContain(r.code);
    expect(r.stderr).toMatch(/torrent client "tr" did not answer/);
    const plan = JSON.parse(r.stdout) as Plan;
    const by = Object.fromEntries(plan.groups.map((g) => [g.title, g]));
    expect(by['Solo.Movie']?.action).toBe('move');
    for (const t of ['Mixed.Movie', 'Tr.Movie']) {
      expect(by[t]?.action).toBe('blocked');
      expect(by[t]?.reasons.join('\n')).toMatch(/torrent client "tr" .*did not answer its last sync/);
    }
    // `hashall torrents` says which instance is unknown; `sync` fails for it (exit 1) and still syncs the other.
    expect((await cli('torrents')).stdout).toMatch(/client "tr" did not answer its last sync/);
    const s = await cli('sync', '--json');
    expect(s.code).toBe(1);
    expect(JSON.parse(s.stdout)).toMatchObject({ instances: [{ client: 'qbt' }], failed: [{ client: 'tr' }] });
    await tr.restart();
    tc = createTransmissionClient({ url: tr.url, timeoutMs: 10_000 });
    for (const h of [mixed.infoHash, only.infoHash]) await settled(tc, h);
    writeYaml(tr.url);
    const again = JSON.parse((await cli('plan', '--json')).stdout) as Plan;
    expect(again.groups.map((g) => [g.title, g.action]).sort()).toEqual([
      ['Mixed.Movie', 'move'],
      ['Solo.Movie', 'move'],
      ['Tr.Movie', 'move'],
    ]);
  });

  it('apply moves the shared payload in both instances together (confirmed by reading each back); every byte is intact', async () => {
    const r = await cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await bothAt(poolMovies);
    expect(hashTreeSync(path.join(poolMovies, 'Mixed.Movie'))).toEqual(mixedBytes);
    // The source stays until the observation window ends (retire is a later, proof-gated step).
    expect(hashTreeSync(mixedRoot)).toEqual(mixedBytes);
    const again = await cli('plan', '--json');
    const plan = JSON.parse(again.stdout) as Plan;
    expect(plan.groups.filter((g) => g.action === 'move' || g.action === 'reuse')).toEqual([]);
  });
});
