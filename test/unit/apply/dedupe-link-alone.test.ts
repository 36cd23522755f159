// The dedupe-link step run on its own, as the step contract allows outside a batch (check → run → verify, and undo of a run cut short), on a real tmpfs.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, lstatSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { dedupeLinkStep } from '../../../src/apply/steps/dedupe-link.js';
import type { StepContext } from '../../../src/apply/steps/types.js';
import type { UndoData } from '../../../src/apply/journal.js';
import type { DedupeLinkStep, PlanGroup } from '../../../src/plan/types.js';
import { realFsPort, type FsPort } from '../../../src/apply/fs-port.js';
import { faultyFsPort } from '../../support/faulty-fs.js';
import { bytesFor, dedupeGroup, dedupePairOnStash, hashallLeftovers, hashTreeSync, makeApplyFixture, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { testDeps } from '../../support/apply-deps.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

function pair() {
  w = makeApplyFixture();
  const data = bytesFor('alone', 200_000);
  const { keeper, dup, group } = dedupePairOnStash(w, data);
  const step = group.steps[0] as DedupeLinkStep;
  return { data, keeper, dup, group, step };
}

interface Saved {
  undo: UndoData;
  /** Whether the temp name existed on disk when the undo data was saved, and the duplicate path's inode then. */
  tmpExisted: boolean;
  dupIno: number;
}

/** A step context as the executor gives a lone step; every saveUndo is recorded with the disk's state at that moment. */
function context(group: PlanGroup, fs: FsPort = realFsPort()): { ctx: StepContext; saved: Saved[] } {
  const saved: Saved[] = [];
  const dupPath = (group.steps[0] as DedupeLinkStep).duplicate.path;
  const d = testDeps(w, { fs });
  const ctx: StepContext = {
    fs,
    clients: d.clients,
    config: w.config,
    catalog: w.catalog,
    runId: d.runId,
    group,
    stepIndex: 0,
    now: d.now,
    emit: d.emit,
    saveUndo: (undo) => saved.push({ undo: structuredClone(undo), tmpExisted: typeof undo.tmp === 'string' && existsSync(undo.tmp), dupIno: lstatSync(dupPath).ino }),
    appendUndo: () => {
      throw new Error('a dedupe-link appends no undo entries');
    },
    clientTimeoutMs: () => 10_000,
    note: () => undefined,
  };
  return { ctx, saved };
}

describe('dedupe-link on its own', () => {
  it('check → run → verify links the pair, its temp name journaled before the link, and reports the read-back; checked again it is done', async () => {
    const { data, keeper, dup, group, step } = pair();
    const { ctx, saved } = context(group);
    expect(await dedupeLinkStep.check(step, ctx)).toBe('todo');
    const undo: UndoData = {};
    const out = await dedupeLinkStep.run(step, ctx, undo);
    await dedupeLinkStep.verify(step, ctx, undo);
    expect(saved).toEqual([{ undo: { tmp: undo.tmp, keeperIno: step.keeper.ino }, tmpExisted: false, dupIno: step.duplicate.ino }]);
    const k = lstatSync(keeper);
    expect(lstatSync(dup).ino).toBe(k.ino);
    expect(out).toMatchObject({ status: 'done', bytesFreed: data.length, result: { ino: k.ino, nlink: 2, oldIno: step.duplicate.ino } });
    expect(await dedupeLinkStep.check(step, ctx)).toBe('done');
    // Undo after the swap: the path holds the keeper's inode, the same bytes; nothing of the step is left to remove.
    await dedupeLinkStep.undo(step, ctx, undo);
    expect(hashTreeSync(path.join(w.stash, 'seeding'))).toEqual({ 'a/f.bin': sha256(data), 'b/f.bin': sha256(data) });
    expect(hashallLeftovers(w.stash)).toEqual([]);
  });

  it('a run that fails at the swap leaves its journaled temp link, which undo removes (and only it): the duplicate keeps its own inode and bytes', async () => {
    const { data, keeper, dup, group, step } = pair();
    const before = lstatSync(dup).ino;
    const { ctx, saved } = context(group, faultyFsPort(realFsPort(), [{ op: 'rename', nth: 1, code: 'EIO' }]));
    expect(await dedupeLinkStep.check(step, ctx)).toBe('todo');
    const undo: UndoData = {};
    await expect(dedupeLinkStep.run(step, ctx, undo)).rejects.toThrow();
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ tmpExisted: false, dupIno: before });
    const tmp = undo.tmp as string;
    expect(lstatSync(tmp).ino).toBe(lstatSync(keeper).ino); // the temp link was made, the swap was not
    await dedupeLinkStep.undo(step, { ...ctx, fs: realFsPort() }, undo);
    expect(existsSync(tmp)).toBe(false);
    expect(lstatSync(dup).ino).toBe(before);
    expect(hashTreeSync(path.join(w.stash, 'seeding'))).toEqual({ 'a/f.bin': sha256(data), 'b/f.bin': sha256(data) });
    expect(hashallLeftovers(w.stash)).toEqual([]);
    // Undo again (recovery after a crash may repeat it): nothing more to do, nothing removed.
    await dedupeLinkStep.undo(step, { ...ctx, fs: realFsPort() }, undo);
    expect(lstatSync(dup).ino).toBe(before);
    expect(lstatSync(keeper).nlink).toBe(1);
  });

  it('the folder of the duplicate swapped, between a crash and its undo, for a symlink to a folder of a user holding a link of the keeper by the temp name: nothing is removed through it', async () => {
    w = makeApplyFixture();
    chmodSync(w.root, 0o755);
    const data = bytesFor('alone', 200_000);
    const seeding = path.join(w.stash, 'seeding');
    writeTree(seeding, { 'a/f.bin': data, 'b/f.bin': data });
    execFileSync('chown', ['-R', '65534:65534', seeding]); // the client's files and folders
    const keeper = path.join(seeding, 'a', 'f.bin');
    const group = dedupeGroup('d1', keeper, [path.join(seeding, 'b', 'f.bin')], sha256(data), data.length);
    const step = group.steps[0] as DedupeLinkStep;
    const { ctx } = context(group, faultyFsPort(realFsPort(), [{ op: 'rename', nth: 1, code: 'EIO' }]));
    const undo: UndoData = {};
    await expect(dedupeLinkStep.run(step, ctx, undo)).rejects.toThrow(); // the temp link made, the swap not: as a crash leaves it
    const tmp = path.basename(undo.tmp as string);
    execFileSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', 'sh', '-c', `mkdir theirs && ln a/f.bin 'theirs/${tmp}' && mv b b.moved && ln -s theirs b`], { cwd: seeding, stdio: 'inherit' });
    const notes = await dedupeLinkStep.undo(step, { ...ctx, fs: realFsPort() }, undo);
    expect(lstatSync(path.join(seeding, 'theirs', tmp)).ino).toBe(lstatSync(keeper).ino); // theirs, untouched
    expect(lstatSync(path.join(seeding, 'b.moved', tmp)).ino).toBe(lstatSync(keeper).ino); // moved away with its folder: the temp sweep's
    expect(notes.join('\n')).toMatch(/seeding\/b is a symbolic link/);
    expect(hashTreeSync(path.join(seeding, 'b.moved'))).toEqual({ 'f.bin': sha256(data), [tmp]: sha256(data) });
    expect(readFileSync(keeper)).toEqual(data);
  });
});
