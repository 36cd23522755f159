// Sends one notice to the targets that want its event: bounded retries, a timeout per attempt, a deadline per event, an end at a stop; secrets kept out of every error.
import { createHttpSender, failureText, isTimeout, type HttpSender } from '../clients/http-send.js';
import type { NotifyEventName, NotifyTarget } from '../config/types.js';
import { printable } from '../render/escape.js';
import { renderRequest } from './formats.js';
import type { Notice } from './notice.js';

export interface NotifyOutcome {
  /** The target's name (never its URL). */
  target: string;
  event: NotifyEventName;
  status: 'sent' | 'failed';
  attempts: number;
  /** Why it failed, with every secret of the target replaced by `***`; null when sent. */
  error: string | null;
}

export interface SendOptions {
  /** Injected for tests of the wire; the shared sender (src/clients/http-send.ts) otherwise. */
  fetch?: typeof fetch;
  /** Waits between attempts, cut short when `signal` aborts (injected for tests; a real timer otherwise). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * The run's stop signal (SIGINT/SIGTERM): it ends the attempt in flight, the retries and the wait between them at
   * once. A notice begun after the stop (an interrupted apply's end) gets one short attempt: see STOPPING_ATTEMPT_MS.
   */
  stop?: AbortSignal;
  /** The event's deadline (default NOTICE_DEADLINE_MS; tests shorten it). */
  deadlineMs?: number;
  /** The one attempt of a notice begun after the stop (default STOPPING_ATTEMPT_MS; tests shorten it). */
  stoppingAttemptMs?: number;
}

/**
 * Every target's attempts, retries and waits for one event end within this: a notification must not hold up what the
 * run does next (an apply after the plan's notices, the next iteration) by `timeout × (1 + retries)` — with a receiver
 * that accepts and never answers, and a timeout of up to an hour, that was hours.
 */
export const NOTICE_DEADLINE_MS = 60_000;

/**
 * A notice begun after a stop signal (an interrupted apply's end, after its rollback) is still worth one attempt, but a
 * short one: the container manager kills the process soon after its SIGTERM (Docker's default is 10 s).
 */
export const STOPPING_ATTEMPT_MS = 3_000;

/** Wait before attempt n+1 (1 s, 2 s, 4 s, …). */
export const RETRY_DELAY_MS = (attempt: number): number => 1000 * 2 ** (attempt - 1);

/** The strings of a target that must never appear in output: its URL, the credential parts of it, header values. */
function secretsOf(url: string, headers: Record<string, string>): string[] {
  const out = new Set<string>([url, ...Object.values(headers)]);
  try {
    const u = new URL(url);
    out.add(u.href);
    if (u.username) out.add(decodeURIComponent(u.username));
    if (u.password) out.add(decodeURIComponent(u.password));
    for (const seg of u.pathname.split('/')) if (seg.length >= 6) out.add(decodeURIComponent(seg));
    for (const [, v] of u.searchParams) out.add(v);
    out.add(u.pathname + u.search);
  } catch {
    /* not a URL: the whole string is already listed */
  }
  for (const v of Object.values(headers)) for (const word of v.split(/\s+/)) if (word.length >= 6) out.add(word);
  return [...out].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
}

/** `text` with every secret replaced by `***`, then made printable. */
export function scrub(text: string, secrets: readonly string[]): string {
  let t = text;
  for (const s of secrets) t = t.split(s).join('***');
  return printable(t);
}

/** Of an answer's body only the first 200 characters are shown: more than this is not read. */
const SHOWN_BODY_BYTES = 64 << 10;

/**
 * `https://user:pass@host/…` as curl and Apprise read it: they leave the URL (fetch refuses one with credentials, and
 * Node's http would send them as it pleases) and become HTTP Basic auth — unless the target sets its own Authorization header, which wins.
 */
function basicAuthFromUrl(url: URL, headers: Record<string, string>): void {
  if (!url.username && !url.password) return;
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  if (Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) return;
  headers.Authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

function describeSendError(err: unknown): string {
  return isTimeout(err) ? 'no answer within the timeout' : failureText(err);
}

/** Wait `ms`, or less when `signal` aborts. */
function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** What ends one event's sending: the stop signal or the deadline, whichever comes first; `stopping`: begun after the stop. */
interface EventBound {
  signal: AbortSignal;
  /** The deadline alone (to tell it from a stop in a message). */
  deadline: AbortSignal;
  deadlineMs: number;
  stopping: boolean;
  stop: AbortSignal | null;
}

function eventBound(opts: SendOptions): EventBound {
  const stop = opts.stop ?? null;
  const stopping = stop?.aborted === true;
  const deadlineMs = stopping ? Math.min(opts.stoppingAttemptMs ?? STOPPING_ATTEMPT_MS, opts.deadlineMs ?? NOTICE_DEADLINE_MS) : (opts.deadlineMs ?? NOTICE_DEADLINE_MS);
  const deadline = AbortSignal.timeout(deadlineMs);
  return { signal: stop && !stopping ? AbortSignal.any([stop, deadline]) : deadline, deadline, deadlineMs, stopping, stop };
}

/** Why the event's bound ended an attempt (or kept one from starting). */
function boundText(bound: EventBound): string {
  if (bound.stop?.aborted && !bound.stopping) return `stopped (${String(bound.stop.reason)}) before an answer came`;
  return bound.stopping ? `no answer within ${bound.deadlineMs} ms (sent while stopping)` : `no answer within the event's deadline (${bound.deadlineMs / 1000} s)`;
}

async function sendOne(target: NotifyTarget, notice: Notice, opts: SendOptions, sender: HttpSender, bound: EventBound): Promise<NotifyOutcome> {
  const base = { target: target.name, event: notice.event };
  let url: string;
  const headers: Record<string, string> = {};
  try {
    url = target.url.reveal();
    for (const [k, v] of Object.entries(target.headers)) headers[k] = v.reveal();
  } catch (err) {
    // The variable's name only: the template's literal parts may hold a token too.
    return { ...base, status: 'failed', attempts: 0, error: (err as Error).message.replace(/ \(needed by .*\)$/s, '') };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ...base, status: 'failed', attempts: 0, error: 'the URL is not a valid URL (its value is not shown)' };
  }
  basicAuthFromUrl(parsed, headers);
  const secrets = secretsOf(url, headers);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ...base, status: 'failed', attempts: 0, error: `the URL is not http(s) but ${parsed.protocol} (its value is not shown)` };
  }
  const req = renderRequest(target.format, notice);
  const sleep = opts.sleep ?? defaultSleep;
  let error = '';
  const tries = bound.stopping ? 1 : 1 + target.retries;
  for (let attempt = 1; attempt <= tries; attempt++) {
    if (bound.signal.aborted) return { ...base, status: 'failed', attempts: attempt - 1, error: scrub(attempt > 1 ? `${error}; then ${boundText(bound)}` : boundText(bound), secrets) };
    let retry = true;
    try {
      // A redirect is not followed (it would carry the secrets elsewhere): it is an answer that is not a success.
      const res = await sender.send({ method: 'POST', url: parsed, headers: { ...req.headers, ...headers }, body: req.body, timeoutMs: target.timeoutMs, signal: bound.signal });
      if (res.status >= 200 && res.status < 300) return { ...base, status: 'sent', attempts: attempt, error: null };
      const text = res.text;
      // Scrubbed before it is cut: a secret the cut would split is no longer whole for the scrub at the end to find.
      error = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${text ? `: ${scrub(text, secrets).slice(0, 200)}` : ''}`;
      retry = res.status === 429 || res.status >= 500;
    } catch (err) {
      error = bound.signal.aborted ? boundText(bound) : describeSendError(err);
    }
    if (!retry || attempt === tries || bound.signal.aborted) return { ...base, status: 'failed', attempts: attempt, error: scrub(error, secrets) };
    await sleep(RETRY_DELAY_MS(attempt), bound.signal);
  }
  return { ...base, status: 'failed', attempts: tries, error: scrub(error, secrets) };
}

/** Send `notice` to every target listening for its event, all at once; never throws. */
export async function sendNotice(targets: readonly NotifyTarget[], notice: Notice, opts: SendOptions = {}): Promise<NotifyOutcome[]> {
  const wanted = targets.filter((t) => t.events.includes(notice.event));
  if (wanted.length === 0) return [];
  // The status decides: a body is only shown, so a long one is cut and one cut short is kept as read.
  const sender = createHttpSender({ ...(opts.fetch ? { fetch: opts.fetch } : {}), maxBodyBytes: SHOWN_BODY_BYTES, lenientBody: true });
  try {
    const bound = eventBound(opts);
    return await Promise.all(wanted.map((t) => sendOne(t, notice, opts, sender, bound)));
  } finally {
    sender.close();
  }
}
