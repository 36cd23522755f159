// The stash/pool hashall.yaml writer shared by the demo and the fixtures: its text is a valid config meaning what was asked.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mountTmpfs } from '../../support/mounts.js';
import path from 'node:path';
import { checkText, tempDir } from '../config/temp-config.js';
import { stashPoolConfigText } from '../../../src/sandbox/stash-pool-config.js';

const mounted: string[] = [];
afterEach(() => {
  while (mounted.length) execFileSync('umount', [mounted.pop()!]);
});

describe('stashPoolConfigText', () => {
  it('writes filesystems, seeding roots, libraries, the client and extra keys as a valid config (odd names quoted)', () => {
    const dir = tempDir();
    const stash = path.join(dir, 's t', 'a#sh');
    const pool = path.join(dir, 'pool: x');
    // Two filesystems for real: two folders of one disk are one filesystem, which hashall.yaml refuses as two entries.
    mountTmpfs(pool, 1 << 20, 'hashall-test-pool');
    mounted.push(pool);
    for (const d of [path.join(stash, 'seeding'), path.join(stash, 'library'), path.join(pool, 'seeding')]) mkdirSync(d, { recursive: true });
    const text = stashPoolConfigText(
      {
        comment: 'throwaway',
        catalog: 'catalog.db',
        stash,
        pool,
        seeding: { stash: [path.join(stash, 'seeding')], pool: [path.join(pool, 'seeding')] },
        libraries: [path.join(stash, 'library')],
        client: { type: 'deluge', url: 'http://127.0.0.1:8112', password: '${DELUGE_WEB_PASSWORD}' },
      },
      ['placement: { default: pool }', 'safety: { minFree: 1MiB }'],
    );
    expect(text.split('\n')[0]).toBe('# throwaway');
    const r = checkText(text, { DELUGE_WEB_PASSWORD: 'pw' }, dir);
    expect(r.errors).toEqual([]);
    const c = r.config;
    expect(c?.catalog).toBe(path.join(dir, 'catalog.db'));
    expect(Object.fromEntries(Object.entries(c?.filesystems ?? {}).map(([k, v]) => [k, v.path]))).toEqual({ stash, pool });
    expect(c?.seeding).toEqual({ stash: [path.join(stash, 'seeding')], pool: [path.join(pool, 'seeding')] });
    expect(c?.libraries).toEqual([path.join(stash, 'library')]);
    expect(c?.placement.default).toBe('pool');
    expect(JSON.stringify(c)).toContain('deluge');
    expect(JSON.stringify(c)).not.toContain('"pw"');
  });

  it('leaves out a filesystem without seeding roots, libraries and client when not given', () => {
    const text = stashPoolConfigText({ catalog: '/c/catalog.db', stash: '/a', pool: '/b', seeding: { stash: ['/a/seed'] } });
    expect(text).toBe(['version: 1', 'catalog: "/c/catalog.db"', 'filesystems:', '  stash: { path: "/a" }', '  pool: { path: "/b" }', 'seeding:', '  stash: ["/a/seed"]', ''].join('\n'));
  });
});

describe('named instances with credentials', () => {
  it('writes a username and a quoted password reference only where given', () => {
    const text = stashPoolConfigText({ catalog: 'c.db', stash: '/s', pool: '/p', seeding: {}, clients: { qbt: { type: 'qbittorrent', url: 'http://127.0.0.1:1' }, tr: { type: 'transmission', url: 'http://127.0.0.1:2/transmission/rpc', username: 'u', password: '${TR_PW}' } } });
    expect(text).toContain('  qbt: { type: qbittorrent, url: "http://127.0.0.1:1" }\n');
    expect(text).toContain('  tr: { type: transmission, url: "http://127.0.0.1:2/transmission/rpc", username: "u", password: "${TR_PW}" }\n');
  });
});
