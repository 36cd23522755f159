// `clients:` — several named client instances; `client:` stays the single instance `default`; both at once is an error.
import { describe, expect, it } from 'vitest';
import { makeSecret } from '../../../src/config/normalize.js';
import { brief, checkText } from './temp-config.js';

const minimal = 'version: 1\nfilesystems:\n  disk: { path: /srv }\n';

describe('client instances', () => {
  it('`client:` is the one instance `default`, with its settings and problems located under client', () => {
    const r = checkText(minimal + 'client:\n  type: transmission\n  url: http://h:9091/transmission/rpc\n  pathMaps:\n    - { client: /data, host: /srv }\n');
    expect(r.errors).toEqual([]);
    expect(Object.keys(r.config!.clients)).toEqual(['default']);
    expect(r.config!.clients.default).toMatchObject({ name: 'default', at: ['client'], type: 'transmission', pathMaps: [{ client: '/data', host: '/srv' }] });
  });

  it('a user name or password in a client URL is an error at the url, naming neither: hashall never uses them', () => {
    for (const [url, where] of [
      ['http://admin:s3cretpass@127.0.0.1:8080', 'client.url'],
      ['http://admin@127.0.0.1:8080', 'client.url'],
    ] as const) {
      const r = checkText(minimal + `client:\n  url: ${url}\n`);
      expect(r.config).toBeNull();
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatchObject({ line: 5, col: 8, path: where });
      expect(r.errors[0]?.message).toMatch(/user name or password/);
      expect(r.errors[0]?.hint).toMatch(/client\.username.*client\.password/);
      expect(JSON.stringify(r.errors)).not.toMatch(/s3cretpass|admin@/);
    }
    // A URL the schema refuses shows no credentials either: without its scheme, or with an `@` in the password.
    for (const url of ['admin:S3cretPw@127.0.0.1:8080', 'htp://admin:p@Ss9word@127.0.0.1']) {
      const bad = checkText(minimal + `client:\n  url: "${url}"\n`);
      expect(bad.errors.map((e) => e.path)).toEqual(['client.url']);
      expect(JSON.stringify(bad.errors)).not.toMatch(/S3cretPw|Ss9word|admin/);
    }
    // A URL no client could connect to is an error at its place, without its value (`validate` said valid, every
    // client command then failed with no place in the file).
    for (const url of ['http://127.0.0.1:99999', 'http://my host:8080', 'http://admin:pa/ss@127.0.0.1:8080']) {
      const bad = checkText(minimal + `clients:\n  qbt:\n    url: "${url}"\n`);
      expect(bad.errors.map((e) => [e.path, e.line, e.message])).toEqual([['clients.qbt.url', 6, 'not a valid URL (the host, port or path cannot be read; the value is not shown)']]);
      expect(JSON.stringify(bad.errors)).not.toMatch(/pa\/ss|99999|my host/);
    }
    expect(checkText(minimal + 'client:\n  type: rtorrent\n  url: scgi:///run/rtorrent/rpc.sock\n').errors).toEqual([]);
    // From the environment, too (url is resolved when the config is read).
    const r = checkText(minimal + 'client:\n  url: ${QBT_URL}\n', { QBT_URL: 'http://u:pw-from-env@127.0.0.1:8080' });
    expect(r.errors.map((e) => e.path)).toEqual(['client.url']);
    expect(JSON.stringify(r.errors)).not.toContain('pw-from-env');
  });

  it('`clients:` names each instance, with its own type, url, password from the environment and path maps', () => {
    const env = { QBT_PW: 'q-secret', TR_PW: 't-secret' };
    const r = checkText(
      minimal +
        [
          'clients:',
          '  qbt:',
          '    url: http://127.0.0.1:8080',
          '    password: ${QBT_PW}',
          '    pathMaps: [{ client: /data, host: /srv }]',
          '  tr-1.main:',
          '    type: transmission',
          '    url: http://127.0.0.1:9091/transmission/rpc',
          '    username: admin',
          '    password: ${TR_PW}',
          '    pathMaps: [{ client: /downloads, host: /srv }]',
          '',
        ].join('\n'),
      env,
    );
    expect(r.errors).toEqual([]);
    const c = r.config!.clients;
    expect(Object.keys(c).sort()).toEqual(['qbt', 'tr-1.main']);
    expect(c.qbt).toMatchObject({ name: 'qbt', at: ['clients', 'qbt'], type: 'qbittorrent', pathMaps: [{ client: '/data', host: '/srv' }] });
    expect(c['tr-1.main']).toMatchObject({ name: 'tr-1.main', type: 'transmission', username: 'admin', pathMaps: [{ client: '/downloads', host: '/srv' }] });
    expect(c.qbt!.password!.reveal()).toBe('q-secret');
    expect(c['tr-1.main']!.password!.reveal()).toBe('t-secret');
    expect(JSON.stringify(r.config)).not.toMatch(/q-secret|t-secret/);
  });

  it('a `clients:` password stays a template until used, as `client.password` does: a `$` in its value is sent as written, no clear-text warning, a missing variable never echoes the value', () => {
    const text = minimal + 'clients:\n  qbt:\n    url: http://127.0.0.1:8080\n    password: ${QBT_PW}\n';
    const r = checkText(text, { QBT_PW: 'pa$$w0rd-${NOPE}z' });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.config!.clients.qbt!.password!.template).toBe('${QBT_PW}');
    expect(r.config!.clients.qbt!.password!.reveal()).toBe('pa$$w0rd-${NOPE}z');
    // Unset when the config is read: an error at the value's place, naming the variable alone (a literal around the
    // variable may be part of the secret); unset by the time it is used (a long-running reconcile): the same.
    const partial = checkText(minimal + 'clients:\n  qbt:\n    url: http://127.0.0.1:8080\n    password: Xy9${PW_TAIL}\n', {});
    expect(partial.errors.map((e) => [e.path, e.line, e.message])).toEqual([['clients.qbt.password', 7, 'environment variable PW_TAIL is not set']]);
    expect(JSON.stringify(partial.errors)).not.toContain('Xy9');
    expect(() => makeSecret('Xy9${PW_TAIL}', {}).reveal()).toThrow(/^environment variable PW_TAIL is not set \(needed by a password or secret in hashall\.yaml\)$/);
  });

  it("a path map's host side written through a filesystem alias is spelled as the filesystem's path (as seeding roots are)", () => {
    const r = checkText(
      'version: 1\nfilesystems:\n  pool: { path: /pool, aliases: [/mnt/pool] }\nclient:\n  url: http://127.0.0.1:8080\n  pathMaps:\n    - { client: /data/pool, host: /mnt/pool/ }\n    - { client: /data/other, host: /mnt/poolside }\n',
    );
    expect(r.errors).toEqual([]);
    expect(r.config!.clients.default!.pathMaps).toEqual([
      { client: '/data/pool', host: '/pool' },
      { client: '/data/other', host: '/mnt/poolside' },
    ]);
  });

  it('both `client:` and `clients:` is an error at the `clients` key, saying which to keep', () => {
    const r = checkText(minimal + 'client:\n  url: http://h:1\nclients:\n  a:\n    url: http://h:2\n');
    expect(brief(r.errors)).toEqual([expect.stringMatching(/^6:1 clients both `client:` and `clients:` are set/)]);
    expect(r.errors[0]!.hint).toMatch(/move the `client:` settings into `clients:`/);
  });

  it('instance names are validated at their key; an empty map and unknown keys are errors at file:line:col', () => {
    const bad = checkText(minimal + 'clients:\n  "-bad name":\n    url: http://h:1\n');
    expect(brief(bad.errors)).toEqual([expect.stringMatching(/^5:3 clients\["-bad name"\] not a valid name: "-bad name"/)]);
    const empty = checkText(minimal + 'clients: {}\n');
    expect(brief(empty.errors)).toEqual([expect.stringMatching(/^4:\d+ clients must not be empty/)]);
    const typo = checkText(minimal + 'clients:\n  a:\n    url: http://h:1\n    pathmaps: []\n');
    expect(brief(typo.errors)).toEqual([expect.stringMatching(/^7:5 clients\.a\.pathmaps unknown key "pathmaps"/)]);
    expect(typo.errors[0]!.hint).toMatch(/did you mean "pathMaps"/);
  });

  it('each instance is checked on its own: path maps, scgi URL for rTorrent only, a clear-text password — at that instance', () => {
    const r = checkText(
      minimal +
        [
          'clients:',
          '  one:',
          '    url: http://h:1',
          '    pathMaps: [{ client: /data, host: /srv }]',
          '  two:',
          '    type: transmission',
          '    url: scgi:///run/x.sock',
          '    password: hunter2',
          '    pathMaps:',
          '      - { client: /data, host: /srv }',
          '      - { client: /data, host: /srv/b }',
          '',
        ].join('\n'),
    );
    expect(brief(r.errors)).toEqual([
      expect.stringMatching(/^10:10 clients\.two\.url an scgi:\/\/ URL is for rTorrent, but the client type is transmission/),
      expect.stringMatching(/^14:19 clients\.two\.pathMaps\[1\]\.client client prefix \/data is mapped twice/),
    ]);
    expect(brief(r.warnings)).toContain('11:15 clients.two.password password is written in clear text');
  });
});
