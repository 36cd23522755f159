// Turns schema-valid hashall.yaml data into the normalized HashallConfig: units, defaults, paths, secrets (pure).
import path from 'node:path';
import { DEFAULT_INSTANCE } from '../domain/instance.js';
import type { CategoryConfig, ClientConfig, ClientType, FilesystemConfig, HashallConfig, NotifyEventName, NotifyFormat, NotifyTarget, PathMap, PlacementRule, RuleMatch, Secret } from './types.js';
import type { RawProblem } from './problem.js';
import { parseDuration, parseSize } from './units.js';
import { expandTemplate, templateVariables } from './interpolate.js';
import { isAtOrUnder } from '../domain/path-string.js';

/** Defaults of every optional key (the schema's `default`s say the same; a test keeps them in sync). */
export const DEFAULTS = {
  clientTimeout: '30s',
  placementDefault: 'keep',
  dedupeMinSize: '1MiB',
  verifyEvery: '30d',
  verifyBudget: '200GiB',
  verify: 'full',
  retireMode: 'staged',
  observeHours: '72h',
  minFree: '10GiB',
  maxScanAgeHours: '24h',
  orphansAction: 'report',
  orphansMinAge: '14d',
  notifyTimeout: '10s',
  notifyRetries: 2,
  parallelRechecks: 8,
} as const;

/** The events a notification target hears when it does not list any: all but the quiet nights. */
export const DEFAULT_NOTIFY_EVENTS: NotifyEventName[] = ['applied', 'failed', 'needs-attention', 'drift', 'blocked', 'doctor'];

/** Formats whose URL itself carries a credential (a webhook token, a topic that is its own password, an app token). */
const URL_IS_SECRET: ReadonlySet<NotifyFormat> = new Set(['discord', 'slack', 'mattermost', 'ntfy', 'gotify']);

export interface NormalizeContext {
  /** Absolute path of the config file. */
  configPath: string;
  /** SHA-256 (hex) of the config file's bytes. */
  configHash: string;
  /** The user's home directory (for `~/` and the default catalog). */
  homeDir: string;
  /** The environment: `XDG_STATE_HOME` picks the default catalog; secrets read it when revealed. */
  env: Record<string, string | undefined>;
}

/** One client instance as written (`client:` or an entry of `clients:`). */
export interface RawClient {
  type?: ClientType;
  url: string;
  username?: string;
  password?: string;
  timeout?: string | number;
  pathMaps?: { client: string; host: string }[];
}

/** The shape the schema guarantees (strings already interpolated, except the clients' `password`). */
export interface RawConfig {
  version: 1;
  catalog?: string;
  filesystems: Record<string, { path: string; aliases?: string[] }>;
  seeding?: Record<string, string[]>;
  libraries?: string[];
  client?: RawClient;
  clients?: Record<string, RawClient>;
  categories?: Record<string, { path: string; place?: string }>;
  placement?: { default?: string; rules?: { name: string; match: Record<string, unknown>; place: string }[] };
  dedupe?: { filesystems?: string[]; minSize?: string | number };
  orphans?: { action?: 'report' | 'retire'; minAge?: string | number; exclude?: string[] };
  verify?: { every?: string | number; budget?: string | number };
  scan?: { hash?: 'shared-sizes' | 'all' };
  apply?: { auto?: boolean; parallelRechecks?: number };
  notify?: { name?: string; url: string; format: NotifyFormat; events?: NotifyEventName[]; headers?: Record<string, string>; timeout?: string | number; retries?: number }[];
  safety?: { verify?: 'full' | 'sample'; retire?: { mode?: 'staged' | 'never'; observeHours?: string | number; purgeCheck?: 'full' | 'stamp' }; minFree?: string | number; maxScanAgeHours?: string | number };
}

/** Absolute, normalized, without trailing slash; relative paths are relative to `baseDir`, `~/` to home. */
export function resolveConfigPath(p: string, baseDir: string, homeDir: string): string {
  let s = p;
  if (s === '~') s = homeDir;
  else if (s.startsWith('~/')) s = path.posix.join(homeDir, s.slice(2));
  const abs = path.posix.resolve(baseDir, s);
  return abs.length > 1 && abs.endsWith('/') ? abs.slice(0, -1) : abs;
}


export function makeSecret(template: string, env: Record<string, string | undefined>): Secret {
  return {
    template,
    reveal(): string {
      const missing = templateVariables(template).names.filter((n) => env[n] === undefined);
      // The template is not shown: what surrounds the ${VAR} in it may be part of the secret.
      if (missing.length) throw new Error(`environment variable ${missing.join(', ')} is not set (needed by a password or secret in hashall.yaml)`);
      return expandTemplate(template, env);
    },
    toJSON(): string {
      return '***';
    },
  };
}

/**
 * Rewrites a path under a filesystem alias to the filesystem's own path (the canonical spelling).
 * The longest matching alias wins.
 */
export function canonicalizeByAliases(p: string, filesystems: Record<string, FilesystemConfig>): string {
  let best: { alias: string; target: string } | null = null;
  for (const fs of Object.values(filesystems)) {
    for (const alias of fs.aliases) {
      if (isAtOrUnder(p, alias) && (!best || alias.length > best.alias.length)) best = { alias, target: fs.path };
    }
  }
  if (!best) return p;
  const rest = p.slice(best.alias.length);
  return best.target === '/' ? rest || '/' : best.target + rest;
}

export function normalizeConfig(raw: RawConfig, ctx: NormalizeContext): { config: HashallConfig; problems: RawProblem[] } {
  const problems: RawProblem[] = [];
  const baseDir = path.posix.dirname(ctx.configPath);
  const abs = (p: string): string => resolveConfigPath(p, baseDir, ctx.homeDir);
  const size = (v: string | number, at: (string | number)[]): number => {
    const n = parseSize(v);
    if (n === null) {
      problems.push({ severity: 'error', path: at, message: `not a size: ${JSON.stringify(v)}`, hint: 'e.g. 500MB, 1.5GiB or a number of bytes (at most 8PiB)' });
      return 0;
    }
    return n;
  };
  const duration = (v: string | number, unit: 's' | 'h' | 'd', at: (string | number)[]): number => {
    const ms = parseDuration(v, unit);
    if (ms === null) {
      problems.push({ severity: 'error', path: at, message: `not a duration: ${JSON.stringify(v)}`, hint: 'e.g. 30s, 24h, 7d' });
      return 0;
    }
    return ms;
  };
  /** A per-request timeout: more than 0 and at most an hour (a timer past 24.8 days fires after 1 ms in Node). */
  const requestTimeout = (v: string | number, at: (string | number)[]): number => {
    const ms = duration(v, 's', at);
    if (ms !== 0 || parseDuration(v, 's') !== null) {
      if (!(ms > 0 && ms <= 3_600_000)) {
        problems.push({ severity: 'error', path: at, message: `must be more than 0 and at most 1h (got ${v})`, hint: 'a request that needs longer is not answering: e.g. 30s, 2m' });
      }
    }
    return Math.round(ms);
  };

  const filesystems: Record<string, FilesystemConfig> = {};
  for (const [name, fs] of Object.entries(raw.filesystems)) {
    filesystems[name] = { name, path: abs(fs.path), aliases: (fs.aliases ?? []).map(abs) };
  }

  const seeding: Record<string, string[]> = {};
  for (const [name, roots] of Object.entries(raw.seeding ?? {})) {
    seeding[name] = roots.map((r) => canonicalizeByAliases(abs(r), filesystems));
  }
  const libraries = (raw.libraries ?? []).map((r) => canonicalizeByAliases(abs(r), filesystems));

  const xdg = ctx.env.XDG_STATE_HOME;
  const catalog =
    raw.catalog !== undefined
      ? abs(raw.catalog)
      : xdg && xdg.startsWith('/')
        ? path.posix.join(xdg, 'hashall', 'catalog.db')
        : path.posix.join(ctx.homeDir, '.local', 'state', 'hashall', 'catalog.db');

  const clients: Record<string, ClientConfig> = {};
  if (raw.client && raw.clients) {
    problems.push({
      severity: 'error',
      path: ['clients'],
      atKey: true,
      message: 'both `client:` and `clients:` are set: hashall would not know whether the single client is one of the named instances',
      hint: `keep one: move the \`client:\` settings into \`clients:\` under a name (e.g. ${DEFAULT_INSTANCE}), or remove \`clients:\``,
    });
  }
  const instance = (name: string, c: RawClient, at: (string | number)[]): ClientConfig => {
    // A map's host side is spelled as the catalog spells places (an alias of a filesystem becomes its path, as seeding
    // roots do): sync translates client paths through it and the planner translates the catalog's back — with the alias
    // kept, a planned target on that filesystem matched no map and every move to it was blocked ("cannot see").
    const pathMaps: PathMap[] = (c.pathMaps ?? []).map((m) => ({ client: stripSlash(path.posix.normalize(m.client)), host: canonicalizeByAliases(stripSlash(path.posix.normalize(m.host)), filesystems) }));
    let password: Secret | null = null;
    if (c.password !== undefined) {
      password = makeSecret(c.password, ctx.env);
      if (templateVariables(c.password).names.length === 0) {
        problems.push({ severity: 'warning', path: [...at, 'password'], message: 'password is written in clear text', hint: 'write password: ${QBT_PASSWORD} and set that environment variable' });
      }
    }
    const type: ClientType = c.type ?? 'qbittorrent';
    if (c.url.startsWith('scgi:') && type !== 'rtorrent') {
      problems.push({ severity: 'error', path: [...at, 'url'], message: `an scgi:// URL is for rTorrent, but the client type is ${type}`, hint: `set ${at.join('.')}.type: rtorrent, or give the http(s) URL of the client` });
    }
    if (!URL.canParse(c.url)) {
      // The schema checks the scheme only: a port past 65535, a space in the host, a stray `/` or `@` in the user
      // information fail at the first connection instead — with no place in this file. The value is not quoted (it may
      // hold a password).
      problems.push({
        severity: 'error',
        path: [...at, 'url'],
        message: 'not a valid URL (the host, port or path cannot be read; the value is not shown)',
        hint: 'write it as scheme://host:port/path, e.g. http://127.0.0.1:8080 — a port is 1 to 65535, a host has no spaces',
      });
    } else if (urlHasCredentials(c.url)) {
      // Every client logs in with username/password (never the URL's), and the URL is shown in messages: say so, quote neither.
      problems.push({
        severity: 'error',
        path: [...at, 'url'],
        message: 'the URL holds a user name or password, which hashall never uses (it logs in with username and password) and must not show',
        hint: `remove "user:password@" from ${at.join('.')}.url; set ${at.join('.')}.username and ${at.join('.')}.password: \${QBT_PASSWORD} (a variable)`,
      });
    }
    if (type === 'deluge' && c.username !== undefined) {
      problems.push({ severity: 'warning', path: [...at, 'username'], message: 'deluge-web has a password only; username is not used', hint: `remove ${at.join('.')}.username (deluge-web logs in to deluged with the account of its own host list)` });
    }
    return {
      name,
      at,
      type,
      url: c.url.replace(/\/+$/, ''),
      username: c.username ?? null,
      password,
      pathMaps,
      timeoutMs: requestTimeout(c.timeout ?? DEFAULTS.clientTimeout, [...at, 'timeout']),
    };
  };
  if (raw.clients) for (const [name, c] of Object.entries(raw.clients)) clients[name] = instance(name, c, ['clients', name]);
  else if (raw.client) clients[DEFAULT_INSTANCE] = instance(DEFAULT_INSTANCE, raw.client, ['client']);

  const categories: Record<string, CategoryConfig> = {};
  for (const [name, cat] of Object.entries(raw.categories ?? {})) {
    const rel = cat.path.replace(/\/+$/, '');
    if (rel.startsWith('/') || rel.split('/').includes('..')) {
      problems.push({ severity: 'error', path: ['categories', name, 'path'], message: `category path must be relative to a seeding root without "..": ${JSON.stringify(cat.path)}`, hint: 'write the folder below the seeding root, e.g. movies or cross-seed/{tracker}' });
    }
    categories[name] = { path: rel, place: cat.place ?? null };
  }

  const rules: PlacementRule[] = (raw.placement?.rules ?? []).map((r, i) => {
    const m = r.match;
    const match: RuleMatch = {};
    if (Array.isArray(m.tags)) match.tags = m.tags as string[];
    if (Array.isArray(m.categories)) match.categories = m.categories as string[];
    if (m.minSeedingDays !== undefined) match.minSeedingDays = duration(m.minSeedingDays as string | number, 'd', ['placement', 'rules', i, 'match', 'minSeedingDays']) / 86_400_000;
    if (m.minSize !== undefined) match.minSize = size(m.minSize as string | number, ['placement', 'rules', i, 'match', 'minSize']);
    if (Array.isArray(m.paths)) match.paths = m.paths as string[];
    return { name: r.name, match, place: r.place };
  });

  const notify: NotifyTarget[] = (raw.notify ?? []).map((n, i) => {
    const at = ['notify', i];
    const literal = templateVariables(n.url).names.length === 0;
    if (literal && (URL_IS_SECRET.has(n.format) || /^[a-z]+:\/\/[^/]*@|[?&](token|key|secret)=/i.test(n.url))) {
      problems.push({ severity: 'warning', path: [...at, 'url'], message: 'this notification URL carries a credential and is written in clear text', hint: 'write url: ${HASHALL_NOTIFY_URL} (or put ${VAR} where the token goes) and set that environment variable' });
    }
    if (templateVariables(n.url).names.every((v) => ctx.env[v] !== undefined)) {
      let ok = false;
      try {
        ok = /^https?:$/.test(new URL(expandTemplate(n.url, ctx.env)).protocol);
      } catch {
        ok = false;
      }
      if (!ok) problems.push({ severity: 'error', path: [...at, 'url'], message: 'not an http(s) URL once its variables are filled in (the value is not shown: it may hold a token)', hint: 'write e.g. https://ntfy.sh/${NTFY_TOPIC}' });
    }
    return {
      name: n.name ?? `notify[${i}] (${n.format})`,
      format: n.format,
      url: makeSecret(n.url, ctx.env),
      headers: Object.fromEntries(Object.entries(n.headers ?? {}).map(([k, v]) => [k, makeSecret(v, ctx.env)])),
      events: n.events ?? DEFAULT_NOTIFY_EVENTS,
      timeoutMs: requestTimeout(n.timeout ?? DEFAULTS.notifyTimeout, [...at, 'timeout']),
      retries: n.retries ?? DEFAULTS.notifyRetries,
    };
  });

  const s = raw.safety ?? {};
  const config: HashallConfig = {
    version: 1,
    configPath: ctx.configPath,
    configHash: ctx.configHash,
    catalog,
    filesystems,
    seeding,
    libraries,
    clients,
    categories,
    placement: { default: raw.placement?.default ?? DEFAULTS.placementDefault, rules },
    dedupe: {
      filesystems: raw.dedupe?.filesystems ?? [],
      minSize: size(raw.dedupe?.minSize ?? DEFAULTS.dedupeMinSize, ['dedupe', 'minSize']),
    },
    apply: { auto: raw.apply?.auto ?? false, parallelRechecks: raw.apply?.parallelRechecks ?? DEFAULTS.parallelRechecks },
    notify,
    verify: {
      everyMs: duration(raw.verify?.every ?? DEFAULTS.verifyEvery, 'd', ['verify', 'every']),
      budgetBytes: size(raw.verify?.budget ?? DEFAULTS.verifyBudget, ['verify', 'budget']),
    },
    scan: { hash: raw.scan?.hash ?? 'shared-sizes' },
    orphans: {
      action: raw.orphans?.action ?? DEFAULTS.orphansAction,
      minAgeMs: duration(raw.orphans?.minAge ?? DEFAULTS.orphansMinAge, 'd', ['orphans', 'minAge']),
      exclude: raw.orphans?.exclude ?? [],
    },
    safety: {
      verify: s.verify ?? DEFAULTS.verify,
      retire: {
        mode: s.retire?.mode ?? DEFAULTS.retireMode,
        observeHours: duration(s.retire?.observeHours ?? DEFAULTS.observeHours, 'h', ['safety', 'retire', 'observeHours']) / 3_600_000,
        purgeCheck: s.retire?.purgeCheck ?? 'full',
      },
      minFree: size(s.minFree ?? DEFAULTS.minFree, ['safety', 'minFree']),
      maxScanAgeHours: duration(s.maxScanAgeHours ?? DEFAULTS.maxScanAgeHours, 'h', ['safety', 'maxScanAgeHours']) / 3_600_000,
    },
  };
  return { config, problems };
}

function stripSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** True when `url` parses with a user name or password in it (`http://user:pw@host`). */
function urlHasCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
}
