// `hashall sync`, `hashall torrents` and `hashall whereis` end to end: real qbittorrent-nox, real tmpfs data, in-process CLI.
import { linkSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { expectedPayloadHash, makeSyncFixture, writeConfig, type SyncFixture } from '../../unit/sync/sync-fixture.js';
import type { TorrentReport } from '../../../src/catalog/torrent-report.js';
import type { WhereisResult } from '../../../src/catalog/whereis.js';
import type { SyncSummary } from '../../../src/catalog/sync.js';

const qbts = qbtSandboxes();

describe('sync / torrents / whereis through the CLI', () => {
  let w: SyncFixture;
  let sb: QbtSandbox;
  let a: MadeTorrent;
  let b: MadeTorrent;
  const cli = (...args: string[]) => runCli([...args, '--config', w.configFile], { cwd: w.tmp.path, now: w.now });

  beforeAll(async () => {
    w = makeSyncFixture('hashall-synccli-');
    sb = await qbts.start({ dir: path.join(w.tmp.path, 'qbt') });
    writeConfig(w, { url: sb.url });
    a = makeTorrent({ saveDir: path.join(w.seedS, 'movies'), name: 'Pair', files: [{ path: 'p.mkv', size: 21_000 }] });
    const twin = path.join(w.seedS, 'cross-seed/x/Pair.x');
    mkdirSync(twin, { recursive: true });
    linkSync(path.join(a.contentPath, 'p.mkv'), path.join(twin, 'p.mkv'));
    b = makeTorrent({ saveDir: path.dirname(twin), name: 'Pair.x', files: [{ path: 'p.mkv' }], write: false });
    mkdirSync(path.join(w.library, 'Pair'));
    linkSync(path.join(a.contentPath, 'p.mkv'), path.join(w.library, 'Pair/p.mkv'));
    await addTorrent(sb, a, { savepath: path.dirname(a.contentPath), skipChecking: true, category: 'movies' });
    await addTorrent(sb, b, { savepath: path.dirname(twin), skipChecking: true, category: 'cross-seed' });
    const scan = await runCli(['scan', '--quick-only', '--config', w.configFile], { cwd: w.tmp.path, now: w.now });
    expect(scan.code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await qbts.stopAll();
    w?.tmp.cleanup();
  });

  it('sync --hash-missing --json records both torrents with one payload hash; torrents shows siblings and the library consumer', async () => {
    const plain = await cli('sync');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('synced 2 torrent(s) from qBittorrent v');
    expect(plain.stdout).toContain('2 without payload hash');
    const r = await cli('sync', '--hash-missing', '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as SyncSummary;
    expect(s).toMatchObject({ torrents: 2, hashUnknown: 0, byStatus: { ok: 2 } });
    const t = await cli('torrents', '--json');
    expect(t.code).toBe(0);
    const rep = JSON.parse(t.stdout) as TorrentReport;
    const hash = expectedPayloadHash(a.contentPath, ['p.mkv']);
    expect(rep.torrents.map((x) => [x.name, x.payload?.payloadHash, x.siblings, x.filesystem, x.consumers?.status])).toEqual([
      ['Pair', hash, 1, 'stash', 'some'],
      ['Pair.x', hash, 1, 'stash', 'some'],
    ]);
    const text = await cli('torrents');
    expect(text.stdout).toContain(`external consumers: some — ${path.join(w.library, 'Pair/p.mkv')}`);
    // The sync stored plan's payload summaries for the serial it ended at (both torrents share one payload root each).
    const st = JSON.parse((await cli('catalog', 'stats', '--json')).stdout) as { serial: number; summaries: { payloads: number; serial: number; current: boolean } };
    expect(st.summaries).toEqual({ payloads: 2, serial: st.serial, current: true });
    expect((await cli('catalog', 'stats')).stdout).toContain('payload summaries: 2, current (stored by the last sync)');
  });

  it('whereis by info-hash, payload hash and path finds every hardlink, which torrent uses it, and the external one', async () => {
    const hash = expectedPayloadHash(a.contentPath, ['p.mkv']);
    for (const q of [a.infoHash, hash, path.join(w.alias, 'media/torrents/seeding/movies/Pair')]) {
      const r = await cli('whereis', q, '--json');
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout) as WhereisResult;
      expect(res.payloadHash).toBe(hash);
      expect(res.files).toHaveLength(1);
      const copies = res.files[0]!.copies;
      expect(copies).toHaveLength(1);
      expect(copies[0]!.paths).toEqual([path.join(w.library, 'Pair/p.mkv'), path.join(w.seedS, 'cross-seed/x/Pair.x/p.mkv'), path.join(a.contentPath, 'p.mkv')].sort());
      expect(copies[0]!.external).toEqual([path.join(w.library, 'Pair/p.mkv')]);
      expect(copies[0]!.torrents.map((x) => x.name).sort()).toEqual(['Pair', 'Pair.x']);
      expect(res.torrents.map((x) => x.hash).sort()).toEqual([a.infoHash, b.infoHash].sort());
    }
    const none = await cli('whereis', 'not-a-thing');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('nothing matches "not-a-thing"');
  });

  it('whereis on a library file lists the torrents seeding that content; short hashes and relative paths are accepted', async () => {
    // Radarr renames on import: the library file's name is not the torrent's.
    const lib = path.join(w.library, 'Pair (2024)/Pair.2024.mkv');
    mkdirSync(path.dirname(lib));
    linkSync(path.join(a.contentPath, 'p.mkv'), lib);
    expect((await cli('scan')).code).toBe(0);
    const r = await cli('whereis', lib, '--json');
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as WhereisResult;
    expect(res.torrents.map((x) => x.hash).sort()).toEqual([a.infoHash, b.infoHash].sort());
    const text = await cli('whereis', lib);
    expect(text.stdout).not.toContain('torrents: none');
    expect(text.stdout).toMatch(/torrents using this content \(as of the last sync: default \d{4}-\d\d-\d\dT\d\d:\d\dZ\):\n/);
    expect(text.stdout).toContain(`  Pair [default/${a.infoHash.slice(0, 8)}] ${a.contentPath}`);
    // The 8-hex short hash every other output prints, for an info-hash and for a payload hash.
    const short = JSON.parse((await cli('whereis', a.infoHash.slice(0, 8), '--json')).stdout) as WhereisResult;
    const full = JSON.parse((await cli('whereis', a.infoHash, '--json')).stdout) as WhereisResult;
    expect([short.matched, short.roots]).toEqual(['torrent', full.roots]);
    const ph = expectedPayloadHash(a.contentPath, ['p.mkv']);
    const byPh = JSON.parse((await cli('whereis', ph.slice(0, 10).toUpperCase(), '--json')).stdout) as WhereisResult;
    expect([byPh.matched, byPh.payloadHash]).toEqual(['payload-hash', ph]);
    const tooShort = await cli('whereis', a.infoHash.slice(0, 7));
    expect(tooShort.code).toBe(1);
    expect(tooShort.stderr).toContain('at least 8 hex digits');
    // Relative paths, resolved against the working directory and canonicalized (the alias spelling is the stash's).
    const rel = await runCli(['whereis', 'Pair.2024.mkv', '--json', '--config', w.configFile], { cwd: path.join(w.libraryAliasSpelling, 'Pair (2024)'), now: w.now });
    expect(rel.code, rel.stderr).toBe(0);
    expect((JSON.parse(rel.stdout) as WhereisResult).roots).toEqual([lib]);
    const up = await runCli(['whereis', '../Pair', '--json', '--config', w.configFile], { cwd: path.join(w.library, 'Pair'), now: w.now });
    expect(up.code, up.stderr).toBe(0);
    expect((JSON.parse(up.stdout) as WhereisResult).roots).toEqual([path.join(w.library, 'Pair')]);
  });
});
