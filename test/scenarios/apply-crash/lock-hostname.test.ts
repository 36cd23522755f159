// The apply lock across host names (a container re-created after a crash gets a new one): an apply SIGKILLed under
// host name container-old is taken over, and its run recovered, by `reconcile --once` under container-new; a live
// (frozen) apply under container-old is not. Each process runs in a UTS namespace of its own (`unshare -u`).
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { procState } from '../../../src/sandbox/owned-process.js';
import { killStray } from '../../support/stray-child.js';
import { readLock } from '../../../src/apply/lock.js';
import { getRun } from '../../../src/apply/run-store.js';
import type { DoctorReport } from '../../../src/doctor/checks.js';
import { runCli } from '../../support/cli.js';
import { bytesFor, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeFixtureConfig, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const node = ['--import', './test/support/ts-register.mjs'];

/** `node ARGS` under host name `host`, in a UTS namespace of its own (the machine's host name is untouched). */
function underHost(host: string, args: string[]): [string, string[]] {
  return ['unshare', ['-u', 'sh', '-c', 'hostname "$0" && exec "$@"', host, process.execPath, ...node, ...args]];
}


/** A move group in flight: its source, target, the plan and config files an apply child reads, and a hashall.yaml. */
function world(w: ApplyFixture) {
  const src = path.join(w.stash, 'seeding', 'movies', 'H');
  writeTree(src, { 'a.bin': bytesFor('ha', 300_000), 'd/b.bin': bytesFor('hb', 20_000) });
  const dst = path.join(w.pool, 'seeding', 'movies', 'H');
  mkdirSync(path.join(w.pool, 'seeding')); // the pool's seeding root exists (a scan of a missing root fails)
  const cfgFile = path.join(w.root, 'config.json');
  const planFile = path.join(w.root, 'plan.json');
  writeFileSync(cfgFile, JSON.stringify(w.config));
  writeFileSync(planFile, JSON.stringify(makePlan(w, [moveGroup('g1', w, src, dst)])));
  return { src, dst, before: hashTreeSync(src), cfgFile, planFile, yaml: writeFixtureConfig(w) };
}

async function doctorLock(yaml: string, w: ApplyFixture) {
  const r = await runCli(['doctor', '--json', '--config', yaml], { cwd: w.root });
  return (JSON.parse(r.stdout) as DoctorReport).checks.find((c) => c.id === 'lock')!;
}

describe('the apply lock when the host name changed', () => {
  it('an apply SIGKILLed under one host name is taken over under another: its run is recovered, the lock cleared', async () => {
    const w = makeApplyFixture();
    try {
      const { src, dst, before, cfgFile, planFile, yaml } = world(w);
      // Killed right after its 3rd journal write: inside the group, the lock held, the copy begun.
      const [cmd, args] = underHost('container-old', ['test/support/apply-child.ts', cfgFile, planFile]);
      const crashed = spawnSync(cmd, args, { cwd: repo, env: { ...process.env, HASHALL_TEST_CRASH_AT: '3' }, encoding: 'utf8', timeout: 60_000 });
      expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
      const holder = readLock(w.catalog.db)!;
      expect(holder.host).toBe('container-old');
      expect(getRun(w.catalog.db, holder.runId)!.status).toBe('running');

      // doctor (this machine's host name is neither) cannot be told the run is alive: it is not.
      const lock = await doctorLock(yaml, w);
      expect(lock.status).toBe('problem');
      expect(lock.detail).toMatch(/process is gone/);
      expect(lock.detail).not.toMatch(/live/);

      const [rcmd, rargs] = underHost('container-new', ['src/cli/bin.ts', 'reconcile', '--once', '--config', yaml]);
      const rec = spawnSync(rcmd, rargs, { cwd: repo, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 120_000 });
      expect(rec.status, rec.stderr).toBe(0);
      expect(rec.stderr).toMatch(new RegExp(`stale lock of run ${holder.runId} \\(pid ${holder.pid} on container-old`));
      expect(readLock(w.catalog.db)).toBeNull();
      const run = getRun(w.catalog.db, holder.runId)!;
      expect(run.status).toBe('recovered');
      expect(run.groupRecords[0]!.status).toBe('rolled-back');
      expect(existsSync(dst)).toBe(false);
      expect(hashallLeftovers(w.pool)).toEqual([]);
      expect(hashTreeSync(src)).toEqual(before);
    } finally {
      w.cleanup();
    }
  }, 180_000);

  it('a live apply under another host name is never taken over: exit 4 naming it, doctor says live, unlock refuses', async () => {
    const w = makeApplyFixture();
    let childPid: number | undefined;
    try {
      const { src, dst, before, cfgFile, planFile, yaml } = world(w);
      // Frozen (SIGSTOP) right after its 3rd journal write, inside the group, holding the lock.
      const [cmd, args] = underHost('container-old', ['test/support/apply-child.ts', cfgFile, planFile]);
      const child = spawn(cmd, args, { cwd: repo, env: { ...process.env, HASHALL_TEST_CRASH_AT: '3', HASHALL_TEST_CRASH_SIGNAL: 'SIGSTOP' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // `exec` keeps the pid: the child is the apply itself.
      childPid = child.pid!;
      for (let i = 0; i < 600 && procState(childPid) !== 'T'; i++) await new Promise((r) => setTimeout(r, 50));
      expect(procState(childPid)).toBe('T');
      const holder = readLock(w.catalog.db)!;
      expect(holder.host).toBe('container-old');

      const [rcmd, rargs] = underHost('container-new', ['src/cli/bin.ts', 'reconcile', '--once', '--config', yaml]);
      const rec = spawnSync(rcmd, rargs, { cwd: repo, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 120_000 });
      expect(rec.status, rec.stderr).toBe(4);
      expect(rec.stderr).toContain(holder.runId);
      expect(rec.stderr).not.toMatch(/stale/i);
      expect(readLock(w.catalog.db)?.runId).toBe(holder.runId);
      expect(getRun(w.catalog.db, holder.runId)!.status).toBe('running');

      const lock = await doctorLock(yaml, w);
      expect(lock.status).toBe('warn');
      expect(lock.detail).toMatch(/held by a live run/);
      const un = await runCli(['unlock', holder.runId, '--config', yaml], { cwd: w.root });
      expect(un.code).toBe(4);
      expect(readLock(w.catalog.db)?.runId).toBe(holder.runId);

      process.kill(childPid, 'SIGCONT');
      expect(await exited).toBe(0);
      expect(JSON.parse(out).status).toBe('succeeded');
      expect(readLock(w.catalog.db)).toBeNull();
      expect(hashTreeSync(dst)).toEqual(before);
      expect(hashTreeSync(src)).toEqual(before);
    } finally {
      // Never leave our frozen child behind if an assertion failed before it was let go.
      killStray(childPid);
      w.cleanup();
    }
  }, 180_000);
});
