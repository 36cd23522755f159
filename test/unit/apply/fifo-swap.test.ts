// A file swapped for a FIFO right before apply opens it (a local user who can write in a seeding folder): the open must
// not wait for a writer — which would hang the apply forever with the global lock held (a dedupe compare opens
// synchronously: not even SIGTERM would be handled) — and nothing is copied from it. The group rolls back; no byte lost.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, dedupeGroup, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, moveGroup, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { faultyFsPort } from '../../support/faulty-fs.js';

let w: ApplyFixture | null = null;
let releaser: ChildProcess | null = null;
afterEach(() => {
  if (releaser?.exitCode === null && releaser.pid) process.kill(-releaser.pid, 'SIGKILL'); // its group: the shell and its sleep
  releaser = null;
  w?.cleanup();
  w = null;
});

/**
 * Replaces `file` by a FIFO (the file moved to `aside`), and starts a separate process that, 30 s later, opens the FIFO
 * as a writer and closes it, then writes `marker`: a reader stuck in open() is let go then (so a hashall that waits
 * cannot hang the test run), and the marker tells whether apply finished only because of it.
 */
function plantFifo(file: string, aside: string, marker: string): void {
  renameSync(file, aside);
  execFileSync('mkfifo', ['-m', '0644', file]);
  releaser = spawn('sh', ['-c', 'sleep 30; exec 3<>"$1"; exec 3>&-; : > "$2"', 'release', file, marker], { stdio: 'ignore', detached: true });
}

describe('a file swapped for a FIFO right before apply opens it', () => {
  it('the copy of a move: refused as not a regular file, at once; the group rolls back, nothing copied, the moved-away file intact', async () => {
    w = makeApplyFixture();
    const src = path.join(w.stash, 'seeding', 'movies', 'S');
    writeTree(src, { 'a.bin': bytesFor('a', 20_000), 'b.bin': bytesFor('b', 30_000) });
    const before = hashTreeSync(src);
    const dst = path.join(w.pool, 'seeding', 'movies', 'S');
    const marker = path.join(w.root, 'released');
    const aside = path.join(w.stash, 'aside-a.bin');
    const fs = faultyFsPort(realFsPort(), [{ op: 'copyFileVerified', nth: 1, before: () => plantFifo(path.join(src, 'a.bin'), aside, marker) }]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(fs.fired.length).toBe(1);
    expect(existsSync(marker)).toBe(false); // finished without the releaser's help
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/not a regular file/);
    expect(existsSync(dst)).toBe(false);
    expect(sha256(readFileSync(aside))).toBe(before['a.bin']);
    expect(hashallLeftovers(w.pool)).toEqual([]);
  });

  it('the compare of a dedupe: the pair is not the same bytes, at once; the group rolls back, the keeper and the moved-away duplicate intact', async () => {
    w = makeApplyFixture();
    const dir = path.join(w.stash, 'seeding', 'd');
    const bytes = bytesFor('x', 50_000);
    writeTree(dir, { 'm/a.bin': bytes, 'x/a.bin': bytes });
    const marker = path.join(w.root, 'released');
    const aside = path.join(w.stash, 'aside-dup.bin');
    const fs = faultyFsPort(realFsPort(), [{ op: 'sameBytes', nth: 1, before: () => plantFifo(path.join(dir, 'x/a.bin'), aside, marker) }]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [dedupeGroup('g1', path.join(dir, 'm/a.bin'), [path.join(dir, 'x/a.bin')], sha256(bytes), bytes.length)]));
    expect(fs.fired.length).toBe(1);
    expect(existsSync(marker)).toBe(false);
    expect(res.groups[0]!.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/no longer hold the same bytes/);
    expect(hashTreeSync(path.join(dir, 'm'))).toEqual({ 'a.bin': sha256(bytes) });
    expect(sha256(readFileSync(aside))).toBe(sha256(bytes));
    expect(hashallLeftovers(w.stash)).toEqual([]);
  });
});
