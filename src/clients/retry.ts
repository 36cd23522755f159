// The one retry policy of every client transport: bounded tries with a doubling backoff; what is retried is the caller's answer.
import { ClientError } from '../errors.js';

/** The retry knobs every transport takes (tests shorten the sleep). */
export interface RetryOptions {
  /** Total tries for network errors and 5xx answers (default 3). */
  attempts?: number;
  /** First backoff delay; doubles after each failed try (default 250 ms). */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `once` up to `attempts` times, sleeping `backoffMs`, then twice that, … between tries. `once` returns its
 * answer, or a ClientError to try again for (a network error, a 5xx); it throws what must not be retried. After the
 * last try the last such error is thrown, or `none()` when no try ran.
 */
export async function withRetries<T>(opts: RetryOptions, once: (attempt: number, attempts: number) => Promise<T | ClientError>, none: () => ClientError): Promise<T> {
  const attempts = Math.max(1, opts.attempts ?? 3);
  const sleep = opts.sleep ?? defaultSleep;
  let delay = opts.backoffMs ?? 250;
  let last: ClientError | undefined;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) {
      await sleep(delay);
      delay *= 2;
    }
    const answer = await once(i, attempts);
    if (!(answer instanceof ClientError)) return answer;
    last = answer;
  }
  throw last ?? none();
}
