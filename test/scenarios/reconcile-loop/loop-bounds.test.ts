// `hashall reconcile` without a client (real tmpfs stash/pool, real SQLite): the lock keeps it from running beside another
// run (and the targets are told when it stays held); without apply.auto it plans and notifies drift, changes nothing; SIGTERM while it sleeps ends it at once (exit 143).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireLock } from '../../../src/apply/lock.js';
import { bytesFor, hashTreeSync, makeApplyFixture, writeTree, writeFixtureConfig, type ApplyFixture } from '../../support/apply-fixture.js';
import { runCli } from '../../support/cli.js';
import { startReceiver, type Receiver } from '../../support/notify-receiver.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let recv: Receiver;
let w: ApplyFixture | null = null;
beforeAll(async () => {
  recv = await startReceiver();
});
afterAll(async () => {
  await recv?.close();
});
afterEach(() => {
  w?.cleanup();
  w = null;
  recv.received.length = 0;
});

/** A world with a pending dedupe (two inodes, same bytes) and a hashall.yaml notifying the receiver. */
function world(auto: boolean, extraTargets: string[] = []): { cfg: string; dir: string } {
  w = makeApplyFixture();
  const dir = path.join(w.stash, 'seeding', 'extras');
  writeTree(dir, { 'x.bin': bytesFor('same', 100_000), 'y.bin': bytesFor('same', 100_000) });
  mkdirSync(path.join(w.pool, 'seeding'));
  const cfg = writeFixtureConfig(w, [
    'dedupe: { filesystems: [stash], minSize: 0 }',
    `apply: { auto: ${auto} }`,
    'notify:',
    `  - { name: hook, format: json, url: "${recv.url}/json", events: [applied, nothing-to-do, failed, needs-attention, drift, blocked] }`,
    ...extraTargets,
  ]);
  return { cfg, dir };
}

const events = (stdout: string) => stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; phase?: string; outcome?: string });
const received = () => recv.received.map((r) => (JSON.parse(r.body) as { event: string }).event);

describe('hashall reconcile, bounded', () => {
  it('another run holds the lock: the iteration is skipped (lock-held, exit 4 with --once), nothing changed, not notified as a failure', async () => {
    const { cfg, dir } = world(true);
    const before = hashTreeSync(dir);
    const { held } = acquireLock(w!.catalog.db, { runId: 'run-busy', pid: process.pid, pidStart: null, host: os.hostname(), command: 'hashall apply busy', startedAt: 1 }, { takeOverStale: true });
    try {
      const r = await runCli(['reconcile', '--once', '--log', 'ndjson', '--config', cfg], { cwd: w!.root });
      expect(r.code, r.stderr).toBe(4);
      expect(events(r.stdout).filter((e) => e.type === 'reconcile' && e.phase === 'done').map((e) => e.outcome)).toEqual(['lock-held']);
      expect(r.stderr).toMatch(/run-busy/);
      expect(received()).toEqual([]);
    } finally {
      held.release();
    }
    expect(hashTreeSync(dir)).toEqual(before);
    const ok = await runCli(['reconcile', '--once', '--log', 'ndjson', '--config', cfg], { cwd: w!.root });
    expect(ok.code, ok.stderr).toBe(0);
    expect(events(ok.stdout).filter((e) => e.type === 'reconcile' && e.phase === 'done').map((e) => e.outcome)).toEqual(['applied']);
    expect(received()).toEqual(['applied']);
  }, 60_000);

  it('the lock held in 3 iterations in a row (across two loops): the targets are told once, naming the holder; fewer in a row: not told', async () => {
    const { cfg, dir } = world(true);
    const before = hashTreeSync(dir);
    const { held } = acquireLock(w!.catalog.db, { runId: 'run-stuck', pid: process.pid, pidStart: null, host: os.hostname(), command: 'hashall apply stuck', startedAt: 1 }, { takeOverStale: true });
    try {
      const two = await runCli(['reconcile', '--iterations', '2', '--every', '0s', '--jitter', '0s', '--log', 'ndjson', '--config', cfg], { cwd: w!.root });
      expect(two.code, two.stderr).toBe(4);
      expect(received()).toEqual([]);
      const four = await runCli(['reconcile', '--iterations', '4', '--every', '0s', '--jitter', '0s', '--log', 'ndjson', '--config', cfg], { cwd: w!.root });
      expect(four.code, four.stderr).toBe(4);
      expect(events(four.stdout).filter((e) => e.type === 'reconcile' && e.phase === 'done').map((e) => e.outcome)).toEqual(['lock-held', 'lock-held', 'lock-held', 'lock-held']);
      // The streak is kept on disk: the two runs of the first loop count, so the second loop's first iteration is the
      // third refusal — told then, not again.
      expect(received()).toEqual(['failed']);
      const body = JSON.parse(recv.received[0]!.body) as { message: string };
      expect(body.message).toMatch(/3 runs in a row were refused/);
      expect(body.message).toMatch(/run-stuck \(pid \d+ on /);
    } finally {
      held.release();
    }
    expect(hashTreeSync(dir)).toEqual(before);
  }, 60_000);

  it('`apply` from cron counts into the same streak: its third refusal in a row is told once, as `apply failed`, naming the holder', async () => {
    const { cfg, dir } = world(true);
    const before = hashTreeSync(dir);
    const { held } = acquireLock(w!.catalog.db, { runId: 'run-hung', pid: process.pid, pidStart: null, host: os.hostname(), command: 'hashall apply hung', startedAt: 1 }, { takeOverStale: true });
    try {
      for (const n of [1, 2, 3, 4]) {
        const r = await runCli(['apply', '--auto-approve', '--json', '--config', cfg], { cwd: w!.root });
        expect(r.code, `run ${n}: ${r.stderr}`).toBe(4);
        expect(received(), `run ${n}`).toEqual(n < 3 ? [] : ['failed']);
      }
      const body = JSON.parse(recv.received[0]!.body) as { title: string; message: string };
      expect(body.title).toMatch(/: apply failed$/);
      expect(body.message).toMatch(/run-hung \(pid \d+ on .*3 runs in a row were refused/);
    } finally {
      held.release();
    }
    expect(hashTreeSync(dir)).toEqual(before);
  }, 60_000);

  it('without apply.auto: plans, notifies the drift once, changes nothing (changes-pending, exit 0)', async () => {
    const { cfg, dir } = world(false);
    const before = hashTreeSync(dir);
    const r = await runCli(['reconcile', '--iterations', '2', '--every', '0s', '--jitter', '0s', '--log', 'ndjson', '--config', cfg], { cwd: w!.root });
    expect(r.code, r.stderr).toBe(0);
    expect(events(r.stdout).filter((e) => e.type === 'reconcile' && e.phase === 'done').map((e) => e.outcome)).toEqual(['changes-pending', 'changes-pending']);
    expect(received()).toEqual(['drift']); // the second iteration's drift is the same: not told again
    expect(hashTreeSync(dir)).toEqual(before);
    const runs = await runCli(['runs', '--json', '--config', cfg], { cwd: w!.root });
    expect((JSON.parse(runs.stdout) as { runs: unknown[] }).runs).toEqual([]);
  }, 60_000);

  it('SIGTERM while it sleeps: it ends at once with exit 143 (bounded by the test, not timed)', async () => {
    const { cfg } = world(true);
    const child = spawn(process.execPath, ['--import', './test/support/ts-register.mjs', 'src/cli/bin.ts', 'reconcile', '--every', '1h', '--log', 'ndjson', '--config', cfg], {
      cwd: repo,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const limit = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.stdout.on('data', (b: Buffer) => {
        stdout += b.toString();
        if (!sent && stdout.includes('"phase":"sleep"')) {
          sent = true; // once: the warning the signal makes it print must not trigger a second one
          child.kill('SIGTERM');
        }
      });
      child.on('exit', (c) => {
        clearTimeout(limit);
        resolve(c);
      });
    });
    expect(code, stderr).toBe(143);
    expect(events(stdout).filter((e) => e.type === 'reconcile').map((e) => `${e.phase}${e.outcome ? `:${e.outcome}` : ''}`)).toEqual(['start', 'done:applied', 'sleep']);
  }, 150_000);

  it("SIGTERM while a notification waits on a receiver that never answers: exit 143 long before that target's timeout", async () => {
    // timeout 60s × 3 attempts + backoff: the old code waited out every attempt (≈ 3 min) before it exited.
    const { cfg } = world(false, [`  - { name: silent, format: json, url: "${recv.url}/hang", timeout: 60s, retries: 2, events: [drift, nothing-to-do, failed] }`]);
    const child = spawn(process.execPath, ['--import', './test/support/ts-register.mjs', 'src/cli/bin.ts', 'reconcile', '--every', '1h', '--log', 'ndjson', '--config', cfg], {
      cwd: repo,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    let killedByTest = false;
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    // Bounded wait for the attempt to reach the receiver (it is then hanging on a connection that never answers).
    for (let i = 0; i < 600 && recv.to('hang').length === 0 && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
    expect(recv.to('hang'), stderr).toHaveLength(1);
    child.kill('SIGTERM');
    // Half the target's timeout: an exit before it proves the attempt was not waited out (a generous bound, not a speed test).
    const limit = setTimeout(() => {
      killedByTest = true;
      child.kill('SIGKILL');
    }, 30_000);
    const code = await exited;
    clearTimeout(limit);
    expect(killedByTest, stderr).toBe(false);
    expect(code, stderr).toBe(143);
    expect(recv.to('hang')).toHaveLength(1); // no retry after the stop
    const notified = events(stdout).filter((e) => e.type === 'notify') as unknown as { target: string; status: string; error: string | null }[];
    expect(notified.find((e) => e.target === 'silent')).toMatchObject({ status: 'failed', error: expect.stringMatching(/stopped \(SIGTERM\)/) });
    expect(events(stdout).filter((e) => e.type === 'reconcile').map((e) => `${e.phase}${e.outcome ? `:${e.outcome}` : ''}`)).toEqual(['start', 'done:stopped']);
  }, 150_000);
});
