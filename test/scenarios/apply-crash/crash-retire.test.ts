// kill -9 of apply at every journal boundary of a retire group, then recover: the kept copy is intact, the source is whole either back in place or staged in the trash, and the purge leaves nothing.
import { singleClient } from '../../../src/clients/client-set.js';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { runApply, runRecover } from '../../../src/reconcile/apply.js';
import { purgeTrash } from '../../../src/apply/trash.js';
import type { PlanGroup } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, hashTreeSync, makeApplyFixture, makePlan, moveGroup, payloadHashOf, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function retireGroup(src: string, dst: string, hash: string, relId: number): PlanGroup {
  return {
    id: 'r1',
    key: 'retire-1',
    action: 'retire',
    title: 'K',
    payloadHash: hash,
    torrents: [],
    from: { fs: 'stash', path: src },
    to: null,
    reasons: ['test retire'],
    rule: null,
    bytesToCopy: 0,
    bytesToFree: 0,
    steps: [{ kind: 'retire', fs: 'stash', root: src, payloadHash: hash, keptRoot: dst, keptFs: 'pool', relocationId: relId, bytes: 0 }],
    fingerprint: { files: [], torrents: [] },
  };
}

/** What the trash holds below its run directories (empty when every run's entries are gone). */
function trashLeft(w: ApplyFixture): string[] {
  const root = path.join(w.stash, '.hashall-trash');
  return existsSync(root) ? readdirSync(root) : [];
}

/** The source staged in the trash by each run (run id → every file's SHA-256). */
function staged(w: ApplyFixture): Record<string, Record<string, string>> {
  return Object.fromEntries(
    trashLeft(w)
      .map((run) => [run, path.join(w.stash, '.hashall-trash', run, 'seeding', 'movies', 'K')] as const)
      .filter(([, p]) => existsSync(p))
      .map(([run, p]) => [run, hashTreeSync(p)]),
  );
}

/** The source is whole in exactly one place: back at `src`, or staged in the trash. */
function wholeOnce(w: ApplyFixture, src: string, before: Record<string, string>): void {
  const inTrash = Object.values(staged(w));
  if (existsSync(src)) {
    expect(hashTreeSync(src)).toEqual(before);
    expect(inTrash).toEqual([]);
  } else expect(inTrash).toEqual([before]);
}

/** The purge after the window (observeHours 0 in this world) removes the staged source and leaves an empty trash. */
async function purgeLater(w: ApplyFixture): Promise<void> {
  await purgeTrash({ catalog: w.catalog, config: w.config, fs: realFsPort(), now: () => Date.now() + 3_600_000, emit: () => undefined, runId: 'later' });
  expect(trashLeft(w)).toEqual([]);
}

/**
 * A payload at `seeding/<rel>` moved to the pool (a real apply), then its retire run in a child process with `env` (where
 * the child kills itself): the source's files before, the kept copy's path and the child's result.
 */
async function retireInChild(w: ApplyFixture, rel: string, tree: Record<string, Buffer>, env: Record<string, string>) {
  const src = path.join(w.stash, 'seeding', rel);
  writeTree(src, tree);
  const before = hashTreeSync(src);
  const dst = path.join(w.pool, 'seeding', rel);
  expect((await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]))).status).toBe('succeeded');
  const relId = (w.catalog.db.prepare(`SELECT id FROM relocations`).get() as { id: number }).id;
  const hash = payloadHashOf(src);
  const cfgFile = path.join(w.root, 'config.json');
  const planFile = path.join(w.root, 'plan.json');
  writeFileSync(cfgFile, JSON.stringify(w.config));
  writeFileSync(planFile, JSON.stringify(makePlan(w, [retireGroup(src, dst, hash, relId)])));
  const child = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgFile, planFile], {
    cwd: repo,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { src, dst, before, relId, hash, child };
}

describe('kill -9 at every boundary of a retire', () => {
  it('each crash is rolled back or finished by recovery; the kept copy is never touched, the source is whole once, and the purge empties the trash', async () => {
    let finishedNormally = false;
    let crashes = 0;
    for (let n = 1; n <= 30 && !finishedNormally; n++) {
      const w = makeApplyFixture();
      try {
        const tree = { 'a.bin': bytesFor('ka', 300_000), 'd/b.bin': bytesFor('kb', 7000), 'd/e/c.bin': bytesFor('kc', 10) };
        const { src, dst, before, relId, hash, child } = await retireInChild(w, 'movies/K', tree, { HASHALL_TEST_CRASH_AT: String(n) });
        if (child.signal !== 'SIGKILL') {
          expect(child.status, child.stderr).toBe(0);
          expect(JSON.parse(child.stdout).status).toBe('succeeded');
          finishedNormally = true;
          expect(existsSync(src)).toBe(false);
          expect(hashTreeSync(dst)).toEqual(before);
          wholeOnce(w, src, before);
          await purgeLater(w);
          continue;
        }
        crashes++;
        const common = { config: w.config, clients: singleClient(null), now: () => Date.now(), emit: () => undefined, catalog: w.catalog };
        // Recover with a window still open, so its purge keeps what the crashed run staged and the test can see it whole.
        const windowOpen = { ...w.config, safety: { ...w.config.safety, retire: { mode: 'staged' as const, observeHours: 1 } } };
        const rec = await runRecover({ ...common, config: windowOpen, command: 'test recover' });
        expect(rec.map((r) => r.status), `crash at ${n}: ${JSON.stringify(rec)}`).toEqual(rec.length ? ['recovered'] : []);
        expect(hashTreeSync(dst)).toEqual(before); // the kept copy is never touched
        wholeOnce(w, src, before); // rolled back whole, or finished (staged whole): never half a tree
        if (existsSync(src)) {
          const out = await runApply({ ...common, plan: makePlan(w, [retireGroup(src, dst, hash, relId)]), planFile: null, planHash: null, command: 'test rerun' });
          expect(out.result.status).toBe('succeeded');
          expect(existsSync(src)).toBe(false);
          wholeOnce(w, src, before);
        }
        await purgeLater(w);
        expect(hashTreeSync(dst)).toEqual(before);
      } finally {
        w.cleanup();
      }
    }
    expect(finishedNormally).toBe(true);
    expect(crashes).toBeGreaterThan(4);
  }, 600_000); // one child process per boundary; bounded by the loop count and this limit
});

describe('kill -9 right after every change a retire makes on disk, its tidy-up included', () => {
  it('recovery puts the source back whole — the emptied folders above it made again — or finishes it; never half a tree', async () => {
    let finishedNormally = false;
    let crashes = 0;
    for (let n = 1; n <= 12 && !finishedNormally; n++) {
      const w = makeApplyFixture();
      try {
        // Alone in its folder Coll, which the retire removes once it is empty (a tidy-up after the proof).
        const tree = { 'a.bin': bytesFor('ka', 30_000), 'd/b.bin': bytesFor('kb', 700) };
        const { src, dst, before, child } = await retireInChild(w, 'movies/Coll/K', tree, { HASHALL_TEST_CRASH_FS_AT: String(n) });
        const stagedAt = (run: string) => path.join(w.stash, '.hashall-trash', run, 'seeding', 'movies', 'Coll', 'K');
        const inTrash = () => trashLeft(w).filter((run) => existsSync(stagedAt(run))).map((run) => hashTreeSync(stagedAt(run)));
        if (child.signal !== 'SIGKILL') {
          expect(child.status, child.stderr).toBe(0);
          expect(JSON.parse(child.stdout).status).toBe('succeeded');
          finishedNormally = true;
          expect(existsSync(path.dirname(src))).toBe(false); // the tidy-up ran: Coll was left empty
          expect(inTrash()).toEqual([before]);
          continue;
        }
        crashes++;
        const windowOpen = { ...w.config, safety: { ...w.config.safety, retire: { mode: 'staged' as const, observeHours: 1 } } };
        const rec = await runRecover({ config: windowOpen, clients: singleClient(null), now: () => Date.now(), emit: () => undefined, catalog: w.catalog, command: 'test recover' });
        expect(rec.map((r) => r.status), `crash after change ${n}: ${JSON.stringify(rec)}`).toEqual(rec.length ? ['recovered'] : []);
        expect(hashTreeSync(dst)).toEqual(before);
        // Whole in exactly one place: back at its path (its folder made again if the tidy-up had removed it), or staged.
        if (existsSync(src)) {
          expect(hashTreeSync(src)).toEqual(before);
          expect(inTrash()).toEqual([]);
        } else expect(inTrash()).toEqual([before]);
      } finally {
        w.cleanup();
      }
    }
    expect(finishedNormally).toBe(true);
    expect(crashes).toBeGreaterThan(1);
  }, 300_000); // one child process per change; bounded by the loop count and this limit
});
