// The live check on worker threads answers exactly what the reading thread's lstat answers (real files, real catalog).
import { appendFileSync, linkSync, lstatSync, mkdirSync, realpathSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bytesToPathText } from '../../../src/fs/path-encoding.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, type CatalogDb } from '../../../src/catalog/db.js';
import { differencesOnRows, liveCheckPool, liveDifferences, ownPayloadCheck, type LiveAnswer, type PayloadJob, type PayloadJobs } from '../../../src/catalog/live-check.js';
import { storeSummaries } from '../../../src/catalog/payload-summary.js';
import { readSnapshot, type SnapshotReadStats } from '../../../src/catalog/snapshot.js';
import type { HashallConfig } from '../../../src/config/types.js';
import type { CatalogFile, CatalogSnapshot, SnapshotPlanner } from '../../../src/domain/snapshot.js';
import { clientListingDigest } from '../../../src/domain/listing.js';
import { buildPlan } from '../../../src/plan/build.js';
import { snapshotPlanner } from '../../../src/plan/needs.js';
import { insertRelocationRow, insertTorrentRow, makeSyncFixture, openFixtureCatalog, scan, writeConfig, type SyncFixture } from '../sync/sync-fixture.js';

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
    expect((workers.copiesBySha256.get(donorFile.sha256!) ?? [donorFile]).map((c) => c.path)).toEqual([donorFile.path]);
  });
});

describe('readSnapshot: payloads the plan acts on, checked by workers that read their rows themselves', () => {
  let w: SyncFixture;
  let config: HashallConfig;
  let catalog: CatalogDb;
  /** Each payload: its files (relative path, content); `single` is one file, the payload root itself. */
  const dirs: Record<string, string[]> = {
    Same: ['a.mkv', 'b.nfo'],
    Touched: ['a.mkv', 'b.nfo'],
    Replaced: ['a.mkv', 'b.nfo'],
    Gone: ['a.mkv', 'b.nfo'],
    Relinked: ['a.mkv', 'b.nfo'],
    LibLinked: ['a.mkv', 'b.nfo'],
    Copied: ['a.mkv', 'b.nfo'],
    // Content also held by a catalog row outside every root (where no donor may lie); the second one changed since the scan.
    Away: ['a.mkv', 'b.nfo'],
    AwayTouched: ['a.mkv', 'b.nfo'],
  };
  const rawName = Buffer.from([0x72, 0x61, 0x77, 0xff, 0x2e, 0x6e, 0x66, 0x6f]); // "raw\xff.nfo": not UTF-8
  const content = (name: string, rel: string) => `${name}/${rel} content\n`;

  beforeAll(async () => {
    w = makeSyncFixture('hashall-live-rows-');
    config = writeConfig(w, { url: 'http://127.0.0.1:9' });
    catalog = openFixtureCatalog(config);
    const movies = path.join(w.seedS, 'movies');
    for (const [name, files] of Object.entries(dirs)) {
      mkdirSync(path.join(movies, name), { recursive: true });
      for (const f of files) writeFileSync(path.join(movies, name, f), content(name, f));
    }
    writeFileSync(path.join(movies, 'Single.mkv'), content('Single', ''));
    mkdirSync(path.join(movies, 'Raw'), { recursive: true });
    writeFileSync(path.join(movies, 'Raw', 'a.mkv'), content('Raw', 'a.mkv'));
    writeFileSync(Buffer.concat([Buffer.from(path.join(movies, 'Raw') + '/'), rawName]), content('Raw', 'raw'));
    // In the library (scanned: a known external consumer), and a copy of Copied's content on pool.
    linkSync(path.join(movies, 'LibLinked/a.mkv'), path.join(w.library, 'LibLinked.mkv'));
    mkdirSync(path.join(w.seedP, 'old/Copied'), { recursive: true });
    writeFileSync(path.join(w.seedP, 'old/Copied/a.mkv'), content('Copied', 'a.mkv'));
    await scan(w, catalog, config);
    const fsId = (catalog.db.prepare(`SELECT id FROM filesystems WHERE name = 'stash'`).get() as { id: number }).id;
    // Copies of Away's and AwayTouched's a.mkv recorded on pool outside its roots (an ad-hoc scan of another folder, say).
    const poolId = (catalog.db.prepare(`SELECT id FROM filesystems WHERE name = 'pool'`).get() as { id: number }).id;
    for (const [n, name] of ['Away', 'AwayTouched'].entries()) {
      catalog.db
        .prepare(
          `INSERT INTO files (fs_id, path, ino, size, mtime_ns, nlink, quick_hash, sha256, hashed_at, status, first_seen, last_seen)
           SELECT ?, ?, ?, size, mtime_ns, 1, quick_hash, sha256, hashed_at, 'active', first_seen, last_seen FROM files WHERE fs_id = ? AND path LIKE ?`,
        )
        .run(poolId, `elsewhere/${name}/a.mkv`, 990_000 + n, fsId, `%movies/${name}/a.mkv`);
    }
    const torrent = (i: number, name: string, files: { name: string; size: number }[], single: boolean) => {
      const hash = i.toString(16).padStart(40, '0');
      const contentPath = `/data/movies/${single ? `${name}.mkv` : name}`;
      insertTorrentRow(catalog, {
        hash,
        name,
        category: 'movies',
        savePath: '/data/movies',
        contentPath,
        hostPath: realpathSync(path.join(movies, single ? `${name}.mkv` : name)),
        fsId,
        files: files.length,
        bytes: files.reduce((s, f) => s + f.size, 0),
        syncedAt: w.clock.t,
      });
      catalog.db.prepare(`UPDATE torrents SET listing_digest = ? WHERE hash = ?`).run(clientListingDigest({ clientSavePath: '/data/movies', clientContentPath: contentPath, files }), hash);
    };
    let i = 1;
    for (const [name, files] of Object.entries(dirs)) torrent(i++, name, files.map((f) => ({ name: `${name}/${f}`, size: content(name, f).length })), false);
    torrent(i++, 'Single', [{ name: 'Single.mkv', size: content('Single', '').length }], true);
    torrent(i++, 'Raw', [{ name: 'Raw/a.mkv', size: content('Raw', 'a.mkv').length }, { name: `Raw/${rawName.toString('latin1')}`, size: content('Raw', 'raw').length }], false);
    catalog.db
      .prepare(`INSERT INTO sync_sessions (started_at, finished_at, client_version, torrents, added, changed, removed, unmapped, hash_unknown, serial) VALUES (?, ?, 'v4.5.2', ?, ?, 0, 0, 0, 0, 0)`)
      .run(w.clock.t, w.clock.t, i - 1, i - 1);
    catalog.db.prepare(`UPDATE filesystems SET free_bytes = ?, free_at = ?`).run(1e12, w.clock.t);
    catalog.bumpSerial();
    storeSummaries(catalog, config);
    // Changes on disk since the scan.
    const later = new Date(Date.UTC(2031, 0, 1));
    utimesSync(path.join(movies, 'Touched/b.nfo'), later, later);
    writeFileSync(path.join(movies, 'Replaced/a.mkv.new'), content('Replaced', 'a.mkv'));
    renameSync(path.join(movies, 'Replaced/a.mkv.new'), path.join(movies, 'Replaced/a.mkv'));
    rmSync(path.join(movies, 'Gone/b.nfo'));
    linkSync(path.join(movies, 'Relinked/a.mkv'), path.join(w.seedS, '..', 'Relinked-hardlink.mkv'));
    utimesSync(path.join(w.seedP, 'old/Copied/a.mkv'), later, later);
    utimesSync(path.join(movies, 'AwayTouched/b.nfo'), later, later);
    utimesSync(Buffer.concat([Buffer.from(path.join(movies, 'Raw') + '/'), rawName]), later, later);
  }, 60_000);

  afterAll(() => {
    catalog?.close();
    w?.tmp.cleanup();
  });

  const read = (liveWorkers: number, planner = snapshotPlanner(config, w.clock.t), liveReaderClaims = true) => {
    const stats: SnapshotReadStats = { payloads: 0, computed: 0, loaded: 0 };
    const snapshot = readSnapshot(catalog, config, { planner, liveWorkers, stats, liveReaderClaims });
    return { snapshot, stats, plan: buildPlan({ config, snapshot, now: w.clock.t, createdAt: new Date(w.clock.t).toISOString() }) };
  };
  const payload = (snap: CatalogSnapshot, name: string) => Object.values(snap.payloads).find((p) => path.basename(p.rootPath) === name)!;

  it('gives the snapshot and plan of the check on the reading thread: verdicts, lists kept or left to the catalog, donors', () => {
    const here = read(0);
    const workers = read(2);
    expect(workers.snapshot).toEqual(here.snapshot);
    expect(workers.plan).toEqual(here.plan);
    expect(workers.stats).toEqual(here.stats);
    const snap = workers.snapshot;
    expect(payload(snap, 'Same')).toMatchObject({ files: null, filesInCatalog: true, consumers: { status: 'none' } });
    expect(payload(snap, 'Single.mkv')).toMatchObject({ files: null, filesInCatalog: true, consumers: { status: 'none' } });
    expect(payload(snap, 'Touched').consumers.reasons.join('\n')).toMatch(/Touched\/b\.nfo changed since the scan/);
    expect(payload(snap, 'Touched').files?.map((f) => f.relpath)).toEqual(['a.mkv', 'b.nfo']);
    expect(payload(snap, 'Replaced').consumers.reasons.join('\n')).toMatch(/Replaced\/a\.mkv is inode \d+ on disk but \d+ in the catalog/);
    expect(payload(snap, 'Replaced').files).not.toBeNull();
    expect(payload(snap, 'Gone').consumers.reasons.join('\n')).toMatch(/cannot read .*Gone\/b\.nfo \(ENOENT\)/);
    expect(payload(snap, 'Gone').files).not.toBeNull();
    // More links than the catalog knows: unknown, yet nothing changed, so no donor is lost and the list stays in the catalog.
    expect(payload(snap, 'Relinked')).toMatchObject({ files: null, filesInCatalog: true, consumers: { status: 'unknown' } });
    expect(payload(snap, 'Relinked').consumers.reasons.join('\n')).toMatch(/Relinked\/a\.mkv has 2 links but the catalog knows 1/);
    expect(payload(snap, 'LibLinked').consumers.status).toBe('some');
    expect(payload(snap, 'Raw').consumers.reasons.join('\n')).toMatch(/Raw\/raw.*changed since the scan/);
    // Copies only where no donor may lie, files unchanged: left to the catalog as if no other row held the content (the
    // workers say where the copies lie; their rows are never read); a changed file keeps the list.
    expect(payload(snap, 'Away')).toMatchObject({ files: null, filesInCatalog: true, consumers: { status: 'none' } });
    expect(payload(snap, 'AwayTouched').files?.map((f) => f.relpath)).toEqual(['a.mkv', 'b.nfo']);
    expect(payload(snap, 'AwayTouched').filesInCatalog).toBeUndefined();
    expect(workers.plan.groups.find((g) => g.title === 'Away')).toMatchObject({ action: 'move', steps: [{ kind: 'copy', catalogFiles: 2 }, { kind: 'repoint' }] });
    // The changed pool copy is no donor: only the payload's own file is left for its content.
    const copied = payload(snap, 'Copied').files!.find((f) => f.relpath === 'a.mkv')!;
    expect((snap.copiesBySha256.get(copied.sha256!) ?? [copied]).map((c) => c.path)).toEqual([copied.path]);
  });

  it('reads what lies at the target of every payload the plan acts on, those left to the catalog too (occupancy is read before the verdicts)', () => {
    for (const workers of [0, 2]) {
      const snap = read(workers).snapshot;
      const targets = [...snapshotPlanner(config, w.clock.t).targets({ ...snap, occupiedPaths: undefined })];
      // 'Same' moves with its list left to the catalog: its target on pool is among the paths read.
      expect(targets.some((t) => t.endsWith('/movies/Same'))).toBe(true);
      expect(Object.keys(snap.occupiedPaths!).sort()).toEqual(targets.sort());
    }
  });

  it('payload jobs: the workers answer from the rows they read; no answer (null) when they cannot read the reader\'s rows', () => {
    const snap = read(0).snapshot;
    const mount = catalog.db.prepare(`SELECT preferred_mount FROM filesystems WHERE name = 'stash'`).pluck().get() as string;
    const job = (name: string): PayloadJob => {
      const p = payload(snap, name);
      const rel = path.relative(mount, p.rootPath);
      return { fsId: p.fsId, kind: p.kind, rel, lo: `${rel}/`, hi: `${rel}0`, root: p.rootPath, linked: [], files: p.fileCount, bytes: p.bytes };
    };
    const jobs = [job('Same'), job('Touched'), job('Gone'), { ...job('Same'), files: 3 }, { ...job('Same'), bytes: job('Same').bytes + 1 }];
    const answers = (rows: PayloadJobs, source?: string) => {
      const pool = liveCheckPool(2, { rows, ...(source === undefined ? {} : { source, stallMs: 50 }) });
      try {
        return jobs.map((_, i) => pool.payload(i));
      } finally {
        pool.close();
      }
    };
    const at = { path: catalog.path, lineage: catalog.lineage, serial: catalog.serial() };
    const good = answers({ catalog: at, jobs });
    // Answered by the workers (the reading thread never answers a job: it checks the payload itself).
    expect(good[0]).toEqual([]);
    expect(good[1]!.map((e) => [path.basename(e.path), e.live !== null && 'mtimeNs' in e.live ? e.live.mtimeNs : e.live])).toEqual([['b.nfo', String(lstatSync(path.join(w.seedS, 'movies/Touched/b.nfo'), { bigint: true }).mtimeNs)]]);
    expect(good[2]!.map((e) => [path.basename(e.path), e.live])).toEqual([['b.nfo', { code: 'ENOENT' }]]);
    // A file count or byte total that is not the reader's: not the same rows.
    expect(good.slice(3)).toEqual([null, null]);
    // A catalog the workers cannot open, another catalog (lineage), another serial, workers that never answer: no answer at all.
    for (const rows of [
      { catalog: { ...at, path: path.join(w.tmp.path, 'no-such-catalog.db') }, jobs },
      { catalog: { ...at, lineage: 'another' }, jobs },
      { catalog: { ...at, serial: at.serial + 1 }, jobs },
    ]) {
      expect(answers(rows)).toEqual(jobs.map(() => null));
    }
    expect(answers({ catalog: at, jobs }, '')).toEqual(jobs.map(() => null));
    // The reader's own check (in its read transaction) answers what the workers answer, and takes jobs no worker claims.
    const own = catalog.db.transaction(() => answers({ catalog: at, jobs, self: ownPayloadCheck(catalog) }, ''))();
    expect(own).toEqual(good);
  });

  it('never reads a catalog changed since the reader began as unchanged: a row rewritten meanwhile to match the disk is still a change', () => {
    const before = read(0);
    expect(payload(before.snapshot, 'Touched').consumers.status).toBe('unknown');
    // While the reader holds its read transaction (after the planner named what it acts on, before any file is
    // checked), another connection records Touched/b.nfo as the disk now has it, as a rescan would.
    const base = snapshotPlanner(config, w.clock.t);
    const nfo = path.join(realpathSync(path.join(w.seedS, 'movies/Touched')), 'b.nfo');
    const writer = openCatalog(config.catalog);
    let committed = false;
    const planner: SnapshotPlanner = {
      needs: (snapshot, loaded) => {
        const out = [...base.needs(snapshot, loaded)];
        if (!committed) {
          writer.db.transaction(() => {
            const mtime = String(lstatSync(nfo, { bigint: true }).mtimeNs);
            const mount = writer.db.prepare(`SELECT preferred_mount FROM filesystems WHERE name = 'stash'`).pluck().get() as string;
            expect(writer.db.prepare(`UPDATE files SET mtime_ns = ? WHERE path = ? AND status = 'active'`).run(mtime, path.relative(mount, nfo)).changes).toBe(1);
            writer.bumpSerial();
          })();
          committed = true;
        }
        return out;
      },
      targets: (snapshot) => base.targets(snapshot),
    };
    try {
      // The workers (started before the write, given their jobs after it) answer every job: the reader claims none.
      const during = read(2, planner, false);
      expect(committed).toBe(true);
      expect(during.snapshot.serial).toBe(before.snapshot.serial);
      expect(payload(during.snapshot, 'Touched').consumers).toEqual(payload(before.snapshot, 'Touched').consumers);
      expect(during.plan).toEqual(before.plan);
    } finally {
      writer.close();
    }
  });
});

describe('payload jobs read as packed text', () => {
  let w: SyncFixture;
  let config: HashallConfig;
  let catalog: CatalogDb;
  let root: string;
  // Names a packed row must give back exactly: spaces (the path is the row's last field), multibyte text, digits.
  const names = ['plain.mkv', 'with space.mkv', '  lead and trail  ', 'two  spaces/in dir.nfo', 'ünïcödé ✓.srt', '12 34 56', 'sub dir/deeper/x 1.bin'];

  beforeAll(async () => {
    w = makeSyncFixture('hashall-live-packed-');
    config = writeConfig(w, { url: 'http://127.0.0.1:9' });
    catalog = openFixtureCatalog(config);
    root = path.join(w.seedS, 'movies', 'Packed Payload');
    for (const n of names) {
      mkdirSync(path.dirname(path.join(root, n)), { recursive: true });
      writeFileSync(path.join(root, n), `${n}\n`);
    }
    await scan(w, catalog, config);
  }, 60_000);

  afterAll(() => {
    catalog?.close();
    w?.tmp.cleanup();
  });

  /** The payload's rows as the reader reads them, the job for them, and the workers' answer. */
  const check = () => {
    const mount = catalog.db.prepare(`SELECT preferred_mount FROM filesystems WHERE name = 'stash'`).pluck().get() as string;
    const fsId = catalog.db.prepare(`SELECT id FROM filesystems WHERE name = 'stash'`).pluck().get() as number;
    const rel = path.relative(mount, realpathSync(root));
    const files = catalog.db
      .prepare(`SELECT path, ino, size, mtime_ns, nlink FROM files WHERE fs_id = ? AND status = 'active' AND path >= ? AND path < ? ORDER BY path`)
      .all(fsId, `${rel}/`, `${rel}0`)
      .map((r) => {
        const x = r as { path: string; ino: number; size: number; mtime_ns: string; nlink: number };
        return { fsId, path: path.join(mount, x.path), ino: x.ino, size: x.size, mtimeNs: x.mtime_ns, nlink: x.nlink, sha256: null } satisfies CatalogFile;
      });
    const job: PayloadJob = { fsId, kind: 'dir', rel, lo: `${rel}/`, hi: `${rel}0`, root: path.join(mount, rel), linked: [files[0]!.path], files: files.length, bytes: files.reduce((s, f) => s + f.size, 0) };
    const pool = liveCheckPool(1, { rows: { catalog: { path: catalog.path, lineage: catalog.lineage, serial: catalog.serial() }, jobs: [job] } });
    try {
      return { files, answer: pool.payload(0) };
    } finally {
      pool.close();
    }
  };

  it('answers what lstat on each row answers: every path, number and mtime as the row holds it', () => {
    const { files, answer } = check();
    expect(files.map((f) => path.relative(root, f.path)).sort()).toEqual([...names].sort());
    expect(answer).not.toBeNull();
    // Every answered entry is the reader's row (same index, path and numbers), and the differences are liveDifferences'.
    const mine = differencesOnRows(files, answer!);
    expect(mine).not.toBeNull();
    expect(shown(mine!)).toEqual(shown(liveDifferences(files)));
    expect(answer!.map((e) => [e.index, e.path, e.live])).toEqual([[0, files[0]!.path, null]]);
  });

  it('reads numbers above 2^53 and negative mtimes as the row reader does, and reports those rows as changed', () => {
    const spaced = path.relative(catalog.db.prepare(`SELECT preferred_mount FROM filesystems WHERE name = 'stash'`).pluck().get() as string, path.join(realpathSync(root), 'with space.mkv'));
    const odd = path.relative(catalog.db.prepare(`SELECT preferred_mount FROM filesystems WHERE name = 'stash'`).pluck().get() as string, path.join(realpathSync(root), '12 34 56'));
    // Above 2^53 better-sqlite3 gives the nearest double, which digit-by-digit arithmetic on the text would miss.
    catalog.db.prepare(`UPDATE files SET ino = 1234567890123456789 WHERE path = ?`).run(spaced);
    catalog.db.prepare(`UPDATE files SET mtime_ns = '-1000000001' WHERE path = ?`).run(odd);
    const { files, answer } = check();
    expect(files.find((f) => f.path.endsWith('with space.mkv'))!.ino).toBe(Number('1234567890123456789'));
    const mine = differencesOnRows(files, answer!);
    expect(mine).not.toBeNull();
    expect(shown(mine!)).toEqual(shown(liveDifferences(files)));
    expect(Object.keys(shown(mine!)).sort()).toEqual(['12 34 56', 'with space.mkv']);
  });
});
