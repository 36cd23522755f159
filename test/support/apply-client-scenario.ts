// Test support: apply against a real daemon of any client type — a move with a cross-seed sibling, a reuse, a failed recheck rolled back, kill -9 at every boundary.
import { singleClient } from '../../src/clients/client-set.js';
import { testInstance } from './instance.js';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, lstatSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../src/apply/executor.js';
import { runApply, runRecover } from '../../src/reconcile/apply.js';
import { getRun, listRuns } from '../../src/apply/run-store.js';
import type { TorrentClient } from '../../src/clients/types.js';
import type { ClientType } from '../../src/config/types.js';
import type { PlanGroup, PlanStep } from '../../src/plan/types.js';
import { testDeps } from './apply-deps.js';
import { bytesFor, fileList, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeTree, type ApplyFixture } from './apply-fixture.js';
import { makeTorrent, type MadeTorrent } from '../../src/sandbox/torrent-file.js';

export interface ScenarioDaemon {
  type: ClientType;
  url: string;
  client: TorrentClient;
  /** The client's password, for the apply child that builds its own client (deluge-web needs one). */
  password?: string;
  /** Add `t` with its data already in `saveDir`, checked by the daemon, running or stopped. */
  add(t: MadeTorrent, saveDir: string, o: { running: boolean }): Promise<void>;
}

const TRACKER = 'http://127.0.0.1:1/announce';
const timeouts = { clientTimeoutMs: () => 30_000, guardTimeoutMs: 30_000 };
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function repoint(t: MadeTorrent, name: string, fromSave: string, toSave: string, bytes: number): PlanStep {
  return { kind: 'repoint', torrentHash: t.infoHash, torrentName: name, fromSavePath: fromSave, toSavePath: toSave, expectedContentPath: path.join(toSave, name), hostFrom: path.join(fromSave, name), hostTo: path.join(toSave, name), bytes };
}

async function withTorrents(g: PlanGroup, client: TorrentClient, hashes: string[]): Promise<PlanGroup> {
  const live = await client.listTorrents({ hashes });
  expect(live).toHaveLength(hashes.length);
  return {
    ...g,
    torrents: live.map((t) => ({ hash: t.hash, name: t.name, category: t.category, tracker: t.tracker })),
    fingerprint: { ...g.fingerprint, torrents: live.map((t) => ({ hash: t.hash, phase: t.phase, clientSavePath: t.savePath, clientContentPath: t.contentPath })) },
  };
}

export function applyScenario(name: string, daemon: () => ScenarioDaemon): void {
  describe(`apply with a real ${name}`, () => {
    let w: ApplyFixture;
    const world = (d: ScenarioDaemon): ApplyFixture => {
      const x = makeApplyFixture();
      x.config.clients = { default: testInstance(d.type, d.url, { timeoutMs: 10_000 }) };
      return x;
    };

    /** A multi-file payload in stash seeded by two siblings (same bytes, other piece size → other info-hash). */
    async function seeded(d: ScenarioDaemon, title: string, firstRunning: boolean) {
      const saveDir = path.join(w.stash, 'seeding', 'movies');
      const files = [{ path: 'movie.mkv', size: 300_000 }, { path: 'subs/en.srt', content: `subtitle ${title}\n` }];
      const t1 = makeTorrent({ saveDir, name: title, files, trackers: [TRACKER], pieceLength: 16 * 1024 });
      const t2 = makeTorrent({ saveDir, name: title, files, trackers: [TRACKER], pieceLength: 32 * 1024, write: false });
      await d.add(t1, saveDir, { running: firstRunning });
      await d.add(t2, saveDir, { running: false });
      return { saveDir, t1, t2, root: path.join(saveDir, title) };
    }

    it('move with a cross-seed sibling: copies, repoints both (running one resumed, paused one stays paused), source untouched; a second apply is a no-op', async () => {
      const d = daemon();
      w = world(d);
      try {
        const m = await seeded(d, 'Movie.M', true);
        const before = hashTreeSync(m.root);
        const toSave = path.join(w.pool, 'seeding', 'movies');
        const dst = path.join(toSave, 'Movie.M');
        const bytes = fileList(m.root).reduce((n, f) => n + f.size, 0);
        const group = async () => withTorrents(moveGroup('g1', w, m.root, dst, [repoint(m.t1, 'Movie.M', m.saveDir, toSave, bytes), repoint(m.t2, 'Movie.M', m.saveDir, toSave, bytes)]), d.client, [m.t1.infoHash, m.t2.infoHash]);
        const res = await applyPlan(testDeps(w, { clients: singleClient(d.client), ...timeouts }), makePlan(w, [await group()]));
        expect(res.status, JSON.stringify(res)).toBe('succeeded');
        expect(hashTreeSync(dst)).toEqual(before);
        expect(hashTreeSync(m.root)).toEqual(before);
        expect(await d.client.getTorrent(m.t1.infoHash)).toMatchObject({ savePath: toSave, contentPath: dst, progress: 1, running: true, phase: 'seeding' });
        expect(await d.client.getTorrent(m.t2.infoHash)).toMatchObject({ savePath: toSave, contentPath: dst, progress: 1, running: false, phase: 'paused-complete' });
        const again = await applyPlan(testDeps(w, { clients: singleClient(d.client), ...timeouts }), makePlan(w, [await group()]));
        expect(again.status).toBe('succeeded');
        expect(getRun(w.catalog.db, again.runId)!.groupRecords[0]!.steps.map((s) => s.status)).toEqual(['noop', 'noop', 'noop']);
      } finally {
        w.cleanup();
      }
    });

    it('reuse: a view on pool hardlinked from a verified copy, zero bytes copied, both siblings repointed onto it', async () => {
      const d = daemon();
      w = world(d);
      try {
        const m = await seeded(d, 'Movie.R', false);
        const before = hashTreeSync(m.root);
        const donorRoot = path.join(w.pool, 'seeding', 'archive', 'Movie.R');
        expect((await applyPlan(testDeps(w), makePlan(w, [moveGroup('pre', w, m.root, donorRoot)]))).status).toBe('succeeded');
        const toSave = path.join(w.pool, 'seeding', 'movies');
        const view = path.join(toSave, 'Movie.R');
        const links = fileList(m.root).map((f) => ({ donor: path.join(donorRoot, f.relpath), path: path.join(view, f.relpath), size: f.size, sha256: f.sha256 }));
        const bytes = links.reduce((n, l) => n + l.size, 0);
        const base = moveGroup('g1', w, m.root, view);
        const steps: PlanStep[] = [{ kind: 'link-view', fs: 'pool', torrentHash: m.t1.infoHash, root: view, links }, repoint(m.t1, 'Movie.R', m.saveDir, toSave, bytes), repoint(m.t2, 'Movie.R', m.saveDir, toSave, bytes)];
        const group = await withTorrents({ ...base, action: 'reuse', bytesToCopy: 0, steps }, d.client, [m.t1.infoHash, m.t2.infoHash]);
        const res = await applyPlan(testDeps(w, { clients: singleClient(d.client), ...timeouts }), makePlan(w, [group]));
        expect(res.status, JSON.stringify(res)).toBe('succeeded');
        expect(res.bytesCopied).toBe(0);
        expect(lstatSync(path.join(view, 'movie.mkv')).ino).toBe(lstatSync(path.join(donorRoot, 'movie.mkv')).ino);
        for (const t of [m.t1, m.t2]) expect(await d.client.getTorrent(t.infoHash)).toMatchObject({ contentPath: view, progress: 1, running: false });
        expect(hashTreeSync(m.root)).toEqual(before);
        expect(hashTreeSync(view)).toEqual(before);
      } finally {
        w.cleanup();
      }
    });

    it('a recheck that ends incomplete (wrong bytes in the view) rolls back: the torrent is back, complete and running, the view removed, the source intact', async () => {
      const d = daemon();
      w = world(d);
      try {
        const m = await seeded(d, 'Movie.S', true);
        const before = hashTreeSync(m.root);
        const badRoot = path.join(w.pool, 'seeding', 'bad', 'Movie.S');
        writeTree(badRoot, { 'movie.mkv': bytesFor('wrong', 300_000), 'subs/en.srt': Buffer.from('subtitle Movie.S\n') });
        const toSave = path.join(w.pool, 'seeding', 'movies');
        const view = path.join(toSave, 'Movie.S');
        const links = fileList(badRoot).map((f) => ({ donor: path.join(badRoot, f.relpath), path: path.join(view, f.relpath), size: f.size, sha256: f.sha256 }));
        const base = moveGroup('g1', w, m.root, view);
        const steps: PlanStep[] = [{ kind: 'link-view', fs: 'pool', torrentHash: m.t1.infoHash, root: view, links }, repoint(m.t1, 'Movie.S', m.saveDir, toSave, 300_017)];
        const group = await withTorrents({ ...base, action: 'reuse', steps }, d.client, [m.t1.infoHash]);
        const res = await applyPlan(testDeps(w, { clients: singleClient(d.client), ...timeouts }), makePlan(w, [group]));
        expect(res.status).toBe('rolled-back');
        expect(res.groups[0]!.error).toMatch(/recheck|incomplete/);
        expect(res.guardProblems).toEqual([]);
        expect(existsSync(view)).toBe(false);
        expect(hashTreeSync(m.root)).toEqual(before);
        expect(await d.client.getTorrent(m.t1.infoHash)).toMatchObject({ savePath: m.saveDir, progress: 1, running: true });
        expect(getRun(w.catalog.db, res.runId)!.groupRecords[0]!.steps.map((s) => s.status)).toEqual(['undone', 'undone']);
      } finally {
        w.cleanup();
      }
    });

    it('kill -9 at every journal boundary of the repoint step and after it: recover restores or finishes, the rerun converges, nothing is lost', async () => {
      const d = daemon();
      let finished = false;
      let crashes = 0;
      // The copy step's boundaries do not involve the client (apply-crash covers them): kill at the repoint's own
      // boundaries (step #1) and at the group's and run's end, learned from one logged run; then once past the last.
      let plan: number[] | null = null;
      for (let k = 0; k < 40 && !finished; k++) {
        const n: number = plan ? (plan[k - 1] as number) : 1_000_000;
        w = world(d);
        try {
          const title = `Crash.${n}`;
          const saveDir = path.join(w.stash, 'seeding', 'movies');
          const t = makeTorrent({ saveDir, name: title, files: [{ path: 'a.mkv', size: 200_000 }, { path: 'b.nfo', content: `n=${n}\n` }], trackers: [TRACKER] });
          await d.add(t, saveDir, { running: true });
          const root = path.join(saveDir, title);
          const before = hashTreeSync(root);
          const toSave = path.join(w.pool, 'seeding', 'movies');
          const dst = path.join(toSave, title);
          const makeGroup = () => withTorrents(moveGroup('g1', w, root, dst, [repoint(t, title, saveDir, toSave, 200_000)]), d.client, [t.infoHash]);
          const cfgFile = path.join(w.root, 'config.json');
          const planFile = path.join(w.root, 'plan.json');
          writeFileSync(cfgFile, JSON.stringify(w.config));
          writeFileSync(planFile, JSON.stringify(makePlan(w, [await makeGroup()])));
          const child: SpawnSyncReturns<string> = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgFile, planFile, d.url, d.type], {
            cwd: repo,
            env: { ...process.env, HASHALL_TEST_CRASH_AT: String(n), HASHALL_TEST_CRASH_LOG: '1', ...(d.password ? { HASHALL_TEST_CLIENT_PASSWORD: d.password } : {}) },
            encoding: 'utf8',
            timeout: 90_000,
          });
          const common = { config: w.config, clients: singleClient(d.client), now: () => Date.now(), emit: () => undefined, catalog: w.catalog, clientTimeoutMs: () => 30_000 };
          if (child.signal !== 'SIGKILL') {
            expect(child.status, child.stderr).toBe(0);
            expect(JSON.parse(child.stdout).status).toBe('succeeded');
            if (plan) finished = true;
            else {
              const seen: { n: number; what: string }[] = [...child.stderr.matchAll(/^crash-hook (\d+): (.*)$/gm)].map((x) => ({ n: Number(x[1]), what: x[2] as string }));
              plan = [...seen.filter((b) => / g1#1$/.test(b.what) || /^(group|run)-(?!start|planned)/.test(b.what)).map((b) => b.n), seen.length + 1];
              expect(plan.length).toBeGreaterThan(4);
            }
          } else {
            crashes++;
            expect(hashTreeSync(root)).toEqual(before);
            const killed = listRuns(w.catalog.db)[0]!;
            const rec = await runRecover({ ...common, command: 'test recover' });
            expect(rec.map((r) => r.status)).toEqual(killed.status === 'running' ? ['recovered'] : []);
            const tt = await d.client.waitFor(t.infoHash, (x) => x.phase !== 'checking', { timeoutMs: 30_000 });
            expect(tt).toMatchObject({ progress: 1, running: true });
            const groupFinished = killed.status === 'succeeded' || rec[0]!.groups[0]?.action === 'finished';
            expect(tt.savePath).toBe(groupFinished ? toSave : saveDir);
            const out = await runApply({ ...common, plan: makePlan(w, [await makeGroup()]), planFile: null, planHash: null, command: 'rerun' });
            expect(out.result.status).toBe('succeeded');
          }
          expect(await d.client.getTorrent(t.infoHash)).toMatchObject({ savePath: toSave, contentPath: dst, progress: 1, running: true });
          expect(hashTreeSync(dst)).toEqual(before);
          expect(hashTreeSync(root)).toEqual(before);
        } finally {
          w.cleanup();
        }
      }
      expect(finished).toBe(true);
      expect(crashes).toBe((plan as number[] | null)!.length - 1);
    }, 600_000); // one child process per boundary; bounded by the loop count and this limit
  });
}
