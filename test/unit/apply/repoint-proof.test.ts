// Repoint against a real qBittorrent: no setLocation unless the torrent's own file list is at the target (issue 10.1a),
// and an undo that finds the torrent already back and complete succeeds and resumes it (issue 10.2).
import { testInstance } from '../../support/instance.js';
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { repointStep } from '../../../src/apply/steps/repoint.js';
import type { QbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import { setLocationConfirmed } from '../../../src/clients/confirm.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import { copyFilesOf, type RepointStep } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { hashTreeSync, makeApplyFixture, makePlan, moveGroup, type ApplyFixture } from '../../support/apply-fixture.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent } from '../../../src/sandbox/torrent-file.js';
import { qbtClientPerFile } from '../../support/qbt-client.js';

const qbts = qbtSandboxes();
let sb: QbtSandbox;
let qb: QbittorrentClient;
let w: ApplyFixture;
const TRACKER = 'http://127.0.0.1:1/announce';

qbtClientPerFile(qbts, (s, c) => ([sb, qb] = [s, c]));
afterEach(() => w?.cleanup());

/** The real client, counting setLocation calls. */
function counting(client: TorrentClient): TorrentClient & { setLocations: string[] } {
  const setLocations: string[] = [];
  return { ...client, setLocations, setLocation: async (h, loc) => (setLocations.push(loc), client.setLocation(h, loc)) };
}

/** A one-file torrent inside its folder (the common movie layout), running in stash/seeding/movies. */
async function movieInFolder(name: string) {
  const saveDir = path.join(w.stash, 'seeding', 'movies');
  const t = makeTorrent({ saveDir, name, files: [{ path: `${name}.mkv`, size: 60_000 }], trackers: [TRACKER] });
  await addTorrent(sb, t, { savepath: saveDir, skipChecking: true, paused: false });
  return { t, saveDir, root: path.join(saveDir, name) };
}

describe('repoint proves the target files before the client is called', () => {
  it('the plan of the old bug (folder dropped: target = the bare file) is refused before setLocation; nothing moves, the torrent keeps seeding', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    const m = await movieInFolder('X.2024');
    const before = hashTreeSync(w.stash);
    // What the planner used to produce with a category map: the file copied to films/X.2024.mkv, save path without the folder.
    const toSave = path.join(w.pool, 'seeding', 'films');
    const file = path.join(m.root, 'X.2024.mkv');
    const target = path.join(toSave, 'X.2024.mkv');
    const step: RepointStep = { kind: 'repoint', torrentHash: m.t.infoHash, torrentName: 'X.2024', fromSavePath: m.saveDir, toSavePath: toSave, expectedContentPath: target, hostFrom: file, hostTo: target, bytes: 60_000 };
    const group = moveGroup('g1', w, m.root, path.join(toSave, 'X.2024'));
    const copy = group.steps[0]!;
    if (copy.kind !== 'copy') throw new Error('moveGroup starts with a copy');
    const live = (await qb.getTorrent(m.t.infoHash))!;
    const g = {
      ...group,
      torrents: [{ hash: live.hash, name: live.name, category: live.category, tracker: live.tracker }],
      fingerprint: { ...group.fingerprint, torrents: [{ hash: live.hash, phase: live.phase, clientSavePath: live.savePath, clientContentPath: live.contentPath }] },
      steps: [{ ...copy, fromRoot: file, toRoot: target, files: [{ ...copyFilesOf(copy)[0]!, relpath: 'X.2024.mkv' }] }, step],
    };
    const client = counting(qb);
    const res = await applyPlan(testDeps(w, { client, clientTimeoutMs: () => 20_000, guardTimeoutMs: 20_000 }), makePlan(w, [g]));
    expect(res.status).toBe('rolled-back');
    // Refused by the scope check of the plan (the location is not the torrent's root) before any step ran, and the
    // repoint's own proof would refuse it too (next test): the client is never asked.
    expect(res.groups[0]!.error).toMatch(/refusing.*repoint.*films\/X\.2024\.mkv is not the root "X\.2024"/);
    expect(client.setLocations).toEqual([]);
    expect(existsSync(target)).toBe(false); // the copy was undone
    expect(hashTreeSync(w.stash)).toEqual(before);
    expect(await qb.getTorrent(m.t.infoHash)).toMatchObject({ savePath: m.saveDir, progress: 1, running: true });
  });

  it('a file of the list with another size at the target, or on another filesystem, is refused before setLocation', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    const m = await movieInFolder('Y.2025');
    const client = counting(qb);
    const ctx = (hostTo: string, toFs: string) => ({
      ...testDeps(w, { client }),
      client,
      group: { ...moveGroup('g1', w, m.root, hostTo), to: { fs: toFs, path: hostTo } },
      stepIndex: 0,
      saveUndo: () => undefined,
      appendUndo: () => undefined,
      clientTimeoutMs: () => 20_000,
      note: () => undefined,
    });
    const step = (hostTo: string): RepointStep => ({ kind: 'repoint', torrentHash: m.t.infoHash, torrentName: 'Y.2025', fromSavePath: m.saveDir, toSavePath: path.dirname(hostTo), expectedContentPath: path.join(hostTo, 'Y.2025.mkv'), hostFrom: m.root, hostTo, bytes: 60_000 });
    const { writeTree, bytesFor } = await import('../../support/apply-fixture.js');
    // The old bug's plan: the folder dropped, the bare file at the target.
    const bare = path.join(w.pool, 'seeding', 'films', 'Y.2025.mkv');
    writeTree(path.dirname(bare), { 'Y.2025.mkv': bytesFor('Y.2025/Y.2025.mkv', 60_000) });
    await expect(repointStep.check({ ...step(bare), expectedContentPath: bare }, ctx(bare, 'pool'))).rejects.toThrow(/its file list has the root "Y\.2025", but its files are expected at .*films\/Y\.2025\.mkv/);
    // The files are where the list says, but on stash: the plan named pool.
    const onStash = path.join(w.stash, 'seeding', 'other', 'Y.2025');
    writeTree(onStash, { 'Y.2025.mkv': bytesFor('Y.2025/Y.2025.mkv', 60_000) });
    await expect(repointStep.check(step(onStash), ctx(onStash, 'pool'))).rejects.toThrow(/is not on filesystem pool/);
    // A truncated copy at the target.
    const short = path.join(w.pool, 'seeding', 'movies', 'Y.2025');
    writeTree(short, { 'Y.2025.mkv': bytesFor('short', 59_999) });
    await expect(repointStep.check(step(short), ctx(short, 'pool'))).rejects.toThrow(/has 59999 bytes; the client expects 60000/);
    // And a stranger beside the torrent's file in its folder.
    writeTree(short, { 'Y.2025.mkv': bytesFor('Y.2025/Y.2025.mkv', 60_000), 'other.nfo': Buffer.from('x') });
    await expect(repointStep.check(step(short), ctx(short, 'pool'))).rejects.toThrow(/also holds files that are not part of it \(other\.nfo\)/);
    expect(client.setLocations).toEqual([]);
    expect(await qb.getTorrent(m.t.infoHash)).toMatchObject({ savePath: m.saveDir, progress: 1, running: true });
  });
});

describe('repoint reads the torrent\'s file list once', () => {
  /** A move group of `m` (copy + repoint) to pool/seeding/movies, fingerprinted from the client as the planner would. */
  async function moveOf(m: Awaited<ReturnType<typeof movieInFolder>>, name: string) {
    const toSave = path.join(w.pool, 'seeding', 'movies');
    const dst = path.join(toSave, name);
    const group = moveGroup('g1', w, m.root, dst);
    const live = (await qb.getTorrent(m.t.infoHash))!;
    return {
      dst,
      group: {
        ...group,
        torrents: [{ hash: live.hash, name: live.name, category: live.category, tracker: live.tracker }],
        fingerprint: { ...group.fingerprint, torrents: [{ hash: live.hash, phase: live.phase, clientSavePath: live.savePath, clientContentPath: live.contentPath }] },
        steps: [...group.steps, { kind: 'repoint' as const, torrentHash: m.t.infoHash, torrentName: name, fromSavePath: m.saveDir, toSavePath: toSave, expectedContentPath: path.join(dst, `${name}.mkv`), hostFrom: m.root, hostTo: dst, bytes: 60_000 }],
      },
    };
  }
  /** The real client, counting file-list reads and setLocation calls; `afterPause` runs once the torrent is paused. */
  function watching(afterPause: () => void = () => undefined) {
    const c = counting(qb);
    let lists = 0;
    return Object.assign(c, {
      lists: () => lists,
      listFiles: async (h: string) => (lists++, qb.listFiles(h)),
      pause: async (h: string[]) => {
        await qb.pause(h);
        afterPause();
      },
    });
  }

  it('one file-list call per repoint: the check\'s list serves the proof right before setLocation', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    const m = await movieInFolder('U.2026');
    const { dst, group } = await moveOf(m, 'U.2026');
    const client = watching();
    const res = await applyPlan(testDeps(w, { client, clientTimeoutMs: () => 20_000, guardTimeoutMs: 20_000 }), makePlan(w, [group]));
    expect(res.status, res.groups[0]!.error ?? '').toBe('succeeded');
    expect(client.lists()).toBe(1);
    expect(client.setLocations).toEqual([path.dirname(dst)]);
    expect(hashTreeSync(dst)).toEqual(hashTreeSync(m.root));
  });

  it('the disk is proven again right before setLocation: a target file cut short after the check (once the torrent is paused) is refused, the client not asked to move', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    const m = await movieInFolder('V.2026');
    const { dst, group } = await moveOf(m, 'V.2026');
    const before = hashTreeSync(w.stash);
    const client = watching(() => truncateSync(path.join(dst, 'V.2026.mkv'), 1000));
    const res = await applyPlan(testDeps(w, { client, clientTimeoutMs: () => 20_000, guardTimeoutMs: 20_000 }), makePlan(w, [group]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/refusing to repoint V\.2026: .*V\.2026\.mkv has 1000 bytes; the client expects 60000/);
    expect(client.setLocations).toEqual([]);
    expect(existsSync(dst)).toBe(false);
    expect(hashTreeSync(w.stash)).toEqual(before);
    expect(await qb.waitFor(m.t.infoHash, (t) => t.running, { timeoutMs: 20_000 })).toMatchObject({ savePath: m.saveDir, progress: 1, running: true });
  });
});

describe('repoint undo when the torrent is already back', () => {
  it('the client moved the data away and back by itself: complete at its original place is success, and it runs again', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    const m = await movieInFolder('Z.2026');
    const before = hashTreeSync(m.root);
    const toSave = path.join(w.pool, 'seeding', 'movies');
    const group = moveGroup('g1', w, m.root, path.join(toSave, 'Z.2026'));
    // What bug 1 made qBittorrent do: setLocation to a place without the files moves the data there itself
    // (progress stays 1). The undo then sets it back, and qBittorrent moves the data back.
    await qb.pause([m.t.infoHash]);
    const away = path.join(w.stash, 'seeding', 'elsewhere');
    await setLocationConfirmed(qb, m.t.infoHash, away, { timeoutMs: 20_000 });
    expect(existsSync(path.join(away, 'Z.2026', 'Z.2026.mkv'))).toBe(true);
    const step: RepointStep = { kind: 'repoint', torrentHash: m.t.infoHash, torrentName: 'Z.2026', fromSavePath: m.saveDir, toSavePath: toSave, expectedContentPath: path.join(toSave, 'Z.2026', 'Z.2026.mkv'), hostFrom: m.root, hostTo: path.join(toSave, 'Z.2026'), bytes: 60_000 };
    // A recheck of a complete torrent leaves nothing to confirm it by when it is quick, or when the client drops it
    // while it finishes its own move (the field report: 120 s waited, "last seen pausedUP, progress 1"): none is asked.
    const rechecks: string[][] = [];
    const client: TorrentClient = { ...qb, recheck: async (h) => (rechecks.push(h), qb.recheck(h)) };
    const ctx = { ...testDeps(w, { client }), client, group, stepIndex: 0, clientTimeoutMs: () => 15_000, note: () => undefined, fs: realFsPort() };
    const notes = await repointStep.undo(step, ctx, { prevSavePath: m.saveDir, prevDownloadPath: '', wasRunning: true, autoTmm: false });
    expect(notes).toEqual([]);
    expect(rechecks).toEqual([]);
    expect(await qb.getTorrent(m.t.infoHash)).toMatchObject({ savePath: m.saveDir, progress: 1, running: true });
    expect(hashTreeSync(m.root)).toEqual(before);
  });
});
