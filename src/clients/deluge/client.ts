// TorrentClient for Deluge 2.x through deluge-web's JSON-RPC: core.get_torrents_status reads, pause/resume, force_recheck, repoint by move_storage onto files already there.
import { rootRelOf } from '../../domain/listing.js';
import { joinPath, trimSlash } from '../../domain/path-string.js';
import { trackerIdentity, type TrackerEntry } from '../../domain/tracker.js';
import { ClientError, HashallError } from '../../errors.js';
import { answersByKey, askedOnce, batcher, mutations, type BatchAnswers } from '../batch.js';
import { checkInfoHashes, checkLocation, checkTorrentEntry, pollTorrent } from '../poll.js';
import { BATCHED_FILE_LISTS_IN_FLIGHT, FILES_PER_CALL, type ClientTorrent, type ClientTorrentFile, type ClientVersion, type StateOnly, type TorrentClient, type TorrentState, type TorrentWithFiles, type WaitOptions } from '../types.js';
import { phaseOfDeluge, runningInDeluge, stateIsStale } from './states.js';
import { DelugeTransport, UNKNOWN_METHOD, type DelugeTransportOptions } from './transport.js';
import { defaultSleep } from '../retry.js';
import { halvedWhileTooLarge, readInPages, type PageRead } from '../paged-read.js';
import { DELUGE_FOLDER_KEYS, delugeOwnFolders } from '../own-folders.js';
import { torrentErrorText } from '../redact-secrets.js';

export interface DelugeClientOptions extends DelugeTransportOptions {
  now?: () => number;
}

/** The status keys of a torrent's state (TorrentState): everything but its file list. */
export const DELUGE_STATE_FIELDS = [
  'hash',
  'name',
  'save_path',
  'state',
  'progress',
  'message',
  'label',
  'total_size',
  'total_wanted',
  'total_done',
  'time_added',
  'completed_time',
  'seeding_time',
  // Not tracker_host: Deluge cuts it to a base domain (tracker.example.org → example.org) of the tracker that works now.
  'trackers',
  'move_completed',
  'move_completed_path',
  'is_auto_managed',
  'paused',
] as const;

/**
 * The status keys read per torrent (ClientTorrent). Deluge has no content path: it is found from where the files are
 * (delugeContentPath), so a read that needs it carries the torrent's whole file list — a season pack's hundreds of entries.
 */
export const DELUGE_FIELDS = [...DELUGE_STATE_FIELDS, 'files'] as const;

const FILE_FIELDS = ['hash', 'files', 'file_progress'];

/**
 * How many torrents one status read of several carries at most (a read of every torrent, listTorrents of many hashes).
 * Paging is for the answer bound, and the answer grows with the files, not the torrents: a page past the bound is
 * halved anyway (halvedWhileTooLarge). 200 keeps a home install of up to 200 torrents at one page after the hash list
 * (two requests), while a page of 200 season packs of 300 files is ~25 MB. Measured on the real deluged, 500 torrents
 * (one in ten of 100 files), every torrent with its files: one read of all (before) 1 request, 209 ms median; pages of
 * 200: 4 requests, 172 ms; pages of 50: 11 requests, 206 ms.
 */
export const STATUS_PAGE = 200;

/**
 * How many times a read of every torrent starts over when torrents were both removed and added while its pages were
 * read (everyTorrent); then it fails.
 */
export const LIST_ROUNDS = 3;

type Obj = Record<string, unknown>;

function num(o: Obj, k: string, what: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ClientError('protocol', `Deluge ${what}: field "${k}" is ${v === undefined ? 'missing' : `a ${typeof v}`}, expected a number`);
  return v;
}

function str(o: Obj, k: string, what: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new ClientError('protocol', `Deluge ${what}: field "${k}" is ${v === undefined ? 'missing' : `a ${typeof v}`}, expected a string`);
  return v;
}

/**
 * Deluge 2.x keeps a torrent's data in place when move_storage finds it already at the target: Torrent.move_storage
 * always passes libtorrent's dont_replace, which keeps every file that exists at the target, moves no byte of those
 * and deletes no source file (test/unit/clients/deluge-move-storage.test.ts proves it on the real daemon). Deluge
 * 1.3 passes always_replace_files (the target is overwritten and the source removed): a repoint there is refused.
 */
export const DELUGE_SAFE_MOVE_MAJOR = 2;

/**
 * Where a Deluge torrent's content is, from its file list (paths relative to the save path): its root folder, or the
 * file of a one-file torrent (rootRelOf); the save path itself when its files share no first segment. Never save path +
 * name: Deluge's name is the "name" option when one is set (a display name), so it need not name any folder, and its
 * "rename folder" renames the files alone. Without a file list (no metadata yet) there is nothing better than the name.
 */
export function delugeContentPath(savePath: string, name: string, files: readonly { path: string }[]): string {
  const save = trimSlash(savePath);
  if (files.length === 0) return joinPath(save, name);
  const root = rootRelOf(files.map((f) => ({ name: f.path })));
  return root === null ? save : joinPath(save, root);
}

/** One torrent status (as core.get_torrents_status sends it, with its file list) → ClientTorrent. */
export function torrentFromDeluge(hash: string, o: Obj, scrub: (text: string) => string): ClientTorrent {
  const what = `torrent ${hash}`;
  const state = stateFromDeluge(hash, o, scrub);
  if (!Array.isArray(o.files)) throw new ClientError('protocol', `Deluge ${what}: field "files" is ${o.files === undefined ? 'missing' : `a ${typeof o.files}`}, expected a list`);
  const files = (o.files as Obj[]).map((f) => ({ path: str(f, 'path', `${what} file entry`) }));
  return { ...state, contentPath: delugeContentPath(state.savePath, state.name, files) };
}

/**
 * One torrent status without its file list (DELUGE_STATE_FIELDS) → TorrentState: everything but where its content is.
 * `scrub` cuts the client's secrets (the transport's scrubber) from its error message before it is shown (torrentErrorText).
 */
export function stateFromDeluge(hash: string, o: Obj, scrub: (text: string) => string): TorrentState {
  const what = `torrent ${hash}`;
  const state = str(o, 'state', what);
  const progress = Math.min(1, num(o, 'progress', what) / 100);
  const message = typeof o.message === 'string' ? o.message : '';
  const savePath = str(o, 'save_path', what);
  const name = str(o, 'name', what);
  const label = typeof o.label === 'string' ? o.label : '';
  const wanted = num(o, 'total_wanted', what);
  const epoch = (k: string) => (typeof o[k] === 'number' && (o[k] as number) > 0 ? Math.round(o[k] as number) : null);
  const trackers = (Array.isArray(o.trackers) ? (o.trackers as unknown[]) : []).flatMap((e): TrackerEntry[] => {
    const t = typeof e === 'object' && e !== null ? (e as Obj) : {};
    return typeof t.url === 'string' ? [{ url: t.url, ...(typeof t.tier === 'number' ? { tier: t.tier } : {}) }] : [];
  });
  const tracker = trackerIdentity(trackers);
  const ltPaused = typeof o.paused === 'boolean' ? o.paused : undefined;
  const stale = stateIsStale(state, ltPaused);
  return checkTorrentEntry('Deluge', {
    hash: hash.toLowerCase(),
    name,
    savePath,
    // move_completed moves finished data to move_completed_path by itself: the override hashall clears.
    downloadPath: o.move_completed === true && typeof o.move_completed_path === 'string' ? o.move_completed_path : '',
    category: label,
    tags: label ? [label] : [],
    rawState: stale
      ? `${state} (libtorrent has it ${ltPaused ? 'paused' : 'running'}: Deluge has not updated its state yet)`
      : message && message !== 'OK' && state === 'Error'
        ? // Its secrets cut before it is shortened (a cut through a passkey would leave the rest of it).
          `Error: ${torrentErrorText(message, trackers.map((t) => t.url), scrub).slice(0, 120)}`
        : state,
    phase: phaseOfDeluge(state, progress, message, ltPaused),
    running: !stale && runningInDeluge(state),
    progress,
    amountLeft: Math.max(0, wanted - num(o, 'total_done', what)),
    size: num(o, 'total_size', what),
    autoTmm: false,
    addedOn: epoch('time_added'),
    completionOn: epoch('completed_time'),
    seedingTimeSec: typeof o.seeding_time === 'number' ? Math.round(o.seeding_time) : 0,
    tracker,
  });
}

/**
 * What a mutation's flush reads of its torrents before the one call naming them all. Deluge's force_recheck resumes the
 * torrent to check it and pauses it again afterwards only if its cached status said paused: a stale cache (from an
 * earlier check) left a paused torrent running, so a recheck reads each torrent afresh first (core.get_torrent_status
 * refreshes that cache). A move needs the file priorities (skipped files are refused); pause, resume and an option
 * change only that the torrent exists (the confirmations read it afresh just before).
 */
type Before = 'fresh' | 'priorities' | 'exists';

const unknownTorrent = (h: string): ClientError => new ClientError('http', `Deluge does not know torrent ${h}`, { status: 404 });

/**
 * What a mutation's flush does after its call. Deluge's pause takes a torrent its cached status calls paused for paused
 * already: it switches libtorrent's auto-management off and sends no pause. A queued torrent that libtorrent's queue has
 * just started (the cache may be 1.5 s old, and older where nothing read it) then seeds on, and the pause is never
 * shown (measured on the real daemon: a pause sent 50–1000 ms after the queue's limit was raised was lost in 6 of 8
 * tries). With auto-management off the queue no longer touches the torrent, so a fresh read then tells the truth, and
 * a torrent libtorrent still runs is asked once more — with its cache now fresh, Deluge pauses it.
 */
type After = 'once' | 'again-if-running';

export function createDelugeClient(opts: DelugeClientOptions): TorrentClient {
  const transport = new DelugeTransport(opts);
  const scrub = (text: string): string => transport.redact(text);
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;

  /** Asked once for concurrent callers, and kept. daemon.get_version exists from 2.0; 1.3 only has daemon.info. */
  const about = askedOnce(async (): Promise<{ v: ClientVersion; major: number }> => {
    const got = await transport.call('daemon.get_version').catch((err: unknown) => (DelugeTransport.codeOf(err) === UNKNOWN_METHOD ? transport.call('daemon.info') : Promise.reject(err)));
    if (typeof got !== 'string' || !/^\d+\.\d+/.test(got)) throw new ClientError('protocol', `Deluge reported an unreadable version: ${JSON.stringify(got).slice(0, 40)}`);
    const lt = await transport.call('core.get_libtorrent_version').catch(() => '?');
    const app = got.trim();
    return { v: { app: `Deluge ${app}`, webApi: `libtorrent ${String(lt)}` }, major: Number(app.split('.')[0]) };
  });

  async function version(): Promise<ClientVersion> {
    return (await about()).v;
  }

  async function status(ids: string[] | null, fields: readonly string[]): Promise<Record<string, Obj>> {
    const out = await transport.call('core.get_torrents_status', [ids ? { id: ids } : {}, fields]);
    if (typeof out !== 'object' || out === null || Array.isArray(out)) throw new ClientError('protocol', 'Deluge answered core.get_torrents_status without a torrent map');
    return out as Record<string, Obj>;
  }

  /** The name of one torrent, where Deluge tells it (for the message of a torrent whose own answer is past the bound). */
  async function nameOf(h: string): Promise<string | null> {
    const o = (await status([h], ['name']))[h];
    return o && typeof o.name === 'string' ? o.name : null;
  }

  /**
   * The status read of one page of ids: each torrent's own answer (an entry that does not parse fails only its torrent),
   * an id Deluge does not know left out. Halved while the answer is past the bound, down to the one torrent that alone
   * fails, named (a season pack's file list is the bulk of a status).
   */
  const statusPage = <T>(fields: readonly string[], parse: (h: string, o: Obj) => T): PageRead<T> =>
    halvedWhileTooLarge(async (ids) => answersByKey(Object.entries(await status(ids, fields)), ([h]) => h, ([h, o]) => parse(h, o)), 'Deluge', nameOf);

  const torrentPage = statusPage(DELUGE_FIELDS, (h, o) => torrentFromDeluge(h, o, scrub));
  const withFilesPage = statusPage([...DELUGE_FIELDS, 'file_progress'], (h, o): TorrentWithFiles => ({ torrent: torrentFromDeluge(h, o, scrub), files: filesOf(h, o) }));

  /**
   * Every torrent, as `page` reads it: the hash list (one small read), then the torrents in pages of STATUS_PAGE
   * ids — the one read of them all carried every file list (the content path comes from it) and passed the answer bound
   * at ~300k files. A torrent removed between the hash read and its page is not listed, as if removed before the read;
   * but then a torrent added meanwhile, which the hash read did not know, would be missing too, and the answer would be
   * a list that never was (a torrent replaced by another that uses the same data: that data would look unused). So
   * when a page misses a torrent, the hash list is read again after the pages: every torrent in it must have been
   * listed, else the read starts over (LIST_ROUNDS times, then it fails). The answer then holds every torrent there
   * after the pages. When no page misses one, it holds every torrent there at the hash read: no extra request.
   */
  async function everyTorrent<T>(page: PageRead<T>): Promise<T[]> {
    for (let round = 1; ; round++) {
      const hashes = await listHashes();
      const got = await readInPages(hashes, STATUS_PAGE, page);
      if (hashes.every((h) => got.has(h))) return [...got.values()];
      if ((await listHashes()).every((h) => got.has(h))) return [...got.values()];
      if (round >= LIST_ROUNDS) {
        throw new ClientError('unconfirmed', `Deluge's torrents kept changing while hashall read them: ${LIST_ROUNDS} times a torrent was removed and another added between the read of the torrent list and the read of their details`, {
          hint: 'nothing was recorded; run it again when fewer torrents are being added and removed (cross-seed, an *arr app)',
        });
      }
    }
  }

  async function listTorrents(filter?: { hashes?: string[] }): Promise<ClientTorrent[]> {
    if (!filter?.hashes) return everyTorrent(torrentPage);
    if (filter.hashes.length === 0) return [];
    return [...(await readInPages(checkInfoHashes(filter.hashes), STATUS_PAGE, torrentPage)).values()];
  }

  /**
   * Every torrent's hash alone: the torrents listTorrents lists (the keys of the same status map), without the status
   * and file list of each. Not an empty key list: Deluge answers that with every key it has.
   */
  async function listHashes(): Promise<string[]> {
    return Object.keys(await status(null, ['hash'])).map((h) => h.toLowerCase());
  }

  /** The status read of every torrent carries its file list anyway (the content path is found from it): with its progress, that is listFiles' answer too. */
  function listTorrentsWithFiles(): Promise<TorrentWithFiles[]> {
    return everyTorrent(withFilesPage);
  }

  /**
   * core.get_torrent_status reads libtorrent afresh (update=True); core.get_torrents_status answers from a cache up to
   * 1.5 s old (torrentmanager.torrents_status_update), which hid the progress reset after a move and a whole quick
   * recheck. Unknown hash: an empty map.
   */
  async function freshStatus(h: string, fields: readonly string[]): Promise<Obj | null> {
    const out = await transport.call('core.get_torrent_status', [h, fields]);
    if (typeof out !== 'object' || out === null || Array.isArray(out)) throw new ClientError('protocol', 'Deluge answered core.get_torrent_status without a status map');
    const o = out as Obj;
    return Object.keys(o).length === 0 ? null : o;
  }

  /**
   * The reads asked in the same turn are answered together, each by its own fresh core.get_torrent_status (Deluge has
   * no fresh read of several torrents): the confirmations of the groups in flight then go on in step, and their next
   * mutations share one call. A read that fails fails only its torrent. A read of the state alone (a poll of a pause, a
   * resume, a recheck) leaves the file list out: it is the bulk of the answer of a torrent with many files.
   */
  const freshReads = <T>(fields: readonly string[], parse: (h: string, o: Obj) => T) =>
    batcher<string, T | null>(async (hashes) => {
      const read = async (h: string): Promise<T | null> => {
        const o = await freshStatus(h, fields);
        return o && parse(typeof o.hash === 'string' ? o.hash : h, o);
      };
      const got = await Promise.all(hashes.map((h) => read(h).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))))));
      return new Map(hashes.map((h, i) => [h, got[i]!]));
    });
  const readBatch = freshReads(DELUGE_FIELDS, (h, o) => torrentFromDeluge(h, o, scrub));
  const stateBatch = freshReads(DELUGE_STATE_FIELDS, (h, o) => stateFromDeluge(h, o, scrub));

  function getTorrent(hash: string): Promise<ClientTorrent | null>;
  function getTorrent(hash: string, only: StateOnly): Promise<TorrentState | null>;
  async function getTorrent(hash: string, only?: StateOnly): Promise<TorrentState | null> {
    const [h] = checkInfoHashes([hash]);
    return (await (only?.contentPath === false ? stateBatch : readBatch)(h!)) ?? null;
  }

  function filesOf(h: string, got: Obj): ClientTorrentFile[] {
    if (!Array.isArray(got.files)) throw new ClientError('protocol', `Deluge sent no file list for ${h}`);
    const progress = Array.isArray(got.file_progress) ? (got.file_progress as unknown[]) : [];
    return (got.files as Obj[]).map((f, i) => {
      const p = progress[i];
      // Deluge's paths are relative to the save path and include the root folder of a multi-file torrent.
      return { name: str(f, 'path', 'file entry'), size: num(f, 'size', 'file entry'), progress: typeof p === 'number' ? p : 0, index: typeof f.index === 'number' ? f.index : i };
    });
  }

  /** One core.get_torrents_status with the files of every torrent asked in the same turn (a sync asks many at once), halved while too large; unknown ids are left out. */
  const filesBatch = batcher<string, ClientTorrentFile[]>(statusPage(FILE_FIELDS, filesOf), FILES_PER_CALL);

  async function listFiles(hash: string): Promise<ClientTorrentFile[]> {
    const [h] = checkInfoHashes([hash]);
    const files = await filesBatch(h!);
    if (!files) throw unknownTorrent(h!);
    return files;
  }

  /** Per torrent: undefined when it may be sent, or its own error (unknown; skipped files a move would carry along). */
  async function readBefore(before: Before, hashes: string[]): Promise<BatchAnswers<string, undefined>> {
    if (before === 'fresh') {
      const known = async (h: string): Promise<Error | undefined> => ((await stateBatch(h)) ? undefined : unknownTorrent(h));
      const got = await Promise.all(hashes.map((h) => known(h).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))))));
      return new Map(hashes.map((h, i) => [h, got[i]]));
    }
    // Unknown ids are left out of the answer; an entry that does not parse fails only its torrent. Whether it exists
    // needs no per-file key.
    const got = answersByKey(Object.entries(await status(hashes, before === 'priorities' ? ['hash', 'file_priorities'] : ['hash'])), ([h]) => h, ([h, o]) => {
      if (before !== 'priorities') return undefined;
      if (!Array.isArray(o.file_priorities)) throw new ClientError('protocol', `Deluge sent no file priorities for ${h}`);
      if (o.file_priorities.some((p) => p === 0)) {
        throw new HashallError(`Deluge torrent ${h} has skipped files: libtorrent keeps their pieces in a part file that move_storage would move`, { hint: 'download or drop the skipped files first; hashall repoints only torrents with every file wanted' });
      }
      return undefined;
    });
    return new Map(hashes.map((h) => [h, got.has(h) ? got.get(h) : unknownTorrent(h)]));
  }

  /**
   * One call per method and arguments for the torrents asked in the same turn: Deluge's list-taking methods act on each
   * id in turn. They raise on an unknown id partway (the ids before it done, those after not) and pause or resume EVERY
   * torrent for an empty list: a torrent that cannot be sent fails alone, and a call with no id is never made.
   */
  const mutateBatched = mutations<{ method: string; extra: unknown[]; before: Before; after: After }>(async ({ method, extra, before, after }, hashes) => {
    const out = await readBefore(before, hashes);
    const ids = hashes.filter((h) => out.get(h) === undefined);
    if (ids.length === 0) return out;
    const send = async (to: string[]): Promise<void> => {
      try {
        await transport.call(method, [to, ...extra]);
      } catch (err) {
        for (const h of to) out.set(h, err instanceof Error ? err : new Error(String(err)));
      }
    };
    await send(ids);
    if (after === 'again-if-running') {
      const sent = ids.filter((h) => out.get(h) === undefined);
      const running = await Promise.all(sent.map((h) => libtorrentRuns(h).catch(() => false)));
      const again = sent.filter((_, i) => running[i]);
      if (again.length > 0) await send(again);
    }
    return out;
  });

  /** libtorrent's own paused flag, read afresh (core.get_torrent_status also refreshes Deluge's cached status of the torrent). */
  async function libtorrentRuns(h: string): Promise<boolean> {
    const out = await transport.call('core.get_torrent_status', [h, ['paused']]);
    return typeof out === 'object' && out !== null && (out as Obj).paused === false;
  }

  const mutate = (method: string, hashes: readonly string[], before: Before, extra: unknown[] = [], after: After = 'once'): Promise<void> => mutateBatched({ method, extra, before, after }, hashes);

  // A check of a small torrent and a move onto existing files take a few hundred ms: poll quickly, on shared ticks so
  // the polls of every torrent in flight are answered together (freshReads).
  const polled = { now, sleep, app: 'Deluge', maxIntervalMs: 50, alignToTicks: true };
  function waitFor(hash: string, predicate: (t: ClientTorrent) => boolean, w: WaitOptions): Promise<ClientTorrent>;
  function waitFor(hash: string, predicate: (t: TorrentState) => boolean, w: WaitOptions & StateOnly): Promise<TorrentState>;
  function waitFor(hash: string, predicate: (t: ClientTorrent) => boolean, w: WaitOptions & Partial<StateOnly>): Promise<TorrentState> {
    // Asked for the state alone, the predicate is the second overload's: it reads no content path.
    if (w.contentPath === false) return pollTorrent({ ...polled, get: (h) => getTorrent(h, { contentPath: false }) }, hash, predicate as (t: TorrentState) => boolean, w);
    return pollTorrent({ ...polled, get: getTorrent }, hash, predicate, w);
  }

  /** Refuse a repoint Deluge would turn into a data move on 1.x (the skipped files of a torrent are checked per torrent). */
  async function mustRepointSafely(): Promise<void> {
    const { v, major } = await about();
    if (!(major >= DELUGE_SAFE_MOVE_MAJOR)) {
      throw new HashallError(`${v.app} cannot repoint without moving data: its move_storage replaces files at the target and deletes the source (only Deluge 2.x keeps existing files)`, {
        hint: 'upgrade to Deluge 2.x, or keep hashall from repointing these torrents (placement rules)',
      });
    }
  }

  return {
    version,
    listTorrents,
    getTorrent,
    listFiles,
    listTorrentsWithFiles,
    listHashes,
    listFilesInFlight: BATCHED_FILE_LISTS_IN_FLIGHT,
    pause: (hashes) => mutate('core.pause_torrent', hashes, 'exists', [], 'again-if-running'),
    resume: (hashes) => mutate('core.resume_torrent', hashes, 'exists'),
    async setLocation(hashes, location) {
      const to = checkLocation(location);
      if (hashes.length === 0) return;
      await mustRepointSafely();
      // The caller has proven every file of the torrent at `location`: with dont_replace, libtorrent keeps them all,
      // moves nothing, and only points the torrent there (progress 0 until a recheck).
      await mutate('core.move_storage', hashes, 'priorities', [to]);
    },
    recheck: (hashes) => mutate('core.force_recheck', hashes, 'fresh'),
    async setAutoManagement(_hashes, enable) {
      if (enable) throw new HashallError('Deluge has no automatic torrent management to enable');
    },
    async setDownloadPath(hashes, path) {
      // Deluge's per-torrent override is "move completed to": cleared by switching move_completed off.
      await mutate('core.set_torrent_options', hashes, 'exists', [path === '' ? { move_completed: false } : { move_completed: true, move_completed_path: path }]);
    },
    async ownFolders() {
      const config = await transport.call('core.get_config_values', [DELUGE_FOLDER_KEYS]);
      if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ClientError('protocol', 'Deluge answered core.get_config_values without a settings map');
      return delugeOwnFolders(config as Record<string, unknown>);
    },
    async addTags() {
      throw new HashallError('Deluge has no tags (its label is read as the category)');
    },
    async removeTags() {
      throw new HashallError('Deluge has no tags (its label is read as the category)');
    },
    waitFor,
    async close() {
      // the deluge-web session expires by itself; the daemon connection belongs to deluge-web
      transport.close();
    },
  };
}
