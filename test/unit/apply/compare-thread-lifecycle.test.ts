// The compare thread an apply starts for its dedupe compares ends with the run (runApply owns it), and a port closed once compares again on a new thread.
import { afterEach, describe, expect, it } from 'vitest';
import { lstatSync, readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { singleClient } from '../../../src/clients/client-set.js';
import { runApply } from '../../../src/reconcile/apply.js';
import { bytesFor, dedupeGroup, makeApplyFixture, makePlan, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';

let w: ApplyFixture | null = null;
afterEach(() => {
  w?.cleanup();
  w = null;
});

/** Threads of this process now (a worker thread is one; libuv's pool threads are all made at its first use). */
const threads = (): number => readdirSync('/proc/self/task').length;

describe('the compare thread of an apply', () => {
  it('is ended when runApply returns: no thread of the run is left in the process', async () => {
    w = makeApplyFixture();
    const seeding = path.join(w.stash, 'seeding');
    const a = bytesFor('lifecycle-a', 30_000);
    writeTree(seeding, { 'm/a.bin': a, 'x/a.bin': a });
    const p = (r: string) => path.join(seeding, r);
    await stat(seeding); // libuv's pool is up before the count (its threads stay)
    const before = threads();
    const out = await runApply({
      config: w.config,
      clients: singleClient(null),
      now: () => Date.now(),
      emit: () => undefined,
      catalog: w.catalog,
      plan: makePlan(w, [dedupeGroup('g1', p('m/a.bin'), [p('x/a.bin')], sha256(a), a.length)]),
      planFile: null,
      planHash: null,
      command: 'hashall apply',
    });
    expect(out.result.groups.map((g) => g.status)).toEqual(['done']);
    expect(lstatSync(p('x/a.bin')).ino).toBe(lstatSync(p('m/a.bin')).ino);
    expect(threads()).toBe(before);
  });

  it('a port closed compares again on a new thread, and close ends that one too', async () => {
    w = makeApplyFixture();
    const a = bytesFor('lifecycle-b', 20_000);
    writeTree(w.stash, { 'k.bin': a, 'd.bin': a });
    const [k, d] = ['k.bin', 'd.bin'].map((n) => path.join(w!.stash, n));
    await stat(w.stash);
    const before = threads();
    const fs = realFsPort(undefined, { compares: true });
    const ino = (f: string) => lstatSync(f).ino;
    for (let round = 0; round < 2; round++) {
      const same = await fs.sameBytes(k!, d!, { a: ino(k!), b: ino(d!), size: a.length });
      expect(same?.a.ino).toBe(ino(k!));
      expect(threads()).toBe(before + 1);
      await fs.close();
      expect(threads()).toBe(before);
    }
  });
});
