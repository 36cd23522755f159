// A notification's bounds on a real local receiver that accepts and never answers: the run's stop signal ends the attempt,
// the retries and the wait between them at once; each event has an overall deadline; a notice begun after the stop gets
// one short attempt. Every wait here is bounded far below the targets' timeouts (never a speed assertion).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeSecret } from '../../../src/config/normalize.js';
import type { NotifyTarget } from '../../../src/config/types.js';
import { failureNotice } from '../../../src/notify/notice.js';
import { sendNotice } from '../../../src/notify/send.js';
import { startReceiver, type Receiver } from '../../support/notify-receiver.js';

let recv: Receiver;
beforeAll(async () => {
  recv = await startReceiver();
});
afterAll(async () => {
  await recv.close();
});
afterEach(() => {
  recv.received.length = 0;
});

/** A target with a timeout far past the test's own bound: only the stop or the deadline can end its attempts. */
function target(pathName: string, retries = 2): NotifyTarget {
  return { name: 'slow', format: 'json', url: makeSecret(`${recv.url}/${pathName}`, {}), headers: {}, events: ['failed'], timeoutMs: 600_000, retries };
}

const notice = () => failureNotice('apply', 'a test failure', { host: 'nas', at: Date.now() });

/** Resolves with `p`'s value, or rejects once `ms` passed (the test's bound, not a measurement). */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms)));
  return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
}

describe('notification bounds', () => {
  it('a stop while an attempt waits on the receiver ends it at once: failed, one attempt, no retry', async () => {
    const ac = new AbortController();
    const sending = sendNotice([target('hang')], notice(), { stop: ac.signal });
    await until(() => recv.to('hang').length > 0);
    ac.abort('SIGTERM');
    const [out] = await within(sending, 20_000);
    expect(out).toMatchObject({ status: 'failed', attempts: 1, error: 'stopped (SIGTERM) before an answer came' });
    expect(recv.to('hang')).toHaveLength(1);
  });

  it('a stop during the wait before a retry ends it: no further attempt', async () => {
    const ac = new AbortController();
    let slept = 0;
    // The wait is the one the sender would make, on the signal it passes: the stop arrives during it.
    const sleep = (_ms: number, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        slept++;
        ac.abort('SIGINT');
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
    const [out] = await within(sendNotice([target('fail')], notice(), { stop: ac.signal, sleep }), 20_000);
    expect(slept).toBe(1);
    expect(out).toMatchObject({ status: 'failed', attempts: 1 });
    expect(out!.error).toMatch(/^HTTP 500/);
    expect(recv.to('fail')).toHaveLength(1);
  });

  it('each event has an overall deadline: attempts and retries end by it', async () => {
    const [out] = await within(sendNotice([target('hang')], notice(), { deadlineMs: 500 }), 20_000);
    expect(out).toMatchObject({ status: 'failed', attempts: 1, error: "no answer within the event's deadline (0.5 s)" });
    expect(recv.to('hang')).toHaveLength(1);
  });

  it('a notice begun after the stop gets one short attempt: sent when the receiver answers, bounded when it does not', async () => {
    const ac = new AbortController();
    ac.abort('SIGTERM');
    const [sent] = await within(sendNotice([target('ok')], notice(), { stop: ac.signal }), 20_000);
    expect(sent).toMatchObject({ status: 'sent', attempts: 1 });
    const [hung] = await within(sendNotice([target('hang')], notice(), { stop: ac.signal, stoppingAttemptMs: 300 }), 20_000);
    expect(hung).toMatchObject({ status: 'failed', attempts: 1, error: 'no answer within 300 ms (sent while stopping)' });
    expect(recv.to('hang')).toHaveLength(1);
  });
});
