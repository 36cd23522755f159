// TorrentClient for transmission-daemon (RPC 15+, Transmission 2.9x–4.x): 409 session handshake, basic auth, reads, repoint without moving.
import { joinPath, trimSlash } from '../../domain/path-string.js';
import { trackerIdentity } from '../../domain/tracker.js';
import { ClientError, HashallError } from '../../errors.js';
import { createHttpSender, failureText, isTimeout, isTooLarge, tooLargeAnswer } from '../http-send.js';
import { answersByKey, askedOnce, batcher, mutations } from '../batch.js';
import { checkInfoHashes, checkLocation, checkTorrentEntry, pollTorrent } from '../poll.js';
import { redactUrl } from '../shown-url.js';
import { SecretScrubber } from '../redact-secrets.js';
import { defaultSleep, withRetries, type RetryOptions } from '../retry.js';
import { BATCHED_FILE_LISTS_IN_FLIGHT, FILES_PER_CALL, type ClientTorrent, type ClientTorrentFile, type ClientVersion, type TorrentClient } from '../types.js';
import { phaseOfTransmission, rawStateOf } from './states.js';
import { transmissionOwnFolders } from '../own-folders.js';
import { halvedWhileTooLarge } from '../paged-read.js';

export interface TransmissionClientOptions extends RetryOptions {
  /** RPC URL: `http://host:9091/transmission/rpc` (a bare `http://host:9091` gets that path). */
  url: string;
  username?: string | null;
  /** Read per request (basic auth); never stored, logged or put into a message. */
  password?: (() => string) | null;
  timeoutMs: number;
  /** Sends through this `fetch` instead of the kept-alive sender (tests that watch the requests). */
  fetch?: typeof fetch;
  /** The bound of an answer (tests lower it); MAX_BODY_BYTES otherwise. */
  maxAnswerBytes?: number;
  now?: () => number;
}

/** Labels exist from RPC 16 (Transmission 3.00). */
const LABELS_RPC = 16;
const BASE_FIELDS = ['hashString', 'name', 'downloadDir', 'status', 'error', 'errorString', 'percentDone', 'leftUntilDone', 'totalSize', 'addedDate', 'doneDate', 'secondsSeeding', 'trackers'];

function rpcUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch (cause) {
    throw new ClientError('protocol', `Transmission URL is not a valid URL: ${redactUrl(raw)}`, { cause, hint: 'set client.url to http://127.0.0.1:9091/transmission/rpc' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ClientError('protocol', `Transmission URL must be http or https, got ${u.protocol}`, { hint: 'set client.url to http://127.0.0.1:9091/transmission/rpc' });
  u.username = '';
  u.password = '';
  u.hash = '';
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/transmission/rpc';
  return u;
}

type Obj = Record<string, unknown>;

function num(o: Obj, k: string, what: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ClientError('protocol', `Transmission ${what}: field "${k}" is ${v === undefined ? 'missing' : `a ${typeof v}`}, expected a number`);
  return v;
}

function str(o: Obj, k: string, what: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new ClientError('protocol', `Transmission ${what}: field "${k}" is ${v === undefined ? 'missing' : `a ${typeof v}`}, expected a string`);
  return v;
}

export function torrentFromTransmission(o: Obj): ClientTorrent {
  const what = 'torrent entry';
  const status = num(o, 'status', what);
  const error = num(o, 'error', what);
  const errorString = typeof o.errorString === 'string' ? o.errorString : '';
  const percentDone = num(o, 'percentDone', what);
  const downloadDir = str(o, 'downloadDir', what);
  const name = str(o, 'name', what);
  const labels = Array.isArray(o.labels) ? o.labels.filter((l): l is string => typeof l === 'string') : [];
  const phase = phaseOfTransmission(status, error, errorString, percentDone);
  const trackers = Array.isArray(o.trackers) ? (o.trackers as Obj[]) : [];
  const epoch = (k: string) => (typeof o[k] === 'number' && (o[k] as number) > 0 ? (o[k] as number) : null);
  return checkTorrentEntry('Transmission', {
    hash: str(o, 'hashString', what).toLowerCase(),
    name,
    savePath: downloadDir,
    contentPath: joinPath(trimSlash(downloadDir), name),
    downloadPath: '',
    category: labels[0] ?? '',
    tags: labels,
    rawState: rawStateOf(status, error),
    phase,
    running: phase === 'seeding' || phase === 'downloading',
    progress: percentDone,
    amountLeft: num(o, 'leftUntilDone', what),
    size: num(o, 'totalSize', what),
    autoTmm: false,
    addedOn: epoch('addedDate'),
    completionOn: epoch('doneDate'),
    seedingTimeSec: typeof o.secondsSeeding === 'number' ? o.secondsSeeding : 0,
    tracker: trackerIdentity(
      trackers.filter((t) => typeof t.announce === 'string').map((t) => ({ url: t.announce as string, ...(typeof t.tier === 'number' ? { tier: t.tier } : {}) })),
    ),
  });
}

export function createTransmissionClient(opts: TransmissionClientOptions): TorrentClient {
  const url = rpcUrl(opts.url);
  const shown = redactUrl(url.href);
  const sender = createHttpSender({ ...(opts.fetch ? { fetch: opts.fetch } : {}), ...(opts.maxAnswerBytes ? { maxBodyBytes: opts.maxAnswerBytes } : {}) });
  const sleep = opts.sleep ?? defaultSleep;
  const now = opts.now ?? Date.now;
  let session = '';
  /** The password sent so far (HTTP basic): an answer's text is shown only without it (a proxy may echo it). */
  const secrets = new SecretScrubber();
  let versionCache: { v: ClientVersion; rpc: number } | null = null;

  async function once(body: string, method: string): Promise<{ status: number; text: string; session: string | null } | ClientError> {
    // Compressed answers: transmission-daemon sends a large answer in two writes, and the second waited for the ACK of the
    // first (Nagle against the delayed ACK): ~40 ms more for any answer past ~16 KB — a torrent-get of 50 torrents, or the
    // polls of 50 groups in flight (measured: 42–48 ms against 2–3 ms compressed).
    const headers: Record<string, string> = { 'content-type': 'application/json', 'accept-encoding': 'gzip' };
    if (session) headers['x-transmission-session-id'] = session;
    if (opts.password) headers.authorization = secrets.addBasic(opts.username ?? '', opts.password());
    try {
      const res = await sender.send({ method: 'POST', url, headers, body, timeoutMs: opts.timeoutMs });
      return { status: res.status, text: res.text, session: res.header('x-transmission-session-id') };
    } catch (cause) {
      if (isTimeout(cause)) {
        throw new ClientError('timeout', `Transmission did not answer ${method} at ${shown} within ${opts.timeoutMs} ms`, { hint: 'check that transmission-daemon is running, or raise client.timeout' });
      }
      if (isTooLarge(cause)) throw tooLargeAnswer('Transmission', shown, method, cause);
      if ((cause as { code?: string }).code === 'EBADENCODING') throw new ClientError('protocol', `Transmission at ${shown} answered ${method} with a body that does not decompress: ${failureText(cause)}`, { hint: 'a proxy in front of transmission-daemon may be mangling compressed answers' });
      return new ClientError('network', `cannot reach Transmission at ${shown} for ${method}: ${failureText(cause)}`, { hint: 'check client.url and that transmission-daemon is running' });
    }
  }

  /** One RPC call: session handshake (409, once), retries on network errors and 5xx, `result` must be `success`. */
  async function rpc(method: string, args: Obj = {}): Promise<Obj> {
    const body = JSON.stringify({ method, arguments: args });
    const text = await withRetries(
      opts,
      async (i, attempts) => {
        let ans = await once(body, method);
        if (!(ans instanceof ClientError) && ans.status === 409) {
          // The CSRF handshake: repeat with the session id the 409 carried (it changes when the daemon restarts).
          session = ans.session ?? '';
          if (!session) throw new ClientError('protocol', `Transmission at ${shown} answered 409 without an X-Transmission-Session-Id`);
          ans = await once(body, method);
        }
        if (ans instanceof ClientError) return ans;
        if (ans.status === 401 || ans.status === 403) {
          throw new ClientError('auth', `Transmission at ${shown} refused ${method} with ${ans.status}`, {
            status: ans.status,
            hint: ans.status === 403 ? 'the daemon does not accept this address: check rpc-whitelist in settings.json' : 'check client.username and the password variable',
          });
        }
        if (ans.status >= 500) return new ClientError('http', `Transmission at ${shown} answered ${ans.status} to ${method} (${i + 1} of ${attempts} tries)`, { status: ans.status });
        if (ans.status !== 200) throw new ClientError('http', `Transmission at ${shown} answered ${ans.status} to ${method}`, { status: ans.status });
        return ans.text;
      },
      () => new ClientError('network', `no answer from Transmission for ${method}`),
    );
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw new ClientError('protocol', `Transmission sent unparsable JSON for ${method}`, { cause });
    }
    const o = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Obj;
    if (o.result !== 'success') throw new ClientError('protocol', `Transmission refused ${method}: ${typeof o.result === 'string' ? secrets.scrub(o.result).slice(0, 200) : 'no result'}`);
    if (typeof o.arguments !== 'object' || o.arguments === null) throw new ClientError('protocol', `Transmission answered ${method} without arguments`);
    return o.arguments as Obj;
  }

  /** Asked once for concurrent callers (a read and a label change of the same moment), and kept. */
  const version = askedOnce(async (): Promise<ClientVersion> => {
    const s = await rpc('session-get', { fields: ['version', 'rpc-version'] });
    const rpcVersion = typeof s['rpc-version'] === 'number' ? s['rpc-version'] : NaN;
    if (typeof s.version !== 'string' || !Number.isInteger(rpcVersion)) throw new ClientError('protocol', 'Transmission sent no readable version in session-get');
    versionCache = { v: { app: `Transmission ${s.version}`, webApi: `rpc ${rpcVersion}` }, rpc: rpcVersion };
    return versionCache.v;
  });

  async function fields(extra: string[] = []): Promise<string[]> {
    await version();
    return [...BASE_FIELDS, ...((versionCache?.rpc ?? 0) >= LABELS_RPC ? ['labels'] : []), ...extra];
  }

  async function get(ids: string[] | null, extra: string[] = []): Promise<Obj[]> {
    const args: Obj = { fields: await fields(extra) };
    if (ids) args.ids = ids;
    const out = await rpc('torrent-get', args);
    if (!Array.isArray(out.torrents)) throw new ClientError('protocol', 'Transmission torrent-get answered without a torrent list');
    return out.torrents as Obj[];
  }

  async function listTorrents(filter?: { hashes?: string[] }): Promise<ClientTorrent[]> {
    if (filter?.hashes && filter.hashes.length === 0) return [];
    const ids = filter?.hashes ? checkInfoHashes(filter.hashes) : null;
    const list = (await get(ids)).map(torrentFromTransmission);
    if (!ids) return list;
    const wanted = new Set(ids);
    return list.filter((t) => wanted.has(t.hash));
  }

  /**
   * One torrent-get of the torrents asked for in the same turn (and while the last one was in flight): the
   * confirmations of every group in flight share one poll. An entry that does not parse fails only its own torrent.
   */
  const hashOf = (o: Obj): string => {
    if (typeof o.hashString !== 'string') throw new ClientError('protocol', 'Transmission sent a torrent without hashString');
    return o.hashString.toLowerCase();
  };
  const readBatch = batcher<string, ClientTorrent>(async (ids) => answersByKey(await get(ids), hashOf, torrentFromTransmission));

  async function getTorrent(hash: string): Promise<ClientTorrent | null> {
    const [h] = checkInfoHashes([hash]);
    return (await readBatch(h!)) ?? null;
  }

  function filesOf(t: Obj): ClientTorrentFile[] {
    if (!Array.isArray(t.files)) throw new ClientError('protocol', `Transmission sent no file list for ${String(t.hashString)}`);
    // `wanted` is one flag per file, in file order (false or 0: unchecked, never downloaded).
    const wanted = Array.isArray(t.wanted) ? (t.wanted as unknown[]) : [];
    return (t.files as Obj[]).map((f, index) => {
      const length = num(f, 'length', 'file entry');
      const w = wanted[index];
      return { name: str(f, 'name', 'file entry'), size: length, progress: length > 0 ? num(f, 'bytesCompleted', 'file entry') / length : 1, index, ...(w === false || w === 0 ? { wanted: false } : {}) };
    });
  }

  /** One torrent's name, where Transmission tells it (for the message of a torrent whose own file list is past the bound). */
  async function nameOf(h: string): Promise<string | null> {
    const t = (await rpc('torrent-get', { ids: [h], fields: ['name'] })).torrents;
    return Array.isArray(t) && typeof (t[0] as Obj | undefined)?.name === 'string' ? ((t[0] as Obj).name as string) : null;
  }

  /** One torrent-get with the files of every torrent asked in the same turn (a sync asks many at once), halved while the answer is past the bound. */
  const filesBatch = batcher<string, ClientTorrentFile[]>(halvedWhileTooLarge(async (ids) => answersByKey(await get(ids, ['files', 'wanted']), hashOf, filesOf), 'Transmission', nameOf), FILES_PER_CALL);

  async function listFiles(hash: string): Promise<ClientTorrentFile[]> {
    const [h] = checkInfoHashes([hash]);
    const files = await filesBatch(h!);
    if (!files) throw new ClientError('http', `Transmission does not know torrent ${h}`, { status: 404 });
    return files;
  }

  /**
   * One call per method and arguments for the torrents asked in the same turn: Transmission applies `ids` to each
   * listed torrent (unknown ones are skipped, never widened to others), and refuses a call only for its arguments.
   */
  const send = mutations<{ method: string; extra: Obj }>(async ({ method, extra }, ids) => {
    await rpc(method, { ids: checkInfoHashes(ids), ...extra });
    return new Map();
  });

  /** A mutation on exactly these torrents: Transmission applies a call without `ids` to every torrent, so never send one. */
  const mutate = (method: string, hashes: readonly string[], extra: Obj = {}): Promise<void> => send({ method, extra }, hashes);

  async function setLabels(hashes: string[], edit: (labels: string[]) => string[]): Promise<void> {
    await version();
    if ((versionCache?.rpc ?? 0) < LABELS_RPC) throw new HashallError(`Transmission ${versionCache?.v.app ?? ''} has no labels (they arrived in 3.00)`);
    for (const t of await get(checkInfoHashes(hashes))) {
      const labels = Array.isArray(t.labels) ? (t.labels as string[]) : [];
      await rpc('torrent-set', { ids: [String(t.hashString)], labels: edit(labels) });
    }
  }

  return {
    version,
    listTorrents,
    getTorrent,
    listFiles,
    listFilesInFlight: BATCHED_FILE_LISTS_IN_FLIGHT,
    pause: (hashes) => mutate('torrent-stop', hashes),
    resume: (hashes) => mutate('torrent-start', hashes),
    async setLocation(hashes, location) {
      // move: false — repoint only; Transmission must never move or delete data itself.
      await mutate('torrent-set-location', hashes, { location: checkLocation(location), move: false });
    },
    recheck: (hashes) => mutate('torrent-verify', hashes),
    async setAutoManagement(_hashes, enable) {
      if (enable) throw new HashallError('Transmission has no automatic torrent management to enable');
    },
    async setDownloadPath() {
      // Transmission's incomplete-dir is session-wide, not per torrent: nothing to clear.
    },
    async renamesIncompleteFiles() {
      // "rename-partial-files" (default on): the files of an incomplete torrent end in .part. Absent: assume it does.
      const on = (await rpc('session-get', { fields: ['rename-partial-files'] }))['rename-partial-files'];
      return typeof on === 'boolean' ? on : true;
    },
    async ownFolders() {
      return transmissionOwnFolders(await rpc('session-get', { fields: ['config-dir', 'incomplete-dir', 'incomplete-dir-enabled'] }));
    },
    async addTags(hashes, tags) {
      if (tags.length > 0) await setLabels(hashes, (l) => [...new Set([...l, ...tags])]);
    },
    async removeTags(hashes, tags) {
      if (tags.length > 0) await setLabels(hashes, (l) => l.filter((x) => !tags.includes(x)));
    },
    // Transmission's verify takes at least ~100 ms (its verify thread sleeps each second) and stop/start show up on
    // its next state tick: poll at 40 ms so a check is seen.
    waitFor: (hash, predicate, w) => pollTorrent({ get: getTorrent, now, sleep, app: 'Transmission', maxIntervalMs: 40, alignToTicks: true }, hash, predicate, w),
    async close() {
      // the session id dies with the daemon; the kept-alive connections end here
      sender.close();
    },
  };
}
