// SIGINT / SIGTERM sent to a real apply child process at every journal boundary: it stops at the next safe point, rolls
// back (or finishes) the group in progress, resumes what it paused, records the run interrupted, says so, exits 130/143.
import { singleClient } from '../../../src/clients/client-set.js';
import { testInstance } from '../../support/instance.js';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runApply } from '../../../src/reconcile/apply.js';
import { getRun, listRuns } from '../../../src/apply/run-store.js';
import type { QbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import type { PlanGroup } from '../../../src/plan/types.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent } from '../../../src/sandbox/torrent-file.js';
import { bytesFor, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { parallelGroups, seedParallel } from '../../support/parallel-groups.js';
import { qbtClientPerFile } from '../../support/qbt-client.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Signal for boundary n: SIGINT, SIGTERM, and every third time two SIGINTs (the second must only say "still rolling back"). */
function signalFor(n: number): 'SIGINT' | 'SIGTERM' | 'SIGINT2' {
  return n % 3 === 0 ? 'SIGINT2' : n % 3 === 1 ? 'SIGINT' : 'SIGTERM';
}

function runChild(w: ApplyFixture, groups: PlanGroup[], n: number, qbtUrl?: string) {
  const cfgFile = path.join(w.root, 'config.json');
  const planFile = path.join(w.root, 'plan.json');
  writeFileSync(cfgFile, JSON.stringify(w.config));
  writeFileSync(planFile, JSON.stringify(makePlan(w, groups)));
  const sig = signalFor(n);
  const r = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgFile, planFile, ...(qbtUrl ? [qbtUrl] : [])], {
    cwd: repo,
    env: { ...process.env, HASHALL_TEST_CRASH_AT: String(n), HASHALL_TEST_CRASH_SIGNAL: sig },
    encoding: 'utf8',
    timeout: 180_000,
  });
  // A signal that arrives after apply's summary was written changes nothing (the run had ended): exit 0, not "fired".
  const fired = r.status === 130 || r.status === 143;
  const out = r.stdout ? (JSON.parse(r.stdout) as { status: string; runId: string }) : null;
  return { r, sig, fired, out };
}

/** What every interrupted child must show, whatever the boundary. */
function expectStoppedSafely(w: ApplyFixture, c: ReturnType<typeof runChild>): void {
  expect(c.r.signal, c.r.stderr).toBeNull(); // it was not killed by the signal: it handled it
  expect(c.out, c.r.stderr).not.toBeNull();
  expect(c.r.status, c.r.stderr).toBe(c.sig === 'SIGTERM' ? 143 : 130);
  const run = getRun(w.catalog.db, c.out!.runId)!;
  expect(run.status).not.toBe('running');
  expect(run.endedAt).not.toBeNull();
  expect(['interrupted', 'succeeded']).toContain(run.status);
  expect(c.out!.status).toBe(run.status);
  const sigName = c.sig === 'SIGINT2' ? 'SIGINT' : c.sig;
  if (run.status === 'interrupted') {
    expect(c.r.stderr).toContain(`Apply interrupted by ${sigName}`);
    expect(c.r.stderr).toContain('Nothing is left half done. To continue: `hashall apply`');
    for (const g of run.groupRecords) expect(['done', 'rolled-back', 'skipped']).toContain(g.status);
  } else {
    expect(c.r.stderr).toContain(`${sigName} arrived when nothing was left to stop`);
  }
  expect(hashallLeftovers(w.pool)).toEqual([]); // no .part, no temp name
  expect(hashallLeftovers(w.stash)).toEqual([]);
}

describe('SIGINT/SIGTERM during apply (copy groups, real child process)', () => {
  it('at every boundary: stops safely, no .part left, sources intact, the run recorded; a rerun converges', async () => {
    let fired = 0;
    let finished = false;
    let midCopy = false;
    for (let n = 1; n <= 40 && !finished; n++) {
      const w = makeApplyFixture();
      try {
        const srcA = path.join(w.stash, 'seeding', 'movies', 'Big.A');
        const srcB = path.join(w.stash, 'seeding', 'movies', 'Small.B');
        writeTree(srcA, { 'a.mkv': bytesFor(`a${n}`, 9 << 20), 'sub/a.srt': bytesFor('s', 700) }); // 4 MiB chunks: several per file
        writeTree(srcB, { 'b.mkv': bytesFor(`b${n}`, 50_000) });
        const before = { a: hashTreeSync(srcA), b: hashTreeSync(srcB) };
        const dstA = path.join(w.pool, 'seeding', 'movies', 'Big.A');
        const dstB = path.join(w.pool, 'seeding', 'movies', 'Small.B');
        const groups = () => [moveGroup('g1', w, srcA, dstA), moveGroup('g2', w, srcB, dstB)];
        const c = runChild(w, groups(), n);
        expect(hashTreeSync(srcA)).toEqual(before.a);
        expect(hashTreeSync(srcB)).toEqual(before.b);
        if (!c.fired) {
          expect(c.r.status, c.r.stderr).toBe(0);
          expect(c.out!.status).toBe('succeeded');
          finished = true;
          continue;
        }
        fired++;
        expectStoppedSafely(w, c);
        const run = getRun(w.catalog.db, c.out!.runId)!;
        if (run.groupRecords.some((g) => g.error?.includes('stopped (SIG') && g.error.includes('temporary file is removed'))) midCopy = true;
        for (const [g, dst, b] of [[run.groupRecords[0], dstA, before.a], [run.groupRecords[1], dstB, before.b]] as const) {
          if (g?.status === 'done') expect(hashTreeSync(dst)).toEqual(b);
          else expect(existsSync(dst)).toBe(false); // rolled back or never started: nothing of it on the pool
        }
        const rerun = await runApply({ config: w.config, clients: singleClient(null), plan: makePlan(w, groups()), planFile: null, planHash: null, command: 'rerun', now: () => Date.now(), emit: () => undefined, catalog: w.catalog });
        expect(rerun.recovered).toEqual([]); // a stopped run is not a crashed one: nothing to recover
        expect(rerun.result.status).toBe('succeeded');
        expect(hashTreeSync(dstA)).toEqual(before.a);
        expect(hashTreeSync(dstB)).toEqual(before.b);
        expect(listRuns(w.catalog.db).map((r) => r.status)).toEqual(['succeeded', run.status]);
      } finally {
        w.cleanup();
      }
    }
    expect(finished).toBe(true);
    expect(fired).toBeGreaterThan(8);
    expect(midCopy).toBe(true); // some signal arrived while a file was being copied: the copy stopped between chunks
  }, 600_000); // one child process per boundary; bounded by the loop count and this limit
});

const qbts = qbtSandboxes();
let sb: QbtSandbox;
let qb: QbittorrentClient;
qbtClientPerFile(qbts, (s, c) => ([sb, qb] = [s, c]));

describe('SIGINT/SIGTERM during a group that repoints two real torrents (qbittorrent-nox)', () => {
  it('at every boundary: the torrents end complete and running where their group left them; nothing lost; the run recorded', async () => {
    let fired = 0;
    let finished = false;
    let secondSignalSeen = false;
    let rolledBackAfterRepoint = false;
    for (let n = 1; n <= 45 && !finished; n++) {
      const w = makeApplyFixture();
      try {
        w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
        const name = `Sig.${n}`;
        const files = [{ path: 'a.mkv', size: 300_000 }, { path: 'b.nfo', content: `n=${n}\n` }];
        const dirA = path.join(w.stash, 'seeding', 'movies');
        const dirB = path.join(w.stash, 'seeding', 'cross-seed', 'trk');
        const tA = makeTorrent({ saveDir: dirA, name, files, trackers: ['http://127.0.0.1:1/announce'] });
        const tB = makeTorrent({ saveDir: dirB, name, files, trackers: ['http://127.0.0.1:2/announce'], private: true }); // a cross-seed: same files, another infohash
        await addTorrent(sb, tA, { savepath: dirA, skipChecking: true, paused: false });
        await addTorrent(sb, tB, { savepath: dirB, skipChecking: true, paused: false });
        const rootA = path.join(dirA, name);
        const rootB = path.join(dirB, name);
        const before = hashTreeSync(rootA);
        const toA = path.join(w.pool, 'seeding', 'movies');
        const toB = path.join(w.pool, 'seeding', 'cross-seed', 'trk');
        const repoint = (t: typeof tA, from: string, to: string) => ({
          kind: 'repoint' as const,
          torrentHash: t.infoHash,
          torrentName: name,
          fromSavePath: from,
          toSavePath: to,
          expectedContentPath: path.join(to, name),
          hostFrom: path.join(from, name),
          hostTo: path.join(to, name),
          bytes: 300_000,
        });
        const makeGroup = async (): Promise<PlanGroup> => {
          const copyB = moveGroup('x', w, rootB, path.join(toB, name)).steps[0]!;
          const g = moveGroup('g1', w, rootA, path.join(toA, name), [copyB, repoint(tA, dirA, toA), repoint(tB, dirB, toB)]);
          const live = await qb.listTorrents({ hashes: [tA.infoHash, tB.infoHash] });
          return {
            ...g,
            torrents: [tA, tB].map((t) => ({ hash: t.infoHash, name, category: '', tracker: null })),
            fingerprint: { ...g.fingerprint, torrents: live.map((x) => ({ hash: x.hash, phase: x.phase, clientSavePath: x.savePath, clientContentPath: x.contentPath })) },
          };
        };
        const c = runChild(w, [await makeGroup()], n, sb.url);
        expect(hashTreeSync(rootA)).toEqual(before);
        expect(hashTreeSync(rootB)).toEqual(before);
        if (!c.fired) {
          expect(c.r.status, c.r.stderr).toBe(0);
          expect(c.out!.status).toBe('succeeded');
          finished = true;
        } else {
          fired++;
          expectStoppedSafely(w, c);
          if (c.r.stderr.includes('SIGINT again: still rolling back')) secondSignalSeen = true;
          const run = getRun(w.catalog.db, c.out!.runId)!;
          const g = run.groupRecords[0]; // absent when the signal came before the group was planned
          const moved = g?.status === 'done';
          if (g && !moved && g.steps.some((s) => s.kind === 'repoint' && s.status === 'undone' && s.undo.prevSavePath !== undefined)) rolledBackAfterRepoint = true;
          for (const [t, from, to] of [[tA, dirA, toA], [tB, dirB, toB]] as const) {
            const tt = await qb.waitFor(t.infoHash, (x) => x.phase !== 'checking' && x.phase !== 'moving', { timeoutMs: 30_000 });
            expect(tt).toMatchObject({ savePath: moved ? to : from, progress: 1, running: true }); // never left paused
            if (moved) expect(hashTreeSync(path.join(to, name))).toEqual(before);
            else expect(existsSync(path.join(to, name))).toBe(false);
          }
          const rerun = await runApply({
            config: w.config,
            clients: singleClient(qb),
            plan: makePlan(w, [await makeGroup()]),
            planFile: null,
            planHash: null,
            command: 'rerun',
            now: () => Date.now(),
            emit: () => undefined,
            catalog: w.catalog,
            clientTimeoutMs: () => 30_000,
          });
          expect(rerun.recovered).toEqual([]);
          expect(rerun.result.status).toBe('succeeded');
        }
        for (const [t, to] of [[tA, toA], [tB, toB]] as const) {
          expect(await qb.getTorrent(t.infoHash)).toMatchObject({ savePath: to, progress: 1, running: true });
          expect(hashTreeSync(path.join(to, name))).toEqual(before);
        }
      } finally {
        w.cleanup();
      }
    }
    expect(finished).toBe(true);
    expect(fired).toBeGreaterThan(8);
    expect(rolledBackAfterRepoint).toBe(true); // some signal came mid-group after a torrent was repointed, and it was put back
    expect(secondSignalSeen).toBe(true);
  }, 900_000); // one child process per boundary; bounded by the loop count and this limit
});

describe('SIGINT/SIGTERM with several groups in flight (real qbittorrent-nox)', () => {
  it('at every third boundary: every group in flight stops at a safe point (rolled back or finished); torrents complete where their group left them', async () => {
    let fired = 0;
    let finished = false;
    let severalStopped = false;
    for (let n = 1; n <= 70 && !finished; n += 3) {
      const w = makeApplyFixture();
      try {
        w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
        w.config.apply = { auto: false, parallelRechecks: 3 };
        const ts = await seedParallel(sb, w, `SigPar${n}`, 3);
        const c = runChild(w, await parallelGroups(qb, w, ts), n, sb.url);
        for (const x of ts) expect(hashTreeSync(x.root)).toEqual(x.before);
        if (!c.fired) {
          expect(c.r.status, c.r.stderr).toBe(0);
          expect(c.out!.status).toBe('succeeded');
          finished = true;
        } else {
          fired++;
          expectStoppedSafely(w, c);
          const run = getRun(w.catalog.db, c.out!.runId)!;
          // Stopped inside the group (not merely "not started"): the signal reached several groups in flight.
          if (run.groupRecords.filter((g) => g.status === 'rolled-back' && g.error?.includes('the group is rolled back')).length >= 2) severalStopped = true;
          for (const [i, x] of ts.entries()) {
            const moved = run.groupRecords.find((g) => g.id === `g${i + 1}`)?.status === 'done';
            const tt = await qb.waitFor(x.t.infoHash, (t) => t.phase !== 'checking' && t.phase !== 'moving', { timeoutMs: 30_000 });
            expect(tt, x.name).toMatchObject({ savePath: moved ? x.toSave : x.fromSave, progress: 1, running: x.running });
            if (moved) expect(hashTreeSync(x.dst)).toEqual(x.before);
            else expect(existsSync(x.dst)).toBe(false);
          }
          const rerun = await runApply({
            config: w.config,
            clients: singleClient(qb),
            plan: makePlan(w, await parallelGroups(qb, w, ts)),
            planFile: null,
            planHash: null,
            command: 'rerun',
            now: () => Date.now(),
            emit: () => undefined,
            catalog: w.catalog,
            clientTimeoutMs: () => 30_000,
          });
          expect(rerun.recovered).toEqual([]);
          expect(rerun.result.status).toBe('succeeded');
        }
        for (const x of ts) {
          expect(await qb.getTorrent(x.t.infoHash), x.name).toMatchObject({ savePath: x.toSave, progress: 1, running: x.running });
          expect(hashTreeSync(x.dst)).toEqual(x.before);
        }
        await sb.api('POST', '/torrents/delete', { hashes: ts.map((x) => x.t.infoHash).join('|'), deleteFiles: 'false' });
      } finally {
        w.cleanup();
      }
    }
    expect(finished).toBe(true);
    expect(fired).toBeGreaterThan(8);
    expect(severalStopped).toBe(true);
  }, 1_200_000); // one child process per boundary; bounded by the loop count and this limit
});
