// Normalization: units, defaults, paths relative to the config file, the default catalog and secrets.
import { describe, expect, it } from 'vitest';
import { checkText } from './temp-config.js';
import { parseDuration, parseSize } from '../../../src/config/units.js';
import { loadSchema } from '../../../src/config/schema.js';
import { DEFAULTS } from '../../../src/config/normalize.js';

const minimal = 'version: 1\nfilesystems:\n  disk: { path: /srv }\n';

describe('units', () => {
  it('parses sizes: SI decimal, IEC binary, bare letters binary, plain bytes', () => {
    expect(parseSize('1MiB')).toBe(1_048_576);
    expect(parseSize('500GB')).toBe(500_000_000_000);
    expect(parseSize('1.5TiB')).toBe(1.5 * 2 ** 40);
    expect(parseSize('4k')).toBe(4096);
    expect(parseSize('10 b')).toBe(10);
    expect(parseSize(12345)).toBe(12345);
    for (const bad of ['12XB', '', 'MiB', '1.2.3GB', '-1GB', '5%']) expect(parseSize(bad)).toBeNull();
    expect(parseSize(-1)).toBeNull();
  });

  it('a size past what bytes can be counted exactly (2^53, 8 PiB) is no size, written or as a number', () => {
    expect(parseSize('8PiB')).toBe(2 ** 53);
    for (const bad of ['99999999999999999999TB', '9PiB', 2 ** 60, Infinity]) expect(parseSize(bad)).toBeNull();
  });

  it('parses durations with units, and plain numbers in the unit of the field', () => {
    expect(parseDuration('24h', 'h')).toBe(86_400_000);
    expect(parseDuration('7d', 'h')).toBe(7 * 86_400_000);
    expect(parseDuration('1h30m', 's')).toBe(5_400_000);
    expect(parseDuration('250ms', 's')).toBe(250);
    expect(parseDuration(36, 'h')).toBe(36 * 3_600_000);
    expect(parseDuration(30, 's')).toBe(30_000);
    for (const bad of ['3 days', 'soon', '', 'h', '1y']) expect(parseDuration(bad, 'h')).toBeNull();
  });
});

describe('normalize', () => {
  it('fills every default, documented identically in the schema', () => {
    const r = checkText(minimal, { XDG_STATE_HOME: '/xdg/state' });
    expect(r.errors).toEqual([]);
    const c = r.config;
    expect(c).toMatchObject({
      version: 1,
      catalog: '/xdg/state/hashall/catalog.db',
      seeding: {},
      libraries: [],
      clients: {},
      categories: {},
      placement: { default: 'keep', rules: [] },
      dedupe: { filesystems: [], minSize: 1_048_576 },
      orphans: { action: 'report', minAgeMs: 14 * 86_400_000, exclude: [] },
      safety: { verify: 'full', retire: { mode: 'staged', observeHours: 72 }, minFree: 10 * 2 ** 30, maxScanAgeHours: 24 },
    });
    expect(c?.configHash).toMatch(/^[0-9a-f]{64}$/);
    const schema = loadSchema() as { properties: Record<string, { default?: unknown; properties?: Record<string, { default?: unknown; properties?: Record<string, { default?: unknown }> }> }> };
    const p = schema.properties;
    const defs = (schema as unknown as { definitions: typeof p }).definitions;
    expect(defs.client?.properties?.timeout?.default).toBe(DEFAULTS.clientTimeout);
    expect(p.placement?.properties?.default?.default).toBe(DEFAULTS.placementDefault);
    expect(p.dedupe?.properties?.minSize?.default).toBe(DEFAULTS.dedupeMinSize);
    expect(p.safety?.properties?.verify?.default).toBe(DEFAULTS.verify);
    expect(p.safety?.properties?.retire?.properties?.mode?.default).toBe(DEFAULTS.retireMode);
    expect(p.safety?.properties?.retire?.properties?.observeHours?.default).toBe(DEFAULTS.observeHours);
    expect(p.safety?.properties?.minFree?.default).toBe(DEFAULTS.minFree);
    expect(p.safety?.properties?.maxScanAgeHours?.default).toBe(DEFAULTS.maxScanAgeHours);
    expect(p.orphans?.properties?.action?.default).toBe(DEFAULTS.orphansAction);
    expect(p.orphans?.properties?.minAge?.default).toBe(DEFAULTS.orphansMinAge);
  });

  it('defaults the catalog to ~/.local/state without XDG_STATE_HOME, and resolves a given one against the config file', () => {
    expect(checkText(minimal).config?.catalog).toBe('/home/tester/.local/state/hashall/catalog.db');
    const r = checkText(minimal + 'catalog: state/../db/catalog.db\n');
    expect(r.config?.catalog).toBe(`${r.dir}/db/catalog.db`);
    expect(checkText(minimal + 'catalog: ~/c.db\n').config?.catalog).toBe('/home/tester/c.db');
  });

  it('converts units of every field and resolves relative paths and trailing slashes', () => {
    const r = checkText(`version: 1
filesystems:
  disk: { path: /srv/, aliases: [media/] }
seeding:
  disk: [/srv/torrents/]
client:
  type: qbittorrent
  url: http://127.0.0.1:8080/
  timeout: 2m
  pathMaps: [{ client: /data/, host: /srv }]
placement:
  rules:
    - { name: old, match: { minSeedingDays: 36h, minSize: 2GB }, place: disk }
    - { name: older, match: { minSeedingDays: 14 }, place: keep }
safety:
  retire: { observeHours: 2d }
  maxScanAgeHours: 6
  minFree: 1024
`);
    expect(r.errors).toEqual([]);
    const c = r.config;
    expect(c?.filesystems.disk).toEqual({ name: 'disk', path: '/srv', aliases: [`${r.dir}/media`] });
    expect(c?.seeding.disk).toEqual(['/srv/torrents']);
    expect(c?.clients.default).toMatchObject({ url: 'http://127.0.0.1:8080', timeoutMs: 120_000, pathMaps: [{ client: '/data', host: '/srv' }], username: null, password: null });
    expect(c?.placement.rules[0]?.match).toEqual({ minSeedingDays: 1.5, minSize: 2e9 });
    expect(c?.placement.rules[1]?.match).toEqual({ minSeedingDays: 14 });
    expect(c?.safety).toMatchObject({ retire: { observeHours: 48 }, maxScanAgeHours: 6, minFree: 1024 });
  });

  it('turns the password into a Secret that reads the environment at use and never serializes', () => {
    const env: Record<string, string | undefined> = { QBT_PASSWORD: 'first' };
    const r = checkText(minimal + 'client:\n  type: qbittorrent\n  url: http://h:1\n  password: pre-${QBT_PASSWORD}\n', env);
    const secret = r.config?.clients.default?.password;
    expect(secret?.template).toBe('pre-${QBT_PASSWORD}');
    expect(secret?.reveal()).toBe('pre-first');
    expect(JSON.stringify(r.config)).not.toContain('first');
    expect(JSON.stringify(r.config?.clients.default)).toContain('"password":"***"');
  });

  it('warns about a password written in clear text', () => {
    const r = checkText(minimal + 'client:\n  type: qbittorrent\n  url: http://h:1\n  password: hunter2\n');
    expect(r.errors).toEqual([]);
    expect(r.warnings.map((w) => `${w.line}:${w.col} ${w.message}`)).toContain('7:13 password is written in clear text');
  });

  it('client.type defaults to qbittorrent (configs written before other clients keep working); transmission, rtorrent and deluge are accepted', () => {
    expect(checkText(minimal + 'client:\n  url: http://h:1\n').config?.clients.default?.type).toBe('qbittorrent');
    expect(checkText(minimal + 'client:\n  type: transmission\n  url: http://h:9091/transmission/rpc\n').config?.clients.default).toMatchObject({ type: 'transmission', url: 'http://h:9091/transmission/rpc' });
    expect(checkText(minimal + 'client:\n  type: rtorrent\n  url: scgi:///run/rtorrent/rpc.sock\n').config?.clients.default).toMatchObject({ type: 'rtorrent', url: 'scgi:///run/rtorrent/rpc.sock' });
    expect(checkText(minimal + 'client:\n  type: deluge\n  url: http://h:8112\n').config?.clients.default).toMatchObject({ type: 'deluge', url: 'http://h:8112' });
    const named = checkText(minimal + 'client:\n  type: deluge\n  url: http://h:8112\n  username: admin\n');
    expect(named.warnings.map((w) => `${w.path} ${w.message}`)).toContain('client.username deluge-web has a password only; username is not used');
    const bad = checkText(minimal + 'client:\n  type: vuze\n  url: http://h:1\n');
    expect(bad.errors.map((e) => e.path)).toEqual(['client.type']);
  });

  it('an scgi:// URL with a client type other than rtorrent is an error at client.url', () => {
    const r = checkText(minimal + 'client:\n  url: scgi:///run/rtorrent/rpc.sock\n');
    expect(r.errors.map((e) => `${e.line}:${e.col} ${e.path} ${e.message}`)).toEqual(['5:8 client.url an scgi:// URL is for rTorrent, but the client type is qbittorrent']);
  });

  it('rejects a category path that is absolute or climbs out of the seeding root', () => {
    const r = checkText(minimal + 'categories:\n  a: { path: /abs }\n  b: { path: x/../../y }\n');
    expect(r.errors.map((e) => `${e.line}:${e.col} ${e.path}`)).toEqual(['5:14 categories.a.path', '6:14 categories.b.path']);
  });
});
