// The streak of runs refused by a held lock (src/apply/lock-streak.ts): counted per holder by every refusal, ended by
// every run that takes the lock, never by a lock whose process is gone; its file private, never followed, never trusted.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
