// The live check on worker threads answers exactly what the reading thread's lstat answers (real files, real catalog).
import { appendFileSync, linkSync, lstatSync, mkdirSync, realpathSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bytesToPathText } from '../../../src/fs/path-encoding.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogDb } from '../../../src/catalog/db.js';
import { liveCheckPool, liveDifferences, type LiveAnswer } from '../../../src/catalog/live-check.js';
import { readSnapshot } from '../../../src/catalog/snapshot.js';
import type { HashallConfig } from '../../../src/config/types.js';
import type { CatalogFile } from '../../../src/domain/snapshot.js';
import { snapshotPlanner } from '../../../src/plan/needs.js';
import { insertRelocationRow, makeSyncFixture, openFixtureCatalog, scan, writeConfig, type SyncFixture } from '../sync/sync-fixture.js';

/** The fields both checks give (the reading thread's liveInode also reads owner and mode, which no verdict here uses). */
function shown(m: Map<CatalogFile, LiveAnswer>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [f, r] of m) out[path.basename(f.path).slice(0, 40)] = 'code' in r ? { code: r.code } : { ino: r.ino, nlink: r.nlink, size: r.size, mtimeNs: r.mtimeNs };
  return out;
}

function row(p: string | Buffer, nlink?: number): CatalogFile {
  const st = lstatSync(p, { bigint: true });
  // The catalog's text form of the name (a literal U+FFFD or bytes that are not UTF-8 are escaped).
  const text = bytesToPathText(typeof p === 'string' ? Buffer.from(p) : p);
  return { fsId: 1, path: text, ino: Number(st.ino), size: Number(st.size), mtimeNs: String(st.mtimeNs), nlink: nlink ?? Number(st.nlink), sha256: null };
}

describe('live check pool', () => {
  let w: SyncFixture;
  beforeAll(() => {
    w = makeSyncFixture('hashall-live-check-');
  });
  afterAll(() => w?.tmp.cleanup());

  it('reports exactly the files whose disk state differs from their row, with what lstat finds', () => {
    const dir = path.join(w.seedS, 'pool-unit');
    mkdirSync(dir, { recursive: true });
    const names = ['same', 'grown', 'touched', 'replaced', 'linked', 'gone', 'fewer-links'];
    for (const n of names) writeFileSync(path.join(dir, n), `${n}\n`);
    const rows = names.map((n) => row(path.join(dir, n), n === 'fewer-links' ? 3 : undefined));
    appendFileSync(path.join(dir, 'grown'), 'more\n');
    utimesSync(path.join(dir, 'touched'), new Date(Date.UTC(2031, 0, 1)), new Date(Date.UTC(2031, 0, 1)));
    writeFileSync(path.join(dir, 'replaced.new'), 'replaced\n');
    renameSync(path.join(dir, 'replaced.new'), path.join(dir, 'replaced'));
    linkSync(path.join(dir, 'linked'), path.join(dir, 'linked-elsewhere'));
    rmSync(path.join(dir, 'gone'));

    const here = shown(liveDifferences(rows));
    expect(Object.keys(here).sort()).toEqual(['gone', 'grown', 'linked', 'replaced', 'touched']);
    expect(here.gone).toEqual({ code: 'ENOENT' });

    const pool = liveCheckPool(2);
    try {
      // Several submissions, taken out of order, some travelling in one message.
      const a = pool.submit(rows.slice(0, 3));
      const b = pool.submit(rows.slice(3));
      const c = pool.submit(rows);
      expect(shown(pool.take(c, rows))).toEqual(here);
      expect(shown(pool.take(b, rows.slice(3)))).toEqual(shown(liveDifferences(rows.slice(3))));
      expect(shown(pool.take(a, rows.slice(0, 3)))).toEqual(shown(liveDifferences(rows.slice(0, 3))));
    } finally {
      pool.close();
    }
  });

  it('checks names that are not UTF-8 by their exact bytes, and reports other errno codes as lstat does', () => {
    const dir = path.join(w.seedS, 'pool-bytes');
    mkdirSync(dir, { recursive: true });
    const bytes = (name: number[]) => Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(name)]);
    // 'f' 0xff (not UTF-8) grown after its row; 'g' 0xfe unchanged; and the names their lossy string forms would
    // reach ("f\uFFFD", "g\uFFFD" in UTF-8), present and unchanged: a check by a lossy string would answer wrongly.
    const grown = bytes([0x66, 0xff]);
    const same = bytes([0x67, 0xfe]);
    for (const b of [grown, same]) writeFileSync(b, 'raw\n');
    for (const n of ['f\uFFFD', 'g\uFFFD']) writeFileSync(path.join(dir, n), 'lossy twin, longer\n');
    writeFileSync(path.join(dir, 'plain'), 'plain\n');
    const rows = [row(grown), row(same), row(path.join(dir, 'f\uFFFD')), row(path.join(dir, 'plain'))];
    appendFileSync(grown, 'more\n');
    // A path through a regular file (ENOTDIR) and a name longer than NAME_MAX (ENAMETOOLONG).
    rows.push({ ...rows[3]!, path: path.join(dir, 'plain', 'below') }, { ...rows[3]!, path: path.join(dir, 'n'.repeat(300)) });

    const here = shown(liveDifferences(rows));
    expect(Object.values(here)).toHaveLength(3);
    expect(Object.values(here)).toEqual(expect.arrayContaining([{ code: 'ENOTDIR' }, { code: 'ENAMETOOLONG' }]));
    const pool = liveCheckPool(1);
    try {
      const a = pool.submit(rows.slice(0, 2));
      const b = pool.submit(rows.slice(2));
      expect(shown(pool.take(b, rows.slice(2)))).toEqual(shown(liveDifferences(rows.slice(2))));
      expect(shown(pool.take(a, rows.slice(0, 2)))).toEqual(shown(liveDifferences(rows.slice(0, 2))));
      expect(Object.keys(shown(pool.take(pool.submit(rows), rows)))).toEqual(Object.keys(here));
    } finally {
      pool.close();
    }
  });

  it('answers a catalog path holding a NUL (no real name can) as lstat does, and the files sent with it too', () => {
    const dir = path.join(w.seedS, 'pool-nul');
    mkdirSync(dir, { recursive: true });
    for (const n of ['a', 'b', 'c']) writeFileSync(path.join(dir, n), `${n}\n`);
    const rows = ['a', 'b', 'c'].map((n) => row(path.join(dir, n)));
    appendFileSync(path.join(dir, 'c'), 'more\n');
    const nul = { ...rows[0]!, path: path.join(dir, 'a\0b') };
    const pool = liveCheckPool(1);
    try {
      // One message: the NUL must not shift the other files' paths or mtimes.
      const x = pool.submit([rows[0]!, nul]);
      const y = pool.submit(rows.slice(1));
      expect(shown(pool.take(y, rows.slice(1)))).toEqual(shown(liveDifferences(rows.slice(1))));
      const got = pool.take(x, [rows[0]!, nul]);
      expect([...got.values()]).toEqual([...liveDifferences([rows[0]!, nul]).values()]);
      expect([...got.keys()]).toEqual([nul]);
    } finally {
      pool.close();
    }
  });
});

describe('live check pool whose workers never answer', () => {
  let w: SyncFixture;
  beforeAll(() => {
    w = makeSyncFixture('hashall-live-stall-');
  });
  afterAll(() => w?.tmp.cleanup());

  it('checks on the calling thread instead, the same answers, and at once for every later submission', () => {
    const dir = path.join(w.seedS, 'stall');
    mkdirSync(dir, { recursive: true });
    for (const n of ['a', 'b']) writeFileSync(path.join(dir, n), `${n}\n`);
    const rows = ['a', 'b'].map((n) => row(path.join(dir, n)));
    appendFileSync(path.join(dir, 'b'), 'more\n');
    // A worker that exits at once: nothing it is sent is ever answered.
    const pool = liveCheckPool(1, { source: '', stallMs: 50 });
    try {
      const first = pool.submit(rows);
      const second = pool.submit(rows.slice(0, 1));
      expect(shown(pool.take(first, rows))).toEqual(shown(liveDifferences(rows)));
      expect(Object.keys(shown(pool.take(first, rows)))).toEqual(['b']);
      expect(shown(pool.take(second, rows.slice(0, 1)))).toEqual({});
    } finally {
      pool.close();
    }
  });
});

describe('readSnapshot with the live check on worker threads', () => {
  let w: SyncFixture;
  let config: HashallConfig;
  let catalog: CatalogDb;

  beforeAll(async () => {
    w = makeSyncFixture('hashall-live-snapshot-');
    config = writeConfig(w, { url: 'http://127.0.0.1:9' });
    catalog = openFixtureCatalog(config);
    const payloads = ['Changed', 'Linked', 'Same', 'Donor'];
    for (const name of payloads) {
      const d = path.join(w.seedS, 'movies', name);
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, `${name}.mkv`), `${name} video\n`);
      writeFileSync(path.join(d, `${name}.nfo`), `${name} nfo\n`);
    }
    // A pool copy of Donor's content, changed after the scan below: no donor any more.
    const copy = path.join(w.seedP, 'old/Donor');
    mkdirSync(copy, { recursive: true });
    writeFileSync(path.join(copy, 'Donor.mkv'), 'Donor video\n');
    await scan(w, catalog, config);
    for (const name of payloads) {
      const src = realpathSync(path.join(w.seedS, 'movies', name));
      insertRelocationRow(catalog, src, path.join(realpathSync(w.seedP), 'movies', name), w.clock.t);
    }
    utimesSync(path.join(w.seedS, 'movies/Changed/Changed.nfo'), new Date(Date.UTC(2031, 0, 1)), new Date(Date.UTC(2031, 0, 1)));
    linkSync(path.join(w.seedS, 'movies/Linked/Linked.mkv'), path.join(w.seedS, '..', 'Linked-hardlink.mkv'));
    utimesSync(path.join(copy, 'Donor.mkv'), new Date(Date.UTC(2031, 0, 1)), new Date(Date.UTC(2031, 0, 1)));
  }, 60_000);

  afterAll(() => {
    catalog?.close();
    w?.tmp.cleanup();
  });

  it('gives the same snapshot as the check on the reading thread, changed files and extra links included', () => {
    const read = (liveWorkers: number) => readSnapshot(catalog, config, { planner: snapshotPlanner(config, w.clock.t), files: 'all', liveWorkers });
    const here = read(0);
    const workers = read(2);
    expect(workers).toEqual(here);
    const reasons = (name: string) => Object.values(workers.payloads).find((p) => p.rootPath.endsWith(`/movies/${name}`))!.consumers;
    expect(reasons('Changed').status).toBe('unknown');
    expect(reasons('Changed').reasons.join('\n')).toMatch(/Changed\.nfo changed since the scan/);
    expect(reasons('Linked').status).toBe('unknown');
    expect(reasons('Linked').reasons.join('\n')).toMatch(/Linked\.mkv has 2 links but the catalog knows 1/);
    expect(reasons('Same').status).toBe('none');
    // The changed pool copy is no donor of Donor.mkv's content: only the payload file itself is left.
    const donorFile = Object.values(workers.payloads).find((p) => p.rootPath.endsWith('/movies/Donor'))!.files!.find((f) => f.relpath === 'Donor.mkv')!;
    expect((workers.copiesBySha256[donorFile.sha256!] ?? [donorFile]).map((c) => c.path)).toEqual([donorFile.path]);
  });
});
