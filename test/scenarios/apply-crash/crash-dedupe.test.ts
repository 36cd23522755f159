// kill -9 of apply during a batch of dedupe groups (several in flight) — at every journal boundary and right after every disk change (link, rename, fsync) — then recover/rerun: converges, every byte re-hashed, no temp link left.
import { singleClient } from '../../../src/clients/client-set.js';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { lstatSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runApply, runRecover } from '../../../src/reconcile/apply.js';
import { readLock } from '../../../src/apply/lock.js';
import { allToOldShape, type OldShape } from '../../support/journal-shapes.js';
import { bytesFor, dedupeGroup, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const A = bytesFor('crash-dedupe-a', 300_000);
const B = bytesFor('crash-dedupe-b', 4_000);
const C = bytesFor('crash-dedupe-c', 70_000);

/** Three groups: a keeper with two duplicates in other folders, and two pairs. */
function plan(w: ApplyFixture) {
  const p = (r: string) => path.join(w.stash, 'seeding', r);
  return makePlan(w, [
    dedupeGroup('g1', p('m/a.bin'), [p('x/a.bin'), p('y/a copy.bin')], sha256(A), A.length),
    dedupeGroup('g2', p('m/b.bin'), [p('x/b.bin')], sha256(B), B.length),
    dedupeGroup('g3', p('m/c.bin'), [p('y/c.bin')], sha256(C), C.length),
  ]);
}

/** One apply child killed (or signalled, with HASHALL_TEST_CRASH_SIGNAL) at `env`'s crash point, then recover (if asked) and a rerun; returns whether the child was stopped and how many groups it left open (in flight). */
async function crashAndConverge(
  env: Record<string, string>,
  recoverFirst: boolean,
  /** Applied to the catalog once the child is killed, before recovery (e.g. rewriting its journal into an older version's shape). */
  afterKill?: (w: ApplyFixture) => void,
): Promise<{ killed: boolean; open: number }> {
  const w = makeApplyFixture();
  try {
    const seeding = path.join(w.stash, 'seeding');
    writeTree(seeding, { 'm/a.bin': A, 'x/a.bin': A, 'y/a copy.bin': A, 'm/b.bin': B, 'x/b.bin': B, 'm/c.bin': C, 'y/c.bin': C, 'y/other.bin': bytesFor('other', 10) });
    const before = hashTreeSync(seeding);
    const cfgFile = path.join(w.root, 'config.json');
    const planFile = path.join(w.root, 'plan.json');
    writeFileSync(cfgFile, JSON.stringify(w.config));
    writeFileSync(planFile, JSON.stringify(plan(w)));
    const child = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgFile, planFile], {
      cwd: repo,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const open = (w.catalog.db.prepare(`SELECT count(*) AS n FROM run_groups WHERE status = 'running'`).get() as { n: number }).n;
    const sig = env.HASHALL_TEST_CRASH_SIGNAL;
    if (child.signal !== 'SIGKILL' && child.status !== 0 && sig) {
      // Stopped by SIGINT/SIGTERM mid-batch: the groups already swapped are finished, the others rolled back — no group
      // left open, no temp link, the lock released, every byte where it was; the run is recorded interrupted.
      expect(child.status, child.stderr).toBe(sig === 'SIGINT' ? 130 : 143);
      // (A signal at the run's last boundaries finds nothing left to stop: the run succeeded.)
      expect(['interrupted', 'succeeded']).toContain(JSON.parse(child.stdout).status);
      expect(open).toBe(0);
      expect(readLock(w.catalog.db)).toBeNull();
      expect(hashTreeSync(seeding)).toEqual(before);
      expect(hashallLeftovers(w.stash)).toEqual([]);
    } else if (child.signal !== 'SIGKILL') {
      expect(child.status, child.stderr).toBe(0);
      expect(JSON.parse(child.stdout).status).toBe('succeeded');
      expect(hashTreeSync(seeding)).toEqual(before);
      return { killed: false, open: 0 };
    } else {
      expect(readLock(w.catalog.db)).not.toBeNull();
      afterKill?.(w);
    }
    // Whatever the crash point: every path holds its bytes (a swap is atomic), at most our temp links beside them.
    const killed = hashTreeSync(seeding);
    for (const [rel, sha] of Object.entries(before)) expect(killed[rel], rel).toBe(sha);
    const common = { config: w.config, clients: singleClient(null), now: () => Date.now(), emit: () => undefined, catalog: w.catalog };
    if (recoverFirst) {
      const rec = await runRecover({ ...common, command: 'test recover' });
      if (rec[0]) expect(rec[0].status).toBe('recovered');
      expect(readLock(w.catalog.db)).toBeNull();
      expect(hashTreeSync(seeding)).toEqual(before);
      expect(hashallLeftovers(w.stash)).toEqual([]);
    }
    const rerun = () => runApply({ ...common, plan: plan(w), planFile: null, planHash: null, command: 'test rerun' });
    let out;
    try {
      out = await rerun();
    } catch (err) {
      // A recovery that moved the catalog on makes the plan made before it stale: re-plan, as a user would.
      expect((err as { exitCode?: number }).exitCode).toBe(5);
      out = await rerun();
    }
    expect(out.result.status, out.result.groups.map((g) => g.error).join('; ')).toBe('succeeded');
    expect(hashTreeSync(seeding)).toEqual(before);
    expect(hashallLeftovers(w.stash)).toEqual([]);
    const ino = (r: string) => lstatSync(path.join(seeding, r)).ino;
    expect([ino('x/a.bin'), ino('y/a copy.bin')]).toEqual([ino('m/a.bin'), ino('m/a.bin')]);
    expect(ino('x/b.bin')).toBe(ino('m/b.bin'));
    expect(ino('y/c.bin')).toBe(ino('m/c.bin'));
    expect(ino('y/other.bin')).not.toBe(ino('y/c.bin'));
    return { killed: true, open };
  } finally {
    w.cleanup();
  }
}

describe('kill -9 during dedupe groups', () => {
  it('at every journal boundary: each crash is rolled back or finished, then the rerun converges', async () => {
    let crashes = 0;
    let finished = false;
    let mostOpen = 0;
    for (let n = 1; n <= 60 && !finished; n++) {
      const r = await crashAndConverge({ HASHALL_TEST_CRASH_AT: String(n) }, n % 2 === 1);
      if (r.killed) crashes++;
      else finished = true;
      mostOpen = Math.max(mostOpen, r.open);
    }
    expect(finished).toBe(true);
    expect(crashes).toBeGreaterThan(10);
    // The three groups run as one batch: some crashes leave all three in flight, and each is rolled back or finished.
    expect(mostOpen).toBe(3);
  }, 900_000);

  it('SIGINT or SIGTERM at every journal boundary: the batch stops at its next pair, each group linked or rolled back, nothing lost; the rerun converges', async () => {
    let stops = 0;
    let finished = false;
    for (let n = 1; n <= 60 && !finished; n++) {
      const r = await crashAndConverge({ HASHALL_TEST_CRASH_AT: String(n), HASHALL_TEST_CRASH_SIGNAL: n % 2 ? 'SIGINT' : 'SIGTERM' }, false);
      if (r.killed) stops++;
      else finished = true;
    }
    expect(finished).toBe(true);
    // A signal stops the batch when it arrives before the swaps: at the run's start or at one of the batch's group
    // records (each group journaled once, its steps checked and named in the same insert). Once the swaps are made the
    // run finishes (it succeeded).
    expect(stops).toBeGreaterThanOrEqual(4);
  }, 900_000);

  it('right after every disk change (temp link, swap, directory fsync), in the middle of the batch', async () => {
    const open: number[] = [];
    let finished = false;
    for (let n = 1; n <= 30 && !finished; n++) {
      const r = await crashAndConverge({ HASHALL_TEST_CRASH_FS_AT: String(n) }, n % 2 === 0);
      if (r.killed) open.push(r.open);
      else finished = true;
    }
    expect(finished).toBe(true);
    // 4 temp links and 4 swaps, then one fsync per folder of the batch (x and y); every crash in the middle of the batch
    // leaves its three groups in flight, linked or not yet.
    expect(open).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
  }, 900_000);

  it('with the journal an older version left (plans in the rows, every earlier shape): recovery reads it, rolls back or finishes each group, and the rerun converges', async () => {
    const shapes: OldShape[] = ['columns', 'no-steps', 'whole', 'plans-whole'];
    const open: number[] = [];
    // Killed right after a temp link (1), a swap (5) and a folder fsync (9): groups in flight, linked or not yet.
    for (const [k, n] of [1, 5, 9, 5].entries()) {
      let reshaped = 0;
      const r = await crashAndConverge({ HASHALL_TEST_CRASH_FS_AT: String(n) }, k % 2 === 0, (w) => {
        reshaped = allToOldShape(w.catalog.db, shapes[k]!);
      });
      expect(r.killed).toBe(true);
      expect(reshaped).toBe(3);
      open.push(r.open);
    }
    expect(open).toEqual([3, 3, 3, 3]);
  }, 300_000);
});
