// The reconcile loop's wait between iterations: any length (past setTimeout's 24.8-day limit), cut short by a stop signal.

/** setTimeout's longest delay (2^31 − 1 ms); Node runs a longer one after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Wait `ms` (waits longer than one timer allows are chained), or less when `signal` aborts. */
export function sleepUnlessStopped(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const end = Date.now() + ms;
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const arm = (): void => {
      const left = end - Date.now();
      if (left <= 0) return done();
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    signal.addEventListener('abort', done, { once: true });
    arm();
  });
}
