// Two concurrent applies: while one real apply process holds the lock (frozen mid-group), a second exits 4 naming it;
// once the first finishes, the lock is free again.
import { singleClient } from '../../../src/clients/client-set.js';
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { procState } from '../../../src/sandbox/owned-process.js';
import { killStray } from '../../support/stray-child.js';
import { runApply } from '../../../src/reconcile/apply.js';
import { readLock } from '../../../src/apply/lock.js';
import { bytesFor, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeTree } from '../../support/apply-fixture.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');


describe('two concurrent applies', () => {
  it('the second exits 4 naming the first (run id and pid); nothing is done twice', async () => {
    const w = makeApplyFixture();
    let childPid: number | undefined;
    try {
      const src = path.join(w.stash, 'seeding', 'C');
      writeTree(src, { 'a.bin': bytesFor('c', 100_000) });
      const dst = path.join(w.pool, 'seeding', 'C');
      const cfgFile = path.join(w.root, 'config.json');
      const planFile = path.join(w.root, 'plan.json');
      writeFileSync(cfgFile, JSON.stringify(w.config));
      writeFileSync(planFile, JSON.stringify(makePlan(w, [moveGroup('g1', w, src, dst)])));
      // Freeze the first apply right after its 3rd journal write (inside the group, lock held).
      const child = spawn(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgFile, planFile], {
        cwd: repo,
        env: { ...process.env, HASHALL_TEST_CRASH_AT: '3', HASHALL_TEST_CRASH_SIGNAL: 'SIGSTOP' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      childPid = child.pid;
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      for (let i = 0; i < 600 && procState(child.pid!) !== 'T'; i++) await new Promise((r) => setTimeout(r, 50));
      expect(procState(child.pid!)).toBe('T');
      const holder = readLock(w.catalog.db)!;
      expect(holder.pid).toBe(child.pid);

      const common = { config: w.config, clients: singleClient(null), now: () => Date.now(), emit: () => undefined, catalog: w.catalog };
      const err = await runApply({ ...common, plan: makePlan(w, [moveGroup('g1', w, src, dst)]), planFile: null, planHash: null, command: 'second' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ exitCode: 4 });
      expect((err as Error).message).toContain(holder.runId);
      expect((err as Error).message).toContain(`pid ${child.pid}`);

      process.kill(child.pid!, 'SIGCONT');
      expect(await exited).toBe(0);
      expect(JSON.parse(out).status).toBe('succeeded');
      expect(readLock(w.catalog.db)).toBeNull();
      expect(hashTreeSync(dst)).toEqual(hashTreeSync(src));
    } finally {
      // Never leave our frozen child behind if an assertion failed before it was let go.
      killStray(childPid);
      w.cleanup();
    }
  });
});
