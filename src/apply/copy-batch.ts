// Runs the copy steps of move groups waiting for the disk at the same moment as one batch: each phase for all of them, one WAL fsync per phase and one set of durability fsyncs, while every group keeps its own journal entries, failure and rollback.
// Why it is as safe as one copy after the other: (1) journal before every change — each phase that writes the journal
// (the steps running, their temp names and folders; the folders' identities; the temp files' inodes) writes it for every
// copy of the batch in one transaction, and the disk phase after it runs through an FsPort that fsyncs the WAL up to
// that point before its first change (other groups' later writes do not make it fsync again: write-ahead.ts). (2) The
// phases are those of one copy (steps/copy.ts), in the same order; a crash anywhere leaves each copy of the batch with
// journaled temp names, folders and inodes only, undone by recovery group by group as for one copy. (3) A copy that
// fails stops there: its own step is journaled failed and its group rolls back alone (its undo waits for the disk slot
// the batch holds); the others go on. (4) Its group goes on to the client only after the batch's files and folders are
// durable (the shared flush, awaited by each group before its next step, as a copy's own flush was).
import type { PlanGroup } from '../plan/types.js';
import { chunkCopies, chunkDirs, chunkPlace, chunkPlan, copyDurable, copyStart, copyStep, journalCopies, journalDirs, journalPlan, oneChunk, type CopyChunk, type CopyUndo } from './steps/copy.js';
import type { StepContext } from './steps/types.js';
import type { Emit } from './events.js';
import { errorText, type StepRow } from './executor.js';
import type { FsPort } from './fs-port.js';
import type { Journal } from './journal.js';
import { proveSteps, type FilesystemGuard } from './on-filesystem.js';
import { slotBatcher, type Slots } from './schedule.js';
import { writeAheadFs, type WriteAhead } from './write-ahead.js';

/** At most this many copies per batch, and this many bytes (a batch holds at least one): bounds the work a crash leaves in flight. */
export const COPY_BATCH_GROUPS = 64;
const COPY_BATCH_BYTES = 256 * 2 ** 20;

/** A copy step that can join a batch: it copies in one journaled batch of files (small payloads; large ones run alone). */
export function copyBatchable(row: StepRow): boolean {
  return row.step.kind === 'copy' && oneChunk(row.step);
}

/** What the executor lends the batches: its journal, the disk slot, step contexts and the raw FsPort with the journal's WAL. */
export interface CopyBatchEnv {
  runId: string;
  journal: Journal;
  emit: Emit;
  guard: FilesystemGuard;
  disk: Slots;
  wal: WriteAhead;
  /** The FsPort without write-ahead (the batch adds its own, synced up to its journal writes). */
  fs: FsPort;
  /** Why no step may start now (a signal, a failure elsewhere that is not local), as the error its group is rolled back with. */
  halt(): Error | null;
  stepContext(group: PlanGroup, row: StepRow, notes: string[]): StepContext;
}

/** One group's copy step, handed to a batch. */
export interface CopyMember {
  group: PlanGroup;
  row: StepRow;
  notes: string[];
  /** The batch's durability flush is pushed here: the group awaits it before its next step or its end. */
  flushes: (() => Promise<void>)[];
}

/** How the step ended: `error` null when it is done or a no-op. */
export interface CopyOutcome {
  error: unknown;
  bytesCopied: number;
}

/**
 * `submit(member)` queues a group's copy step; the copies queued when the disk slot comes free run as one batch in it (at
 * most COPY_BATCH_GROUPS / COPY_BATCH_BYTES; the rest wait for the next turn of the slot).
 */
export function copyBatcher(env: CopyBatchEnv): (m: CopyMember) => Promise<CopyOutcome> {
  return slotBatcher(env.disk, (members: CopyMember[]) => runCopyBatch(env, members), (queued) => {
    let bytes = 0;
    let n = 0;
    for (const m of queued) {
      const size = m.row.step.kind === 'copy' ? m.row.step.bytes : 0;
      if (n >= COPY_BATCH_GROUPS || (n > 0 && bytes + size > COPY_BATCH_BYTES)) break;
      bytes += size;
      n++;
    }
    return n;
  });
}

interface Live {
  m: CopyMember;
  ctx: StepContext;
  error: unknown;
  noop: boolean;
  chunk: CopyChunk | null;
}

/** The phases of steps/copy.ts for every member, in order; a member that fails drops out of the later phases. */
async function runCopyBatch(env: CopyBatchEnv, members: CopyMember[]): Promise<CopyOutcome[]> {
  const { runId, journal } = env;
  let mark = env.wal.mark();
  // Every journal write of the batch moves the mark on; its changes fsync the WAL only up to the mark.
  const fs = writeAheadFs(env.fs, env.wal, () => mark);
  const write = (fn: () => void): void => {
    journal.inTransaction(fn);
    mark = env.wal.mark();
  };
  const all: Live[] = members.map((m) => {
    const base = env.stepContext(m.group, m.row, m.notes);
    const ctx: StepContext = {
      ...base,
      fs,
      saveUndo: (u) => {
        base.saveUndo(u);
        mark = env.wal.mark();
      },
      appendUndo: (key, entries) => {
        base.appendUndo(key, entries);
        mark = env.wal.mark();
      },
    };
    return { m, ctx, error: null, noop: false, chunk: null };
  });
  const ok = (): Live[] => all.filter((l) => l.error === null && !l.noop && l.chunk !== null);
  const fail = (l: Live, err: unknown): void => {
    l.error = err;
    env.emit({ type: 'step-failed', runId, groupId: l.m.group.id, step: l.m.row.index, kind: 'copy', error: errorText(err) });
  };
  const failed = (l: Live): void => {
    l.m.row.status = 'failed';
    journal.stepFinished(runId, l.m.group.id, l.m.row.index, 'failed', undefined, errorText(l.error));
  };

  // Reads: each copy checked (already there? source as planned?) and its folders and temp names worked out.
  const claimed = new Set<string>();
  const started: Live[] = [];
  for (const l of all) {
    const { group, row } = l.m;
    const halted = env.halt();
    if (halted) {
      l.error = halted; // not started: its step stays planned (nothing to undo)
      continue;
    }
    started.push(l);
    env.emit({ type: 'step-start', runId, groupId: group.id, step: row.index, kind: 'copy', what: copyStep.describe(row.step as never) });
    try {
      if (row.index > 0) await proveSteps(env.guard, group, [row.step]);
      if ((await copyStep.check(row.step as never, l.ctx)) === 'done') {
        l.noop = true;
        continue;
      }
      const run = await copyStart(row.step as never, l.ctx, row.undo as CopyUndo);
      l.chunk = run.chunks.length > 0 ? await chunkPlan(run, run.chunks[0]!, claimed) : null;
      if (!l.chunk) l.noop = true; // every file found whole at the target meanwhile
    } catch (err) {
      fail(l, err);
    }
  }
  // Journal, for all: each step running, then its outcome so far (a no-op, a failed check) or its folders and temp names.
  write(() => {
    for (const l of started) {
      const { group, row } = l.m;
      row.status = 'running';
      journal.stepRunning(runId, group.id, row.index, row.undo);
      if (l.error !== null) failed(l);
      else if (l.noop) {
        row.status = 'noop';
        journal.stepFinished(runId, group.id, row.index, 'noop', { reason: 'already done' }, null);
      } else journalPlan(l.chunk!);
    }
  });
  for (const l of started) {
    if (l.noop && l.error === null) env.emit({ type: 'step-done', runId, groupId: l.m.group.id, step: l.m.row.index, kind: 'copy', status: 'noop', note: 'already done' });
  }

  /** One disk phase for every copy still going; a stop asked meanwhile fails those not yet in it (they roll back). */
  const phase = async (fn: (b: CopyChunk) => Promise<void>): Promise<void> => {
    for (const l of ok()) {
      const halted = env.halt();
      try {
        if (halted) throw halted;
        await fn(l.chunk!);
      } catch (err) {
        fail(l, err);
      }
    }
  };
  const recordFailures = (): void => {
    for (const l of started) if (l.error !== null && l.m.row.status === 'running') failed(l);
  };
  await phase(chunkDirs);
  write(() => {
    recordFailures();
    for (const l of ok()) journalDirs(l.chunk!);
  });
  await phase(chunkCopies);
  write(() => {
    recordFailures();
    for (const l of ok()) journalCopies(l.chunk!);
  });
  await phase(chunkPlace);
  for (const l of ok()) {
    try {
      await copyStep.verify(l.m.row.step as never, l.ctx, l.m.row.undo);
    } catch (err) {
      fail(l, err);
    }
  }
  // Each group's files and folders durable before it goes on (one flush for the batch, run once its groups ask for it).
  const done = ok();
  let flushed: Promise<void> | null = null;
  const flush = (): Promise<void> => (flushed ??= copyDurable(done.map((l) => l.chunk!.run)));
  write(() => {
    recordFailures();
    for (const l of done) {
      l.m.row.status = 'done';
      journal.stepFinished(runId, l.m.group.id, l.m.row.index, 'done', { bytesCopied: l.chunk!.run.copied }, null);
    }
  });
  for (const l of done) {
    env.emit({ type: 'step-done', runId, groupId: l.m.group.id, step: l.m.row.index, kind: 'copy', status: 'done' });
    l.m.flushes.push(flush);
  }
  return all.map((l) => ({ error: l.error, bytesCopied: l.error === null && l.chunk ? l.chunk.run.copied : 0 }));
}
