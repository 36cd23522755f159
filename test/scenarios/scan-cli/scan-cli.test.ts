// Scenario: `hashall scan` / `catalog stats` / `dupes` over two real tmpfs filesystems, plus on-demand hashMissing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../../support/cli.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { openCatalog } from '../../../src/catalog/db.js';
import { hashMissing } from '../../../src/catalog/hash-missing.js';

const sha = (b: string): string => createHash('sha256').update(b).digest('hex');
let tmp: TempDir;
let config: string;
let stash: string;
let pool: string;

beforeAll(() => {
  tmp = makeTempDir('hashall-scan-cli-');
  stash = path.join(tmp.path, 'stash');
  pool = path.join(tmp.path, 'pool');
  mountTmpfs(stash, 32 * 1024 * 1024, 'stash');
  mountTmpfs(pool, 32 * 1024 * 1024, 'pool');
  for (const d of [`${stash}/torrents/movies/M`, `${stash}/media/movies/M`, `${pool}/torrents/movies/M`]) mkdirSync(d, { recursive: true });
  writeFileSync(`${stash}/torrents/movies/M/m.mkv`, 'movie-bytes');
  linkSync(`${stash}/torrents/movies/M/m.mkv`, `${stash}/media/movies/M/m.mkv`);
  writeFileSync(`${stash}/torrents/movies/M/copy.mkv`, 'movie-bytes'); // same content, another inode: a local dupe
  writeFileSync(`${pool}/torrents/movies/M/m.mkv`, 'movie-bytes'); // same content on another filesystem
  writeFileSync(`${pool}/torrents/movies/M/only.nfo`, 'nfo');
  config = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(
    config,
    [
      'version: 1',
      'catalog: ./state/catalog.db',
      'filesystems:',
      `  stash: { path: ${stash} }`,
      `  pool: { path: ${pool} }`,
      'seeding:',
      `  stash: [${stash}/torrents]`,
      `  pool: [${pool}/torrents]`,
      'libraries:',
      `  - ${stash}/media`,
      '',
    ].join('\n'),
  );
});
afterAll(() => tmp.cleanup());

describe('scan CLI', () => {
  it('scans every configured root, then reports stats and duplicates', async () => {
    const r = await runCli(['scan', '--quick-only', '--json', '--config', config]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ status: 'completed', added: 5, deleted: 0 });
    expect(s.roots.map((x: { kind: string; filesystem: { name: string } }) => `${x.kind}:${x.filesystem.name}`)).toEqual(['seeding:stash', 'seeding:pool', 'library:stash']);

    // --quick-only deferred the full hashes: fill them in on demand, by path and by id.
    const catalog = openCatalog(path.join(tmp.path, 'state', 'catalog.db'));
    try {
      expect(catalog.db.prepare(`SELECT count(*) AS n FROM files WHERE sha256 IS NULL`).get()).toEqual({ n: 5 });
      const serial = catalog.serial();
      const res = await hashMissing(catalog, { paths: [`${stash}/torrents/movies/M/m.mkv`, `${stash}/nope`] }, { now: () => 5 });
      expect(res.failed.map((f) => f.code)).toEqual(['ENOENT']);
      // The library hardlink shares the inode, so it got the hash too.
      const linked = catalog.db.prepare(`SELECT abs_path, sha256 FROM file_paths WHERE sha256 IS NOT NULL ORDER BY abs_path`).all();
      expect(linked).toEqual([
        { abs_path: `${stash}/media/movies/M/m.mkv`, sha256: sha('movie-bytes') },
        { abs_path: `${stash}/torrents/movies/M/m.mkv`, sha256: sha('movie-bytes') },
      ]);
      expect(catalog.serial()).toBe(serial + 1);
      const ids = (catalog.db.prepare(`SELECT id FROM files WHERE sha256 IS NULL`).all() as { id: number }[]).map((x) => x.id);
      const rest = await hashMissing(catalog, { fileIds: ids }, { now: () => 6 });
      expect(rest.failed).toEqual([]);
      expect(catalog.db.prepare(`SELECT count(*) AS n FROM files WHERE sha256 IS NULL`).get()).toEqual({ n: 0 });
    } finally {
      catalog.close();
    }

    // Another file put at a path since its scan — same size, the mtime kept (`cp -p`, `rsync -t`), another inode — is
    // not hashed for the recorded inode (whose other links still hold the old bytes): changed, nothing written.
    const n = path.join(stash, 'torrents', 'movies', 'N', 'n.mkv');
    mkdirSync(path.dirname(n), { recursive: true });
    writeFileSync(n, 'old-bytes-12');
    linkSync(n, `${n}.link`);
    expect((await runCli(['scan', '--quick-only', '--json', '--config', config])).code).toBe(0);
    writeFileSync(`${n}.new`, 'new-bytes-34');
    execFileSync('touch', ['-r', n, `${n}.new`]); // the mtime to the nanosecond, as cp -p keeps it
    expect(statSync(`${n}.new`, { bigint: true }).mtimeNs).toBe(statSync(n, { bigint: true }).mtimeNs);
    renameSync(`${n}.new`, n);
    const again = openCatalog(path.join(tmp.path, 'state', 'catalog.db'));
    try {
      const res = await hashMissing(again, { paths: [n] }, { now: () => 7 });
      expect(res.failed.map((f) => f.code)).toEqual(['ECHANGED']);
      expect(again.db.prepare(`SELECT count(*) AS n FROM file_paths WHERE abs_path IN (?, ?) AND sha256 IS NOT NULL`).get(n, `${n}.link`)).toEqual({ n: 0 });
    } finally {
      again.close();
    }
    rmSync(path.dirname(n), { recursive: true });
    expect((await runCli(['scan', '--json', '--config', config])).code).toBe(0);

    const stats = await runCli(['catalog', 'stats', '--json', '--config', config]);
    expect(stats.code).toBe(0);
    const st = JSON.parse(stats.stdout);
    const byName = Object.fromEntries(st.filesystems.map((f: { name: string }) => [f.name, f]));
    expect(byName.stash).toMatchObject({ files: 3, bytes: 33, uniqueBytes: 22, hashedFraction: 1 });
    expect(byName.pool).toMatchObject({ files: 2, bytes: 14, hashedFraction: 1 });
    expect(byName.stash.lastScanAt).not.toBeNull();
    expect(st.summaries).toEqual({ payloads: 0, serial: null, current: false }); // stored by a sync, not by a scan

    const d = await runCli(['dupes', '--cross', '--json', '--config', config]);
    expect(d.code).toBe(0);
    const dj = JSON.parse(d.stdout);
    expect(dj.groups).toHaveLength(1);
    expect(dj.groups[0]).toMatchObject({ fsName: 'stash', size: 11, reclaimableBytes: 11 });
    expect(dj.groups[0].inodes).toHaveLength(2);
    expect(dj.cross).toHaveLength(1);
    expect(dj.cross[0].copies.map((c: { fsName: string }) => c.fsName).sort()).toEqual(['pool', 'stash']);

    const only = await runCli(['dupes', '--filesystem', 'pool', '--config', config]);
    expect(only.stdout).toContain('0 duplicate group(s)');
    const bad = await runCli(['dupes', '--filesystem', 'nope', '--config', config]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('filesystem "nope" is not in the catalog');
  });

  it('a second scan of a path changes nothing; a bad --drift is refused', async () => {
    const r = await runCli(['scan', `${stash}/torrents`, '--config', config]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/0 added, 0 changed, 2 unchanged, 0 deleted/);
    const bad = await runCli(['scan', '--drift', 'sometimes', '--config', config]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--drift must be metadata, quick or full');
  });
});
