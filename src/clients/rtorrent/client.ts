// TorrentClient for rTorrent 0.9.x (XML-RPC over SCGI or HTTP): d.multicall2 list, f.multicall files, repoint = stop → close → d.directory.set.
import { ClientError, HashallError } from '../../errors.js';
import { answersByKey, askedOnce, batcher, mutations, type BatchAnswers } from '../batch.js';
import { checkInfoHashes, checkLocation, checkTorrentEntry, pollTorrent } from '../poll.js';
import { BATCHED_FILE_LISTS_IN_FLIGHT, FILES_PER_CALL, type ClientTorrent, type ClientTorrentFile, type ClientVersion, type TorrentClient } from '../types.js';
import { phaseOfRtorrent, rawStateOf, wantedComplete } from './states.js';
import { RtorrentTransport, type RtorrentTransportOptions } from './transport.js';
import { XmlRpcFault, type XmlRpcValue } from './xmlrpc.js';
import { defaultSleep } from '../retry.js';
import { rtorrentOwnFolders } from '../own-folders.js';
import { halvedWhileTooLarge } from '../paged-read.js';
import { trackerIdentity } from '../../domain/tracker.js';

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
  // Chunks still wanted (of files not switched off) and chunks completed: a torrent with files off is never d.complete,
  // yet has everything it wants once its wanted chunks are 0 (see wantedComplete).
  'd.wanted_chunks',
  'd.completed_chunks',
] as const;

/**
 * After FIELDS, each torrent's trackers: t.multicall's [t.url, t.group] rows, in tier order. One command in d.multicall2
 * (`t.multicall=,t.url=,t.group=`, nested per torrent — seen on the real 0.9.8) and one call per hash in a system.multicall.
 */
const TRACKER_ARGS = ['', 't.url=', 't.group='] as const;
const ROW_LENGTH = FIELDS.length + 1;

/** The d.multicall2 commands of one row. */
const ROW_COMMANDS = [...FIELDS.map((f) => `${f}=`), `t.multicall=${TRACKER_ARGS.join(',')}`];

/** The system.multicall calls that read one row of torrent `H` (upper-case hash). */
const rowCalls = (H: string): Call[] => [...FIELDS.map((f) => ({ methodName: f, params: [H] })), { methodName: 't.multicall', params: [H, ...TRACKER_ARGS] }];

/** t.multicall's rows → the torrent's tracker identity (domain/tracker.ts). */
function trackerOfRows(rows: XmlRpcValue): string | null {
  if (!Array.isArray(rows)) throw new ClientError('protocol', `rTorrent t.multicall is a ${typeof rows}, expected a list`);
  return trackerIdentity(
    rows.flatMap((r) => (Array.isArray(r) && typeof r[0] === 'string' ? [{ url: r[0], ...(typeof r[1] === 'number' ? { tier: r[1] } : {}) }] : [])),
  );
}

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

/** One row of FIELDS values and the trackers' t.multicall rows → ClientTorrent. */
export function torrentFromRtorrent(row: readonly XmlRpcValue[]): ClientTorrent {
  if (row.length !== ROW_LENGTH) throw new ClientError('protocol', `rTorrent sent ${row.length} fields for a torrent, expected ${ROW_LENGTH}`);
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
  const state = {
    state: n('d.state'),
    isOpen: n('d.is_open'),
    isActive: n('d.is_active'),
    complete: n('d.complete'),
    hashing: n('d.hashing'),
    isHashChecking: n('d.is_hash_checking'),
    hashingFailed: n('d.hashing_failed'),
    wantedChunks: n('d.wanted_chunks'),
    completedChunks: n('d.completed_chunks'),
  };
  const phase = phaseOfRtorrent(state);
  const wanted = wantedComplete(state);
  const directory = s('d.directory');
  const multi = n('d.is_multi_file') === 1;
  const size = n('d.size_bytes');
  const label = labelOf(s('d.custom1'));
  return checkTorrentEntry('rTorrent', {
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
    // Over the files it wants, as the other clients count (d.completed_bytes and d.left_bytes count the files switched
    // off too: a season pack with its sample off would never be complete).
    progress: wanted ? 1 : size > 0 ? n('d.completed_bytes') / size : 1,
    amountLeft: wanted ? 0 : n('d.left_bytes'),
    size,
    autoTmm: false,
    addedOn: n('d.load_date') > 0 ? n('d.load_date') : null,
    completionOn: n('d.timestamp.finished') > 0 ? n('d.timestamp.finished') : null,
    seedingTimeSec: 0,
    tracker: trackerOfRows(row[FIELDS.length] as XmlRpcValue),
    verified: n('d.is_hash_checked') === 1,
  });
}

/** One call of a system.multicall. */
type Call = { methodName: string; params: XmlRpcValue[] };

/** A system.multicall result: `[value]`, or the fault struct rTorrent gave that call alone. */
function resultOf(r: XmlRpcValue | undefined, scrub: (text: string) => string): XmlRpcValue | XmlRpcFault {
  if (Array.isArray(r) && r.length === 1) return r[0] as XmlRpcValue;
  const o = typeof r === 'object' && r !== null && !Array.isArray(r) ? r : {};
  return new XmlRpcFault(Number(o.faultCode ?? 0), scrub(String(o.faultString ?? 'malformed result')));
}

/** One torrent's FIELDS results → the torrent, null when rTorrent does not know it; throws on another fault or a row that does not parse. */
function torrentOfResults(hash: string, results: readonly (XmlRpcValue | XmlRpcFault)[]): ClientTorrent | null {
  const row: XmlRpcValue[] = [];
  for (const [k, r] of results.entries()) {
    if (r instanceof XmlRpcFault) {
      if (NOT_FOUND.test(r.message)) return null;
      throw new ClientError('protocol', `rTorrent refused ${FIELDS[k] ?? 't.multicall'} for ${hash}: ${r.message}`);
    }
    row.push(r);
  }
  const t = torrentFromRtorrent(row);
  if (t.hash !== hash) throw new ClientError('protocol', `rTorrent answered for torrent ${t.hash} when asked for ${hash}`);
  return t;
}

/** The torrent's own error for the first fault among its calls' results (an unknown torrent says so), or null. */
function faultOfTorrent(hash: string, calls: readonly Call[], results: readonly (XmlRpcValue | XmlRpcFault)[]): ClientError | null {
  const i = results.findIndex((r) => r instanceof XmlRpcFault);
  if (i < 0) return null;
  const f = results[i] as XmlRpcFault;
  if (NOT_FOUND.test(f.message)) return new ClientError('http', `rTorrent does not know torrent ${hash}`, { status: 404, cause: f });
  return new ClientError('protocol', `rTorrent refused ${calls[i]?.methodName ?? 'a call'} for ${hash}: ${f.message} (fault ${f.code})`, { cause: f });
}

/** The mutations, each asked of several torrents at once. */
type Action = 'pause' | 'resume' | 'setLocation' | 'recheck';

export function createRtorrentClient(opts: RtorrentClientOptions): TorrentClient {
  const transport = new RtorrentTransport(opts);
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;

  const call = (m: string, p: XmlRpcValue[] = []) => transport.call(m, p);

  /** Asked once for concurrent callers, and kept. d.multicall2 (with a target argument) arrived in 0.9.0; 0.8.x only has d.multicall(view, ...). */
  const about = askedOnce(async (): Promise<{ v: ClientVersion; multicall2: boolean }> => {
    const app = await call('system.client_version');
    const api = await call('system.api_version').catch(() => '');
    if (typeof app !== 'string' || !/^\d+\.\d+/.test(app)) throw new ClientError('protocol', `rTorrent reported an unreadable version: ${JSON.stringify(app).slice(0, 40)}`);
    const [major, minor] = app.split('.').map(Number) as [number, number];
    return { v: { app: `rTorrent ${app}`, webApi: `xmlrpc api ${String(api)}` }, multicall2: major > 0 || minor >= 9 };
  });

  async function version(): Promise<ClientVersion> {
    return (await about()).v;
  }

  /** One system.multicall: each call's own value or fault, in order; an answer with a wrong number of results fails the whole call. */
  async function multicall(calls: Call[]): Promise<(XmlRpcValue | XmlRpcFault)[]> {
    const out = await call('system.multicall', [calls]);
    if (!Array.isArray(out) || out.length !== calls.length) throw new ClientError('protocol', 'rTorrent answered system.multicall with a wrong number of results');
    return out.map((r) => resultOf(r, (text) => transport.scrub(text)));
  }

  /** The FIELDS of each hash in one system.multicall, by hash: the torrent, null (unknown), or that torrent's own error. */
  async function readHashes(hashes: readonly string[]): Promise<BatchAnswers<string, ClientTorrent | null>> {
    const res = await multicall(hashes.flatMap((h) => rowCalls(h.toUpperCase())));
    const rows = hashes.map((h, i) => ({ h, results: res.slice(i * ROW_LENGTH, (i + 1) * ROW_LENGTH) }));
    return answersByKey(rows, (r) => r.h, (r) => torrentOfResults(r.h, r.results));
  }

  async function listTorrents(filter?: { hashes?: string[] }): Promise<ClientTorrent[]> {
    const { multicall2 } = await about();
    if (filter?.hashes) {
      if (filter.hashes.length === 0) return [];
      const got = await readHashes(checkInfoHashes(filter.hashes));
      const out: ClientTorrent[] = [];
      for (const t of got.values()) {
        if (t instanceof Error) throw t;
        if (t) out.push(t);
      }
      return out;
    }
    const rows = multicall2 ? await call('d.multicall2', ['', 'main', ...ROW_COMMANDS]) : await call('d.multicall', ['main', ...ROW_COMMANDS]);
    if (!Array.isArray(rows)) throw new ClientError('protocol', 'rTorrent answered d.multicall2 without a list');
    return rows.map((r) => {
      if (!Array.isArray(r)) throw new ClientError('protocol', 'rTorrent d.multicall2 row is not a list');
      return torrentFromRtorrent(r);
    });
  }

  /**
   * One system.multicall of the torrents asked for in the same turn (and while the last one was in flight): the
   * confirmations of every group in flight share one poll. A torrent whose results fault or do not parse fails alone.
   */
  const readBatch = batcher<string, ClientTorrent | null>(readHashes);

  async function getTorrent(hash: string): Promise<ClientTorrent | null> {
    const [h] = checkInfoHashes([hash]);
    return (await readBatch(h!)) ?? null;
  }

  async function one(hash: string): Promise<ClientTorrent> {
    const t = await getTorrent(hash);
    if (!t) throw new ClientError('http', `rTorrent does not know torrent ${hash.toLowerCase()}`, { status: 404 });
    return t;
  }

  /** The three calls that read one torrent's file list (d.is_multi_file, d.directory, f.multicall). */
  const fileListCalls = (h: string): Call[] => {
    const H = h.toUpperCase();
    return [
      { methodName: 'd.is_multi_file', params: [H] },
      { methodName: 'd.directory', params: [H] },
      { methodName: 'f.multicall', params: [H, '', 'f.path=', 'f.size_bytes=', 'f.completed_chunks=', 'f.size_chunks=', 'f.priority='] },
    ];
  };

  /** A torrent's file list from the results of its fileListCalls; a fault among them is the torrent's own error (an unknown torrent says so). */
  function filesOf(h: string, results: readonly (XmlRpcValue | XmlRpcFault)[]): ClientTorrentFile[] {
    const fault = faultOfTorrent(h, fileListCalls(h), results);
    if (fault) throw fault;
    const [multi, dir, list] = results as XmlRpcValue[];
    if (!Array.isArray(list) || typeof dir !== 'string') throw new ClientError('protocol', `rTorrent sent no file list for ${h}`);
    // f.path is relative to the payload folder of a multi-file torrent: prefix that folder so names are relative to the save path.
    const prefix = multi === 1 ? `${basename(dir)}/` : '';
    return list.map((r, index) => {
      if (!Array.isArray(r) || typeof r[0] !== 'string' || typeof r[1] !== 'number' || typeof r[2] !== 'number' || typeof r[3] !== 'number') {
        throw new ClientError('protocol', `rTorrent file entry ${index} of ${h} is malformed`);
      }
      // rTorrent 0.9.8 counts one completed chunk too many for a file that starts on a chunk boundary after another file
      // (after a BEP 47 pad file, say: 2 of 1 chunks, 4 of 3): kept within 0..1. Per-file progress decides nothing.
      // f.priority 0 is "off" (never downloaded).
      return { name: prefix + r[0], size: r[1], progress: r[3] > 0 ? Math.min(1, r[2] / r[3]) : 1, index, ...(r[4] === 0 ? { wanted: false } : {}) };
    });
  }

  /**
   * One system.multicall with the file lists of every torrent asked in the same turn (a sync asks many at once): three
   * calls per torrent, each answered on its own — a torrent rTorrent does not know fails alone. Halved while the answer
   * is past the bound (a torrent alone past it fails alone, named by d.name).
   */
  const filesBatch = batcher<string, ClientTorrentFile[]>(
    halvedWhileTooLarge(
      async (hashes) => {
        const res = await multicall(hashes.flatMap(fileListCalls));
        return answersByKey(hashes.entries(), ([, h]) => h, ([i, h]) => filesOf(h, res.slice(3 * i, 3 * i + 3)));
      },
      'rTorrent',
      async (h) => {
        const name = await call('d.name', [h.toUpperCase()]);
        return typeof name === 'string' ? name : null;
      },
    ),
    FILES_PER_CALL,
  );

  async function listFiles(hash: string): Promise<ClientTorrentFile[]> {
    const [h] = checkInfoHashes([hash]);
    return (await filesBatch(h!))!;
  }

  /** The d.* calls `action` makes of one torrent, read first where its state decides them (those reads share one call too). */
  async function callsFor(action: Action, h: string, location: string): Promise<Call[]> {
    const H = h.toUpperCase();
    const c = (methodName: string, ...rest: XmlRpcValue[]): Call => ({ methodName, params: [H, ...rest] });
    if (action === 'pause') return [c('d.stop')];
    const t = await one(h);
    // Started but paused (ruTorrent "pause"): d.resume; stopped: d.start (opens a closed torrent too).
    if (action === 'resume') return [c(t.rawState.startsWith('paused/') ? 'd.resume' : 'd.start')];
    if (action === 'setLocation') {
      if (t.running) throw new HashallError(`rTorrent repoints only a stopped torrent; ${t.name} is ${t.rawState}`, { hint: 'pause it first' });
      // stop → close (releases the files, forgets the hash check) → d.directory.set. rTorrent never moves data: it only
      // looks for the files under the new directory (a multi-file torrent's payload folder is appended). rTorrent runs
      // each call even when an earlier one faulted, and refuses d.directory.set on a download still open.
      return [c('d.stop'), c('d.close'), c('d.directory.set', location)];
    }
    // A stopped torrent is closed first so the check is a full one and its end shows (d.is_hash_checked 0 → 1).
    return [...(!t.running && t.rawState.startsWith('stopped/') ? [c('d.close')] : []), c('d.check_hash')];
  }

  /**
   * One system.multicall per action (and location) for the torrents asked in the same turn: rTorrent runs each call on
   * the torrent it names and answers each alone, so a torrent whose calls fault (unknown, refused) fails alone, and
   * only the torrents asked are named.
   */
  const send = mutations<{ action: Action; location: string }>(async ({ action, location }, hashes) => {
    const out: BatchAnswers<string, void> = new Map();
    const planned = await Promise.all(hashes.map((h) => callsFor(action, h, location).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))))));
    const sent: { h: string; from: number; calls: Call[] }[] = [];
    const calls: Call[] = [];
    for (const [i, p] of planned.entries()) {
      if (p instanceof Error) out.set(hashes[i]!, p);
      else {
        sent.push({ h: hashes[i]!, from: calls.length, calls: p });
        calls.push(...p);
      }
    }
    if (calls.length === 0) return out;
    const res = await multicall(calls);
    for (const s of sent) {
      const err = faultOfTorrent(s.h, s.calls, res.slice(s.from, s.from + s.calls.length));
      if (err) out.set(s.h, err);
    }
    return out;
  });
  const mutate = (action: Action, hashes: readonly string[], location = ''): Promise<void> => send({ action, location }, hashes);

  return {
    version,
    listTorrents,
    getTorrent,
    listFiles,
    listFilesInFlight: BATCHED_FILE_LISTS_IN_FLIGHT,
    pause: (hashes) => mutate('pause', hashes),
    resume: (hashes) => mutate('resume', hashes),
    async setLocation(hashes, location) {
      await mutate('setLocation', hashes, checkLocation(location));
    },
    recheck: (hashes) => mutate('recheck', hashes),
    async setAutoManagement(_hashes, enable) {
      if (enable) throw new HashallError('rTorrent has no automatic torrent management to enable');
    },
    async setDownloadPath() {
      // rTorrent has no per-torrent incomplete-download path: nothing to clear.
    },
    async ownFolders() {
      return rtorrentOwnFolders(await call('session.path'));
    },
    async addTags() {
      throw new HashallError('rTorrent has no tags (its label is d.custom1, read as the category)');
    },
    async removeTags() {
      throw new HashallError('rTorrent has no tags (its label is d.custom1, read as the category)');
    },
    // Aligned ticks: the polls of every torrent in flight fall in the same turn and share one read (readBatch).
    waitFor: (hash, predicate, w) => pollTorrent({ get: getTorrent, now, sleep, app: 'rTorrent', maxIntervalMs: 50, alignToTicks: true }, hash, predicate, w),
    async close() {
      // stateless; SCGI opens one connection per call, HTTP keeps them alive until here
      transport.close();
    },
  };
}
