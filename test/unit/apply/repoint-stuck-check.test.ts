// A qBittorrent 4.5 check stuck at checkingUP, progress 0 (a recheck asked while the torrent's check was just starting) on a real qbittorrent-nox: the recheck wait, the repoint undo and verify --repair's recheck step recover it (pause, then one recheck of the paused torrent; the running state restored after) instead of waiting out their timeout; no byte moves.
import { testInstance } from '../../support/instance.js';
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { cpSync, lstatSync } from 'node:fs';
import { repointStep } from '../../../src/apply/steps/repoint.js';
import { recheckStep } from '../../../src/apply/steps/recheck.js';
import { rot } from '../../support/bit-rot.js';
import type { QbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import { recheckConfirmed, setLocationConfirmed } from '../../../src/clients/confirm.js';
import type { ClientTorrent, TorrentClient } from '../../../src/clients/types.js';
import type { RecheckStep, RepointStep } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { hashTreeSync, makeApplyFixture, moveGroup, type ApplyFixture } from '../../support/apply-fixture.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent } from '../../../src/sandbox/torrent-file.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { qbtClientPerFile } from '../../support/qbt-client.js';
import { stickCheck } from '../../support/qbt-stuck-check.js';

const qbts = qbtSandboxes();
let sb: QbtSandbox;
let qb: QbittorrentClient;
let w: ApplyFixture;
const TRACKER = 'http://127.0.0.1:1/announce';
const SIZE = 6_000_000; // a check of ~0.1–0.5 s: long enough for a second request to land while it starts

qbtClientPerFile(qbts, (s, c) => ([sb, qb] = [s, c]));
afterEach(() => w?.cleanup());

/** A two-file torrent in its folder under stash/seeding/movies (running or paused), with a byte-identical copy at pool/seeding/movies. */
async function movie(name: string, running: boolean) {
  const saveDir = path.join(w.stash, 'seeding', 'movies');
  const toSave = path.join(w.pool, 'seeding', 'movies');
  const t = makeTorrent({ saveDir, name, files: [{ path: `${name}.mkv`, size: SIZE }, { path: `${name}.nfo`, size: 1_000 }], pieceLength: 64 * 1024, trackers: [TRACKER] });
  cpSync(path.join(saveDir, name), path.join(toSave, name), { recursive: true });
  await addTorrent(sb, t, { savepath: saveDir, skipChecking: true, paused: !running });
  return { t, saveDir, toSave, root: path.join(saveDir, name), target: path.join(toSave, name) };
}

/** A running two-file torrent (see movie) whose .mkv has one byte rotted at `offset`, and the recheck step verify --repair plans for it. */
async function damagedRunning(name: string, offset: number) {
  w = makeApplyFixture();
  w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
  const m = await movie(name, true);
  const mkv = path.join(m.root, `${name}.mkv`);
  rot(mkv, offset);
  const before = hashTreeSync(m.root);
  const st = lstatSync(mkv, { bigint: true });
  const step: RecheckStep = {
    kind: 'recheck',
    client: 'default',
    torrentHash: m.t.infoHash,
    torrentName: name,
    clientSavePath: m.saveDir,
    clientContentPath: m.root,
    hostRoot: m.root,
    fs: 'stash',
    damaged: [{ path: mkv, relpath: `${name}.mkv`, ino: Number(st.ino), size: Number(st.size), mtimeNs: String(st.mtimeNs) }],
    bytes: SIZE,
  };
  return { m, mkv, before, st, step };
}

/** The real client, keeping every state it read (the test asserts the torrent never ran nor downloaded while recovered). */
function recording(client: TorrentClient): TorrentClient & { seen: ClientTorrent[]; calls: string[] } {
  const seen: ClientTorrent[] = [];
  const calls: string[] = [];
  const keep = (t: ClientTorrent | null) => (t && seen.push(t), t);
  return {
    ...client,
    seen,
    calls,
    getTorrent: async (h) => keep(await client.getTorrent(h)),
    waitFor: (h, p, o) => client.waitFor(h, (t) => (keep(t), p(t)), o),
    pause: async (h) => (calls.push('pause'), client.pause(h)),
    resume: async (h) => (calls.push('resume'), client.resume(h)),
    recheck: async (h) => (calls.push('recheck'), client.recheck(h)),
    setLocation: async (h, loc) => (calls.push(`setLocation ${loc}`), client.setLocation(h, loc)),
  };
}

/** The torrent's check stuck at checkingUP, progress 0 (test/support/qbt-stuck-check.ts). */
const stick = (hash: string, checkEnded?: (t: ClientTorrent) => boolean): Promise<ClientTorrent> => stickCheck(sb, qb, hash, checkEnded);

describe('a qBittorrent 4.5 check stuck at checkingUP, progress 0', () => {
  it('recheckConfirmed recovers it (pause, one recheck) and ends complete and paused: never running, no byte moved', async () => {
    w = makeApplyFixture();
    const m = await movie('S.2026', false);
    const before = hashTreeSync(m.root);
    await stick(m.t.infoHash);
    const client = recording(qb);
    const t = await recheckConfirmed(client, m.t.infoHash, { timeoutMs: 20_000 });
    expect(t).toMatchObject({ phase: 'paused-complete', progress: 1, savePath: m.saveDir });
    expect(client.calls).toContain('pause');
    expect(client.calls).not.toContain('resume');
    expect(client.seen.filter((x) => x.running || x.phase === 'downloading' || x.phase === 'moving')).toEqual([]);
    expect(client.seen.every((x) => x.savePath === m.saveDir)).toBe(true);
    expect(hashTreeSync(m.root)).toEqual(before);
    expect(hashTreeSync(m.target)).toEqual(before);
  });

  it('the repoint undo of a torrent left stuck at the target (killed mid-recheck, asked again) puts it back, complete and running as before; both copies intact', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    const m = await movie('R.2026', true);
    const before = hashTreeSync(m.root);
    // The run: paused, pointed at the copy on pool, a recheck asked — then killed; recovery's first request lands on
    // the starting check.
    await qb.pause([m.t.infoHash]);
    await qb.waitFor(m.t.infoHash, (t) => t.phase === 'paused-complete', { timeoutMs: 10_000 });
    await setLocationConfirmed(qb, m.t.infoHash, m.toSave, { timeoutMs: 20_000 });
    await stick(m.t.infoHash);
    const step: RepointStep = { kind: 'repoint', torrentHash: m.t.infoHash, torrentName: 'R.2026', fromSavePath: m.saveDir, toSavePath: m.toSave, expectedContentPath: m.target, hostFrom: m.root, hostTo: m.target, bytes: SIZE };
    const client = recording(qb);
    const group = moveGroup('g1', w, m.root, m.target);
    const ctx = { ...testDeps(w, { client }), client, group, stepIndex: 0, clientTimeoutMs: () => 20_000, note: () => undefined, fs: realFsPort() };
    await repointStep.undo(step, ctx, { prevSavePath: m.saveDir, prevDownloadPath: '', wasRunning: true, autoTmm: false });
    expect(await qb.getTorrent(m.t.infoHash)).toMatchObject({ savePath: m.saveDir, progress: 1, running: true });
    // Never running, downloading or moving data while it was recovered: resumed only at the end, once complete.
    const resumedAt = client.seen.findIndex((x) => x.running);
    const beforeResume = resumedAt < 0 ? client.seen : client.seen.slice(0, resumedAt);
    expect(beforeResume.filter((x) => x.running || x.phase === 'downloading')).toEqual([]);
    expect(client.calls.at(-1)).toBe('resume');
    expect(hashTreeSync(m.root)).toEqual(before);
    expect(hashTreeSync(m.target)).toEqual(before);
  });

  it("verify --repair's recheck step: its own recheck sticks (another request lands on its start); the step pauses it, asks once more, finds the damage and resumes the torrent as it was; no byte written", async () => {
    const { m, mkv, before, st, step } = await damagedRunning('V.2026', 3_000_123);
    const real = recording(qb);
    let stuckAt: ClientTorrent | null = null;
    // The step's first recheck request is the one another request lands on while its check starts (stick sends both).
    const client: typeof real = { ...real, recheck: async (h) => (real.calls.push('recheck'), stuckAt === null ? void (stuckAt = await stick(h[0]!, (t) => t.phase !== 'checking')) : qb.recheck(h)) };
    const saved: unknown[] = [];
    const group = moveGroup('g1', w, m.root, m.target);
    const ctx = { ...testDeps(w, { client }), client, group, stepIndex: 0, clientTimeoutMs: () => 20_000, note: () => undefined, fs: realFsPort(), saveUndo: (u: unknown) => void saved.push(structuredClone(u)), appendUndo: () => undefined };
    expect(await recheckStep.check(step, ctx)).toBe('todo');
    const undo = {};
    const out = await recheckStep.run(step, ctx, undo);
    expect(stuckAt).toMatchObject({ phase: 'checking', progress: 0 });
    expect(out.status).toBe('done');
    // Paused to end the stuck check (recorded first), asked again, then resumed: running as it was, the damage found.
    expect(real.calls.filter((c) => c !== 'recheck')).toEqual(['pause', 'resume']);
    expect(saved.at(-1)).toMatchObject({ asked: true, wasRunning: true, pausedStuck: true });
    const now = await qb.getTorrent(m.t.infoHash);
    expect(now).toMatchObject({ savePath: m.saveDir, running: true });
    expect(now!.progress).toBeLessThan(1);
    await recheckStep.verify(step, ctx, undo);
    expect(real.seen.filter((x) => x.phase === 'moving' || x.savePath !== m.saveDir)).toEqual([]);
    expect(hashTreeSync(m.root)).toEqual(before);
    expect(lstatSync(mkv).ino).toBe(Number(st.ino));
  });

  it("verify --repair's recheck undo after a kill between the pause of a stuck check and its resume: one recheck of the paused torrent, then running as before", async () => {
    const { m, before, step } = await damagedRunning('K.2026', 1_000_001);
    // The run had asked, seen the check stick and paused it (recorded), then was killed: paused, progress 0.
    await stick(m.t.infoHash, (t) => t.phase !== 'checking');
    await qb.pause([m.t.infoHash]);
    await qb.waitFor(m.t.infoHash, (t) => t.phase === 'paused-incomplete' && t.progress === 0, { timeoutMs: 10_000 });
    const client = recording(qb);
    const group = moveGroup('g1', w, m.root, m.target);
    const ctx = { ...testDeps(w, { client }), client, group, stepIndex: 0, clientTimeoutMs: () => 20_000, note: () => undefined, fs: realFsPort() };
    const notes = await recheckStep.undo(step, ctx, { asked: true, wasRunning: true, pausedStuck: true });
    expect(client.calls).toEqual(['recheck', 'resume']);
    const now = await qb.getTorrent(m.t.infoHash);
    expect(now).toMatchObject({ savePath: m.saveDir, running: true });
    expect(now!.progress).toBeGreaterThan(0);
    expect(now!.progress).toBeLessThan(1);
    expect(notes.join('\n')).toContain('runs again');
    expect(hashTreeSync(m.root)).toEqual(before);
  });
});
