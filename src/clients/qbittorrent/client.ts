// TorrentClient for qBittorrent 4.x/5.x over the Web API v2: version detection, reads, mutations, polling.
import { ClientError, HashallError } from '../../errors.js';
import { answersByKey, batcher, mutations } from '../batch.js';
import { checkInfoHashes, checkLocation, checkTorrentEntry, pollTorrent } from '../poll.js';
import { FILE_LISTS_IN_FLIGHT, type ClientTorrent, type ClientTorrentFile, type ClientVersion, type TorrentClient, type WaitOptions } from '../types.js';
import { trackerIdentity, type TrackerEntry } from '../../domain/tracker.js';
import { mapLimit } from '../../domain/map-limit.js';
import { isRunningState, phaseOfState } from './states.js';
import { QbtTransport, type ApiRequest, type TransportOptions } from './transport.js';
import { qbittorrentOwnFolders } from '../own-folders.js';

/** The transport's options (url, credentials, timeout, retries) plus the clock that bounds waitFor. */
export interface QbittorrentClientOptions extends TransportOptions {
  /** Epoch milliseconds; used to bound waitFor. */
  now?: () => number;
}

/** What the qBittorrent adapter offers beyond TorrentClient (still read-only or client-scoped). */
export interface QbittorrentClient extends TorrentClient {
  /** True when the Web API is 2.11+ (qBittorrent 5.x: stop/start instead of pause/resume). */
  usesStopStart(): Promise<boolean>;
}

/** Parse `2.8.19` into comparable numbers; null when it is not a dotted version. */
export function parseApiVersion(text: string): number[] | null {
  const t = text.trim();
  if (!/^\d+(?:\.\d+){0,3}$/.test(t)) return null;
  return t.split('.').map(Number);
}

export function apiAtLeast(version: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < Math.max(version.length, min.length); i++) {
    const a = version[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/** Validated, lower-cased and joined with `|` as the Web API wants them. */
function checkHashes(hashes: readonly string[]): string {
  return checkInfoHashes(hashes).join('|');
}

function parseJson(text: string, what: string): unknown {
  if (text.trim() === '') throw new ClientError('protocol', `qBittorrent sent an empty answer for ${what}`);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ClientError('protocol', `qBittorrent sent unparsable JSON for ${what}`, { cause });
  }
}

function field<T>(obj: Record<string, unknown>, key: string, type: 'string' | 'number' | 'boolean', what: string, fallback?: T): T {
  const v = obj[key];
  if (typeof v === type) return v as T;
  if (v === undefined && fallback !== undefined) return fallback;
  throw new ClientError('protocol', `qBittorrent ${what}: field "${key}" is ${v === undefined ? 'missing' : `a ${typeof v}`}, expected a ${type}`);
}

function asRecord(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ClientError('protocol', `qBittorrent ${what} is not an object`);
  return v as Record<string, unknown>;
}

function asArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new ClientError('protocol', `qBittorrent ${what} is not a list`);
  return v;
}

/**
 * Where qBittorrent's automatic management puts a torrent of `category`: the category's save path, relative to the
 * default save path when not absolute; an empty one is the category's name under the default save path (no category:
 * the default save path). Null when unknown: the category is not listed, or its name holds characters qBittorrent
 * replaces in folder names.
 */
export function atmSavePath(categories: Record<string, unknown>, prefs: Record<string, unknown>, category: string): string | null {
  const base = prefs.save_path;
  if (typeof base !== 'string' || !base.startsWith('/')) return null;
  const under = (rel: string): string => `${base.replace(/\/+$/, '')}/${rel}`;
  if (category === '') return base.replace(/(.)\/+$/, '$1');
  const entry = categories[category];
  if (typeof entry !== 'object' || entry === null) return null;
  const own = (entry as Record<string, unknown>).savePath;
  if (typeof own !== 'string') return null;
  if (own === '') return /[\u0000-\u001f:*?"<>|\\]/.test(category) ? null : under(category);
  return (own.startsWith('/') ? own : under(own)).replace(/(.)\/+$/, '$1');
}

const epochOrNull = (n: number): number | null => (n > 0 ? n : null);

/** The announce URLs a magnet link lists (`tr=`), in its order; none when it is no magnet. */
export function magnetTrackers(magnet: string): string[] {
  const q = magnet.indexOf('?');
  if (!/^magnet:/i.test(magnet) || q < 0) return [];
  return new URLSearchParams(magnet.slice(q + 1)).getAll('tr');
}

/**
 * The torrent's trackers as its /torrents/info entry lists them. `tracker` is only the one that works now: "" while
 * the torrent is paused or every tracker fails, a backup tier's URL while the first tier is down (both seen on 4.5.2).
 * `magnet_uri` lists every tracker in tier order in the same answer, at no extra request. Null when the entry lists
 * none though the torrent has trackers (`trackers_count` > 0): /torrents/trackers must say.
 */
function listedTrackers(o: Record<string, unknown>, what: string): TrackerEntry[] | null {
  const inMagnet = typeof o.magnet_uri === 'string' ? magnetTrackers(o.magnet_uri) : [];
  if (inMagnet.length > 0) return inMagnet.map((url) => ({ url }));
  if (typeof o.trackers_count === 'number' && o.trackers_count > 0) return null;
  const working = field<string>(o, 'tracker', 'string', what, '');
  return working === '' ? [] : [{ url: working }];
}

/** True when the entry does not list the torrent's trackers (see listedTrackers): its tracker is read with trackersOf. */
export function trackersUnlisted(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && listedTrackers(raw as Record<string, unknown>, 'torrent entry') === null;
}

/** /torrents/trackers of one torrent → its entries with their tiers (the DHT/PeX/LSD pseudo-entries included: trackerIdentity skips them). */
export function trackersFromApi(raw: unknown): TrackerEntry[] {
  return asArray(raw, 'tracker list').map((e) => {
    const o = asRecord(e, 'tracker entry');
    const tier = typeof o.tier === 'number' ? o.tier : undefined;
    return { url: field<string>(o, 'url', 'string', 'tracker entry'), ...(tier === undefined ? {} : { tier }) };
  });
}

export function torrentFromApi(raw: unknown): ClientTorrent {
  const o = asRecord(raw, 'torrent entry');
  const what = 'torrent entry';
  const hash = field<string>(o, 'hash', 'string', what).toLowerCase();
  const rawState = field<string>(o, 'state', 'string', what);
  const tags = field<string>(o, 'tags', 'string', what, '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const size = typeof o.total_size === 'number' && o.total_size >= 0 ? o.total_size : field<number>(o, 'size', 'number', what);
  const trackers = listedTrackers(o, what);
  return checkTorrentEntry('qBittorrent', {
    hash,
    name: field<string>(o, 'name', 'string', what),
    savePath: field<string>(o, 'save_path', 'string', what),
    contentPath: field<string>(o, 'content_path', 'string', what),
    downloadPath: field<string>(o, 'download_path', 'string', what, ''),
    category: field<string>(o, 'category', 'string', what, ''),
    tags,
    rawState,
    phase: phaseOfState(rawState),
    running: isRunningState(rawState),
    progress: field<number>(o, 'progress', 'number', what),
    amountLeft: field<number>(o, 'amount_left', 'number', what),
    size,
    autoTmm: field<boolean>(o, 'auto_tmm', 'boolean', what, false),
    addedOn: epochOrNull(field<number>(o, 'added_on', 'number', what, 0)),
    completionOn: epochOrNull(field<number>(o, 'completion_on', 'number', what, 0)),
    seedingTimeSec: field<number>(o, 'seeding_time', 'number', what, 0),
    tracker: trackers === null ? null : trackerIdentity(trackers),
  });
}

function fileFromApi(raw: unknown): ClientTorrentFile {
  const o = asRecord(raw, 'file entry');
  const what = 'file entry';
  return {
    name: field<string>(o, 'name', 'string', what),
    size: field<number>(o, 'size', 'number', what),
    progress: field<number>(o, 'progress', 'number', what),
    index: field<number>(o, 'index', 'number', what),
    // Priority 0 is qBittorrent's "Do not download".
    ...(o.priority === 0 ? { wanted: false } : {}),
  };
}

/** What client.url should be, when what answers there is no qBittorrent Web API (a 404, a web page of something else). */
function notWebUiHint(url: string): string {
  let pathname = '';
  try {
    pathname = new URL(url).pathname;
  } catch {
    // An unparsable URL never got this far (the config's schema refuses it).
  }
  const api = /\/api(\/v2)?\/?$/.test(pathname) ? 'remove /api/v2 from the end of client.url: hashall adds it; ' : '';
  return `${api}check client.url: the address of qBittorrent's Web UI as a browser opens it (e.g. http://127.0.0.1:8080; behind a reverse proxy, with its base path), and that nothing else answers on that port`;
}

export function createQbittorrentClient(opts: QbittorrentClientOptions): QbittorrentClient {
  const transport = new QbtTransport(opts);
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let versionCache: ClientVersion | null = null;
  let apiCache: number[] | null = null;

  const call = (req: ApiRequest) => transport.call(req);

  let versionAsked: Promise<ClientVersion> | null = null;

  /** Asked once however many callers wait at the same time (their calls then go out together); a failure is asked again next time. */
  function version(): Promise<ClientVersion> {
    if (versionCache) return Promise.resolve(versionCache);
    versionAsked ??= askVersion().finally(() => {
      versionAsked = null;
    });
    return versionAsked;
  }

  async function askVersion(): Promise<ClientVersion> {
    // The first call to the server: what answers here when client.url is wrong is said with what to write instead.
    let webApi: string;
    try {
      webApi = (await call({ method: 'GET', path: '/app/webapiVersion' })).text.trim();
    } catch (err) {
      if (err instanceof ClientError && err.status === 404) throw new ClientError('http', err.message, { status: 404, cause: err, hint: notWebUiHint(opts.url) });
      throw err;
    }
    const parsed = parseApiVersion(webApi);
    if (!parsed && /^<(!doctype|html|head|body)\b/i.test(webApi)) {
      throw new ClientError('protocol', `${transport.shownUrl} answered with a web page, not qBittorrent's Web API`, { hint: notWebUiHint(opts.url) });
    }
    if (!parsed) throw new ClientError('protocol', `qBittorrent reported an unreadable Web API version: ${JSON.stringify(webApi.slice(0, 40))}`, { hint: notWebUiHint(opts.url) });
    const app = (await call({ method: 'GET', path: '/app/version' })).text.trim();
    if (app === '') throw new ClientError('protocol', 'qBittorrent sent an empty application version');
    apiCache = parsed;
    versionCache = { app, webApi };
    return versionCache;
  }

  async function api(): Promise<number[]> {
    if (!apiCache) await version();
    return apiCache as number[];
  }

  async function usesStopStart(): Promise<boolean> {
    return apiAtLeast(await api(), [2, 11]);
  }

  async function listTorrents(filter?: { hashes?: string[] }): Promise<ClientTorrent[]> {
    const query: Record<string, string> = {};
    if (filter?.hashes) {
      if (filter.hashes.length === 0) return [];
      query.hashes = checkHashes(filter.hashes);
    }
    const res = await call({ method: 'GET', path: '/torrents/info', query });
    const raws = asArray(parseJson(res.text, 'the torrent list'), 'torrent list');
    const list = raws.map(torrentFromApi);
    await fillTrackers(list.filter((_, i) => trackersUnlisted(raws[i])));
    if (filter?.hashes) {
      const wanted = new Set(filter.hashes.map((h) => h.toLowerCase()));
      return list.filter((t) => wanted.has(t.hash));
    }
    return list;
  }

  /**
   * One GET of the torrents asked for in the same turn (and while the last GET was in flight): the confirmations of
   * every group in flight share one poll. An entry that does not parse fails only its own torrent's read.
   */
  const readBatch = batcher<string, ClientTorrent>(async (hashes) => {
    const res = await call({ method: 'GET', path: '/torrents/info', query: { hashes: hashes.join('|') } });
    const hashOf = (raw: unknown): string => {
      if (typeof raw === 'object' && raw !== null && typeof (raw as { hash?: unknown }).hash === 'string') return (raw as { hash: string }).hash.toLowerCase();
      throw new ClientError('protocol', 'qBittorrent sent a torrent entry without a hash');
    };
    const raws = asArray(parseJson(res.text, 'the torrent list'), 'torrent list');
    const answers = answersByKey(raws, hashOf, torrentFromApi);
    const unlisted = raws.filter(trackersUnlisted).map((r) => answers.get(hashOf(r)));
    await fillTrackers(unlisted.filter((t): t is ClientTorrent => t !== undefined && !(t instanceof Error)));
    return answers;
  });

  /** The torrent's trackers from /torrents/trackers (an unknown torrent: none). */
  async function trackersOf(hash: string): Promise<TrackerEntry[]> {
    const res = await call({ method: 'GET', path: '/torrents/trackers', query: { hash }, accept: [404] });
    return res.status === 404 ? [] : trackersFromApi(parseJson(res.text, `the trackers of ${hash}`));
  }

  /**
   * The tracker of each torrent whose entry did not list its trackers, read per torrent and a few at a time. Only such
   * torrents cost a request: qBittorrent 4.5.2 lists them all in `magnet_uri`, so a list of thousands costs none.
   */
  async function fillTrackers(torrents: ClientTorrent[]): Promise<void> {
    await mapLimit(torrents, FILE_LISTS_IN_FLIGHT, async (t) => {
      t.tracker = trackerIdentity(await trackersOf(t.hash));
    });
  }

  async function getTorrent(hash: string): Promise<ClientTorrent | null> {
    const [h] = checkInfoHashes([hash]);
    return (await readBatch(h!)) ?? null;
  }

  async function listFiles(hash: string): Promise<ClientTorrentFile[]> {
    checkHashes([hash]);
    const res = await call({ method: 'GET', path: '/torrents/files', query: { hash: hash.toLowerCase() }, accept: [404] });
    if (res.status === 404) throw new ClientError('http', `qBittorrent does not know torrent ${hash.toLowerCase()}`, { status: 404 });
    const files = asArray(parseJson(res.text, `the file list of ${hash}`), 'file list').map(fileFromApi);
    return files.sort((a, b) => a.index - b.index);
  }

  async function preferences(): Promise<Record<string, unknown>> {
    return asRecord(parseJson((await call({ method: 'GET', path: '/app/preferences' })).text, 'the preferences'), 'preferences');
  }

  /**
   * One POST per action and arguments for the torrents asked in the same turn: qBittorrent applies `hashes=a|b` to
   * each listed torrent as one call each would (unknown hashes are ignored, never widened to others), and its refusals
   * (a save path it cannot create) concern the arguments every torrent of the call shares.
   */
  const send = mutations<{ path: string; hashKey: string; extra: Record<string, string> }>(async ({ path, hashKey, extra }, hashes) => {
    await call({ method: 'POST', path, form: { [hashKey]: checkHashes(hashes), ...extra } });
    return new Map();
  });
  const mutate = (path: string, hashes: readonly string[], extra: Record<string, string> = {}, hashKey = 'hashes'): Promise<void> => send({ path, hashKey, extra }, hashes);

  function checkTags(tags: readonly string[]): string {
    for (const t of tags) {
      if (t.trim() === '' || t.includes(',')) throw new HashallError(`not a usable tag: ${JSON.stringify(t)}`, { hint: 'tags are non-empty and contain no comma' });
    }
    return tags.map((t) => t.trim()).join(',');
  }

  const waitFor = (hash: string, predicate: (t: ClientTorrent) => boolean, w: WaitOptions): Promise<ClientTorrent> =>
    pollTorrent({ get: getTorrent, now, sleep, app: 'qBittorrent', alignToTicks: true }, hash, predicate, w);

  return {
    version,
    usesStopStart,
    listTorrents,
    getTorrent,
    listFiles,
    async pause(hashes) {
      await mutate((await usesStopStart()) ? '/torrents/stop' : '/torrents/pause', hashes);
    },
    async resume(hashes) {
      await mutate((await usesStopStart()) ? '/torrents/start' : '/torrents/resume', hashes);
    },
    async setLocation(hashes, location) {
      await mutate('/torrents/setLocation', hashes, { location: checkLocation(location) });
    },
    async recheck(hashes) {
      await mutate('/torrents/recheck', hashes);
    },
    async setAutoManagement(hashes, enable) {
      await mutate('/torrents/setAutoManagement', hashes, { enable: enable ? 'true' : 'false' });
    },
    async setDownloadPath(hashes, path) {
      // The endpoint exists since Web API 2.8.4; older clients have no per-torrent download path at all.
      if (!apiAtLeast(await api(), [2, 8, 4])) return;
      await mutate('/torrents/setDownloadPath', hashes, { path }, 'id');
    },
    async categorySavePath(category) {
      const [cats, prefs] = await Promise.all([call({ method: 'GET', path: '/torrents/categories' }), preferences()]);
      return atmSavePath(asRecord(parseJson(cats.text, 'the categories'), 'category list'), prefs, category);
    },
    async addTags(hashes, tags) {
      if (tags.length === 0) return;
      await mutate('/torrents/addTags', hashes, { tags: checkTags(tags) });
    },
    async removeTags(hashes, tags) {
      if (tags.length === 0) return;
      await mutate('/torrents/removeTags', hashes, { tags: checkTags(tags) });
    },
    async checkingLimit() {
      // Options → Advanced → "Max active checking torrents" (Web API 2.8.x+); a missing or non-positive value: unknown.
      const n = (await preferences()).max_active_checking_torrents;
      return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null;
    },
    async renamesIncompleteFiles() {
      // Options → Downloads → "Append .!qB extension to incomplete files"; an answer without the key is unknown: assume it does.
      const on = (await preferences()).incomplete_files_ext;
      return typeof on === 'boolean' ? on : true;
    },
    async ownFolders() {
      return qbittorrentOwnFolders(await preferences());
    },
    waitFor,
    async close() {
      await transport.close();
    },
  };
}
