// apply against a REAL qbittorrent-nox for torrents under Automatic Torrent Management with a download ("incomplete") path.
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { getRun } from '../../../src/apply/run-store.js';
import type { QbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import { ClientError } from '../../../src/errors.js';
import type { PlanGroup, PlanStep } from '../../../src/plan/types.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { fileList, hashTreeSync, makeApplyFixture, makePlan, moveGroup, type ApplyFixture } from '../../support/apply-fixture.js';
import { testDeps } from '../../support/apply-deps.js';
import { overriding } from '../../support/overriding-client.js';
import { testInstance } from '../../support/instance.js';
import { qbtClientPerFile } from '../../support/qbt-client.js';

const qbts = qbtSandboxes();
let sb: QbtSandbox;
let qb: QbittorrentClient;
let w: ApplyFixture;
const TRACKER = 'http://127.0.0.1:1/announce';
const timeouts = { clientTimeoutMs: () => 30_000, guardTimeoutMs: 30_000 };

qbtClientPerFile(qbts, (s, c) => ([sb, qb] = [s, c]));
afterEach(() => w?.cleanup());

async function post(apiPath: string, body: Record<string, string>): Promise<void> {
  const res = await sb.api('POST', apiPath, body);
  if (res.status !== 200) throw new Error(`${apiPath} answered ${res.status} ${res.text}`);
}

/** A complete torrent in category `cat` (saved under stash/seeding/<cat>) under automatic management, with qBittorrent's incomplete-download folder on. */
async function atmTorrent(name: string, cat: string) {
  const saveDir = path.join(w.stash, 'seeding', cat);
  await post('/app/setPreferences', { json: JSON.stringify({ temp_path_enabled: true, temp_path: path.join(w.stash, 'incomplete') }) });
  await post('/torrents/createCategory', { category: cat, savePath: saveDir });
  const t = makeTorrent({ saveDir, name, files: [{ path: 'movie.mkv', size: 200_000 }, { path: 'info.nfo', content: 'nfo\n' }], trackers: [TRACKER], pieceLength: 16 * 1024 });
  await addTorrent(sb, t, { savepath: saveDir, category: cat, autoTMM: true, skipChecking: true, paused: false });
  const got = await qb.getTorrent(t.infoHash);
  // The world the defect needs: automatic management on, a download path reported for the complete torrent.
  expect(got).toMatchObject({ autoTmm: true, savePath: saveDir, progress: 1 });
  expect(got!.downloadPath).not.toBe('');
  return { t, saveDir, root: path.join(saveDir, name) };
}

function repoint(t: MadeTorrent, name: string, fromSave: string, toSave: string, bytes: number): PlanStep {
  return { kind: 'repoint', torrentHash: t.infoHash, torrentName: name, fromSavePath: fromSave, toSavePath: toSave, expectedContentPath: path.join(toSave, name), hostFrom: path.join(fromSave, name), hostTo: path.join(toSave, name), bytes };
}

async function demote(name: string, m: Awaited<ReturnType<typeof atmTorrent>>): Promise<PlanGroup> {
  const toSave = path.join(w.pool, 'seeding', 'movies');
  const bytes = fileList(m.root).reduce((n, f) => n + f.size, 0);
  const g = moveGroup('g1', w, m.root, path.join(toSave, name), [repoint(m.t, name, m.saveDir, toSave, bytes)]);
  const [live] = await qb.listTorrents({ hashes: [m.t.infoHash] });
  return {
    ...g,
    torrents: [{ hash: live!.hash, name: live!.name, category: live!.category, tracker: live!.tracker }],
    fingerprint: { ...g.fingerprint, torrents: [{ hash: live!.hash, phase: live!.phase, clientSavePath: live!.savePath, clientContentPath: live!.contentPath }] },
  };
}

describe('repoint of a torrent under automatic management with a download path (real qBittorrent)', () => {
  it('moves it: management off, download path cleared, at the target and seeding; a second apply changes nothing', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    const m = await atmTorrent('Movie.A', 'films');
    const before = hashTreeSync(m.root);
    const res = await applyPlan(testDeps(w, { client: qb, ...timeouts }), makePlan(w, [await demote('Movie.A', m)]));
    expect(res.status, JSON.stringify(res)).toBe('succeeded');
    const toSave = path.join(w.pool, 'seeding', 'movies');
    expect(await qb.getTorrent(m.t.infoHash)).toMatchObject({ savePath: toSave, contentPath: path.join(toSave, 'Movie.A'), downloadPath: '', autoTmm: false, progress: 1, running: true });
    expect(hashTreeSync(path.join(toSave, 'Movie.A'))).toEqual(before);
    const again = await applyPlan(testDeps(w, { client: qb, ...timeouts }), makePlan(w, [await demote('Movie.A', { ...m })]));
    expect(again.status).toBe('succeeded');
    expect(getRun(w.catalog.db, again.runId)!.groupRecords[0]!.steps.map((s) => s.status)).toEqual(['noop', 'noop']);
  });

  it('a rollback puts it back under automatic management where its category keeps it', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    const m = await atmTorrent('Movie.B', 'shows');
    const before = hashTreeSync(m.root);
    let failed = false;
    const client = overriding(qb, {
      recheck: async (hashes) => {
        if (failed) return qb.recheck(hashes); // the undo's own recheck
        failed = true;
        throw new ClientError('http', 'HTTP 500 from /torrents/recheck', { status: 500 });
      },
    });
    const res = await applyPlan(testDeps(w, { client, ...timeouts }), makePlan(w, [await demote('Movie.B', m)]));
    expect(res.status, JSON.stringify(res)).toBe('rolled-back');
    expect(res.attention).toEqual([]);
    const back = await qb.getTorrent(m.t.infoHash);
    expect(back).toMatchObject({ savePath: m.saveDir, contentPath: m.root, autoTmm: true, category: 'shows', progress: 1, running: true });
    expect(hashTreeSync(m.root)).toEqual(before);
  });

  it('a rollback after the category was moved elsewhere leaves management off (turning it on would make qBittorrent move the data) and says so', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    const m = await atmTorrent('Movie.C', 'docs');
    const before = hashTreeSync(m.root);
    const elsewhere = path.join(w.stash, 'elsewhere');
    let failed = false;
    const client = overriding(qb, {
      recheck: async (hashes) => {
        if (failed) return qb.recheck(hashes); // the undo's own recheck
        failed = true;
        // Someone edits the category's save path while the run is under way (qBittorrent leaves manual torrents alone).
        await post('/torrents/editCategory', { category: 'docs', savePath: elsewhere });
        throw new ClientError('http', 'HTTP 500 from /torrents/recheck', { status: 500 });
      },
    });
    const res = await applyPlan(testDeps(w, { client, ...timeouts }), makePlan(w, [await demote('Movie.C', m)]));
    expect(res.status, JSON.stringify(res)).toBe('rolled-back');
    const back = await qb.getTorrent(m.t.infoHash);
    expect(back).toMatchObject({ savePath: m.saveDir, contentPath: m.root, autoTmm: false, progress: 1, running: true });
    expect(hashTreeSync(m.root)).toEqual(before);
    const notes = JSON.stringify(getRun(w.catalog.db, res.runId)!.groupRecords[0]);
    expect(notes).toMatch(/automatic torrent management/);
    expect(notes).toContain(elsewhere);
  });
});
