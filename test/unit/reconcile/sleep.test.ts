// The reconcile loop's wait: a wait past setTimeout's 24.8-day limit really waits (Node fired it after 1 ms: `--every 30d`
// looped without pause), and a stop signal ends any wait at once.
import { describe, expect, it } from 'vitest';
import { sleepUnlessStopped } from '../../../src/reconcile/sleep.js';

describe('sleepUnlessStopped', () => {
  it('a 30-day wait is still waiting after 300 ms (it ended after 1 ms), and ends when stopped', async () => {
    const stop = new AbortController();
    let ended = false;
    const wait = sleepUnlessStopped(30 * 24 * 3600 * 1000, stop.signal).then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(ended).toBe(false);
    stop.abort();
    await wait;
    expect(ended).toBe(true);
  });

  it('a short wait ends by itself; an already-stopped one at once', async () => {
    await sleepUnlessStopped(5, new AbortController().signal);
    const stopped = new AbortController();
    stopped.abort();
    await sleepUnlessStopped(60_000, stopped.signal);
  });
});
