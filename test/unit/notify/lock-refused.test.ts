// A lock that stays held is told once per streak: at the third run refused by one holder, not at the fourth; a target
// that failed means the next refused run tells again; a new holder is a new streak (a local HTTP receiver, real files).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { LockRefusedError, type LockHolder } from '../../../src/apply/lock.js';
import { countRefusal, readLockStreak } from '../../../src/apply/lock-streak.js';
import { makeSecret } from '../../../src/config/normalize.js';
import type { HashallConfig, NotifyTarget } from '../../../src/config/types.js';
import { notifyLockRefused } from '../../../src/reconcile/notify.js';
import { makeTempDir, type TempDir } from '../../support/mounts.js';
import { startReceiver, type Receiver } from '../../support/notify-receiver.js';

let tmp: TempDir;
let recv: Receiver;
beforeAll(async () => {
  tmp = makeTempDir('hashall-lock-refused-');
  recv = await startReceiver();
});
afterAll(async () => {
  await recv?.close();
  tmp?.cleanup();
});

function target(name: string): NotifyTarget {
  return { name, format: 'json', url: makeSecret(`${recv.url}/${name}`, {}), headers: {}, events: ['failed'], timeoutMs: 5000, retries: 0 };
}
const holder = (runId: string): LockHolder => ({ runId, pid: 4242, pidStart: null, host: 'nas', command: 'hashall apply', startedAt: Date.parse('2026-01-01T00:00:00Z') });
const deps = { now: () => Date.parse('2026-01-01T09:30:00Z'), report: () => undefined };

describe('notifyLockRefused', () => {
  it('tells at the third refusal by one holder, once; a failed target: the next refusal tries again; a new holder: a new streak', async () => {
    const files = { streak: path.join(tmp.path, 'catalog.db.lock-streak'), lock: path.join(tmp.path, 'catalog.db.lock') };
    const refuse = (h: LockHolder | null, at: number) => new LockRefusedError('held', {}, h, countRefusal(files, h, at));
    const failing = { notify: [target('fail')] } as HashallConfig;
    const ok = { notify: [target('ok')] } as HashallConfig;

    await notifyLockRefused(ok, deps, refuse(holder('A'), 1), 'apply');
    await notifyLockRefused(ok, deps, refuse(holder('A'), 2), 'apply');
    expect(recv.received).toEqual([]);
    await notifyLockRefused(failing, deps, refuse(holder('A'), 3), 'apply'); // the third: tried, not taken
    expect(recv.to('fail')).toHaveLength(1);
    expect(readLockStreak(files.streak)!.notifiedAt).toBeNull();
    await notifyLockRefused(ok, deps, refuse(holder('A'), 4), 'apply'); // tried again, taken
    await notifyLockRefused(ok, deps, refuse(holder('A'), 5), 'apply'); // not again
    expect(recv.to('ok')).toHaveLength(1);
    const body = JSON.parse(recv.to('ok')[0]!.body) as { title: string; message: string; lock: unknown };
    expect(body.title).toMatch(/: apply failed$/);
    expect(body.message).toContain('held by run A (pid 4242 on nas, `hashall apply`, since 2026-01-01T00:00:00.000Z) — held for 9h 30m: 4 runs in a row were refused');
    expect(body.lock).toEqual({ runId: 'A', pid: 4242, host: 'nas', command: 'hashall apply', since: '2026-01-01T00:00:00.000Z', refusedRuns: 4, refusedSince: new Date(1).toISOString() });

    // Another holder: counted from one, told at its own third.
    for (const at of [6, 7]) await notifyLockRefused(ok, deps, refuse(holder('B'), at), 'reconcile');
    expect(recv.to('ok')).toHaveLength(1);
    await notifyLockRefused(ok, deps, refuse(holder('B'), 8), 'reconcile');
    expect(recv.to('ok')).toHaveLength(2);
    // A process holding the lock file without a record: named by the lock file.
    for (const at of [9, 10, 11]) await notifyLockRefused(ok, deps, refuse(null, at), 'reconcile');
    const unrecorded = JSON.parse(recv.to('ok')[2]!.body) as { message: string };
    expect(unrecorded.message).toContain(`a process holding ${files.lock} that recorded no run`);
    expect(unrecorded.message).toContain(`fuser -v ${files.lock}`);
  });
});
