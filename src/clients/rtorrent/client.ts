// TorrentClient for rTorrent 0.9.x (XML-RPC over SCGI or HTTP): d.multicall2 list, f.multicall files, repoint = stop → close → d.directory.set.
import { ClientError, HashallError } from '../../errors.js';
import { checkInfoHashes, pollTorrent } from '../poll.js';
import type { ClientTorrent, ClientTorrentFile, ClientVersion, TorrentClient } from '../types.js';
import { phaseOfRtorrent, rawStateOf } from './states.js';
import { RtorrentTransport, type RtorrentTransportOptions } from './transport.js';
import { XmlRpcFault, type XmlRpcValue } from './xmlrpc.js';

export interface RtorrentClientOptions extends RtorrentTransportOptions {
  now?: () => number;
}

/** The d.* commands read per torrent, in this order. */
const FIELDS = [
  'd.hash',
  'd.name',
  'd.directory',
  'd.is_multi_file',
  'd.state',
  'd.is_open',
  'd.is_active',
  'd.complete',
  'd.hashing',
  'd.is_hash_checking',
  'd.hashing_failed',
  'd.is_hash_checked',
  'd.custom1',
  'd.size_bytes',
  'd.left_bytes',
  'd.completed_bytes',
  'd.load_date',
  'd.timestamp.finished',
] as const;

const NOT_FOUND = /could not find info-hash/i;

function dirname(p: string): string {
  const t = p.replace(/\/+$/, '');
  const i = t.lastIndexOf('/');
  return i <= 0 ? '/' : t.slice(0, i);
}

function basename(p: string): string {
  const t = p.replace(/\/+$/, '');
  return t.slice(t.lastIndexOf('/') + 1);
}

function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir.replace(/\/+$/, '')}/${name}`;
}

/** ruTorrent stores the label URI-encoded in d.custom1 (`TV%20Shows`); other front ends store it plain. */
function labelOf(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** One row of FIELDS values → ClientTorrent. */
export function torrentFromRtorrent(row: readonly XmlRpcValue[]): ClientTorrent {
  if (row.length !== FIELDS.length) throw new ClientError('protocol', `rTorrent sent ${row.length} fields for a torrent, expected ${FIELDS.length}`);
  const v = Object.fromEntries(FIELDS.map((f, i) => [f, row[i]])) as Record<(typeof FIELDS)[number], XmlRpcValue>;
  const n = (k: (typeof FIELDS)[number]): number => {
    const x = v[k];
    if (typeof x !== 'number') throw new ClientError('protocol', `rTorrent ${k} is a ${typeof x}, expected a number`);
    return x;
  };
  const s = (k: (typeof FIELDS)[number]): string => {
    const x = v[k];
    if (typeof x !== 'string') throw new ClientError('protocol', `rTorrent ${k} is a ${typeof x}, expected a string`);
    return x;
  };
  const state = { state: n('d.state'), isOpen: n('d.is_open'), isActive: n('d.is_active'), complete: n('d.complete'), hashing: n('d.hashing'), isHashChecking: n('d.is_hash_checking'), hashingFailed: n('d.hashing_failed') };
  const phase = phaseOfRtorrent(state);
  const directory = s('d.directory');
  const multi = n('d.is_multi_file') === 1;
  const size = n('d.size_bytes');
  const label = labelOf(s('d.custom1'));
  return {
    hash: s('d.hash').toLowerCase(),
    name: s('d.name'),
    // Multi-file: d.directory is the payload folder itself (`save/<name>`); single file: the folder holding the file.
    savePath: multi ? dirname(directory) : directory,
    contentPath: multi ? directory : joinPath(directory, s('d.name')),
    downloadPath: '',
    category: label,
    tags: label ? [label] : [],
    rawState: rawStateOf(state),
    phase,
    running: phase === 'seeding' || phase === 'downloading',
    progress: size > 0 ? n('d.completed_bytes') / size : 1,
    amountLeft: n('d.left_bytes'),
    size,
    autoTmm: false,
    addedOn: n('d.load_date') > 0 ? n('d.load_date') : null,
    completionOn: n('d.timestamp.finished') > 0 ? n('d.timestamp.finished') : null,
    seedingTimeSec: 0,
    tracker: null,
    verified: n('d.is_hash_checked') === 1,
  };
}

export function createRtorrentClient(opts: RtorrentClientOptions): TorrentClient {
  const transport = new RtorrentTransport(opts);
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let versionCache: { v: ClientVersion; multicall2: boolean } | null = null;

  const call = (m: string, p: XmlRpcValue[] = []) => transport.call(m, p);

  async function version(): Promise<ClientVersion> {
    if (versionCache) return versionCache.v;
    const app = await call('system.client_version');
    const api = await call('system.api_version').catch(() => '');
    if (typeof app !== 'string' || !/^\d+\.\d+/.test(app)) throw new ClientError('protocol', `rTorrent reported an unreadable version: ${JSON.stringify(app).slice(0, 40)}`);
    const [major, minor] = app.split('.').map(Number) as [number, number];
    // d.multicall2 (with a target argument) arrived in 0.9.0; 0.8.x only has d.multicall(view, ...).
    versionCache = { v: { app: `rTorrent ${app}`, webApi: `xmlrpc api ${String(api)}` }, multicall2: major > 0 || minor >= 9 };
    return versionCache.v;
  }

  /** Per-hash reads in one system.multicall; an unknown hash gives null, other faults throw. */
  async function readHashes(hashes: string[]): Promise<(ClientTorrent | null)[]> {
    const calls: XmlRpcValue[] = [];
    for (const h of hashes) for (const f of FIELDS) calls.push({ methodName: f, params: [h.toUpperCase()] });
    const out = await call('system.multicall', [calls]);
    if (!Array.isArray(out) || out.length !== calls.length) throw new ClientError('protocol', 'rTorrent answered system.multicall with a wrong number of results');
    return hashes.map((h, i) => {
      const row: XmlRpcValue[] = [];
      for (let k = 0; k < FIELDS.length; k++) {
        const r = out[i * FIELDS.length + k];
        if (Array.isArray(r) && r.length === 1) row.push(r[0] as XmlRpcValue);
        else {
          const fault = typeof r === 'object' && r !== null && !Array.isArray(r) ? String(r.faultString ?? '') : '';
          if (NOT_FOUND.test(fault)) return null;
          throw new ClientError('protocol', `rTorrent refused ${FIELDS[k]} for ${h}: ${fault || 'malformed result'}`);
        }
      }
      return torrentFromRtorrent(row);
    });
  }

  async function listTorrents(filter?: { hashes?: string[] }): Promise<ClientTorrent[]> {
    await version();
    if (filter?.hashes) {
      if (filter.hashes.length === 0) return [];
      return (await readHashes(checkInfoHashes(filter.hashes))).filter((t): t is ClientTorrent => t !== null);
    }
    const cmds = FIELDS.map((f) => `${f}=`);
    const rows = versionCache?.multicall2 ? await call('d.multicall2', ['', 'main', ...cmds]) : await call('d.multicall', ['main', ...cmds]);
    if (!Array.isArray(rows)) throw new ClientError('protocol', 'rTorrent answered d.multicall2 without a list');
    return rows.map((r) => {
      if (!Array.isArray(r)) throw new ClientError('protocol', 'rTorrent d.multicall2 row is not a list');
      return torrentFromRtorrent(r);
    });
  }

  async function getTorrent(hash: string): Promise<ClientTorrent | null> {
    return (await listTorrents({ hashes: [hash] }))[0] ?? null;
  }

  async function one(hash: string): Promise<ClientTorrent> {
    const t = await getTorrent(hash);
    if (!t) throw new ClientError('http', `rTorrent does not know torrent ${hash.toLowerCase()}`, { status: 404 });
    return t;
  }

  async function listFiles(hash: string): Promise<ClientTorrentFile[]> {
    const [h] = checkInfoHashes([hash]);
    const H = (h as string).toUpperCase();
    const out = await call('system.multicall', [[
        { methodName: 'd.is_multi_file', params: [H] },
        { methodName: 'd.directory', params: [H] },
        { methodName: 'f.multicall', params: [H, '', 'f.path=', 'f.size_bytes=', 'f.completed_chunks=', 'f.size_chunks='] },
      ]]);
    const [multi, dir, files] = Array.isArray(out) ? out : [];
    const first = (x: XmlRpcValue | undefined): XmlRpcValue | undefined => (Array.isArray(x) ? x[0] : undefined);
    if (!Array.isArray(multi)) {
      const fault = typeof multi === 'object' && multi !== null ? String((multi as Record<string, XmlRpcValue>).faultString ?? '') : '';
      if (NOT_FOUND.test(fault)) throw new ClientError('http', `rTorrent does not know torrent ${h}`, { status: 404 });
      throw new ClientError('protocol', `rTorrent refused the file list of ${h}: ${fault || 'malformed result'}`);
    }
    const list = first(files);
    if (!Array.isArray(list) || typeof first(dir) !== 'string') throw new ClientError('protocol', `rTorrent sent no file list for ${h}`);
    // f.path is relative to the payload folder of a multi-file torrent: prefix that folder so names are relative to the save path.
    const prefix = first(multi) === 1 ? `${basename(first(dir) as string)}/` : '';
    return list.map((r, index) => {
      if (!Array.isArray(r) || typeof r[0] !== 'string' || typeof r[1] !== 'number' || typeof r[2] !== 'number' || typeof r[3] !== 'number') {
        throw new ClientError('protocol', `rTorrent file entry ${index} of ${h} is malformed`);
      }
      return { name: prefix + r[0], size: r[1], progress: r[3] > 0 ? r[2] / r[3] : 1, index };
    });
  }

  async function each(hashes: readonly string[], fn: (H: string) => Promise<void>): Promise<void> {
    for (const h of checkInfoHashes(hashes)) await fn(h.toUpperCase());
  }

  /** A fault for an unknown hash on a mutation is an error saying so. */
  async function mutate(method: string, params: XmlRpcValue[]): Promise<void> {
    try {
      await call(method, params);
    } catch (err) {
      if (err instanceof ClientError && err.cause instanceof XmlRpcFault && NOT_FOUND.test(err.cause.message)) {
        throw new ClientError('http', `rTorrent does not know torrent ${String(params[0]).toLowerCase()}`, { status: 404, cause: err });
      }
      throw err;
    }
  }

  return {
    version,
    listTorrents,
    getTorrent,
    listFiles,
    pause: (hashes) => each(hashes, (H) => mutate('d.stop', [H])),
    async resume(hashes) {
      await each(hashes, async (H) => {
        const t = await one(H);
        // Started but paused (ruTorrent "pause"): d.resume; stopped: d.start (opens a closed torrent too).
        await mutate(t.rawState.startsWith('paused/') ? 'd.resume' : 'd.start', [H]);
      });
    },
    async setLocation(hashes, location) {
      if (!location.startsWith('/')) throw new HashallError(`setLocation needs an absolute path, got ${JSON.stringify(location)}`);
      await each(hashes, async (H) => {
        const t = await one(H);
        if (t.running) throw new HashallError(`rTorrent repoints only a stopped torrent; ${t.name} is ${t.rawState}`, { hint: 'pause it first' });
        // stop → close (releases the files, forgets the hash check) → d.directory.set. rTorrent never moves data: it
        // only looks for the files under the new directory (a multi-file torrent's payload folder is appended).
        await mutate('d.stop', [H]);
        await mutate('d.close', [H]);
        await mutate('d.directory.set', [H, location]);
      });
    },
    async recheck(hashes) {
      await each(hashes, async (H) => {
        const t = await one(H);
        // A stopped torrent is closed first so the check is a full one and its end shows (d.is_hash_checked 0 → 1).
        if (!t.running && t.rawState.startsWith('stopped/')) await mutate('d.close', [H]);
        await mutate('d.check_hash', [H]);
      });
    },
    async setAutoManagement(_hashes, enable) {
      if (enable) throw new HashallError('rTorrent has no automatic torrent management to enable');
    },
    async setDownloadPath() {
      // rTorrent has no per-torrent incomplete-download path: nothing to clear.
    },
    async addTags() {
      throw new HashallError('rTorrent has no tags (its label is d.custom1, read as the category)');
    },
    async removeTags() {
      throw new HashallError('rTorrent has no tags (its label is d.custom1, read as the category)');
    },
    waitFor: (hash, predicate, w) => pollTorrent({ get: getTorrent, now, sleep, app: 'rTorrent', maxIntervalMs: 50 }, hash, predicate, w),
    async close() {
      // stateless: one connection per call
    },
  };
}
