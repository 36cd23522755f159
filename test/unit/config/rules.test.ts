// Cross-field rules: names that must exist, roots that must (not) nest, path maps, env vars — positioned.
import { describe, expect, it } from 'vitest';
import { brief, checkText } from './temp-config.js';
import { checkRules } from '../../../src/config/rules.js';
import { normalizeConfig, type RawConfig } from '../../../src/config/normalize.js';

const twoFs = `version: 1
filesystems:
  stash:
    path: /stash/media
    aliases: [/data/media]
  pool:
    path: /pool/media
seeding:
  stash: [/stash/media/torrents]
  pool: [/pool/media/torrents]
`;

const errorsOf = (text: string, env: Record<string, string> = {}) => brief(checkText(text, env).errors);

describe('cross-field rules', () => {
  it('accepts a consistent two-filesystem config (only "does not exist" warnings)', () => {
    const r = checkText(twoFs);
    expect(r.errors).toEqual([]);
    expect(r.config).not.toBeNull();
    expect(r.warnings.every((w) => /does not exist/.test(w.message))).toBe(true);
  });

  it('rejects a seeding root outside its filesystem, and accepts one under an alias (rewritten to the path)', () => {
    const bad = twoFs.replace('stash: [/stash/media/torrents]', 'stash: [/pool/media/other, /data/media/seed]');
    expect(errorsOf(bad)).toEqual(['9:11 seeding.stash[0] seeding root /pool/media/other is not under filesystem "stash" (/stash/media or its aliases /data/media)']);
    const r = checkText(twoFs.replace('stash: [/stash/media/torrents]', 'stash: [/data/media/seed]'));
    expect(r.errors).toEqual([]);
    expect(r.config?.seeding.stash).toEqual(['/stash/media/seed']);
  });

  it('rejects seeding under an unknown filesystem at its key', () => {
    expect(errorsOf(twoFs + '  cold: [/cold/x]\n')).toEqual(['11:3 seeding.cold seeding names unknown filesystem "cold"']);
  });

  it('rejects a library inside a seeding root, one containing a seeding root, and alias spellings of both', () => {
    const text = twoFs + 'libraries:\n  - /stash/media/torrents/movies\n  - /pool\n  - /data/media/torrents\n  - /stash/media/movies\n';
    expect(errorsOf(text)).toEqual([
      '12:5 libraries[0] library root /stash/media/torrents/movies is inside seeding root /stash/media/torrents',
      '13:5 libraries[1] library root /pool contains seeding root /pool/media/torrents',
      '14:5 libraries[2] library root /stash/media/torrents is the same directory as seeding root /stash/media/torrents',
    ]);
  });

  it('rejects a catalog inside a seeding or library root (scanned, it would be an orphan of its own run), also spelled through an alias', () => {
    const lib = 'libraries:\n  - /stash/media/movies\n';
    expect(errorsOf(`catalog: /stash/media/torrents/.hashall/catalog.db\n${twoFs}`)).toEqual([
      '1:10 catalog catalog /stash/media/torrents/.hashall/catalog.db is inside seeding root /stash/media/torrents',
    ]);
    expect(errorsOf(`catalog: /data/media/torrents/catalog.db\n${twoFs}`)).toEqual(['1:10 catalog catalog /data/media/torrents/catalog.db is inside seeding root /stash/media/torrents']);
    expect(errorsOf(`catalog: /stash/media/movies/catalog.db\n${twoFs}${lib}`)).toEqual(['1:10 catalog catalog /stash/media/movies/catalog.db is inside library root /stash/media/movies']);
    // Beside the roots, on a managed filesystem: fine.
    expect(errorsOf(`catalog: /stash/media/.hashall/catalog.db\n${twoFs}${lib}`)).toEqual([]);
  });

  it('rejects filesystems whose paths nest or coincide, also through aliases', () => {
    const text = `version: 1
filesystems:
  a: { path: /srv/a }
  b: { path: /srv/a/b }
  c: { path: /srv/c, aliases: [/srv/a] }
`;
    expect(errorsOf(text)).toEqual([
      '4:14 filesystems.b.path filesystem "b" (/srv/a/b) is inside filesystem "a" (/srv/a)',
      '5:32 filesystems.c.aliases[0] filesystem "c" (/srv/a) is the same directory as filesystem "a" (/srv/a)',
      '5:32 filesystems.c.aliases[0] filesystem "c" (/srv/a) contains filesystem "b" (/srv/a/b)',
    ]);
  });

  const withMaps = (...maps: string[]): string =>
    `${twoFs}client:\n  type: qbittorrent\n  url: http://127.0.0.1:8080\n  pathMaps:\n${maps.map((m) => `    - ${m}\n`).join('')}`;
  const mapProblems = (severity: 'error' | 'warning', ...maps: string[]) =>
    brief(checkText(withMaps(...maps))[severity === 'error' ? 'errors' : 'warnings'].filter((w) => !/does not exist/.test(w.message)));

  it('rejects the same client prefix mapped twice', () => {
    expect(mapProblems('error', '{ client: /data, host: /stash/media }', '{ client: /data/, host: /pool/media }')).toEqual([
      '16:17 client.pathMaps[1].client client prefix /data is mapped twice (also pathMaps[0])',
    ]);
  });

  it('rejects the same host prefix mapped from two client prefixes (ambiguous back-mapping)', () => {
    expect(mapProblems('error', '{ client: /data, host: /stash/media }', '{ client: /downloads, host: /stash/media }')).toEqual([
      '16:35 client.pathMaps[1].host host prefix /stash/media is mapped from two client prefixes (/data and /downloads): mapping back to the client is ambiguous',
    ]);
  });

  it('rejects nested prefixes that disagree, on either side', () => {
    expect(mapProblems('error', '{ client: /data, host: /stash/media }', '{ client: /data/pool, host: /pool/media }')).toEqual([
      '16:7 client.pathMaps[1] path maps /data → /stash/media and /data/pool → /pool/media nest on the client side but disagree: a path under /data/pool would map there and back to a different place',
    ]);
    expect(mapProblems('error', '{ client: /data, host: /stash/media }', '{ client: /movies, host: /stash/media/movies }')).toEqual([
      '16:7 client.pathMaps[1] path maps /data → /stash/media and /movies → /stash/media/movies nest on the host side but disagree: a path under /stash/media/movies would map there and back to a different place',
    ]);
  });

  it('accepts sibling maps; warns about a redundant nested map and a host side outside every filesystem', () => {
    expect(mapProblems('error', '{ client: /data/stash, host: /stash/media }', '{ client: /data/pool, host: /pool/media }')).toEqual([]);
    expect(mapProblems('warning', '{ client: /data, host: /stash/media }', '{ client: /data/movies, host: /stash/media/movies }', '{ client: /tmp/x, host: /elsewhere }')).toEqual([
      '16:7 client.pathMaps[1] path map /data/movies → /stash/media/movies is implied by pathMaps[0] (/data → /stash/media)',
      '17:31 client.pathMaps[2].host host path /elsewhere is not under any configured filesystem',
    ]);
  });

  it('rejects rules, categories, placement.default and dedupe naming unknown filesystems, and duplicate rule names', () => {
    const text = `${twoFs}categories:
  movies: { path: movies, place: cold }
placement:
  default: nowhere
  rules:
    - { name: big, match: { minSize: 1GiB }, place: pol }
    - { name: big, match: {}, place: keep }
dedupe:
  filesystems: [stash, ssd]
`;
    expect(errorsOf(text)).toEqual([
      '12:34 categories.movies.place category "movies" names unknown filesystem "cold"',
      '14:12 placement.default placement.default names unknown filesystem "nowhere"',
      '16:53 placement.rules[0].place rule "big" names unknown filesystem "pol"',
      '17:15 placement.rules[1].name duplicate rule name "big" (also rules[0])',
      '19:24 dedupe.filesystems[1] dedupe.filesystems names unknown filesystem "ssd"',
    ]);
  });

  it('rejects placing payloads on a filesystem without seeding roots', () => {
    const text = twoFs.replace('  pool: [/pool/media/torrents]\n', '') + 'placement:\n  default: pool\n';
    expect(errorsOf(text)).toEqual(['11:12 placement.default placement.default places payloads on filesystem "pool", which has no seeding roots']);
  });

  it('reports an unset environment variable at its value, and every other problem with it', () => {
    const text = `${twoFs}catalog: \${STATE}/hashall.db
client:
  type: qbittorrent
  url: \${QBT_URL}
  password: \${QBT_PASSWORD}
dedupe: { filesystems: [ssd] }
`;
    expect(errorsOf(text)).toEqual([
      '11:10 catalog environment variable STATE is not set',
      '14:8 client.url environment variable QBT_URL is not set',
      '15:13 client.password environment variable QBT_PASSWORD is not set',
      '16:25 dedupe.filesystems[0] dedupe.filesystems names unknown filesystem "ssd"',
    ]);
    // The hint for a secret never suggests writing it into hashall.yaml (a clear-text password draws a warning); every
    // hint says where a service finds its variables (cron and systemd start hashall without the login shell's exports).
    const hints = Object.fromEntries(checkText(text, {}).errors.filter((e) => /is not set/.test(e.message)).map((e) => [e.path, e.hint]));
    expect(hints['client.password']).toBe(
      'export QBT_PASSWORD=... before running hashall; from cron or systemd, in the environment they give it (e.g. EnvironmentFile= in the unit). A secret stays in the environment, never written into hashall.yaml',
    );
    expect(hints['client.url']).toBe(
      'export QBT_URL=... before running hashall; from cron or systemd, in the environment they give it (e.g. EnvironmentFile= in the unit). Or write the value directly',
    );
    // With the variables set the env-dependent values resolve, and the next stages report the rest.
    const r = checkText(text, { STATE: '/var/lib/h', QBT_URL: 'http://qbt:8080/', QBT_PASSWORD: 's3cret' });
    expect(brief(r.errors)).toEqual(['16:25 dedupe.filesystems[0] dedupe.filesystems names unknown filesystem "ssd"']);
  });

  it('is a pure function of the normalized config', () => {
    const raw: RawConfig = { version: 1, filesystems: { a: { path: '/a' }, b: { path: '/a' } } };
    const { config } = normalizeConfig(raw, { configPath: '/etc/hashall.yaml', configHash: 'x', homeDir: '/root', env: {} });
    expect(checkRules(config).map((p) => p.message)).toEqual(['filesystem "b" (/a) is the same directory as filesystem "a" (/a)']);
  });
});
