// Test support: one apply child over N move groups (copy + repoint) on a real qBittorrent, killed at a crash point, then recover (or not) and a rerun — every byte re-hashed; returns what was in flight at the kill.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { singleClient } from '../../src/clients/client-set.js';
import { getRun, listRuns, type GroupRecord } from '../../src/apply/run-store.js';
import type { QbittorrentClient } from '../../src/clients/qbittorrent/client.js';
import { runApply, runRecover } from '../../src/reconcile/apply.js';
import type { QbtSandbox } from '../../src/sandbox/qbt-sandbox.js';
import { hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan } from './apply-fixture.js';
import { testInstance } from './instance.js';
import { parallelGroups, seedParallel } from './parallel-groups.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ParallelCrash {
  /** The child ended on its own (the crash point lies past the run's end): the run succeeded. */
  finished: boolean;
  /** The groups the killed run left open (status running), as journaled. */
  open: GroupRecord[];
}

/**
 * Seeds `torrents` torrents named `${prefix}.i`, applies one move group each at `width` in a child killed by `env`'s
 * crash point, then (when `recoverFirst`) `recover` and a check of every torrent and byte, then a rerun that must
 * converge: every torrent complete at the target, every byte equal to the seed, no hashall leftovers.
 */
export async function crashParallelOnce(
  sb: QbtSandbox,
  qb: QbittorrentClient,
  o: { prefix: string; torrents: number; width: number; size?: number; env: Record<string, string>; recoverFirst: boolean },
): Promise<ParallelCrash> {
  const w = makeApplyFixture();
  try {
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    w.config.apply = { auto: false, parallelRechecks: o.width };
    const ts = await seedParallel(sb, w, o.prefix, o.torrents, o.size);
    const cfgFile = path.join(w.root, 'config.json');
    const planFile = path.join(w.root, 'plan.json');
    writeFileSync(cfgFile, JSON.stringify(w.config));
    writeFileSync(planFile, JSON.stringify(makePlan(w, await parallelGroups(qb, w, ts))));
    const child = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgFile, planFile, sb.url], {
      cwd: repo,
      env: { ...process.env, ...o.env, HASHALL_TEST_CLIENT_TIMEOUT_MS: '30000' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    for (const x of ts) expect(hashTreeSync(x.root)).toEqual(x.before); // sources never touched
    const common = { config: w.config, clients: singleClient(qb), now: () => Date.now(), emit: () => undefined, catalog: w.catalog, clientTimeoutMs: () => 30_000 };
    let out: ParallelCrash;
    if (child.signal !== 'SIGKILL') {
      expect(child.status, child.stderr).toBe(0);
      expect(JSON.parse(child.stdout).status).toBe('succeeded');
      out = { finished: true, open: [] };
    } else {
      const killed = getRun(w.catalog.db, listRuns(w.catalog.db)[0]!.id)!;
      out = { finished: false, open: killed.groupRecords.filter((g) => g.status === 'running') };
      const doneBefore = new Set(killed.groupRecords.filter((g) => g.status === 'done').map((g) => g.id));
      if (o.recoverFirst) {
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
      let again;
      try {
        again = await rerun();
      } catch (err) {
        expect((err as { exitCode?: number }).exitCode, String(err)).toBe(5);
        again = await rerun();
      }
      expect(again.result.status, JSON.stringify(again.result)).toBe('succeeded');
    }
    for (const x of ts) {
      expect(await qb.getTorrent(x.t.infoHash), x.name).toMatchObject({ savePath: x.toSave, contentPath: x.dst, progress: 1, running: x.running });
      expect(hashTreeSync(x.dst)).toEqual(x.before);
      expect(hashTreeSync(x.root)).toEqual(x.before);
    }
    expect(hashallLeftovers(w.pool)).toEqual([]);
    expect(hashallLeftovers(w.stash)).toEqual([]);
    await sb.api('POST', '/torrents/delete', { hashes: ts.map((x) => x.t.infoHash).join('|'), deleteFiles: 'false' });
    return out;
  } finally {
    w.cleanup();
  }
}
