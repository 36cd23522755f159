// The streak of runs refused by a held lock (src/apply/lock-streak.ts): counted per holder by every refusal, ended by
// every run that takes the lock, never by a lock whose process is gone; its file private, never followed, never trusted.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import os from 'node:os';
import path from 'node:path';
import { acquireLock, LockRefusedError, type LockHolder } from '../../../src/apply/lock.js';
import { countRefusal, lockStreakFileOf, markStreakNotified, readLockStreak, resetLockStreak } from '../../../src/apply/lock-streak.js';
import { LockHeldError } from '../../../src/errors.js';
import { plantLockRecord } from '../../support/lock-record.js';
import { makeApplyFixture, type ApplyFixture } from '../../support/apply-fixture.js';

const host = os.hostname();
const holder = (runId: string): LockHolder => ({ runId, pid: 4242, pidStart: null, host, command: `hashall apply ${runId}`, startedAt: 1_000 });

let dir: string | null = null;
let w: ApplyFixture | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
  w?.cleanup();
  w = null;
});
function files() {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hashall-streak-'));
  return { streak: path.join(dir, 'catalog.db.lock-streak'), lock: path.join(dir, 'catalog.db.lock') };
}

describe('the streak file', () => {
  it('counts refusals by one holder; another holder starts again at one; notified is noted only for the streak it was about', () => {
    const f = files();
    expect(countRefusal(f, holder('A'), 10).streak).toMatchObject({ count: 1, firstAt: 10, lastAt: 10, notifiedAt: null });
    const second = countRefusal(f, holder('A'), 20).streak!;
    expect(second).toMatchObject({ count: 2, firstAt: 10, lastAt: 20, holder: { runId: 'A', pid: 4242, host, startedAt: 1_000 } });
    markStreakNotified(f.streak, second, 25);
    expect(countRefusal(f, holder('A'), 30).streak).toMatchObject({ count: 3, notifiedAt: 25 });
    // The lock changed hands: a new streak, not yet told; a late note about the old one leaves it alone.
    expect(countRefusal(f, holder('B'), 40).streak).toMatchObject({ count: 1, firstAt: 40, notifiedAt: null, holder: { runId: 'B' } });
    markStreakNotified(f.streak, second, 45);
    expect(readLockStreak(f.streak)).toMatchObject({ holder: { runId: 'B' }, notifiedAt: null });
    // Processes holding the lock file without a record are one holder.
    expect(countRefusal(f, null, 50).streak).toMatchObject({ count: 1, holder: { runId: null, pid: null } });
    expect(countRefusal(f, null, 60).streak).toMatchObject({ count: 2 });
    expect(lstatSync(f.streak).mode & 0o7777).toBe(0o600);
    resetLockStreak(f.streak);
    expect(readLockStreak(f.streak)).toBeNull();
    resetLockStreak(f.streak); // none: nothing to do
  });

  it('a symlink, a fifo or a file that is not a streak in its place is never followed or trusted: counted afresh', () => {
    const f = files();
    const victim = path.join(dir!, 'victim');
    writeFileSync(victim, JSON.stringify({ formatVersion: 1, holder: holder('A'), count: 7, firstAt: 1, lastAt: 2, notifiedAt: null }));
    const before = readFileSync(victim, 'utf8');
    symlinkSync(victim, f.streak);
    expect(readLockStreak(f.streak)).toBeNull();
    expect(countRefusal(f, holder('A'), 10).streak).toMatchObject({ count: 1 });
    expect(readFileSync(victim, 'utf8')).toBe(before);
    expect(lstatSync(f.streak).isFile()).toBe(true);

    rmSync(f.streak);
    expect(spawnSync('mkfifo', [f.streak]).status).toBe(0);
    expect(readLockStreak(f.streak)).toBeNull(); // returns: a fifo without a writer cannot hang it
    expect(countRefusal(f, holder('A'), 10).streak).toMatchObject({ count: 1 });

    for (const junk of ['', 'not json', '{"formatVersion":2}', JSON.stringify({ formatVersion: 1, holder: holder('A'), count: 0, firstAt: 1, lastAt: 1, notifiedAt: null })]) {
      writeFileSync(f.streak, junk);
      expect(readLockStreak(f.streak), junk).toBeNull();
      expect(countRefusal(f, holder('A'), 10).streak, junk).toMatchObject({ count: 1 });
    }
  });

  it('a streak that cannot be written is said, never thrown', () => {
    const f = files();
    mkdirSync(f.streak);
    const r = countRefusal(f, holder('A'), 10);
    expect(r.streak).toBeNull();
    expect(r.error).toContain(f.streak);
  });
});

describe('the streak file against a killed writer and a concurrent refusal', () => {
  /** A child process that counts `n` refusals by holder A in `f` (TypeScript through the test loader). */
  const counter = (f: { streak: string; lock: string }, n: number) =>
    spawn(
      process.execPath,
      [
        '--import',
        './test/support/ts-register.mjs',
        '--input-type=module',
        '-e',
        `import { countRefusal } from ${JSON.stringify(path.resolve('src/apply/lock-streak.ts'))};
         const f = ${JSON.stringify(f)};
         const out = [];
         for (let i = 0; i < ${n}; i++) out.push(countRefusal(f, { runId: 'A', pid: 4242, pidStart: null, host: 'h', command: 'c', startedAt: 1 }, Date.now()));
         process.stdout.write(JSON.stringify(out.map((r) => r.error ?? r.streak.count)));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
  const outputOf = (child: ReturnType<typeof counter>): Promise<(number | string)[]> =>
    new Promise((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as (number | string)[]) : reject(new Error(`counter exited ${code}`))));
    });

  it('a temp file of a streak write killed between write and rename is swept by the next count; what only looks like one (a symlink, a folder, another name, a second link) stays, never followed', () => {
    const f = files();
    const killed = `${f.streak}.${process.pid + 1}-0123abcd.tmp`;
    writeFileSync(killed, JSON.stringify({ formatVersion: 1, holder: holder('A'), count: 1, firstAt: 1, lastAt: 1, notifiedAt: null }) + '\n', { mode: 0o600 });
    const victim = path.join(dir!, 'victim');
    writeFileSync(victim, 'not hashall\'s');
    const link = `${f.streak}.77-deadbeef.tmp`;
    symlinkSync(victim, link);
    const folder = `${f.streak}.78-deadbeef.tmp`;
    mkdirSync(folder);
    const other = `${f.streak}.79-deadbeef.tmp.keep`;
    writeFileSync(other, 'x');
    const second = `${f.streak}.80-deadbeef.tmp`;
    linkSync(victim, second);
    expect(countRefusal(f, holder('A'), 10).streak).toMatchObject({ count: 1 });
    expect(existsSync(killed)).toBe(false);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(lstatSync(folder).isDirectory()).toBe(true);
    expect(readFileSync(other, 'utf8')).toBe('x');
    expect(readFileSync(second, 'utf8')).toBe("not hashall's");
    expect(readFileSync(victim, 'utf8')).toBe("not hashall's");
    // The run that takes the lock sweeps them too (it ends the streak).
    writeFileSync(killed, '{}');
    resetLockStreak(f.streak);
    expect(existsSync(killed)).toBe(false);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('a count is made one at a time: none is made while another process is in the middle of one (its read, change and rename), and concurrent refusals lose none', async () => {
    const f = files();
    expect(countRefusal(f, holder('A'), 10).streak).toMatchObject({ count: 1 });
    // This process in the middle of a count: it holds the guard a count takes.
    const guard = new Database(`${f.streak}.guard`, { fileMustExist: true, timeout: 0 });
    guard.exec('BEGIN EXCLUSIVE');
    let blocked: (number | string)[];
    try {
      blocked = await outputOf(counter(f, 1));
    } finally {
      guard.close();
    }
    expect(blocked[0]).toMatch(/another hashall process .* counting/);
    expect(readLockStreak(f.streak)).toMatchObject({ count: 1 });
    // Four processes counting 30 refusals each at once: every one counted (without the guard, 90 of 120 were).
    const all = await Promise.all([1, 2, 3, 4].map(() => outputOf(counter(f, 30))));
    expect(all.flat().filter((x) => typeof x !== 'number')).toEqual([]);
    expect(readLockStreak(f.streak)).toMatchObject({ count: 121 });
    expect(new Set(all.flat()).size).toBe(120);
  });
});

describe('the streak and the lock', () => {
  it('each refusal by a live holder counts, a lock whose process is gone does not, the run that takes the lock ends the streak', () => {
    w = makeApplyFixture();
    const db = w.catalog.db;
    const me = (runId: string): LockHolder => ({ runId, pid: process.pid, pidStart: null, host, command: runId, startedAt: Date.now() });
    const { held } = acquireLock(db, me('run-holder'), { takeOverStale: true });
    const refusals: LockRefusedError[] = [];
    for (const n of [1, 2, 3]) {
      const err = (() => {
        try {
          acquireLock(db, me(`run-refused-${n}`), { takeOverStale: true });
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err).toBeInstanceOf(LockRefusedError);
      refusals.push(err as LockRefusedError);
    }
    expect(refusals.map((e) => e.refusal.streak?.count)).toEqual([1, 2, 3]);
    expect(refusals[2]!.holder?.runId).toBe('run-holder');
    expect(refusals[0]!.hint).toMatch(/wait for it to finish/);
    expect(refusals[2]!.hint).toMatch(/3 runs in a row were refused by it: .*kill -CONT/);
    held.release();

    // Its process gone (a record, no lock file held): never counted — the next apply takes it over.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    plantLockRecord(db, { runId: 'run-dead', pid: Number(dead.stdout), pidStart: null, host, command: 'gone', startedAt: 1 });
    const stale = (() => {
      try {
        acquireLock(db, me('run-trash'), { takeOverStale: false });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(stale).toBeInstanceOf(LockHeldError);
    expect(stale).not.toBeInstanceOf(LockRefusedError);
    expect(readLockStreak(lockStreakFileOf(db))).toMatchObject({ count: 3, holder: { runId: 'run-holder' } });

    const taken = acquireLock(db, me('run-next'), { takeOverStale: true });
    expect(readLockStreak(lockStreakFileOf(db))).toBeNull();
    taken.held.release();
  });
});
