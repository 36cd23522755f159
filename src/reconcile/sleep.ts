// The reconcile loop's wait between iterations: any length (past setTimeout's 24.8-day limit), on a monotonic clock, cut short by a stop signal.

/** setTimeout's longest delay (2^31 − 1 ms); Node runs a longer one after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Milliseconds on a clock that never steps: the wall clock (Date.now) jumps with NTP corrections, a VM or laptop
 * resumed, a manual `date -s` — a wait measured on it lasted the step longer (days for a step of days) or ended early.
 */
export const monotonicNow = (): number => performance.now();

/**
 * Wait `ms` (waits longer than one timer allows are chained), or less when `signal` aborts. `clock`: a monotonic
 * millisecond clock (tests inject one); the time left is measured on it, never on the wall clock.
 */
export function sleepUnlessStopped(ms: number, signal: AbortSignal, clock: () => number = monotonicNow): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const end = clock() + ms;
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const arm = (): void => {
      const left = end - clock();
      if (left <= 0) return done();
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    signal.addEventListener('abort', done, { once: true });
    arm();
  });
}
