// HTTP transport to the qBittorrent Web API v2: session cookie login, bounded retries, timeouts, typed errors.
import { ClientError } from '../../errors.js';
import { createHttpSender, failureText, isTimeout, isTooLarge, tooLargeAnswer, type HttpAnswer, type HttpSender } from '../http-send.js';
import { withRetries, type RetryOptions } from '../retry.js';
import { redactUrl } from '../shown-url.js';
import { SecretScrubber } from '../redact-secrets.js';

export interface TransportOptions extends RetryOptions {
  /** Base URL of the Web UI (`http://127.0.0.1:8080`); credentials or a query in it are never echoed. */
  url: string;
  username?: string | null;
  /** Read at login time only; the value is never stored, logged or put into a message. */
  password?: (() => string) | null;
  /** Per-request bound in milliseconds. */
  timeoutMs: number;
  /** Sends every request through this `fetch` instead of the kept-alive sender (tests that watch the requests; see http-send.ts). */
  fetch?: typeof fetch;
}

export interface ApiAnswer {
  status: number;
  text: string;
}

export interface ApiRequest {
  method: 'GET' | 'POST';
  /** Path below `/api/v2`, e.g. `/torrents/info`. */
  path: string;
  query?: Record<string, string>;
  /** Form fields (url-encoded). */
  form?: Record<string, string>;
  /** Non-2xx statuses the caller handles itself (e.g. 404 for an unknown hash). */
  accept?: readonly number[];
}

/** The session cookie qBittorrent sets: `SID` in 4.x/5.0, `QBT_SID_<port>` in later releases. */
function sessionCookie(all: readonly string[]): string | null {
  for (const line of all) {
    const pair = line.split(';', 1)[0]?.trim() ?? '';
    const eq = pair.indexOf('=');
    if (eq > 0 && /SID/i.test(pair.slice(0, eq)) && eq < pair.length - 1) return pair;
  }
  return null;
}

export class QbtTransport {
  readonly #base: URL;
  readonly #shown: string;
  readonly #opts: TransportOptions;
  /** Its kept-alive connections are closed by {@link QbtTransport.close}. */
  readonly #sender: HttpSender;
  #cookie: string | null = null;
  /** Cookie seen on the last /auth/login answer; adopted only when the body says `Ok.`. */
  #pendingCookie: string | null = null;
  /** The password and session cookies sent so far: an answer's body is shown only without them. */
  readonly #secrets = new SecretScrubber();

  constructor(opts: TransportOptions) {
    let base: URL;
    try {
      base = new URL(opts.url);
    } catch (cause) {
      throw new ClientError('protocol', `qBittorrent URL is not a valid URL: ${redactUrl(opts.url)}`, {
        cause,
        hint: 'set client.url to something like http://127.0.0.1:8080',
      });
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new ClientError('protocol', `qBittorrent URL must be http or https, got ${base.protocol}`, {
        hint: 'set client.url to something like http://127.0.0.1:8080',
      });
    }
    base.username = '';
    base.password = '';
    base.search = '';
    base.hash = '';
    this.#base = base;
    this.#shown = redactUrl(base.href);
    this.#opts = opts;
    this.#sender = createHttpSender(opts.fetch ? { fetch: opts.fetch } : {});
  }

  /** Redacted base URL for messages. */
  get shownUrl(): string {
    return this.#shown;
  }

  /** Send one API call: re-login once on 403, retry network errors and 5xx with backoff, bounded by timeoutMs. */
  async call(req: ApiRequest): Promise<ApiAnswer> {
    let answer = await this.#withRetries(req);
    if (answer.status === 403 && !req.accept?.includes(403)) {
      await this.login();
      answer = await this.#withRetries(req);
      if (answer.status === 403) {
        throw new ClientError('auth', `qBittorrent refused ${this.#describe(req)} with 403 after a fresh login`, {
          status: 403,
          hint: 'check the Web UI user permissions, or whether this IP is banned after failed logins',
        });
      }
    }
    if ((answer.status >= 200 && answer.status < 300) || req.accept?.includes(answer.status)) return answer;
    throw new ClientError('http', `qBittorrent answered ${answer.status} to ${this.#describe(req)}: ${this.#summarize(answer.text)}`, {
      status: answer.status,
    });
  }

  /** Log in with the configured credentials. `Fails.` is an auth error and is never retried (qB bans after 5). */
  async login(): Promise<void> {
    this.#cookie = null;
    if (!this.#opts.password) {
      throw new ClientError('auth', `qBittorrent at ${this.#shown} requires a login but no password is configured`, {
        status: 403,
        hint: 'set client.password (e.g. ${QBT_PASSWORD}) or enable "Bypass authentication for clients on localhost"',
      });
    }
    const password = this.#opts.password();
    this.#secrets.add(password);
    const form = new URLSearchParams({ username: this.#opts.username ?? 'admin', password });
    const req: ApiRequest = { method: 'POST', path: '/auth/login', accept: [403] };
    const res = await this.#withRetries(req, form);
    if (res.status === 403) {
      throw new ClientError('auth', `qBittorrent at ${this.#shown} refused the login (403): ${this.#summarize(res.text)}`, {
        status: 403,
        hint: 'qBittorrent bans an IP for an hour after 5 failed logins; wait or restart it',
      });
    }
    if (res.status !== 200 || res.text.trim() !== 'Ok.') {
      throw new ClientError('auth', `qBittorrent at ${this.#shown} rejected the login for user "${this.#opts.username ?? 'admin'}"`, {
        status: res.status,
        hint: 'check client.username and the password variable; after 5 failures qBittorrent bans the IP for an hour',
      });
    }
    this.#cookie = this.#pendingCookie;
  }

  /** Forget the session (best effort logout). */
  async logout(): Promise<void> {
    if (this.#cookie === null) return;
    try {
      await this.#once({ method: 'POST', path: '/auth/logout' });
    } catch {
      // the session dies with its timeout anyway
    }
    this.#cookie = null;
  }

  /** Forget the session and close the kept-alive connections (the transport can still send: it opens new ones). */
  async close(): Promise<void> {
    await this.logout();
    this.#sender.close();
  }

  #withRetries(req: ApiRequest, rawForm?: URLSearchParams): Promise<ApiAnswer> {
    return withRetries(
      this.#opts,
      async (i, attempts) => {
        try {
          const answer = await this.#once(req, rawForm);
          if (answer.status < 500) return answer;
          return new ClientError('http', `qBittorrent answered ${answer.status} to ${this.#describe(req)} (${i + 1} of ${attempts} tries): ${this.#summarize(answer.text)}`, {
            status: answer.status,
          });
        } catch (err) {
          if (err instanceof ClientError && err.kind === 'network') return err;
          throw err;
        }
      },
      () => new ClientError('network', `no answer from qBittorrent for ${this.#describe(req)}`),
    );
  }

  async #once(req: ApiRequest, rawForm?: URLSearchParams): Promise<ApiAnswer> {
    const url = new URL(`api/v2${req.path}`, this.#base.href.endsWith('/') ? this.#base : `${this.#base.href}/`);
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = {};
    if (this.#cookie) headers.cookie = this.#cookie;
    let body: string | undefined;
    if (rawForm) {
      body = rawForm.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (req.form) {
      body = new URLSearchParams(req.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (req.method === 'POST') {
      body = '';
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    let res: HttpAnswer;
    try {
      res = await this.#sender.send({ url, method: req.method, headers, ...(body === undefined ? {} : { body }), timeoutMs: this.#opts.timeoutMs });
    } catch (cause) {
      if (isTimeout(cause)) {
        throw new ClientError('timeout', `qBittorrent did not answer ${this.#describe(req)} within ${this.#opts.timeoutMs} ms`, {
          cause: scrub(cause),
          hint: 'check that qBittorrent is running and responsive, or raise client.timeout',
        });
      }
      if (isTooLarge(cause)) throw tooLargeAnswer('qBittorrent', this.#shown, this.#describe(req), cause);
      throw new ClientError('network', `cannot reach qBittorrent for ${this.#describe(req)}: ${causeText(cause)}`, {
        cause: scrub(cause),
        hint: 'check client.url and that qBittorrent is running',
      });
    }
    if (req.path === '/auth/login') {
      this.#pendingCookie = sessionCookie(res.setCookies);
      if (this.#pendingCookie !== null) this.#secrets.add(this.#pendingCookie.slice(this.#pendingCookie.indexOf('=') + 1));
    }
    return { status: res.status, text: res.text };
  }

  /** An answer's body for a message: the secrets this transport sent cut out (a Web UI or proxy may echo them), shortened. */
  #summarize(text: string): string {
    return summarize(this.#secrets.scrub(text));
  }

  #describe(req: ApiRequest): string {
    return `${req.method} ${this.#shown.replace(/\/$/, '')}/api/v2${req.path}`;
  }
}

function summarize(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  if (t === '') return '(empty body)';
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}

function causeText(cause: unknown): string {
  return failureText(cause).replace(/https?:\/\/\S+/g, (m) => redactUrl(m));
}

/** Keep a cause's name, message and errno code, but never a request object that could hold a body or URL. */
function scrub(cause: unknown): Error {
  const inner = cause instanceof Error && cause.cause instanceof Error ? cause.cause : cause;
  const e = new Error(inner instanceof Error ? inner.message.replace(/https?:\/\/\S+/g, (m) => redactUrl(m)) : String(inner));
  e.name = inner instanceof Error ? inner.name : 'Error';
  const code = typeof inner === 'object' && inner !== null && 'code' in inner ? (inner as { code: unknown }).code : undefined;
  if (code !== undefined) (e as Error & { code?: unknown }).code = code;
  return e;
}
