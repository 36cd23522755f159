// A .part left by a kill -9 mid-copy, whose catalog (and journal) was then lost: after a rescan, recover removes exactly hashall's own temp files and nothing else.
import { singleClient } from '../../../src/clients/client-set.js';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApplyEvent } from '../../../src/apply/events.js';
import { runApply, runRecover } from '../../../src/reconcile/apply.js';
import { getRun } from '../../../src/apply/run-store.js';
import { openCatalog } from '../../../src/catalog/db.js';
import { scanRoots } from '../../../src/catalog/scan/scan-roots.js';
import { bytesFor, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const HOUR = 3_600_000;

/** Apply a move in a child process killed at journal boundary `n`; true when it was killed. */
function killedMove(w: ApplyFixture, n: number): boolean {
  const src = path.join(w.stash, 'seeding', 'movies', 'Movie.P');
  writeTree(src, { 'a.bin': bytesFor('pa', 400_000), 'b.bin': bytesFor('pb', 300_000) });
  const cfgFile = path.join(w.root, 'config.json');
  const planFile = path.join(w.root, 'plan.json');
  writeFileSync(cfgFile, JSON.stringify(w.config));
  writeFileSync(planFile, JSON.stringify(makePlan(w, [moveGroup('g1', w, src, path.join(w.pool, 'seeding', 'movies', 'Movie.P'))])));
  const child = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgFile, planFile], {
    cwd: repo,
    env: { ...process.env, HASHALL_TEST_CRASH_AT: String(n) },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return child.signal === 'SIGKILL';
}

describe('a .part left by kill -9, the catalog then lost', () => {
  it('is removed by the next apply after a rescan (recover keeps it while young); look-alikes and foreign-owned files stay', async () => {
    let w: ApplyFixture | null = null;
    let part: string | undefined;
    for (let n = 1; n <= 20 && !part; n++) {
      w?.cleanup();
      w = makeApplyFixture();
      expect(killedMove(w, n)).toBe(true); // the loop stops at the first boundary that leaves a .part, long before the run ends
      part = hashallLeftovers(w.pool).find((p) => p.endsWith('.part'));
    }
    expect(part).toBeDefined();
    const world = w!;
    // A copy journals its temp names per batch, so the kill may leave every temp file of the batch (here: both files).
    const parts = hashallLeftovers(world.pool).filter((p) => p.endsWith('.part')).sort();
    try {
      const dir = path.dirname(part!);
      const runId = /\.hashall-(\d{8}T\d{6}Z-[0-9a-f]{4})-/.exec(path.basename(part!))![1]!;
      // Look-alikes: not hashall's exact name; hashall's name but another owner; a symlink with hashall's name.
      writeFileSync(path.join(dir, '.hashall-notes.part'), 'a user file');
      const foreign = path.join(dir, `.hashall-${runId}-g1-0-7.part`);
      writeFileSync(foreign, 'owned by someone else');
      chownSync(foreign, 65534, 65534);
      symlinkSync(path.join(world.stash, 'seeding', 'movies', 'Movie.P', 'a.bin'), path.join(dir, `.hashall-${runId}-g1-0-8.part`));

      // The catalog is lost: a new one, rebuilt by a scan of every root.
      world.catalog.close();
      rmSync(path.dirname(world.config.catalog), { recursive: true, force: true });
      world.catalog = openCatalog(world.config.catalog);
      const roots = [...world.config.seeding.stash!, ...world.config.seeding.pool!].map((p) => ({ path: p, kind: 'seeding' as const }));
      await scanRoots(world.catalog, roots, { drift: 'metadata', filesystems: world.config.filesystems, now: () => Date.now(), hashWorkers: 1 });
      const before = { stash: hashTreeSync(world.stash), pool: hashTreeSync(world.pool) };

      const recover = async (now: number) => {
        const events: ApplyEvent[] = [];
        await runRecover({ config: world.config, clients: singleClient(null), now: () => now, catalog: world.catalog, command: 'test recover', emit: (e) => events.push(e) });
        return events.filter((e): e is Extract<ApplyEvent, { type: 'trash' }> => e.type === 'trash');
      };
      // Written a moment ago: another process could still be writing it.
      const young = await recover(Date.now());
      expect(young.map((e) => [path.basename(e.path), e.action])).toEqual([...parts.map((p) => [path.basename(p), 'kept']), [path.basename(foreign), 'kept']]);
      expect(young[0]!.message).toMatch(/changed less than an hour ago/);
      expect(young[parts.length]!.message).toMatch(/owned by uid 65534, not by hashall's user \(uid 0\)/);
      for (const p of parts) expect(existsSync(p)).toBe(true);

      // Later, at the next cron apply: the kill -9's own temp files go (noted on the run record); nothing else does.
      const events: ApplyEvent[] = [];
      const now = Date.now() + 2 * HOUR;
      const applied = await runApply({ config: world.config, clients: singleClient(null), now: () => now, catalog: world.catalog, command: 'test apply', plan: makePlan(world, []), planFile: null, planHash: null, emit: (e) => events.push(e) });
      expect(applied.result.status).toBe('succeeded');
      const later = events.filter((e): e is Extract<ApplyEvent, { type: 'trash' }> => e.type === 'trash');
      expect(later.map((e) => [path.basename(e.path), e.action])).toEqual([...parts.map((p) => [path.basename(p), 'removed']), [path.basename(foreign), 'kept']]);
      expect(later[0]!.message).toMatch(new RegExp(`a leftover temp file of run ${runId}, which the catalog does not know`));
      expect(getRun(world.catalog.db, applied.result.runId)!.notes.join('\n')).toContain(`temp sweep: removed ${parts[0]!}: a leftover temp file of run ${runId}`);
      for (const p of parts) expect(existsSync(p)).toBe(false);
      const poolRest = { ...before.pool };
      for (const p of parts) {
        expect(poolRest[path.relative(world.pool, p)]).toBeDefined();
        delete poolRest[path.relative(world.pool, p)];
      }
      expect(hashTreeSync(world.pool)).toEqual(poolRest);
      expect(hashTreeSync(world.stash)).toEqual(before.stash);
    } finally {
      world.cleanup();
    }
  }, 600_000);

  it('a directory on the way swapped for a symlink: the sweep never follows it', async () => {
    const w = makeApplyFixture();
    try {
      const runId = '20261130T120000Z-abcd';
      const dir = path.join(w.pool, 'seeding', 'movies', 'X');
      writeTree(dir, { [`.hashall-${runId}-g1-0-0.part`]: bytesFor('part', 1000) });
      await scanRoots(w.catalog, [{ path: path.join(w.pool, 'seeding'), kind: 'seeding' }], { drift: 'metadata', filesystems: w.config.filesystems, now: () => Date.now(), hashWorkers: 1 });
      // The scanned directory is swapped for a symlink to a victim holding a file of the same name and inode-unrelated content.
      const victim = path.join(w.pool, 'victim');
      writeTree(victim, { [`.hashall-${runId}-g1-0-0.part`]: bytesFor('victim', 1000) });
      renameSync(dir, `${dir}.moved`);
      symlinkSync(victim, dir);
      const before = hashTreeSync(victim);
      const events: ApplyEvent[] = [];
      await runRecover({ config: w.config, clients: singleClient(null), now: () => Date.now() + 2 * HOUR, catalog: w.catalog, command: 'test recover', emit: (e) => events.push(e) });
      const sweep = events.filter((e): e is Extract<ApplyEvent, { type: 'trash' }> => e.type === 'trash');
      expect(sweep.map((e) => e.action)).toEqual(['failed']);
      expect(sweep[0]!.message).toMatch(/symbolic link; hashall never follows it/);
      expect(hashTreeSync(victim)).toEqual(before);
    } finally {
      w.cleanup();
    }
  });

  it('a .part in a directory whose name is not UTF-8 is found and removed by its bytes', async () => {
    const w = makeApplyFixture();
    try {
      const runId = '20261130T120000Z-beef';
      const dir = Buffer.concat([Buffer.from(path.join(w.pool, 'seeding', 'movies') + '/'), Buffer.from([0x4d, 0xe9, 0x6c, 0x61])]); // "Méla" in latin-1
      mkdirSync(dir, { recursive: true });
      const part = Buffer.concat([dir, Buffer.from(`/.hashall-${runId}-g2-0-1.part`)]);
      writeFileSync(part, bytesFor('part', 500));
      writeFileSync(Buffer.concat([dir, Buffer.from('/keep.bin')]), bytesFor('keep', 500));
      await scanRoots(w.catalog, [{ path: path.join(w.pool, 'seeding'), kind: 'seeding' }], { drift: 'metadata', filesystems: w.config.filesystems, now: () => Date.now(), hashWorkers: 1 });
      const events: ApplyEvent[] = [];
      await runRecover({ config: w.config, clients: singleClient(null), now: () => Date.now() + 2 * HOUR, catalog: w.catalog, command: 'test recover', emit: (e) => events.push(e) });
      expect(events.filter((e) => e.type === 'trash').map((e) => (e as { action: string }).action)).toEqual(['removed']);
      expect(existsSync(part)).toBe(false);
      expect(existsSync(Buffer.concat([dir, Buffer.from('/keep.bin')]))).toBe(true);
    } finally {
      w.cleanup();
    }
  });
});
