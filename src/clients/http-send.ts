// The one HTTP(S) sender of every client transport and of notifications: kept-alive connections, a bound on the whole exchange and on the answer's size, redirects never followed, the user's extra CAs for HTTPS.
import http from 'node:http';
import https from 'node:https';
import { constants as bufferConstants } from 'node:buffer';
import zlib from 'node:zlib';
import { ClientError } from '../errors.js';
import { processExtraCa, type ExtraCa } from './extra-ca.js';

export interface HttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /** The whole exchange, the answer's last byte included; past it the send fails with a `TimeoutError`. */
  timeoutMs: number;
  /** Ends the exchange at once when aborted (a stop signal, an overall deadline): the send fails with an `AbortError`. */
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  /** The reason phrase (`Internal Server Error`), '' when none. */
  statusText: string;
  /** A header of the answer (lower or any case), several joined with `, `; null when absent. */
  header(name: string): string | null;
  /** Every Set-Cookie line. */
  setCookies: string[];
  /** The body as UTF-8 text. */
  text: string;
}

export interface HttpSenderOptions {
  /**
   * Sends through this `fetch` instead of Node's http module (tests that watch the requests). By default one kept-alive
   * connection pool per sender: a fetch cost ~0.7–0.9 ms of CPU per call against ~0.15–0.3 ms, and asked for compressed
   * answers that both sides then spent CPU on — an adoption makes hundreds of calls.
   */
  fetch?: typeof fetch;
  /**
   * The answer's body is bounded: past this many bytes the send fails (ERESPONSETOOLARGE). Default MAX_BODY_BYTES; never
   * more than the longest string node can make (MAX_STRING_LENGTH), so turning the body into text cannot fail.
   */
  maxBodyBytes?: number;
  /**
   * The status decides, the body is only shown (notifications): a body past the bound is cut there, and one the server
   * cuts short or that has not ended within the bound is kept as read — none is an error once the status came.
   */
  lenientBody?: boolean;
  /** The TLS context of HTTPS connections (tests); the process's, with the user's extra CAs, otherwise. */
  extraCa?: ExtraCa;
}

export interface HttpSender {
  send(req: HttpRequest): Promise<HttpAnswer>;
  /** Closes the kept-alive connections (the sender can still send: it opens new ones). */
  close(): void;
}

/**
 * The default bound of a client's answer: 128 MiB. A torrent list far beyond any home server's stays below it (Deluge's
 * status of every torrent with its file list takes ~0.4 KB a file: ~300k files; qBittorrent's ~1.5 KB a torrent), while
 * parsing one as large holds several times its size in memory. It was 512 MiB: at that size node cannot even make the
 * text (MAX_STRING_LENGTH), and each retry read it again. Not configurable: an answer past it is a client that is not
 * what client.url should name, or a list hashall should not hold at once (the error says so).
 */
export const MAX_BODY_BYTES = 128 << 20;

/** The sender's error for an answer past its bound (never retried: the client would send it again). */
export function isTooLarge(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ERESPONSETOOLARGE';
}

/** `than 128 MiB`, `than 16384 bytes`: the bound an answer passed (its error's maxBytes). */
function boundText(cause: unknown): string {
  const bound = (cause as { maxBytes?: number } | null)?.maxBytes;
  return bound === undefined ? 'than hashall reads' : `than ${bound >= 1 << 20 ? `${Math.round(bound / (1 << 20))} MiB` : `${bound} bytes`}`;
}

/** The one message for an answer past the bound: what was asked, of which client, and what to do. Not a network error, not retried. */
export function tooLargeAnswer(app: string, shown: string, what: string, cause: unknown): ClientError {
  const size = boundText(cause);
  return new ClientError('protocol', `${app} at ${shown} answered ${what} with more ${size}: hashall stopped reading it and asks no more (not retried)`, {
    cause,
    hint: `check that client.url names ${app} itself (not a proxy or file server in front of it); a torrent list this large is more than one read may hold in memory — split the torrents across client instances`,
  });
}

/** A transport's refusal of an answer past the bound (tooLargeAnswer): a read of several torrents may ask again for fewer. */
export function isTooLargeAnswer(err: unknown): boolean {
  return err instanceof ClientError && isTooLarge(err.cause);
}

/**
 * The message for one torrent whose own answer (its file list) is past the bound, read alone (src/clients/paged-read.ts):
 * which torrent, of which client, and what to do. `err` is the transport's tooLargeAnswer.
 */
export function tooLargeTorrent(app: string, hash: string, name: string | null, err: ClientError): ClientError {
  return new ClientError('protocol', `${app} answered the read of torrent ${name === null ? hash : `"${name}" (${hash})`} alone with more ${boundText(err.cause)}: its file list is larger than one answer hashall reads, so this client's file lists cannot all be read`, {
    cause: err,
    hint: `no setting raises the bound: check this torrent in ${app} (a file list this large holds hundreds of thousands of files) and remove it there if it is not what you meant to seed; until it is gone, hashall cannot sync this client`,
  });
}

/** TLS verification failures, as Node names them: the server's certificate is not one this process trusts. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
]);

function timeoutError(ms: number): Error {
  const err = new Error(`no complete answer within ${ms} ms`);
  err.name = 'TimeoutError';
  return err;
}

function abortError(signal: AbortSignal): Error {
  const err = new Error(`stopped (${String(signal.reason)})`);
  err.name = 'AbortError';
  return err;
}

/** The error of an answer past `max` bytes (ERESPONSETOOLARGE): isTooLarge knows it, tooLargeAnswer says it. */
export function tooLarge(max: number): Error {
  return Object.assign(new Error(`the answer is larger than ${max} bytes`), { code: 'ERESPONSETOOLARGE', maxBytes: max });
}

/** The body as text: within the bound it always converts; should it not (a bound raised past node's), that is the bound's error, never a throw of its own. */
function textOf(body: Buffer, max: number): string {
  try {
    return body.toString('utf8');
  } catch {
    throw tooLarge(Math.min(max, body.length));
  }
}

/** A send that failed by its bound (or an injected fetch's abort). */
export function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

/**
 * What stopped a send, for a message: its code (ECONNREFUSED, CERT_HAS_EXPIRED), else its message; an untrusted
 * certificate says how to trust a private CA. Never a URL or a body (callers redact their own secrets on top).
 */
export function failureText(err: unknown): string {
  const inner = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = typeof inner === 'object' && inner !== null && 'code' in inner ? String((inner as { code: unknown }).code) : '';
  if (UNTRUSTED.has(code)) return `${code} (the server's TLS certificate is not signed by a trusted CA; for a private CA, name its PEM file in NODE_EXTRA_CA_CERTS)`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `${code} (the server's TLS certificate is not for this host name)`;
  return code || (inner instanceof Error ? inner.message : String(inner));
}

/**
 * The request's headers with a User-Agent unless it has its own (some webhook hosts refuse a request without one; fetch
 * sent `node`), and for Node's http the body's length.
 */
function withDefaults(req: HttpRequest, length: boolean): Record<string, string> {
  const headers: Record<string, string> = Object.keys(req.headers).some((k) => k.toLowerCase() === 'user-agent') ? { ...req.headers } : { 'user-agent': 'hashall', ...req.headers };
  if (length && req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  return headers;
}

/**
 * The body as sent, decompressed where the server compressed it (a transport that asks for `accept-encoding: gzip`):
 * bounded by `max` after decompression too. One that does not decompress fails the send, or in lenient mode is kept as
 * it came.
 */
function decoded(body: Buffer, encoding: string | undefined, max: number, lenient: boolean): Buffer {
  const e = encoding?.trim().toLowerCase();
  if (e !== 'gzip' && e !== 'deflate') return body;
  try {
    return e === 'gzip' ? zlib.gunzipSync(body, { maxOutputLength: max }) : zlib.inflateSync(body, { maxOutputLength: max });
  } catch (err) {
    if (lenient) return body;
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(max);
    throw Object.assign(new Error(`the answer's ${e} body does not decompress: ${(err as Error).message}`), { code: 'EBADENCODING' });
  }
}

function nodeSend(req: HttpRequest, agent: http.Agent, max: number, lenient: boolean): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const fail = (err: unknown): void => settle(() => reject(err));
    const headers = withDefaults(req, true);
    let done: (() => void) | null = null;
    const out = (req.url.protocol === 'https:' ? https : http).request(req.url, { method: req.method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const answer = (): HttpAnswer => {
        const h = res.headers;
        return {
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          header: (name) => {
            const v = h[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          },
          setCookies: h['set-cookie'] ?? [],
          text: textOf(decoded(Buffer.concat(chunks), h['content-encoding'], max, lenient), max),
        };
      };
      done = (): void => {
        try {
          const a = answer();
          settle(() => resolve(a));
        } catch (err) {
          fail(err);
        }
      };
      res.on('data', (c: Buffer) => {
        if (settled) return;
        if (size + c.length > max) {
          if (lenient) chunks.push(c.subarray(0, max - size));
          size = max;
          if (lenient) done!();
          else fail(tooLarge(max));
          out.destroy();
          return;
        }
        size += c.length;
        chunks.push(c);
      });
      res.on('end', done);
      res.on('error', (err) => (lenient ? done!() : fail(err)));
      res.on('close', () => {
        if (res.complete) return;
        if (lenient) done!();
        else fail(Object.assign(new Error('the connection closed before the answer ended'), { code: 'ECONNRESET' }));
      });
    });
    const timer = setTimeout(() => {
      const err = timeoutError(req.timeoutMs);
      if (lenient && done) done();
      else fail(err);
      out.destroy(err);
    }, req.timeoutMs);
    // An abort is not a timeout: whatever came of the answer is dropped, the exchange ends now.
    function onAbort(): void {
      const err = abortError(req.signal!);
      fail(err);
      out.destroy(err);
    }
    if (req.signal?.aborted) {
      onAbort();
      return;
    }
    req.signal?.addEventListener('abort', onAbort, { once: true });
    out.on('error', fail);
    out.end(req.body);
  });
}

/** Through an injected fetch: redirects never followed, the body read within the same bounds. */
async function fetchSend(doFetch: typeof fetch, req: HttpRequest, max: number, lenient: boolean): Promise<HttpAnswer> {
  const signal = req.signal ? AbortSignal.any([AbortSignal.timeout(req.timeoutMs), req.signal]) : AbortSignal.timeout(req.timeoutMs);
  const res = await doFetch(req.url, { method: req.method, headers: withDefaults(req, false), ...(req.body === undefined ? {} : { body: req.body }), signal, redirect: 'manual' });
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  try {
    for (;;) {
      if (!reader) break;
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.length > max) {
        await reader.cancel().catch(() => undefined);
        if (!lenient) throw tooLarge(max);
        chunks.push(value.subarray(0, max - size));
        break;
      }
      size += value.length;
      chunks.push(value);
    }
  } catch (err) {
    if (!lenient) throw err;
  }
  const setCookies = typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie() : [res.headers.get('set-cookie') ?? ''];
  return { status: res.status, statusText: res.statusText, header: (name) => res.headers.get(name), setCookies, text: textOf(Buffer.concat(chunks), max) };
}

/** A sender with its own kept-alive connections (one pool per scheme, made at its first request). */
export function createHttpSender(opts: HttpSenderOptions = {}): HttpSender {
  const max = Math.min(opts.maxBodyBytes ?? MAX_BODY_BYTES, bufferConstants.MAX_STRING_LENGTH);
  const lenient = opts.lenientBody === true;
  const extraCa = opts.extraCa ?? processExtraCa;
  let plain: http.Agent | null = null;
  let secure: https.Agent | null = null;
  const agentFor = (url: URL): http.Agent => {
    if (url.protocol !== 'https:') return (plain ??= new http.Agent({ keepAlive: true }));
    if (secure) return secure;
    // The extra CAs are read here, at the first HTTPS connection of the process (and kept for every later one).
    const secureContext = extraCa();
    return (secure = new https.Agent({ keepAlive: true, ...(secureContext ? { secureContext } : {}) }));
  };
  const doFetch = opts.fetch;
  return {
    send: (req) => (doFetch ? fetchSend(doFetch, req, max, lenient) : nodeSend(req, agentFor(req.url), max, lenient)),
    close() {
      plain?.destroy();
      secure?.destroy();
    },
  };
}
