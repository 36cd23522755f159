// XML-RPC transport to rTorrent: SCGI over a unix socket or TCP, or HTTP(S) (ruTorrent/nginx /RPC2); bounded retries, typed errors.
import { connect } from 'node:net';
import { ClientError } from '../../errors.js';
import { createHttpSender, failureText, isTimeout, isTooLarge, MAX_BODY_BYTES, tooLarge, tooLargeAnswer, type HttpSender } from '../http-send.js';
import { withRetries, type RetryOptions } from '../retry.js';
import { redactUrl } from '../shown-url.js';
import { SecretScrubber } from '../redact-secrets.js';
import { decodeResponse, encodeCall, XmlRpcFault, type XmlRpcValue } from './xmlrpc.js';

export interface RtorrentTransportOptions extends RetryOptions {
  /** `scgi:///path/to/rpc.sock`, `scgi://127.0.0.1:5000`, or `http(s)://host/RPC2`. */
  url: string;
  username?: string | null;
  /** Read per HTTP request only (basic auth); never stored, logged or put into a message. */
  password?: (() => string) | null;
  timeoutMs: number;
  /** Sends HTTP through this `fetch` instead of the kept-alive sender (tests that watch the requests). */
  fetch?: typeof fetch;
  /** The bound of an answer, over SCGI as over HTTP (tests lower it); MAX_BODY_BYTES otherwise. */
  maxAnswerBytes?: number;
}

type Endpoint = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number } | { kind: 'http'; url: URL };

const HINT = 'set client.url to scgi:///path/to/rpc.sock, scgi://127.0.0.1:5000 or http://host/RPC2';

/** Parse the configured URL into an endpoint; messages show it without credentials or query. */
export function parseRtorrentUrl(raw: string): Endpoint {
  let u: URL;
  try {
    u = new URL(raw);
  } catch (cause) {
    throw new ClientError('protocol', `rTorrent URL is not a valid URL: ${redactUrl(raw)}`, { cause, hint: HINT });
  }
  if (u.protocol === 'scgi:') {
    if (u.hostname === '' || u.hostname === 'localhost' && u.port === '') {
      const p = decodeURIComponent(u.pathname);
      if (!p.startsWith('/') || p === '/') throw new ClientError('protocol', `rTorrent SCGI socket path missing in ${redactUrl(raw)}`, { hint: HINT });
      return { kind: 'unix', path: p };
    }
    const port = Number(u.port);
    if (!port) throw new ClientError('protocol', `rTorrent SCGI over TCP needs a port: ${redactUrl(raw)}`, { hint: HINT });
    return { kind: 'tcp', host: u.hostname.replace(/^\[|\]$/g, ''), port };
  }
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    u.username = '';
    u.password = '';
    u.hash = '';
    return { kind: 'http', url: u };
  }
  throw new ClientError('protocol', `rTorrent URL must be scgi:, http: or https:, got ${u.protocol}`, { hint: HINT });
}

/** One SCGI request: netstring headers, the body, then read the whole answer (HTTP-style headers + body). */
function scgiExchange(ep: Extract<Endpoint, { kind: 'unix' | 'tcp' }>, body: string, timeoutMs: number, max: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const bodyBuf = Buffer.from(body, 'utf8');
    const headers = `CONTENT_LENGTH\0${bodyBuf.length}\0SCGI\x001\0REQUEST_METHOD\0POST\0REQUEST_URI\0/RPC2\0`;
    const head = Buffer.from(headers, 'latin1');
    const sock = ep.kind === 'unix' ? connect({ path: ep.path }) : connect({ host: ep.host, port: ep.port });
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      const e = new Error('timeout');
      e.name = 'TimeoutError';
      reject(e);
    }, timeoutMs);
    sock.on('connect', () => sock.end(Buffer.concat([Buffer.from(`${head.length}:`), head, Buffer.from(','), bodyBuf])));
    sock.on('data', (d: Buffer) => {
      size += d.length;
      if (size > max) sock.destroy(tooLarge(max));
      else chunks.push(d);
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('end', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks).toString('utf8');
      const sep = all.indexOf('\r\n\r\n');
      if (sep < 0) {
        resolve({ status: all === '' ? 0 : 200, text: all });
        return;
      }
      const status = /^Status:\s*(\d{3})/im.exec(all.slice(0, sep));
      resolve({ status: status ? Number(status[1]) : 200, text: all.slice(sep + 4) });
    });
  });
}

/** What a failed connect to a unix socket means there (the code alone, ENOENT or ECONNREFUSED, says little). */
const SOCKET_WORDS: Record<string, string> = {
  ENOENT: 'no socket at that path: rTorrent is not running, or network.scgi.open_local names another path',
  ECONNREFUSED: 'nothing listens on that socket: rTorrent stopped or crashed and left its socket file behind, or the path is not a socket',
  EACCES: "permission denied: hashall's user may not write to the socket (its mode or owner, or a folder above it)",
};

function socketFailure(ep: Endpoint, cause: unknown): string {
  const text = failureText(cause);
  const words = ep.kind === 'unix' ? SOCKET_WORDS[text] : undefined;
  return words ? `${text} (${words})` : text;
}

export class RtorrentTransport {
  readonly #ep: Endpoint;
  readonly #shown: string;
  readonly #opts: RtorrentTransportOptions;
  /** HTTP endpoints only: null for SCGI. */
  readonly #sender: HttpSender | null;
  /** The password sent so far (HTTP basic): a fault's text is shown only without it (a web server in front may echo it). */
  readonly #secrets = new SecretScrubber();

  constructor(opts: RtorrentTransportOptions) {
    this.#ep = parseRtorrentUrl(opts.url);
    this.#shown = this.#ep.kind === 'unix' ? `scgi://${this.#ep.path}` : this.#ep.kind === 'tcp' ? `scgi://${this.#ep.host}:${this.#ep.port}` : redactUrl(this.#ep.url.href);
    this.#opts = opts;
    this.#sender = this.#ep.kind === 'http' ? createHttpSender({ ...(opts.fetch ? { fetch: opts.fetch } : {}), ...(opts.maxAnswerBytes ? { maxBodyBytes: opts.maxAnswerBytes } : {}) }) : null;
  }

  /** Closes the kept-alive HTTP connections (a later call opens new ones). */
  close(): void {
    this.#sender?.close();
  }

  get shownUrl(): string {
    return this.#shown;
  }

  /** Text that came from the wire (a fault string), without the secrets this transport sent. */
  scrub(text: string): string {
    return this.#secrets.scrub(text);
  }

  /** One XML-RPC call; a fault becomes ClientError('protocol') whose cause is the XmlRpcFault. */
  async call(method: string, params: readonly XmlRpcValue[] = []): Promise<XmlRpcValue> {
    const body = encodeCall(method, params);
    const ans = await withRetries(this.#opts, () => this.#once(method, body), () => new ClientError('network', `no answer from rTorrent for ${method}`));
    try {
      return decodeResponse(ans);
    } catch (err) {
      if (err instanceof XmlRpcFault) {
        const fault = new XmlRpcFault(err.code, this.scrub(err.message));
        throw new ClientError('protocol', `rTorrent refused ${method}: ${fault.message} (fault ${fault.code})`, { cause: fault });
      }
      throw new ClientError('protocol', `rTorrent sent an unreadable answer to ${method} from ${this.#shown}: ${this.scrub((err as Error).message)}`);
    }
  }

  /** The answer body, or a retryable ClientError (network, 5xx); anything else throws. */
  async #once(method: string, body: string): Promise<string | ClientError> {
    let status: number;
    let text: string;
    try {
      if (this.#ep.kind === 'http') {
        const headers: Record<string, string> = { 'content-type': 'text/xml' };
        if (this.#opts.password) headers.authorization = this.#secrets.addBasic(this.#opts.username ?? '', this.#opts.password());
        ({ status, text } = await this.#sender!.send({ method: 'POST', url: this.#ep.url, headers, body, timeoutMs: this.#opts.timeoutMs }));
      } else {
        ({ status, text } = await scgiExchange(this.#ep, body, this.#opts.timeoutMs, this.#opts.maxAnswerBytes ?? MAX_BODY_BYTES));
      }
    } catch (cause) {
      if (isTimeout(cause)) {
        throw new ClientError('timeout', `rTorrent did not answer ${method} at ${this.#shown} within ${this.#opts.timeoutMs} ms`, { hint: 'check that rTorrent is running and responsive, or raise client.timeout' });
      }
      if (isTooLarge(cause)) throw tooLargeAnswer('rTorrent', this.#shown, method, cause);
      return new ClientError('network', `cannot reach rTorrent at ${this.#shown} for ${method}: ${socketFailure(this.#ep, cause)}`, { hint: 'check client.url and that rTorrent (or the web server in front of it) is running' });
    }
    if (status === 401 || status === 403) {
      throw new ClientError('auth', `rTorrent at ${this.#shown} refused ${method} with ${status}`, { status, hint: 'check client.username and the password variable (HTTP basic auth of the web server)' });
    }
    if (status >= 500 || status === 0) return new ClientError('http', `rTorrent at ${this.#shown} answered ${status || 'nothing'} to ${method}`, { status });
    if (status < 200 || status >= 300) throw new ClientError('http', `rTorrent at ${this.#shown} answered ${status} to ${method}`, { status });
    if (text.trim() === '') return new ClientError('protocol', `rTorrent sent an empty answer to ${method}`);
    return text;
  }
}
