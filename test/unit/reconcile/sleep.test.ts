// The reconcile loop's wait: a wait past setTimeout's 24.8-day limit really waits (Node fired it after 1 ms: `--every 30d`
// looped without pause), a stop signal ends any wait at once, and a wall-clock step (NTP, a VM resumed, a manual date)
// neither stretches nor cuts a wait: it runs on a monotonic clock.
import { afterEach, describe, expect, it, vi } from 'vitest';
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

  describe('a wall-clock step', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('backwards by a day during a 200 ms wait does not stretch it (it waited the day out)', async () => {
      const real = Date.now.bind(Date);
      let calls = 0;
      // The wall clock steps back a day right after the wait began (the first reading is the old one).
      vi.spyOn(Date, 'now').mockImplementation(() => (calls++ === 0 ? real() : real() - 24 * 3600 * 1000));
      const stop = new AbortController();
      let ended = false;
      const wait = sleepUnlessStopped(200, stop.signal).then(() => (ended = true));
      // A bounded wait far past 200 ms: only a wait that ignores the step has ended by then.
      for (let i = 0; i < 100 && !ended; i++) await new Promise((r) => setTimeout(r, 50));
      const endedByItself = ended;
      stop.abort();
      await wait;
      expect(endedByItself).toBe(true);
    });

    it('forwards by a day does not cut a 1 h wait short', async () => {
      const real = Date.now.bind(Date);
      let calls = 0;
      vi.spyOn(Date, 'now').mockImplementation(() => (calls++ === 0 ? real() : real() + 24 * 3600 * 1000));
      const stop = new AbortController();
      let ended = false;
      const wait = sleepUnlessStopped(3600 * 1000, stop.signal).then(() => (ended = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(ended).toBe(false);
      stop.abort();
      await wait;
    });

    it('runs on the injected clock (a monotonic one by default): a 1 h wait ends once that clock says the hour passed', async () => {
      let readings = 0;
      const stop = new AbortController();
      let ended = false;
      // The injected clock: the wait's start, then an hour and a millisecond later.
      const wait = sleepUnlessStopped(3600 * 1000, stop.signal, () => (readings++ === 0 ? 0 : 3600 * 1000 + 1)).then(() => (ended = true));
      for (let i = 0; i < 100 && !ended; i++) await new Promise((r) => setTimeout(r, 50));
      const endedByItself = ended;
      stop.abort();
      await wait;
      expect(endedByItself).toBe(true);
    });
  });
});
