// `hashall reconcile` as a real child process on the demo seedbox (tmpfs stash/pool, real qbittorrent-nox): SIGTERM in
// the middle of a copy stops it cleanly (exit 143, the group rolled back, nothing lost); a loop started while the client
// is down survives the client's restart and converges; every notification is received by a local HTTP server.
import { contentTree } from '../../support/content-tree.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSeedboxOnTmpfs } from '../../support/demo-on-tmpfs.js';
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DemoSeedbox } from '../../../src/demo/seedbox.js';
import { openCatalog } from '../../../src/catalog/db.js';
import { getRun, listRuns } from '../../../src/apply/run-store.js';
import { makeTempDir, type TempDir } from '../../support/mounts.js';
import { startReceiver, type Receiver } from '../../support/notify-receiver.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SECRET = 'loop-hook-9d2e7a41c3';
let tmp: TempDir;
let seedbox: DemoSeedbox;
let recv: Receiver;

function allHashes(): Set<string> {
  return new Set([...contentTree(seedbox.stash).values(), ...contentTree(seedbox.pool).values()]);
}

function leftovers(dir: string): string[] {
  return [...contentTree(dir).keys()].filter((k) => k.split('/').some((seg) => seg.startsWith('.hashall-') && !seg.startsWith('.hashall-trash')));
}

interface Child {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  events: { type: string; [k: string]: unknown }[];
}

/** Run `hashall reconcile ARGS` as a child process (never blocking this process: the receiver must answer), bounded in time. */
function reconcile(args: string[], extraEnv: Record<string, string> = {}): Promise<Child> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', './test/support/ts-register.mjs', 'src/cli/bin.ts', 'reconcile', ...args, '--config', seedbox.configPath], {
      cwd: repo,
      env: { ...process.env, NO_COLOR: '1', HOOK_PATH: SECRET, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const limit = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('exit', (code, signal) => {
      clearTimeout(limit);
      const events = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Child['events'][number]);
      resolve({ code, signal, stdout, stderr, events });
    });
  });
}

async function torrents(): Promise<{ hash: string; save_path: string; state: string; progress: number }[]> {
  const res = await seedbox.qbt.api('GET', '/torrents/info');
  return JSON.parse(res.text) as { hash: string; save_path: string; state: string; progress: number }[];
}

/** Every torrent complete and not paused, checking or erroring (bounded wait for rechecks to settle). */
async function expectAllSeeding(): Promise<void> {
  let list = await torrents();
  for (let i = 0; i < 200 && list.some((t) => /checking|moving|stopped|paused/i.test(t.state) || t.progress < 1); i++) {
    await new Promise((r) => setTimeout(r, 100));
    list = await torrents();
  }
  for (const t of list) {
    expect(t.progress, t.hash).toBe(1);
    expect(t.state, t.hash).toMatch(/^(stalledUP|uploading|queuedUP|forcedUP)$/);
  }
}

beforeAll(async () => {
  tmp = makeTempDir('hashall-loop-');
  seedbox = await demoSeedboxOnTmpfs(tmp.path);
  recv = await startReceiver();
  appendFileSync(
    seedbox.configPath,
    ['apply: { auto: true }', 'notify:', `  - { name: hook, format: json, timeout: 60s, url: "${recv.url}/\${HOOK_PATH}/json", events: [applied, nothing-to-do, failed, needs-attention, blocked] }`, ''].join('\n'),
  );
});

afterAll(async () => {
  await recv?.close();
  await seedbox?.qbt.stop();
  tmp?.cleanup();
});

describe('hashall reconcile (real child process, real qBittorrent)', () => {
  let contentBefore: Set<string>;

  it('SIGTERM in the middle of a copy: exit 143, the group rolled back, torrents seeding, nothing lost, the run recorded and notified', async () => {
    contentBefore = allHashes();
    const c = await reconcile(['--every', '1s', '--jitter', '0s', '--iterations', '3', '--log', 'ndjson'], { HASHALL_TEST_SIGNAL_ON_COPY: 'SIGTERM' });
    expect(c.signal, c.stderr).toBeNull(); // it handled the signal
    expect(c.code, c.stderr).toBe(143);
    expect(c.events.filter((e) => e.type === 'reconcile' && e.phase === 'done').map((e) => e.outcome)).toEqual(['stopped']);
    expect(c.events.some((e) => e.type === 'copy-progress' && (e.bytes as number) < (e.totalBytes as number))).toBe(true);
    expect(c.stderr).toContain('SIGTERM received: stopping at the next safe point');

    const catalog = openCatalog(path.join(seedbox.base, 'catalog.db'));
    try {
      const [run] = listRuns(catalog.db);
      expect(run?.status).toBe('interrupted');
      const detail = getRun(catalog.db, run!.id)!;
      expect(detail.groupRecords.some((g) => g.status === 'rolled-back' && /stopped \(SIGTERM\)/.test(g.error ?? ''))).toBe(true);
      for (const g of detail.groupRecords) expect(['done', 'rolled-back', 'skipped']).toContain(g.status);
      // The interrupted run was notified, and the notification is on its record.
      expect(detail.notifications).toEqual([expect.objectContaining({ target: 'hook', event: 'failed', status: 'sent' })]);
    } finally {
      catalog.close();
    }
    const payloads = recv.received.map((r) => JSON.parse(r.body) as { event: string; apply?: { status: string } });
    expect(payloads.at(-1)).toMatchObject({ event: 'failed', apply: { status: 'interrupted' } });
    // Nothing lost: every byte of every file re-hashed; no temp file left; no torrent paused or checking.
    const after = allHashes();
    for (const h of contentBefore) expect(after.has(h)).toBe(true);
    expect(leftovers(seedbox.pool)).toEqual([]);
    expect(leftovers(seedbox.stash)).toEqual([]);
    await expectAllSeeding();
    for (const out of [c.stdout, c.stderr]) expect(out).not.toContain(SECRET);
  }, 300_000);

  it('started while the client is down: the iteration fails and is notified, the client restarts, the next iteration converges', async () => {
    await seedbox.qbt.stop();
    recv.received.length = 0;
    let restarted = false;
    recv.onRequest = async (r) => {
      const event = (JSON.parse(r.body) as { event: string }).event;
      if (event === 'failed' && !restarted) {
        restarted = true;
        // Before the loop hears back, so its next iteration finds the client up. The sandbox restarts on a fresh port:
        // the loop reloads hashall.yaml every iteration, so the edited client.url is what it uses next.
        const old = seedbox.qbt.url;
        await seedbox.qbt.restart();
        writeFileSync(seedbox.configPath, readFileSync(seedbox.configPath, 'utf8').replace(`url: ${old}`, `url: ${seedbox.qbt.url}`));
      }
    };
    try {
      const c = await reconcile(['--every', '1s', '--jitter', '0s', '--iterations', '3', '--log', 'ndjson']);
      expect(c.code, c.stderr).toBe(0);
      const outcomes = c.events.filter((e) => e.type === 'reconcile' && e.phase === 'done').map((e) => e.outcome);
      expect(outcomes).toEqual(['failed', 'applied', 'nothing-to-do']);
      expect(restarted).toBe(true);
      const events = recv.received.map((r) => (JSON.parse(r.body) as { event: string }).event);
      expect(events).toEqual(['failed', 'applied', 'nothing-to-do']);
      for (const out of [c.stdout, c.stderr]) expect(out).not.toContain(SECRET);
    } finally {
      recv.onRequest = null;
    }
    // Converged: the archive torrents seed from the pool, the library-linked one stays, nothing lost (every byte re-hashed).
    const list = await torrents();
    const onPool = (h: string) => list.find((t) => t.hash === h)?.save_path.startsWith(seedbox.seedPool);
    for (const key of ['old', 'show', 'xseed', 'album'] as const) expect(onPool(seedbox.torrents[key].infoHash), key).toBe(true);
    expect(onPool(seedbox.torrents.linked.infoHash)).toBe(false);
    await expectAllSeeding();
    const after = allHashes();
    for (const h of contentBefore) expect(after.has(h)).toBe(true);
    expect(leftovers(seedbox.pool)).toEqual([]);
    const catalog = openCatalog(path.join(seedbox.base, 'catalog.db'));
    try {
      expect(listRuns(catalog.db).map((r) => r.status)).toEqual(['succeeded', 'interrupted']);
    } finally {
      catalog.close();
    }
  }, 300_000);
});
