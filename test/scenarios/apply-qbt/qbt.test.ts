// apply against a REAL qbittorrent-nox: demote move with cross-seed siblings, reuse via link views, second apply no-op,
// a recheck that fails (rolled back, torrent healthy again), the client stopping mid-group, and a lying 200 (fake server).
import { testInstance } from '../../support/instance.js';
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { getRun } from '../../../src/apply/run-store.js';
import { createQbittorrentClient, type QbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import { ClientError } from '../../../src/errors.js';
import type { PlanGroup, PlanStep } from '../../../src/plan/types.js';
import { faultyFsPort } from '../../support/faulty-fs.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { fakeTorrent, startFakeQbt } from '../../support/fake-qbt.js';
import { fileList, hashTreeSync, makeApplyFixture, makePlan, moveGroup, sha256, type ApplyFixture } from '../../support/apply-fixture.js';
import { testDeps } from '../../support/apply-deps.js';
import { overriding } from '../../support/overriding-client.js';
import { qbtClientPerFile } from '../../support/qbt-client.js';

const qbts = qbtSandboxes();
let sb: QbtSandbox;
let qb: QbittorrentClient;
let w: ApplyFixture;
const TRACKER = 'http://127.0.0.1:1/announce';
const timeouts = { clientTimeoutMs: () => 30_000, guardTimeoutMs: 30_000 };

qbtClientPerFile(qbts, (s, c) => ([sb, qb] = [s, c]));
afterEach(() => w?.cleanup());

/** A multi-file payload in stash seeded by two sibling torrents (same bytes, different piece size → different info-hash). */
async function seededMovie(name: string, opts: { firstRunning: boolean }) {
  const saveDir = path.join(w.stash, 'seeding', 'movies');
  const files = [{ path: 'movie.mkv', size: 300_000 }, { path: 'subs/en.srt', content: 'subtitle\n' }];
  const t1 = makeTorrent({ saveDir, name, files, trackers: [TRACKER], pieceLength: 16 * 1024 });
  const t2 = makeTorrent({ saveDir, name, files, trackers: [TRACKER], pieceLength: 32 * 1024, write: false });
  await addTorrent(sb, t1, { savepath: saveDir, skipChecking: true, paused: !opts.firstRunning, category: '' });
  await addTorrent(sb, t2, { savepath: saveDir, skipChecking: true, paused: true });
  return { saveDir, t1, t2, root: path.join(saveDir, name) };
}

/** `content` is the content path below the save path: qBittorrent reports the file itself for a one-file torrent. */
/** The payload root is the torrent's root folder `name`; `content` is what qBittorrent reports below the save path (the file of a one-file torrent). */
function repoint(t: MadeTorrent, name: string, fromSave: string, toSave: string, bytes: number, content = name): PlanStep {
  return { kind: 'repoint', torrentHash: t.infoHash, torrentName: name, fromSavePath: fromSave, toSavePath: toSave, expectedContentPath: path.join(toSave, content), hostFrom: path.join(fromSave, name), hostTo: path.join(toSave, name), bytes };
}

async function withTorrentFingerprint(g: PlanGroup, client: TorrentClient, hashes: string[]): Promise<PlanGroup> {
  const live = await client.listTorrents({ hashes });
  return {
    ...g,
    torrents: live.map((t) => ({ hash: t.hash, name: t.name, category: t.category, tracker: t.tracker })),
    fingerprint: { ...g.fingerprint, torrents: live.map((t) => ({ hash: t.hash, phase: t.phase, clientSavePath: t.savePath, clientContentPath: t.contentPath })) },
  };
}

async function demotePlanGroup(name: string, m: Awaited<ReturnType<typeof seededMovie>>): Promise<PlanGroup> {
  const toSave = path.join(w.pool, 'seeding', 'movies');
  const dst = path.join(toSave, name);
  const bytes = fileList(m.root).reduce((n, f) => n + f.size, 0);
  const g = moveGroup('g1', w, m.root, dst, [repoint(m.t1, name, m.saveDir, toSave, bytes), repoint(m.t2, name, m.saveDir, toSave, bytes)]);
  return withTorrentFingerprint(g, qb, [m.t1.infoHash, m.t2.infoHash]);
}

describe('apply with a real qBittorrent', () => {
  it('demote move: copies, repoints both siblings (running one resumed, paused one stays paused), guard passes; second apply is a no-op', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    const m = await seededMovie('Movie.Q', { firstRunning: true });
    const before = hashTreeSync(m.root);
    const group = await demotePlanGroup('Movie.Q', m);
    const res = await applyPlan(testDeps(w, { client: qb, ...timeouts }), makePlan(w, [group]));
    expect(res.status, JSON.stringify(res)).toBe('succeeded');
    const dst = path.join(w.pool, 'seeding', 'movies', 'Movie.Q');
    expect(hashTreeSync(dst)).toEqual(before);
    expect(hashTreeSync(m.root)).toEqual(before); // the source stays until retire
    const [a, b] = await Promise.all([qb.getTorrent(m.t1.infoHash), qb.getTorrent(m.t2.infoHash)]);
    expect(a).toMatchObject({ savePath: path.dirname(dst), contentPath: dst, progress: 1, running: true, autoTmm: false });
    expect(b).toMatchObject({ savePath: path.dirname(dst), contentPath: dst, progress: 1, running: false, phase: 'paused-complete' });

    const again = await applyPlan(testDeps(w, { client: qb, ...timeouts }), makePlan(w, [await demotePlanGroup('Movie.Q', { ...m, saveDir: m.saveDir })]));
    expect(again.status).toBe('succeeded');
    expect(getRun(w.catalog.db, again.runId)!.groupRecords[0]!.steps.map((s) => s.status)).toEqual(['noop', 'noop', 'noop']);
  });

  it('reuse: builds the view on pool by hardlink from an existing verified copy, copies zero bytes, repoints', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    const m = await seededMovie('Movie.R', { firstRunning: false });
    // the same content already on pool, elsewhere (e.g. left by an earlier move under another category)
    const donorRoot = path.join(w.pool, 'seeding', 'archive', 'Movie.R');
    const pre = await applyPlan(testDeps(w), makePlan(w, [moveGroup('pre', w, m.root, donorRoot)]));
    expect(pre.status).toBe('succeeded');
    const toSave = path.join(w.pool, 'seeding', 'movies');
    const view = path.join(toSave, 'Movie.R');
    const links = fileList(m.root).map((f) => ({ donor: path.join(donorRoot, f.relpath), path: path.join(view, f.relpath), size: f.size, sha256: f.sha256 }));
    const bytes = links.reduce((n, l) => n + l.size, 0);
    const base = moveGroup('g1', w, m.root, view);
    const group = await withTorrentFingerprint(
      {
        ...base,
        action: 'reuse',
        bytesToCopy: 0,
        steps: [
          { kind: 'link-view', fs: 'pool', torrentHash: m.t1.infoHash, root: view, links },
          repoint(m.t1, 'Movie.R', m.saveDir, toSave, bytes),
          repoint(m.t2, 'Movie.R', m.saveDir, toSave, bytes),
        ],
      },
      qb,
      [m.t1.infoHash, m.t2.infoHash],
    );
    const res = await applyPlan(testDeps(w, { client: qb, ...timeouts }), makePlan(w, [group]));
    expect(res.status, JSON.stringify(res)).toBe('succeeded');
    expect(res.bytesCopied).toBe(0);
    expect(lstatSync(path.join(view, 'movie.mkv')).ino).toBe(lstatSync(path.join(donorRoot, 'movie.mkv')).ino);
    expect(await qb.getTorrent(m.t2.infoHash)).toMatchObject({ contentPath: view, progress: 1, running: false });
  });

  it('a recheck that ends incomplete (wrong bytes in the view) rolls back: torrents return, recheck complete, view removed', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    const m = await seededMovie('Movie.S', { firstRunning: true });
    const before = hashTreeSync(m.root);
    // A "donor" on pool whose movie.mkv has other bytes of the same size: the recheck cannot complete.
    const badRoot = path.join(w.pool, 'seeding', 'bad', 'Movie.S');
    const { writeTree, bytesFor } = await import('../../support/apply-fixture.js');
    writeTree(badRoot, { 'movie.mkv': bytesFor('wrong', 300_000), 'subs/en.srt': Buffer.from('subtitle\n') });
    const toSave = path.join(w.pool, 'seeding', 'movies');
    const view = path.join(toSave, 'Movie.S');
    const links = fileList(badRoot).map((f) => ({ donor: path.join(badRoot, f.relpath), path: path.join(view, f.relpath), size: f.size, sha256: f.sha256 }));
    const base = moveGroup('g1', w, m.root, view);
    const group = await withTorrentFingerprint(
      { ...base, action: 'reuse', steps: [{ kind: 'link-view', fs: 'pool', torrentHash: m.t1.infoHash, root: view, links }, repoint(m.t1, 'Movie.S', m.saveDir, toSave, 300_009)] },
      qb,
      [m.t1.infoHash],
    );
    const res = await applyPlan(testDeps(w, { client: qb, ...timeouts }), makePlan(w, [group]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/recheck|incomplete/);
    expect(res.guardProblems).toEqual([]);
    expect(existsSync(view)).toBe(false);
    expect(hashTreeSync(m.root)).toEqual(before);
    expect(await qb.getTorrent(m.t1.infoHash)).toMatchObject({ savePath: m.saveDir, progress: 1, running: true });
    const steps = getRun(w.catalog.db, res.runId)!.groupRecords[0]!.steps;
    expect(steps.map((s) => s.status)).toEqual(['undone', 'undone']);
  });

  it('the second sibling failing after the client accepted its repoint rolls back both: each at its original place, complete, running as before', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    const m = await seededMovie('Movie.W', { firstRunning: true });
    const before = hashTreeSync(m.root);
    const group = await demotePlanGroup('Movie.W', m);
    // The real client, except that the second sibling's first setLocation answers 500 after qBittorrent carried it out.
    let failed = false;
    const client = overriding(qb, {
      setLocation: async (hashes, location) => {
        await qb.setLocation(hashes, location);
        if (!failed && hashes.includes(m.t2.infoHash)) {
          failed = true;
          throw new ClientError('http', 'HTTP 500 from /torrents/setLocation', { status: 500 });
        }
      },
    });
    const res = await applyPlan(testDeps(w, { client, ...timeouts }), makePlan(w, [group]));
    expect(res.status, JSON.stringify(res)).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/500/);
    expect(res.attention).toEqual([]);
    expect(res.guardProblems).toEqual([]);
    const steps = getRun(w.catalog.db, res.runId)!.groupRecords[0]!.steps;
    expect(steps.map((s) => s.status)).toEqual(['undone', 'undone', 'undone']);
    // Both siblings are back where they were, complete; the running one runs again, the paused one stays paused.
    const [a, b] = await Promise.all([qb.getTorrent(m.t1.infoHash), qb.getTorrent(m.t2.infoHash)]);
    expect(a).toMatchObject({ savePath: m.saveDir, contentPath: m.root, progress: 1, running: true });
    expect(b).toMatchObject({ savePath: m.saveDir, contentPath: m.root, progress: 1, running: false, phase: 'paused-complete' });
    // Nothing lost, nothing left on the pool.
    expect(hashTreeSync(m.root)).toEqual(before);
    expect(existsSync(path.join(w.pool, 'seeding', 'movies', 'Movie.W'))).toBe(false);
  });

  it('the client stopping mid-group stops the run; the copy is undone and the torrent is untouched', async () => {
    w = makeApplyFixture();
    const own = await qbts.start();
    const client = createQbittorrentClient({ url: own.url, timeoutMs: 3_000, attempts: 1 });
    w.config.clients = { default: testInstance('qbittorrent', own.url, { timeoutMs: 3_000 }) };
    const saveDir = path.join(w.stash, 'seeding', 'movies');
    const t = makeTorrent({ saveDir, name: 'Movie.T', files: [{ path: 'a.mkv', size: 100_000 }], trackers: [TRACKER] });
    await addTorrent(own, t, { savepath: saveDir, skipChecking: true });
    const root = path.join(saveDir, 'Movie.T');
    const before = hashTreeSync(root);
    const toSave = path.join(w.pool, 'seeding', 'movies');
    const g1 = await withTorrentFingerprint(moveGroup('g1', w, root, path.join(toSave, 'Movie.T'), [repoint(t, 'Movie.T', saveDir, toSave, 100_000, 'Movie.T/a.mkv')]), client, [t.infoHash]);
    const other = path.join(w.stash, 'seeding', 'other');
    const { writeTree, bytesFor } = await import('../../support/apply-fixture.js');
    writeTree(other, { 'x.bin': bytesFor('x', 1000) });
    const g2 = moveGroup('g2', w, other, path.join(w.pool, 'seeding', 'other'));
    const fs = faultyFsPort(realFsPort(), [{ op: 'copyFileVerified', nth: 1, after: () => own.stop() }]);
    const res = await applyPlan(testDeps(w, { client, fs, ...timeouts }), makePlan(w, [g1, g2]));
    expect(res.status).toBe('failed');
    expect(res.groups.map((g) => g.status), JSON.stringify(res.groups)).toEqual(['rolled-back', 'skipped']);
    expect(existsSync(path.join(toSave, 'Movie.T'))).toBe(false);
    expect(existsSync(path.join(w.pool, 'seeding', 'other'))).toBe(false);
    expect(hashTreeSync(root)).toEqual(before);
    await own.restart();
    const back = createQbittorrentClient({ url: own.url, timeoutMs: 10_000 });
    const tt = await back.waitFor(t.infoHash, (x) => x.phase !== 'checking', { timeoutMs: 20_000 });
    expect(tt).toMatchObject({ savePath: saveDir, progress: 1 });
    await back.close();
    await client.close();
  });

  it('the client dying after setLocation makes the undo impossible: the run needs attention and says what to do', async () => {
    w = makeApplyFixture();
    const own = await qbts.start();
    const real = createQbittorrentClient({ url: own.url, timeoutMs: 3_000, attempts: 1 });
    // The real client, with the sandbox stopped right after it accepted setLocation.
    const client: TorrentClient = { ...real, listTorrents: (f) => real.listTorrents(f), getTorrent: (h) => real.getTorrent(h), waitFor: (h, p, o) => real.waitFor(h, p, o), pause: (h) => real.pause(h), resume: (h) => real.resume(h), recheck: (h) => real.recheck(h), setDownloadPath: (h, p) => real.setDownloadPath(h, p), setAutoManagement: (h, e) => real.setAutoManagement(h, e), close: () => real.close(), setLocation: async (h, loc) => { await real.setLocation(h, loc); await own.stop(); } };
    w.config.clients = { default: testInstance('qbittorrent', own.url, { timeoutMs: 3_000 }) };
    const saveDir = path.join(w.stash, 'seeding', 'movies');
    const t = makeTorrent({ saveDir, name: 'Movie.U', files: [{ path: 'a.mkv', size: 50_000 }], trackers: [TRACKER] });
    await addTorrent(own, t, { savepath: saveDir, skipChecking: true });
    const root = path.join(saveDir, 'Movie.U');
    const before = hashTreeSync(root);
    const toSave = path.join(w.pool, 'seeding', 'movies');
    const g1 = await withTorrentFingerprint(moveGroup('g1', w, root, path.join(toSave, 'Movie.U'), [repoint(t, 'Movie.U', saveDir, toSave, 50_000, 'Movie.U/a.mkv')]), real, [t.infoHash]);
    const res = await applyPlan(testDeps(w, { client, ...timeouts }), makePlan(w, [g1]));
    expect(res.status).toBe('needs-attention');
    expect(res.attention.join('\n')).toMatch(/set its location back to .*movies, force a recheck/);
    expect(getRun(w.catalog.db, res.runId)!.attention.length).toBeGreaterThan(0);
    // Nothing is lost: the source is intact and the copy is still there for the torrent.
    expect(hashTreeSync(root)).toEqual(before);
    expect(hashTreeSync(path.join(toSave, 'Movie.U'))).toEqual(before);
  });
});

describe('apply against a fake qBittorrent that answers 200 and does nothing', () => {
  it('setLocation not confirmed by reading back → group rolled back, data untouched', async () => {
    w = makeApplyFixture();
    const fake = await startFakeQbt({ lying: true });
    try {
      const saveDir = path.join(w.stash, 'seeding', 'movies');
      const { writeTree, bytesFor } = await import('../../support/apply-fixture.js');
      const root = path.join(saveDir, 'Movie.V');
      writeTree(root, { 'a.mkv': bytesFor('v', 2000) });
      const hash = 'ab'.repeat(20);
      fake.torrents.set(hash, fakeTorrent(hash, { name: 'Movie.V', save_path: saveDir, content_path: root, state: 'pausedUP', fileList: [{ name: 'Movie.V/a.mkv', size: 2000 }] }));
      const client = createQbittorrentClient({ url: fake.url, timeoutMs: 2_000 });
      const toSave = path.join(w.pool, 'seeding', 'movies');
      const g = moveGroup('g1', w, root, path.join(toSave, 'Movie.V'), [
        { kind: 'repoint', torrentHash: hash, torrentName: 'Movie.V', fromSavePath: saveDir, toSavePath: toSave, expectedContentPath: path.join(toSave, 'Movie.V'), hostFrom: root, hostTo: path.join(toSave, 'Movie.V'), bytes: 2000 },
      ]);
      const res = await applyPlan(testDeps(w, { client, clientTimeoutMs: () => 1_500, guardTimeoutMs: 2_000 }), makePlan(w, [await withTorrentFingerprint(g, client, [hash])]));
      expect(res.status).toBe('rolled-back');
      expect(res.groups[0]!.error).toMatch(/did not move/);
      expect(existsSync(path.join(toSave, 'Movie.V'))).toBe(false);
      expect(hashTreeSync(root)).toEqual({ 'a.mkv': sha256(bytesFor('v', 2000)) });
      expect(fake.count('/torrents/setLocation')).toBe(1);
      await client.close();
    } finally {
      await fake.close();
    }
  });
});
