// kill -9 while several move groups are in flight on a real qBittorrent (one copying, others between copy and repoint or
// mid-recheck); then `recover` (or the next apply) converges: every group rolled back or finished, every byte re-hashed,
// nothing lost, every torrent complete, seeding (or paused as before) from a complete location.
import { singleClient } from '../../../src/clients/client-set.js';
import { testInstance } from '../../support/instance.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runApply, runRecover } from '../../../src/reconcile/apply.js';
import { getRun, listRuns } from '../../../src/apply/run-store.js';
import { createQbittorrentClient, type QbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan } from '../../support/apply-fixture.js';
import { parallelGroups, seedParallel } from '../../support/parallel-groups.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const qbts = qbtSandboxes();
let sb: QbtSandbox;
let qb: QbittorrentClient;
beforeAll(async () => {
  sb = await qbts.start();
  qb = createQbittorrentClient({ url: sb.url, timeoutMs: 10_000 });
});
afterAll(async () => {
  await qb?.close();
  await qbts.stopAll();
});

const TORRENTS = 3;

describe('kill -9 with several groups in flight (real qBittorrent)', () => {
  it('at every other boundary: recover or the next apply rolls back or finishes each group; all torrents end complete at the target', async () => {
    let finished = false;
    let crashes = 0;
    let severalOpen = false; // ≥ 2 groups open in the journal at the kill
    let severalPastCopy = false; // ≥ 2 open groups whose copy was done (between copy and repoint, or repointing)
    let severalRepointing = false; // ≥ 2 repoints under way at once (torrents paused and pointed at the copy, rechecking)
    for (let n = 1; n <= 70 && !finished; n += 2) {
      const w = makeApplyFixture();
      try {
        w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
        w.config.apply = { auto: false, parallelRechecks: TORRENTS };
        const ts = await seedParallel(sb, w, `Par${n}`, TORRENTS);
        const cfgFile = path.join(w.root, 'config.json');
        const planFile = path.join(w.root, 'plan.json');
        writeFileSync(cfgFile, JSON.stringify(w.config));
        writeFileSync(planFile, JSON.stringify(makePlan(w, await parallelGroups(qb, w, ts))));
        const child = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgFile, planFile, sb.url], {
          cwd: repo,
          env: { ...process.env, HASHALL_TEST_CRASH_AT: String(n), HASHALL_TEST_CLIENT_TIMEOUT_MS: '30000' },
          encoding: 'utf8',
          timeout: 120_000,
        });
        for (const x of ts) expect(hashTreeSync(x.root)).toEqual(x.before); // sources never touched
        const common = { config: w.config, clients: singleClient(qb), now: () => Date.now(), emit: () => undefined, catalog: w.catalog, clientTimeoutMs: () => 30_000 };
        if (child.signal !== 'SIGKILL') {
          expect(child.status, child.stderr).toBe(0);
          expect(JSON.parse(child.stdout).status).toBe('succeeded');
          finished = true;
        } else {
          crashes++;
          const killed = getRun(w.catalog.db, listRuns(w.catalog.db)[0]!.id)!;
          const open = killed.groupRecords.filter((g) => g.status === 'running');
          if (open.length >= 2) severalOpen = true;
          if (open.filter((g) => g.steps[0]!.status === 'done' || g.steps[0]!.status === 'noop').length >= 2) severalPastCopy = true;
          if (open.filter((g) => g.steps[1]!.status === 'running' && g.steps[1]!.undo.prevSavePath !== undefined).length >= 2) severalRepointing = true;
          const doneBefore = new Set(killed.groupRecords.filter((g) => g.status === 'done').map((g) => g.id));
          if ((n >> 1) % 2 === 0) {
            const rec = await runRecover({ ...common, command: 'test recover' });
            expect(rec.map((r) => r.status), JSON.stringify(rec.map((r) => r.attention))).toEqual(killed.status === 'running' ? ['recovered'] : []);
            const finishedNow = new Set(rec.flatMap((r) => r.groups.filter((g) => g.action === 'finished').map((g) => g.id)));
            for (const [i, x] of ts.entries()) {
              const moved = doneBefore.has(`g${i + 1}`) || finishedNow.has(`g${i + 1}`);
              const tt = await qb.waitFor(x.t.infoHash, (t) => t.phase !== 'checking' && t.phase !== 'moving', { timeoutMs: 30_000 });
              expect(tt, x.name).toMatchObject({ savePath: moved ? x.toSave : x.fromSave, progress: 1, running: x.running });
              if (moved) expect(hashTreeSync(x.dst)).toEqual(x.before);
              else expect(existsSync(x.dst)).toBe(false); // rolled back: nothing of it left on the pool
            }
            expect(hashallLeftovers(w.pool)).toEqual([]);
          }
          // The next apply (recovering first when recover was not run) converges; a recovery that finished a group moved
          // the catalog on, so a plan made before it is stale (exit 5): plan again, as a user would.
          const rerun = async () => runApply({ ...common, plan: makePlan(w, await parallelGroups(qb, w, ts)), planFile: null, planHash: null, command: 'rerun' });
          let out;
          try {
            out = await rerun();
          } catch (err) {
            expect((err as { exitCode?: number }).exitCode, String(err)).toBe(5);
            out = await rerun();
          }
          expect(out.result.status, JSON.stringify(out.result)).toBe('succeeded');
        }
        for (const x of ts) {
          expect(await qb.getTorrent(x.t.infoHash), x.name).toMatchObject({ savePath: x.toSave, contentPath: x.dst, progress: 1, running: x.running });
          expect(hashTreeSync(x.dst)).toEqual(x.before);
          expect(hashTreeSync(x.root)).toEqual(x.before);
        }
        expect(hashallLeftovers(w.pool)).toEqual([]);
        expect(hashallLeftovers(w.stash)).toEqual([]);
        await sb.api('POST', '/torrents/delete', { hashes: ts.map((x) => x.t.infoHash).join('|'), deleteFiles: 'false' });
      } finally {
        w.cleanup();
      }
    }
    expect(finished).toBe(true);
    expect(crashes).toBeGreaterThan(8);
    expect(severalOpen).toBe(true);
    expect(severalPastCopy).toBe(true);
    expect(severalRepointing).toBe(true);
  }, 1_200_000); // one child process per boundary; bounded by the loop count and this limit
});
