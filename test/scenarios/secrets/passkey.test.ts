// A tracker passkey end to end: a real qbittorrent-nox announces to a loopback tracker whose URL holds a passkey; sync, plan, apply and runs keep and print the host only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildDemoSeedbox, type DemoSeedbox } from '../../../src/demo/seedbox.js';
import { bencode } from '../../../src/sandbox/torrent-file.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { runCli } from '../../support/cli.js';
import type { Plan } from '../../../src/plan/types.js';

const PASSKEY = '5eca1c0ffee0f00dba11ad0fdeadbeef';
let tmp: TempDir;
let seedbox: DemoSeedbox;
let tracker: Server;
const announces: string[] = [];

/** The smallest HTTP tracker: every announce gets an empty peer list, and the request line is kept. */
async function startTracker(): Promise<number> {
  tracker = createServer((req, res) => {
    announces.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(bencode(new Map<string, Buffer | number>([['interval', 1800], ['peers', Buffer.alloc(0)]])));
  });
  await new Promise<void>((resolve) => tracker.listen(0, '127.0.0.1', resolve));
  return (tracker.address() as AddressInfo).port;
}

async function hashall(...args: string[]) {
  return runCli([...args, '--config', seedbox.configPath], { cwd: seedbox.base });
}

/** Every byte hashall keeps: the catalog and its WAL, saved plans, anything else in its directory. */
function keptBytes(): string {
  return readdirSync(seedbox.base, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(path.join(seedbox.base, e.name)).toString('latin1'))
    .join('\n');
}

beforeAll(async () => {
  const port = await startTracker();
  tmp = makeTempDir('hashall-passkey-');
  const stash = path.join(tmp.path, 'stash');
  const pool = path.join(tmp.path, 'pool');
  mkdirSync(stash);
  mkdirSync(pool);
  mountTmpfs(stash, 128 << 20, 'stash');
  mountTmpfs(pool, 128 << 20, 'pool');
  // libtorrent's SSRF mitigation announces to a loopback tracker only at the path /announce: the passkey rides in the query.
  seedbox = await buildDemoSeedbox(tmp.path, stash, pool, { trackers: [`http://127.0.0.1:${port}/announce?passkey=${PASSKEY}`] });
  // Bounded: until qBittorrent has announced and reports the working tracker with its passkey (at most 60 s).
  const hash = seedbox.torrents.old.infoHash;
  for (let i = 0; i < 120; i++) {
    const res = await seedbox.qbt.api('GET', `/torrents/info?hashes=${hash}`);
    const [t] = JSON.parse(res.text) as { tracker: string }[];
    if (t?.tracker.includes(PASSKEY)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`qBittorrent never reported the tracker of ${hash} (announces seen: ${announces.length})`);
}, 180_000);

afterAll(async () => {
  await seedbox?.qbt.stop();
  tmp?.cleanup();
  await new Promise<void>((resolve) => (tracker ? tracker.close(() => resolve()) : resolve()));
});

describe('a tracker passkey never leaves the client', () => {
  it('the client really reports it: the tracker saw the passkey in its announce URL', () => {
    expect(announces.some((u) => u.includes(PASSKEY))).toBe(true);
  });

  it('sync, torrents, plan (text, JSON, saved file), apply and runs show keep and print the host only', async () => {
    const outputs: string[] = [];
    const run = async (...args: string[]) => {
      const r = await hashall(...args);
      outputs.push(`$ hashall ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
      return r;
    };
    expect((await run('sync')).code).toBe(0);
    const listed = await run('torrents', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expect((await run('plan')).code).toBe(0);
    const planned = await run('plan', '--json');
    expect(planned.code, planned.stderr).toBe(0);
    // What hashall keeps of the tracker is its host: proof that the tracker was seen at all.
    const torrentsInPlan = (JSON.parse(planned.stdout) as Plan).groups.flatMap((g) => g.torrents);
    expect(torrentsInPlan.find((t) => t.hash === seedbox.torrents.old.infoHash)?.tracker).toBe('127.0.0.1');
    const planFile = path.join(seedbox.base, 'plan.json');
    expect((await run('plan', '--out', planFile)).code).toBe(0);
    const applied = await run('apply', planFile, '--json');
    expect(applied.code, applied.stderr).toBe(0);
    const runId = applied.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; runId?: string })
      .find((e) => e.type === 'run-start')?.runId;
    expect(runId).toBeTruthy();
    expect((await run('runs', 'show', runId!, '--json')).code).toBe(0);
    expect((await run('runs', 'show', runId!)).code).toBe(0);
    expect((await run('whereis', seedbox.torrents.old.infoHash)).code).toBe(0);
    expect((await run('doctor', '--json', '--no-notify')).code).toBeLessThanOrEqual(1);
    const all = outputs.join('\n');
    expect(all).toContain('Old.Movie.2009');
    expect(all).not.toContain(PASSKEY);
    expect(keptBytes()).not.toContain(PASSKEY);
  }, 240_000);
});
