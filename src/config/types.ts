// The normalized, validated hashall.yaml (format version 1) every other module consumes (pure types).

/** A secret taken from the environment at use; never serialized in clear. */
export interface Secret {
  /** The raw template from the config, e.g. `${QBT_PASSWORD}`. Safe to show. */
  readonly template: string;
  /** Resolve the value now (reads the environment through the injected getter). */
  reveal(): string;
  /** Always `"***"`, so a JSON dump of the config never leaks it. */
  toJSON(): string;
}

export interface FilesystemConfig {
  /** Name used everywhere in the config (`stash`, `pool`). */
  name: string;
  /** Absolute host path of a directory on that filesystem (normalized, no trailing slash). */
  path: string;
  /** Other absolute host spellings of the same place (bind mounts, symlinked prefixes). */
  aliases: string[];
}

export interface PathMap {
  /** Path prefix as the torrent client reports it (e.g. `/data/media`). */
  client: string;
  /** The same place as the host sees it (e.g. `/stash/media`). */
  host: string;
}

export type ClientType = 'qbittorrent' | 'transmission' | 'rtorrent' | 'deluge';

/** One client instance's settings: an entry of `clients:`, or the single `client:` (named `default`, src/domain/instance.ts). */
export interface ClientConfig {
  /** Instance name: the key in `clients:`, or `default` for `client:`. A torrent is identified by (name, info-hash). */
  name: string;
  /** Where the settings are in hashall.yaml (`['client']` or `['clients', name]`), for problems at file:line:col. */
  at: (string | number)[];
  type: ClientType;
  /** Web UI base URL (qBittorrent), RPC URL (Transmission), `scgi://…` or `http(s)://…/RPC2` (rTorrent). */
  url: string;
  username: string | null;
  password: Secret | null;
  pathMaps: PathMap[];
  /** Per-request timeout in milliseconds. */
  timeoutMs: number;
}

export interface CategoryConfig {
  /** Folder of this category relative to a seeding root, e.g. `movies` or `cross-seed/{tracker}`. */
  path: string;
  /** Filesystem this category belongs on (acts as a placement rule before all others). */
  place: string | null;
}

export interface RuleMatch {
  /** Any of these tags. */
  tags?: string[];
  /** Any of these categories. */
  categories?: string[];
  /** Seeding time at least this many days. */
  minSeedingDays?: number;
  /** Payload size at least this many bytes. */
  minSize?: number;
  /** Globs matched against the payload path relative to its seeding root (`*` within a segment, `**` across). */
  paths?: string[];
}

export interface PlacementRule {
  name: string;
  match: RuleMatch;
  /** Filesystem name, or `keep` (stay where it is). */
  place: string;
}

/** What to do with orphans (data under a seeding root no torrent and no external consumer uses; src/plan/orphans.ts). */
export interface OrphansConfig {
  /** `report` (default): `hashall orphans` lists them, plan does nothing. `retire`: plan stages them into the trash. */
  action: 'report' | 'retire';
  /** Files younger than this (modification time, ms) are in progress, never orphans. */
  minAgeMs: number;
  /** Globs (relative to the seeding root) that are never orphans. */
  exclude: string[];
}

export const DEFAULT_ORPHANS: OrphansConfig = { action: 'report', minAgeMs: 14 * 86_400_000, exclude: [] };

/** Payload shapes a notification target accepts. */
export type NotifyFormat = 'json' | 'discord' | 'slack' | 'mattermost' | 'ntfy' | 'gotify' | 'apprise';

/** What a target can ask to hear about. */
export type NotifyEventName = 'applied' | 'nothing-to-do' | 'failed' | 'needs-attention' | 'drift' | 'blocked' | 'doctor';

/** One `notify:` target; its URL and header values are secrets (resolved when sending, never printed). */
export interface NotifyTarget {
  /** Shown in messages and run records instead of the URL. */
  name: string;
  format: NotifyFormat;
  url: Secret;
  headers: Record<string, Secret>;
  events: NotifyEventName[];
  /** Timeout of one attempt, milliseconds. */
  timeoutMs: number;
  /** Further attempts after a failed one. */
  retries: number;
}

export interface HashallConfig {
  version: 1;
  /** Absolute path of the config file. */
  configPath: string;
  /** SHA-256 (hex) of the config file's bytes; saved plans record it. */
  configHash: string;
  /** Absolute path of the SQLite catalog. */
  catalog: string;
  filesystems: Record<string, FilesystemConfig>;
  /** Filesystem name → absolute seeding roots on it. */
  seeding: Record<string, string[]>;
  /** Absolute library (external consumer) roots. */
  libraries: string[];
  /** Client instances by name (empty: no client configured). `client:` becomes the one instance `default`. */
  clients: Record<string, ClientConfig>;
  categories: Record<string, CategoryConfig>;
  placement: { default: string; rules: PlacementRule[] };
  dedupe: { filesystems: string[]; minSize: number };
  /** Rolling verification: re-read every file once per `everyMs`, at most `budgetBytes` per scheduled run. */
  verify: { everyMs: number; budgetBytes: number };
  /**
   * `scan.hash`: `shared-sizes` (the default; also when absent in configs built in code) hashes only files whose size
   * another catalogued file has, the rest wait with their hash unknown; `all` hashes every new or changed file.
   */
  scan?: { hash: 'shared-sizes' | 'all' };
  /** Orphan policy; absent in configs built by hand (then DEFAULT_ORPHANS: report only). */
  orphans?: OrphansConfig;
  /** `apply.auto`: `hashall reconcile` applies fresh plans by itself (absent: false; optional for configs built in code). */
  apply?: {
    auto: boolean;
    /** Groups that may wait for the client at once (repoint + recheck); also bounded by the client's own checking limit (absent: 8). */
    parallelRechecks?: number;
  };
  /** `notify:` targets (absent: none). */
  notify?: NotifyTarget[];
  safety: {
    verify: 'full' | 'sample';
    /**
     * `purgeCheck`: `full` (also when absent) — the trash purge reads every kept file again before it deletes a staged
     * source; `stamp` — a kept file whose stamp is the one its retire proved is trusted without a read.
     */
    retire: { mode: 'staged' | 'never'; observeHours: number; purgeCheck?: 'full' | 'stamp' };
    /** Bytes that must stay free on a target filesystem after a move. */
    minFree: number;
    /** A root whose last completed scan is older than this many hours blocks planning for its payloads. */
    maxScanAgeHours: number;
  };
}
