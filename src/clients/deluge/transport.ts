// JSON-RPC to deluge-web (`/json`): auth.login session cookie, web.connect to its daemon, bounded retries, typed errors with secrets redacted.
import { ClientError } from '../../errors.js';
import { createHttpSender, failureText, isTimeout, isTooLarge, tooLargeAnswer, type HttpSender } from '../http-send.js';
import { redactUrl } from '../shown-url.js';
import { SecretScrubber } from '../redact-secrets.js';
import { withRetries, type RetryOptions } from '../retry.js';

export interface DelugeTransportOptions extends RetryOptions {
  /** deluge-web base URL: `http://127.0.0.1:8112` (or with a base path, `https://host/deluge`); `?daemon=HOST:PORT` picks a daemon of its host list. */
  url: string;
  /** Read at login only; never stored, logged or put into a message. */
  password?: (() => string) | null;
  timeoutMs: number;
  /** Sends through this `fetch` instead of the kept-alive sender (tests that watch the requests). */
  fetch?: typeof fetch;
  /** The bound of an answer (tests lower it); MAX_BODY_BYTES otherwise. */
  maxAnswerBytes?: number;
}

/** deluge-web's error codes: 1 not authenticated, 2 unknown method (core.* before web.connect), 3 method raised, 4 daemon call failed, 5 other. */
export const NOT_AUTHENTICATED = 1;
export const UNKNOWN_METHOD = 2;

const HINT = 'set client.url to the deluge-web address, e.g. http://127.0.0.1:8112';

/** An error answer of deluge-web (the RPC ran and said no). */
export class DelugeRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'DelugeRpcError';
  }
}

type Obj = Record<string, unknown>;

function parseUrl(raw: string): { json: URL; daemon: string | null } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch (cause) {
    throw new ClientError('protocol', `Deluge URL is not a valid URL: ${redactUrl(raw)}`, { cause, hint: HINT });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ClientError('protocol', `Deluge URL must be http or https, got ${u.protocol}`, { hint: HINT });
  const daemon = u.searchParams.get('daemon');
  u.username = '';
  u.password = '';
  u.hash = '';
  u.search = '';
  u.pathname = `${u.pathname.replace(/\/+$/, '').replace(/\/json$/, '')}/json`;
  return { json: u, daemon };
}

export class DelugeTransport {
  readonly shown: string;
  private readonly url: URL;
  private readonly daemon: string | null;
  private readonly sender: HttpSender;
  private cookie = '';
  private connected = false;
  private readonly secrets = new SecretScrubber();
  private nextId = 1;

  constructor(private readonly opts: DelugeTransportOptions) {
    const p = parseUrl(opts.url);
    this.url = p.json;
    this.daemon = p.daemon;
    this.shown = redactUrl(this.url.href);
    this.sender = createHttpSender({ ...(opts.fetch ? { fetch: opts.fetch } : {}), ...(opts.maxAnswerBytes ? { maxBodyBytes: opts.maxAnswerBytes } : {}) });
  }

  /** Any text that came from the wire or a cause, with the password and the session id cut out. */
  redact(text: string): string {
    return this.secrets.scrub(text).slice(0, 300);
  }

  /** One HTTP exchange; network errors become a ClientError value (to retry), timeouts throw. */
  private async post(method: string, params: unknown[]): Promise<{ status: number; text: string; setCookie: string | null } | ClientError> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.cookie) headers.cookie = `_session_id=${this.cookie}`;
    const body = JSON.stringify({ method, params, id: this.nextId++ });
    try {
      const res = await this.sender.send({ method: 'POST', url: this.url, headers, body, timeoutMs: this.opts.timeoutMs });
      const sid = res.setCookies.map((c) => /(?:^|;\s*)_session_id=([^;]+)/.exec(c)?.[1]).find((x) => x);
      return { status: res.status, text: res.text, setCookie: sid ?? null };
    } catch (cause) {
      if (isTimeout(cause)) {
        throw new ClientError('timeout', `Deluge did not answer ${method} at ${this.shown} within ${this.opts.timeoutMs} ms`, { hint: 'check that deluge-web and deluged are running, or raise client.timeout' });
      }
      if (isTooLarge(cause)) throw tooLargeAnswer('deluge-web', this.shown, method, cause);
      return new ClientError('network', `cannot reach deluge-web at ${this.shown} for ${method}: ${this.redact(failureText(cause))}`, { hint: 'check client.url and that deluge-web is running' });
    }
  }

  /** One JSON-RPC call with retries on network errors and 5xx; an `error` answer throws DelugeRpcError (wrapped). */
  private async raw(method: string, params: unknown[]): Promise<unknown> {
    const ans = await withRetries(
      this.opts,
      async (i, attempts) => {
        const got = await this.post(method, params);
        if (got instanceof ClientError) return got;
        if (got.status >= 500) return new ClientError('http', `deluge-web at ${this.shown} answered ${got.status} to ${method} (${i + 1} of ${attempts} tries)`, { status: got.status });
        return got;
      },
      () => new ClientError('network', `no answer from deluge-web for ${method}`),
    );
    if (ans.status !== 200) throw new ClientError('http', `deluge-web at ${this.shown} answered ${ans.status} to ${method}`, { status: ans.status, hint: HINT });
    if (ans.setCookie) {
      this.cookie = ans.setCookie;
      this.secrets.add(ans.setCookie);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(ans.text);
    } catch {
      throw new ClientError('protocol', `deluge-web at ${this.shown} sent unparsable JSON for ${method} (is this the deluge-web address?)`, { hint: HINT });
    }
    const o = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Obj;
    const err = o.error as Obj | null | undefined;
    if (err && typeof err === 'object') {
      const code = typeof err.code === 'number' ? err.code : 0;
      throw new DelugeRpcError(code, this.redact(typeof err.message === 'string' ? err.message : 'no message'));
    }
    if (!('result' in o)) throw new ClientError('protocol', `deluge-web answered ${method} without a result`);
    return o.result;
  }

  private async login(): Promise<void> {
    const pw = this.opts.password ? this.opts.password() : '';
    this.secrets.add(pw);
    this.cookie = '';
    let ok: unknown;
    try {
      ok = await this.raw('auth.login', [pw]);
    } catch (err) {
      throw this.wrap('auth.login', err);
    }
    if (ok !== true || !this.cookie) {
      throw new ClientError('auth', `deluge-web at ${this.shown} refused the login`, { hint: 'check the password variable of client.password (the deluge-web password, not a daemon account)' });
    }
  }

  /** Make deluge-web talk to a daemon: already connected, the `?daemon=` one, or the only one in its host list. */
  private async connect(): Promise<void> {
    if ((await this.rpcNoConnect('web.connected', [])) === true && this.daemon === null) {
      this.connected = true;
      return;
    }
    const hosts = await this.rpcNoConnect('web.get_hosts', []);
    if (!Array.isArray(hosts)) throw new ClientError('protocol', 'deluge-web answered web.get_hosts without a list');
    const rows = hosts.filter((h): h is unknown[] => Array.isArray(h) && typeof h[0] === 'string');
    const pick = this.daemon === null ? rows : rows.filter((h) => `${String(h[1])}:${String(h[2])}` === this.daemon);
    if (pick.length !== 1) {
      const listed = rows.map((h) => `${String(h[1])}:${String(h[2])}`).join(', ') || 'none';
      throw new ClientError('protocol', `deluge-web at ${this.shown} is not connected to a daemon and ${pick.length === 0 ? 'its host list has no' : 'its host list has several'} ${this.daemon ? `daemon ${this.daemon}` : 'daemons'} (listed: ${listed})`, {
        hint: pick.length === 0 ? 'add the daemon in the Web UI connection manager, or fix ?daemon=HOST:PORT in client.url' : 'pick one with ?daemon=HOST:PORT in client.url',
      });
    }
    await this.rpcNoConnect('web.connect', [pick[0]![0]]);
    if ((await this.rpcNoConnect('web.connected', [])) !== true) {
      throw new ClientError('network', `deluge-web at ${this.shown} could not connect to its daemon ${String(pick[0]![1])}:${String(pick[0]![2])}`, { hint: 'check that deluged is running and that the host entry has the right account' });
    }
    this.connected = true;
  }

  private wrap(method: string, err: unknown): unknown {
    if (err instanceof DelugeRpcError) {
      if (err.code === NOT_AUTHENTICATED) return new ClientError('auth', `deluge-web at ${this.shown} refused ${method}: not authenticated`, { hint: 'check the password variable of client.password' });
      return new ClientError('protocol', `Deluge refused ${method}: ${err.message}`, { cause: err });
    }
    return err;
  }

  /** A call that needs a login but no daemon (auth.*, web.*); logs in again once when the session expired. */
  private async rpcNoConnect(method: string, params: unknown[]): Promise<unknown> {
    if (!this.cookie) await this.login();
    try {
      return await this.raw(method, params);
    } catch (err) {
      if (err instanceof DelugeRpcError && err.code === NOT_AUTHENTICATED) {
        await this.login();
        try {
          return await this.raw(method, params);
        } catch (again) {
          throw this.wrap(method, again);
        }
      }
      throw this.wrap(method, err);
    }
  }

  /**
   * A daemon call (core.*, daemon.*, label.*): logs in and connects first; an expired session logs in again, and an
   * "Unknown method" (deluge-web lost its daemon) connects again — once each.
   */
  async call(method: string, params: unknown[] = []): Promise<unknown> {
    if (!this.connected) await this.connect();
    try {
      return await this.rpcNoConnect(method, params);
    } catch (err) {
      const rpc = err instanceof ClientError && err.cause instanceof DelugeRpcError ? err.cause : null;
      // deluge-web 2.0.3 that lost its daemon (web.disconnect, a daemon restart) leaves a core call unanswered: a
      // timeout is followed by one look at web.connected.
      const lost = rpc?.code === UNKNOWN_METHOD || (err instanceof ClientError && err.kind === 'timeout' && (await this.rpcNoConnect('web.connected', [])) !== true);
      if (!lost) throw err;
      this.connected = false;
      await this.connect();
      return this.rpcNoConnect(method, params);
    }
  }

  /** Closes the kept-alive connections (a later call opens new ones). */
  close(): void {
    this.sender.close();
  }

  /** The RPC error code of a failed call, when it was one. */
  static codeOf(err: unknown): number | null {
    return err instanceof ClientError && err.cause instanceof DelugeRpcError ? err.cause.code : null;
  }
}
