// `hashall reconcile` against a REAL rTorrent that goes down, comes back and goes down again: each iteration reports the failure, the targets are told once per outage (not once per iteration), again after a recovery; no passkey anywhere.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rtorrentSandboxes, type RtorrentSandbox } from '../../../src/sandbox/rtorrent-sandbox.js';
import { makeTorrent } from '../../../src/sandbox/torrent-file.js';
import { stashPoolConfigText } from '../../../src/sandbox/stash-pool-config.js';
import { runCli, type CliResult } from '../../support/cli.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { startReceiver, type Receiver } from '../../support/notify-receiver.js';

const PASSKEY = 'f00dfeed0123456789abcdef';
const TRACKER = `http://127.0.0.1:1/${PASSKEY}/announce`;
const sandboxes = rtorrentSandboxes();
let sb: RtorrentSandbox;
let tmp: TempDir;
let recv: Receiver;
let configPath: string;

const reconcile = (...args: string[]): Promise<CliResult> => runCli(['reconcile', ...args, '--log', 'ndjson', '--config', configPath], { cwd: tmp.path });
const outcomes = (r: CliResult): string[] =>
  r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; phase?: string; outcome?: string })
    .filter((e) => e.type === 'reconcile' && e.phase === 'done')
    .map((e) => e.outcome ?? '');
const failedNotices = (): { event: string; message: string }[] =>
  recv.received.map((r) => JSON.parse(r.body) as { event: string; message: string }).filter((n) => n.event === 'failed');

beforeAll(async () => {
  tmp = makeTempDir('hashall-rt-down-');
  const stash = path.join(tmp.path, 'stash');
  const pool = path.join(tmp.path, 'pool');
  mountTmpfs(stash, 16 << 20, 'rtdown-stash');
  mountTmpfs(pool, 16 << 20, 'rtdown-pool');
  const save = path.join(stash, 'seeding', 'movies');
  mkdirSync(save, { recursive: true });
  mkdirSync(path.join(pool, 'seeding'), { recursive: true });
  sb = await sandboxes.start({ dir: path.join(tmp.path, 'rt') });
  const t = makeTorrent({ saveDir: save, name: 'Down.Movie.2020', files: [{ path: 'movie.mkv', size: 100_000 }, { path: 'en.srt', content: 'subs\n' }], trackers: [TRACKER] });
  await sb.add(t, { dir: save, start: true, label: 'movies' });
  recv = await startReceiver();
  configPath = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(
    configPath,
    stashPoolConfigText(
      { catalog: 'catalog.db', stash, pool, seeding: { stash: [path.join(stash, 'seeding')], pool: [path.join(pool, 'seeding')] }, client: { type: 'rtorrent', url: sb.url } },
      ['placement: { default: pool }', 'safety: { minFree: 1MiB }', 'notify:', `  - { name: hook, format: json, url: "${recv.url}/hook", retries: 0, events: [failed] }`],
    ),
  );
}, 120_000);

afterAll(async () => {
  await recv?.close();
  await sandboxes.stopAll();
  tmp?.cleanup();
});

describe('reconcile while rTorrent is down', () => {
  it('three iterations with rTorrent stopped: each fails and says so on stderr, the targets are told once', async () => {
    await sb.stop();
    const r = await reconcile('--every', '1s', '--jitter', '0s', '--iterations', '3');
    expect(r.code, r.stderr).toBe(1);
    expect(outcomes(r)).toEqual(['failed', 'failed', 'failed']);
    expect(r.stderr.match(/reconcile iteration failed: cannot reach rTorrent/g)).toHaveLength(3);
    const told = failedNotices();
    expect(told).toHaveLength(1);
    expect(told[0]?.message).toMatch(/cannot reach rTorrent at scgi:\/\//);
  }, 120_000);

  it('a timer run (`reconcile --once`) in the same outage: failed, exit 1, not told again', async () => {
    const r = await reconcile('--once');
    expect(r.code, r.stderr).toBe(1);
    expect(outcomes(r)).toEqual(['failed']);
    expect(failedNotices()).toHaveLength(1);
  }, 60_000);

  it('rTorrent back: the iteration plans (exit 0, nothing told); down again: a new outage, told once more', async () => {
    await sb.restart();
    const up = await reconcile('--once');
    expect(up.code, up.stderr).toBe(0);
    expect(outcomes(up)).toEqual(['changes-pending']);
    expect(failedNotices()).toHaveLength(1);
    await sb.stop();
    const down = await reconcile('--once');
    expect(outcomes(down)).toEqual(['failed']);
    expect(failedNotices()).toHaveLength(2);
    // The tracker's passkey never leaves hashall: not in its output, the notices or the catalog file.
    for (const text of [up.stdout, up.stderr, down.stdout, down.stderr, ...recv.received.map((x) => x.body), readFileSync(path.join(tmp.path, 'catalog.db')).toString('latin1')]) {
      expect(text).not.toContain(PASSKEY);
    }
  }, 120_000);
});
