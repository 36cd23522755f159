// The TorrentClient interface and the client-neutral torrent model every layer above uses (pure types).
import type { TorrentPhase } from '../domain/torrent-phase.js';
import type { ClientFolder, ClientFolderRole } from '../domain/client-folder.js';

/** The phase vocabulary lives beside its predicates in domain/torrent-phase.ts. */
export type { TorrentPhase, ClientFolder, ClientFolderRole };

export interface ClientTorrent {
  hash: string; // lower-case hex info-hash (v1, or truncated v2 as the client reports it)
  name: string;
  /** Exactly as the client reports them (client-side spelling, not mapped). */
  savePath: string;
  contentPath: string;
  downloadPath: string;
  category: string;
  tags: string[];
  /** Raw client state string (e.g. `pausedUP`) and its normalized phase. */
  rawState: string;
  phase: TorrentPhase;
  /** True when the torrent is running (not paused/stopped). */
  running: boolean;
  progress: number; // 0..1
  amountLeft: number;
  size: number;
  autoTmm: boolean;
  addedOn: number | null; // epoch seconds
  completionOn: number | null; // epoch seconds
  seedingTimeSec: number;
  /**
   * The tracker identity (src/domain/tracker.ts trackerIdentity): the host name of the torrent's first tracker in tier
   * order, whether or not it works or the torrent runs; null for none. Never an announce URL (passkeys are secrets).
   */
  tracker: string | null;
  /**
   * False while the client says the data has not been hash-checked since the torrent was (re)opened (rTorrent after
   * d.close); its turning true proves a recheck ran. Absent where the client has no such flag.
   */
  verified?: boolean;
}

/**
 * A torrent as a poll of its state reads it: all of ClientTorrent but where its content is. A client may find that only
 * from the torrent's file list (Deluge), which a read that checks a pause, a resume or a recheck need not carry.
 */
export type TorrentState = Omit<ClientTorrent, 'contentPath'>;

/** Asks getTorrent / waitFor for a TorrentState: the caller (and its predicate) read no content path. */
export interface StateOnly {
  contentPath: false;
}

/** A torrent and its file list, read together (listTorrentsWithFiles). */
export interface TorrentWithFiles {
  torrent: ClientTorrent;
  files: ClientTorrentFile[];
}

export interface ClientTorrentFile {
  /** Path relative to the save path as the client reports it (includes the top folder of a multi-file torrent). */
  name: string;
  size: number;
  progress: number;
  index: number;
  /**
   * False when the client is told not to download it ("do not download", priority 0, unchecked): absent on disk, it is
   * not missing; present, it belongs to the payload. Absent = wanted.
   */
  wanted?: boolean;
}

export interface ClientVersion {
  app: string; // e.g. v4.5.2
  webApi: string; // e.g. 2.8.19
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Human description for the timeout error. */
  what?: string;
}

/** listFiles calls a caller keeps in flight where the client answers each with its own request (see listFilesInFlight). */
export const FILE_LISTS_IN_FLIGHT = 4;

/** listFilesInFlight of the adapters that answer the file lists asked together with one request, */
export const BATCHED_FILE_LISTS_IN_FLIGHT = 400;
/** and how many torrents' lists one such request carries at most (a season pack lists hundreds of files). */
export const FILES_PER_CALL = 50;

/**
 * What hashall needs from a torrent client. Every method throws ClientError on transport/auth/protocol
 * failure; none turns a failure into an empty answer. Mutations resolve when the client accepted the
 * request — use the confirm helpers (waitFor*) to prove the effect by reading back.
 */
export interface TorrentClient {
  version(): Promise<ClientVersion>;
  listTorrents(filter?: { hashes?: string[] }): Promise<ClientTorrent[]>;
  getTorrent(hash: string): Promise<ClientTorrent | null>;
  /** The torrent's state alone: a client that finds the content path only from the file list (Deluge) reads no list. */
  getTorrent(hash: string, only: StateOnly): Promise<TorrentState | null>;
  listFiles(hash: string): Promise<ClientTorrentFile[]>;
  /**
   * Every torrent with its file list, from the reads of them all where the client sends both together (Deluge, whose
   * content path comes from the list): a sync then reads each list once. Read in pages within the answer bound, the
   * answer still holds every torrent there at one moment of the read (a torrent removed meanwhile is left out only when
   * none was added). Absent: listTorrents, then listFiles each.
   */
  listTorrentsWithFiles?(): Promise<TorrentWithFiles[]>;
  /**
   * The info-hash of every torrent and nothing else, where the client can be asked for that much less than listTorrents
   * sends (Deluge, whose status read of a torrent carries its file list). The same torrents listTorrents lists; throws
   * where it would. Absent: read from listTorrents (torrent-lists.ts listTorrentHashes).
   */
  listHashes?(): Promise<string[]>;
  /**
   * How many listFiles calls a caller may keep in flight: the adapter answers those asked together with one request
   * (up to FILES_PER_CALL torrents each). Absent: one request per call, so callers keep 4 at once (FILE_LISTS_IN_FLIGHT).
   */
  readonly listFilesInFlight?: number;
  pause(hashes: string[]): Promise<void>;
  resume(hashes: string[]): Promise<void>;
  setLocation(hashes: string[], location: string): Promise<void>;
  recheck(hashes: string[]): Promise<void>;
  setAutoManagement(hashes: string[], enable: boolean): Promise<void>;
  /**
   * Where automatic torrent management keeps a complete torrent of `category` now (client spelling), or null when that
   * is not known for sure. Absent: the client has no automatic management (only qBittorrent has).
   */
  categorySavePath?(category: string): Promise<string | null>;
  /** Clear or set the incomplete-download path override (no-op on clients without one). */
  setDownloadPath(hashes: string[], path: string): Promise<void>;
  addTags(hashes: string[], tags: string[]): Promise<void>;
  removeTags(hashes: string[], tags: string[]): Promise<void>;
  /**
   * How many torrents the client hash-checks at once (qBittorrent's max_active_checking_torrents), or null where the
   * client has no such setting. Apply runs at most this many rechecks at a time. Absent: no known limit.
   */
  checkingLimit?(): Promise<number | null>;
  /**
   * True when the client renames the files of an incomplete torrent (qBittorrent's "append .!qB to incomplete files",
   * Transmission's rename-partial-files): a recheck that finds damage would then rename the torrent's data. Absent: the
   * client never renames incomplete files (rTorrent, Deluge).
   */
  renamesIncompleteFiles?(): Promise<boolean>;
  /**
   * The folders the client writes its own files to, as far as its API tells (src/clients/own-folders.ts reads each
   * client's answer): their files are the client's, never orphans. A setting the API does not expose (rTorrent's and
   * Transmission's watch folders) is not listed; a folder that is off or unset is not listed.
   */
  ownFolders(): Promise<ClientFolder[]>;
  /** Poll one torrent (hash-filtered) until `predicate` holds; throws ClientError('timeout') naming `what`. */
  waitFor(hash: string, predicate: (t: ClientTorrent) => boolean, opts: WaitOptions): Promise<ClientTorrent>;
  /** As above, polling the state alone (see getTorrent): for a predicate and a caller that read no content path. */
  waitFor(hash: string, predicate: (t: TorrentState) => boolean, opts: WaitOptions & StateOnly): Promise<TorrentState>;
  close(): Promise<void>;
}
