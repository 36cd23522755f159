// The global lock (exit 4, stale detection by the lock file and the pid, unlock) and stale saved plans (exit 5), in-process and through the CLI.
import { singleClient } from '../../../src/clients/client-set.js';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, linkSync, lstatSync, mkdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireLock, holderLiveness, lockFileOf, probeKernelLock, processStartTime, readLock, unlockRun } from '../../../src/apply/lock.js';
import { runApply } from '../../../src/reconcile/apply.js';
import { preflight } from '../../../src/apply/preflight.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { listRuns } from '../../../src/apply/run-store.js';
import { ExitCode } from '../../../src/errors.js';
import { runCli } from '../../support/cli.js';
import { plantLockRecord } from '../../support/lock-record.js';
import { bytesFor, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeTree, writeFixtureConfig, type ApplyFixture } from '../../support/apply-fixture.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function world() {
  w = makeApplyFixture();
  const src = path.join(w.stash, 'seeding', 'movies', 'L');
  writeTree(src, { 'a.bin': bytesFor('la', 10_000) });
  return { src, dst: path.join(w.pool, 'seeding', 'movies', 'L') };
}

const host = os.hostname();
const common = () => ({ config: w.config, clients: singleClient(null), now: () => Date.now(), emit: () => undefined, catalog: w.catalog });

describe('lock', () => {
  it('a second apply while a live run holds the lock exits 4 naming the holder, and changes nothing', async () => {
    const { src, dst } = world();
    const { held } = acquireLock(w.catalog.db, { runId: 'run-live', pid: process.pid, pidStart: null, host, command: 'hashall apply other.json', startedAt: 1 }, { takeOverStale: true });
    const err = await runApply({ ...common(), plan: makePlan(w, [moveGroup('g1', w, src, dst)]), planFile: null, planHash: null, command: 'second' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: ExitCode.LockHeld });
    expect(String((err as Error).message)).toMatch(/run-live \(pid \d+ on .*hashall apply other\.json/);
    expect(existsSync(dst)).toBe(false);
    expect(listRuns(w.catalog.db)).toHaveLength(0);
    expect(readLock(w.catalog.db)?.runId).toBe('run-live');
    // unlock refuses a live holder, and a wrong run id
    expect(() => unlockRun(w.catalog.db, 'run-live', { host, force: false })).toThrow(/still running/);
    // Its process holds the kernel lock: proven alive, so not even --force clears it (that would only hide who runs).
    expect(() => unlockRun(w.catalog.db, 'run-live', { host, force: true })).toThrow(/still running \(its process holds the lock file\)/);
    expect(() => unlockRun(w.catalog.db, 'run-other', { host, force: false })).toThrow(/not by run run-other/);
    held.release();
    held.release(); // twice is harmless
    expect(readLock(w.catalog.db)).toBeNull();
  });

  it('a lock whose pid is dead is stale: reported, cleared by `unlock RUN_ID`, and taken over by apply', async () => {
    world();
    const pid = deadPid();
    plantLockRecord(w.catalog.db, { runId: 'run-dead', pid, pidStart: null, host, command: 'hashall apply x', startedAt: 1 });
    const holder = readLock(w.catalog.db)!;
    expect(holderLiveness(w.catalog.db, holder, host).state).toBe('gone');
    // Whatever host name it recorded: no process holds the lock file, so none is running that run.
    expect(holderLiveness(w.catalog.db, holder, 'another-host')).toEqual({ state: 'gone', why: 'no process holds the lock file' });
    expect(() => acquireLock(w.catalog.db, { runId: 'me', pid: process.pid, pidStart: null, host, command: 'c', startedAt: 2 }, { takeOverStale: false })).toThrow(/STALE/);
    expect(unlockRun(w.catalog.db, 'run-dead', { host, force: false }).runId).toBe('run-dead');
    expect(readLock(w.catalog.db)).toBeNull();
  });

  it('a record of another host whose process holds no lock file is taken over, and its run recovered (a container re-created under a new host name)', async () => {
    const { src, dst } = world();
    plantLockRecord(w.catalog.db, { runId: 'run-old', pid: 1, pidStart: '4242', host: 'container-old', command: 'hashall reconcile', startedAt: 1 });
    const lines: string[] = [];
    const out = await runApply({ ...common(), plan: makePlan(w, [moveGroup('g1', w, src, dst)]), planFile: null, planHash: null, command: 'next', log: (l) => lines.push(l) });
    expect(out.result.status).toBe('succeeded');
    expect(lines.join('\n')).toMatch(/stale lock of run run-old \(pid 1 on container-old, `hashall reconcile`/);
    expect(readLock(w.catalog.db)).toBeNull();
  });

  it('a live pid on this host that took no lock file (an older hashall still running through an upgrade) still holds the lock', async () => {
    const { src, dst } = world();
    const me = { runId: 'run-older', pid: process.pid, pidStart: processStartTime(process.pid), host, command: 'hashall apply (older version)', startedAt: 1 };
    plantLockRecord(w.catalog.db, me);
    expect(holderLiveness(w.catalog.db, me, host)).toEqual({ state: 'live', proof: 'pid', why: `pid ${process.pid} is running on this host` });
    const err = await runApply({ ...common(), plan: makePlan(w, [moveGroup('g1', w, src, dst)]), planFile: null, planHash: null, command: 'next' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: ExitCode.LockHeld, message: expect.not.stringMatching(/STALE/) });
    expect(existsSync(dst)).toBe(false);
    expect(() => unlockRun(w.catalog.db, 'run-older', { host, force: false })).toThrow(/still running \(pid \d+ is running on this host\)/);
    expect(unlockRun(w.catalog.db, 'run-older', { host, force: true }).runId).toBe('run-older'); // the pid may be another program's now
  });

  it('the lock file: empty, 0600, beside the catalog; held without a record it still keeps others out; not hashall\'s: refused', () => {
    world();
    const file = lockFileOf(w.catalog.db);
    expect(file).toBe(`${w.config.catalog}.lock`);
    const { held } = acquireLock(w.catalog.db, { runId: 'run-a', pid: process.pid, pidStart: null, host, command: 'a', startedAt: 1 }, { takeOverStale: true });
    const st = lstatSync(file);
    expect([st.isFile(), st.size, st.mode & 0o777]).toEqual([true, 0, 0o600]);
    expect(probeKernelLock(file)).toBe('held');
    w.catalog.db.prepare(`DELETE FROM apply_lock`).run(); // as `unlock --force` of an older hashall could
    expect(() => acquireLock(w.catalog.db, { runId: 'run-b', pid: process.pid, pidStart: null, host, command: 'b', startedAt: 2 }, { takeOverStale: true })).toThrow(/has not recorded itself yet/);
    held.release();
    expect(probeKernelLock(file)).toBe('free');
    const again = acquireLock(w.catalog.db, { runId: 'run-b', pid: process.pid, pidStart: null, host, command: 'b', startedAt: 2 }, { takeOverStale: true });
    again.held.release();
    unlinkSync(file);
    symlinkSync(path.join(w.root, 'elsewhere'), file);
    expect(() => acquireLock(w.catalog.db, { runId: 'run-c', pid: process.pid, pidStart: null, host, command: 'c', startedAt: 3 }, { takeOverStale: true })).toThrow(/is not hashall's \(not a regular file\)/);
    expect(readLock(w.catalog.db)).toBeNull();
  });

  it('through the CLI: apply with the lock held exits 4; runs/runs show/unlock work; a stale plan exits 5', async () => {
    const { src, dst } = world();
    const cfg = writeFixtureConfig(w);
    const check = await runCli(['validate', '--config', cfg]);
    expect(check.code, check.stderr + check.stdout).toBe(0);
    const loaded = (await import('../../../src/config/load.js')).loadConfig(cfg, { env: {}, cwd: w.root }).config;
    w.config = loaded;
    const planFile = path.join(w.root, 'plan.json');
    writeFileSync(planFile, JSON.stringify(makePlan(w, [moveGroup('g1', w, src, dst)])));

    const { held } = acquireLock(w.catalog.db, { runId: 'run-live', pid: process.pid, pidStart: null, host, command: 'hashall apply busy.json', startedAt: 1 }, { takeOverStale: true });
    const locked = await runCli(['apply', planFile, '--config', cfg]);
    expect(locked.code).toBe(4);
    expect(locked.stderr).toMatch(/run-live/);
    held.release();

    const ok = await runCli(['apply', planFile, '--config', cfg, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    // Config warnings come first (they are also on stderr); then the run's events.
    const events = ok.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string; runId: string }).filter((e) => e.type !== 'warning');
    expect(events[0]!.type).toBe('run-start');
    expect(events.at(-1)).toMatchObject({ type: 'run-done', status: 'succeeded' });
    expect(hashTreeSync(dst)).toEqual(hashTreeSync(src));

    // The same plan again: the catalog serial moved on → stale (exit 5), nothing done.
    const again = await runCli(['apply', planFile, '--config', cfg]);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/stale/);

    const runs = await runCli(['runs', '--json', '--config', cfg]);
    expect(runs.code).toBe(0);
    const list = JSON.parse(runs.stdout) as { runs: { id: string; status: string }[] };
    expect(list.runs.map((r) => r.status)).toEqual(['succeeded']);
    const show = await runCli(['runs', 'show', events[0]!.runId, '--config', cfg]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/step 0 copy: done/);
    const detail = JSON.parse((await runCli(['runs', 'show', events[0]!.runId, '--json', '--config', cfg])).stdout) as { notes: string[]; groupRecords: { reasons: string[] }[] };
    // The catalog was refreshed under the new target by the scanner (no "catalog not refreshed" note).
    expect([...detail.notes, ...detail.groupRecords[0]!.reasons].join('\n')).not.toMatch(/not refreshed/);
    const scanned = w.catalog.db.prepare(`SELECT COUNT(*) AS n FROM files WHERE status = 'active'`).get() as { n: number };
    expect(scanned.n).toBeGreaterThanOrEqual(1);
    const missing = await runCli(['runs', 'show', 'nope', '--config', cfg]);
    expect(missing.code).toBe(1);

    const pid = deadPid();
    plantLockRecord(w.catalog.db, { runId: 'run-dead', pid, pidStart: null, host, command: 'x', startedAt: 1 });
    const un = await runCli(['unlock', 'run-dead', '--config', cfg]);
    expect(un.code, un.stderr).toBe(0);
    expect(un.stdout).toBe(`unlocked: run run-dead (pid ${pid} on ${host}, \`x\`, since 1970-01-01T00:00:00.001Z)\n`);
    expect(un.stderr).toBe('hashall: the next `hashall apply` (or `hashall recover`) rolls back whatever that run left half done\n');
    // --json: the holder cleared, as one document; a crafted command line is shown escaped in the text, exact in JSON.
    plantLockRecord(w.catalog.db, { runId: 'run-dead', pid, pidStart: null, host, command: 'x\n\x1b[2Jforged', startedAt: 1 });
    const unJson = await runCli(['unlock', 'run-dead', '--json', '--config', cfg]);
    expect(unJson.code, unJson.stderr).toBe(0);
    expect(JSON.parse(unJson.stdout)).toEqual({ unlocked: { runId: 'run-dead', pid, host, command: 'x\n\x1b[2Jforged', startedAt: '1970-01-01T00:00:00.001Z' } });
    plantLockRecord(w.catalog.db, { runId: 'run-dead', pid, pidStart: null, host, command: 'x\n\x1b[2Jforged', startedAt: 1 });
    const unText = await runCli(['unlock', 'run-dead', '--config', cfg]);
    expect(unText.stdout).toBe(`unlocked: run run-dead (pid ${pid} on ${host}, \`x\\n\\x1b[2Jforged\`, since 1970-01-01T00:00:00.001Z)\n`);
    const rec = await runCli(['recover', '--config', cfg]);
    expect(rec.code, rec.stderr).toBe(0);
    expect(rec.stdout).toMatch(/nothing to recover/);
  });
});

describe('stale plans (exit 5)', () => {
  it('a plan file applied a second time says which run applied it (on the real CLI it said only "the catalog changed since planning")', async () => {
    const { src, dst } = world();
    const plan = makePlan(w, [moveGroup('g1', w, src, dst)]);
    const first = await runApply({ ...common(), plan, planFile: '/srv/plans/p.json', planHash: 'a'.repeat(64), command: 'hashall apply p.json', runId: 'run-first' });
    expect(first.result.status).toBe('succeeded');
    const again = await runApply({ ...common(), plan, planFile: '/srv/plans/p.json', planHash: 'a'.repeat(64), command: 'hashall apply p.json' }).catch((e: unknown) => e);
    expect(again).toMatchObject({ exitCode: 5 });
    expect(String((again as Error).message)).toMatch(/^saved plan is stale:\n {2}- .*\n {2}\(this plan file was applied already: run run-first, succeeded, ended \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/s);
    expect((again as { hint?: string }).hint).toBe('`hashall runs show run-first` says what it did; `hashall plan` shows what is left to do now');
    // Another plan file that is stale: no such line.
    const other = await runApply({ ...common(), plan, planFile: '/srv/plans/q.json', planHash: 'b'.repeat(64), command: 'hashall apply q.json' }).catch((e: unknown) => e);
    expect(other).toMatchObject({ exitCode: 5 });
    expect(String((other as Error).message)).not.toMatch(/applied already/);
  });

  it('refuses when a fingerprinted file changed, the config changed, or the catalog is another one', async () => {
    const { src, dst } = world();
    const plan = makePlan(w, [moveGroup('g1', w, src, dst)]);
    const deps = { catalog: w.catalog, config: w.config, clients: singleClient(null), fs: realFsPort() };
    await expect(preflight(plan, deps)).resolves.toBeUndefined();
    await expect(preflight({ ...plan, configHash: 'other' }, deps)).rejects.toMatchObject({ exitCode: 5, message: expect.stringContaining(`${w.config.configPath} changed since planning`) });
    // Applied with another config file than the plan's own (`apply -c other.yaml plan.json`): both named, and what to do.
    const elsewhere = '/srv/hashall/other.yaml';
    await expect(preflight({ ...plan, configPath: elsewhere, configHash: 'other' }, deps)).rejects.toMatchObject({
      exitCode: 5,
      message: expect.stringContaining(`the plan was made with ${elsewhere}; this apply reads ${w.config.configPath}, another config (apply the plan with \`--config ${elsewhere}\`, or plan again with this one)`),
    });
    await expect(preflight({ ...plan, catalog: { lineage: 'x', serial: 0 } }, deps)).rejects.toThrow(/another catalog/);
    appendFileSync(path.join(src, 'a.bin'), 'x');
    await expect(preflight(plan, deps)).rejects.toThrow(/a\.bin changed/);
    const err = await runApply({ ...common(), plan, planFile: null, planHash: null, command: 'stale' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 5 });
    expect(existsSync(dst)).toBe(false);
    expect(readLock(w.catalog.db)).toBeNull(); // the lock is released after a refusal
  });

  it('refuses when a fingerprinted file gained a hardlink since planning (a new external consumer), touching nothing', async () => {
    const { src, dst } = world();
    const plan = makePlan(w, [moveGroup('g1', w, src, dst)]);
    expect(plan.groups[0]!.fingerprint.files[0]).toMatchObject({ nlink: 1 });
    const deps = { catalog: w.catalog, config: w.config, clients: singleClient(null), fs: realFsPort() };
    await expect(preflight(plan, deps)).resolves.toBeUndefined();
    const lib = path.join(w.stash, 'movies');
    mkdirSync(lib, { recursive: true });
    linkSync(path.join(src, 'a.bin'), path.join(lib, 'L.bin')); // same inode, size and mtime: only the link count tells
    const before = hashTreeSync(src);
    await expect(preflight(plan, deps)).rejects.toMatchObject({ exitCode: 5, message: expect.stringMatching(/a\.bin now has 2 link\(s\), planned with 1/) });
    const err = await runApply({ ...common(), plan, planFile: null, planHash: null, command: 'stale' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 5 });
    expect(existsSync(dst)).toBe(false);
    expect(hashTreeSync(src)).toEqual(before);
  });
});
