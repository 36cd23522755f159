// A lock that stays held reaches the user from cron too: a real apply process frozen (SIGSTOP) inside its group holds
// the lock while separate `hashall reconcile --once` processes (and an `apply --auto-approve`) are refused; the streak
// of refused runs is kept on disk, so the third sends one `failed` notice naming the holder, the later ones none; doctor
// shows the lock's age and the streak; once the holder ended, a run that takes the lock resets it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { readLock } from '../../../src/apply/lock.js';
import type { DoctorReport } from '../../../src/doctor/checks.js';
import { procState } from '../../../src/sandbox/owned-process.js';
import { bytesFor, makeApplyFixture, makePlan, moveGroup, writeFixtureConfig, writeTree } from '../../support/apply-fixture.js';
import { startReceiver, type Receiver } from '../../support/notify-receiver.js';
import { killStray } from '../../support/stray-child.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const node = ['--import', './test/support/ts-register.mjs'];

let recv: Receiver;
beforeAll(async () => {
  recv = await startReceiver();
});
afterAll(async () => {
  await recv?.close();
});

/** `hashall ARGS` as a process of its own (never spawnSync: the receiver answering its notices runs in this process). */
function hashall(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...node, 'src/cli/bin.ts', ...args], { cwd: repo, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => {
    const limit = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => {
      clearTimeout(limit);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Payload {
  event: string;
  title: string;
  message: string;
  runId: string | null;
  lock?: { runId: string | null; pid: number | null; host: string | null; command: string | null; since: string | null; refusedRuns: number; refusedSince: string };
}
const failed = (): Payload[] => recv.to('json').map((r) => JSON.parse(r.body) as Payload).filter((p) => p.event === 'failed');

describe('the apply lock held across separate runs (cron, systemd timer)', () => {
  it('3 refused runs in a row by one frozen holder: one `failed` notice naming it; a 4th and 5th: none; after the holder ends, a run that takes the lock resets the streak', async () => {
    const w = makeApplyFixture();
    let childPid: number | undefined;
    try {
      const src = path.join(w.stash, 'seeding', 'movies', 'S');
      writeTree(src, { 'a.bin': bytesFor('sa', 200_000) });
      const dst = path.join(w.pool, 'seeding', 'movies', 'S');
      mkdirSync(path.join(w.pool, 'seeding'));
      const cfgFile = path.join(w.root, 'config.json');
      const planFile = path.join(w.root, 'plan.json');
      writeFileSync(cfgFile, JSON.stringify(w.config));
      writeFileSync(planFile, JSON.stringify(makePlan(w, [moveGroup('g1', w, src, dst)])));
      const yaml = writeFixtureConfig(w, ['notify:', `  - { name: hook, format: json, url: "${recv.url}/json", events: [failed, applied, needs-attention] }`]);

      // The holder: a real apply, frozen right after its 3rd journal write (inside the group, the lock held) — as a run
      // stuck in uninterruptible disk sleep or stopped by a person would be.
      const child = spawn(process.execPath, [...node, 'test/support/apply-child.ts', cfgFile, planFile], {
        cwd: repo,
        env: { ...process.env, HASHALL_TEST_CRASH_AT: '3', HASHALL_TEST_CRASH_SIGNAL: 'SIGSTOP' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      childPid = child.pid!;
      let childOut = '';
      child.stdout.on('data', (d: Buffer) => (childOut += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      for (let i = 0; i < 600 && procState(childPid) !== 'T'; i++) await new Promise((r) => setTimeout(r, 50));
      expect(procState(childPid)).toBe('T');
      const holder = readLock(w.catalog.db)!;
      expect(holder.pid).toBe(childPid);

      // Runs 1 and 2 (separate processes, as cron starts them): exit 4, nobody told yet.
      for (const n of [1, 2]) {
        const r = await hashall(['reconcile', '--once', '--log', 'ndjson', '--config', yaml]);
        expect(r.code, `run ${n}: ${r.stderr}`).toBe(4);
        expect(r.stderr).toContain(holder.runId);
        expect(failed(), `run ${n}`).toEqual([]);
      }
      // Run 3: exactly one `failed` notice, naming the holder and what to do.
      const third = await hashall(['reconcile', '--once', '--log', 'ndjson', '--config', yaml]);
      expect(third.code, third.stderr).toBe(4);
      expect(failed()).toHaveLength(1);
      // The streak is hashall's private state beside the catalog (as the README names it): 0600, of the user hashall runs as.
      const streakFile = `${w.config.catalog}.lock-streak`;
      expect(lstatSync(streakFile, { throwIfNoEntry: false })?.mode, 'the streak file').toBe(0o100600);
      const notice = failed()[0]!;
      expect(notice.title).toBe(`hashall on ${os.hostname()}: reconcile failed`);
      expect(notice.message).toContain(`run ${holder.runId} (pid ${childPid} on ${holder.host}`);
      expect(notice.message).toContain(`since ${new Date(holder.startedAt).toISOString()}`);
      expect(notice.message).toMatch(/3 runs in a row/);
      expect(notice.message).toContain('hashall doctor');
      expect(notice.lock).toMatchObject({ runId: holder.runId, pid: childPid, host: holder.host, refusedRuns: 3, since: new Date(holder.startedAt).toISOString() });
      const ajv = new Ajv({ allErrors: true, strict: true });
      (addFormats as unknown as (a: Ajv) => void)(ajv);
      const valid = ajv.compile(JSON.parse(readFileSync(path.join(repo, 'schemas/notification.schema.json'), 'utf8')) as object);
      expect(valid(notice), JSON.stringify(valid.errors)).toBe(true);

      // Run 4 (reconcile) and 5 (a cron `apply`): still refused, not told again — the same holder.
      const fourth = await hashall(['reconcile', '--once', '--log', 'ndjson', '--config', yaml]);
      expect(fourth.code, fourth.stderr).toBe(4);
      // Cron mails stderr: past the threshold the refusal says what to do, not "wait".
      expect(fourth.stderr).toMatch(new RegExp(`4 runs in a row were refused by it: .*kill -CONT ${childPid}`));
      const fifth = await hashall(['apply', '--auto-approve', '--json', '--config', yaml]);
      expect(fifth.code, fifth.stderr).toBe(4);
      expect(failed()).toHaveLength(1);

      // doctor: the held lock's age and the streak.
      const doc = await hashall(['doctor', '--json', '--no-notify', '--config', yaml]);
      const lock = (JSON.parse(doc.stdout) as DoctorReport).checks.find((c) => c.id === 'lock')!;
      expect(lock.detail).toMatch(/held by a live run/);
      expect(lock.detail).toMatch(/held for (<1m|\d)/);
      expect(lock.detail).toMatch(/5 runs in a row were refused/);
      expect(lock.status).toBe('problem');
      expect(lock.fix).toMatch(/kill -CONT|hung|stopped/);

      // The holder goes on and ends; the next run takes the lock: the streak is over.
      process.kill(childPid, 'SIGCONT');
      expect(await exited).toBe(0);
      expect(JSON.parse(childOut).status).toBe('succeeded');
      const ok = await hashall(['reconcile', '--once', '--log', 'ndjson', '--config', yaml]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(existsSync(streakFile)).toBe(false);
      const after = await hashall(['doctor', '--json', '--no-notify', '--config', yaml]);
      const free = (JSON.parse(after.stdout) as DoctorReport).checks.find((c) => c.id === 'lock')!;
      expect(free).toMatchObject({ status: 'ok', detail: 'free' });
      expect(failed()).toHaveLength(1);
    } finally {
      // Never leave our frozen child behind if an assertion failed before it was let go.
      killStray(childPid);
      w.cleanup();
    }
  }, 600_000);
});
