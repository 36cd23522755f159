// The contract every step kind implements: check (already done? precondition broken?) → run → verify → undo, and
// what a person must do when that undo failed.
import type { CatalogDb } from '../../catalog/db.js';
import type { ClientSet } from '../../clients/client-set.js';
import type { HashallConfig } from '../../config/types.js';
import type { PlanGroup, PlanStep } from '../../plan/types.js';
import type { Emit } from '../events.js';
import type { FsPort } from '../fs-port.js';
import type { UndoData } from '../journal.js';
import type { WrittenContent } from '../written-content.js';

export interface StepContext {
  fs: FsPort;
  /** The torrent client of every configured instance; a step picks its torrent's (domain/instance.ts instanceOf). */
  clients: ClientSet;
  config: HashallConfig;
  catalog: CatalogDb;
  runId: string;
  group: PlanGroup;
  stepIndex: number;
  now: () => number;
  emit: Emit;
  /** Persist the step's undo data (committed) — call BEFORE each mutation it describes. */
  saveUndo(undo: UndoData): void;
  /**
   * Append entries to the array `undo[key]` (the step's undo object, which this pushes onto) and journal only them —
   * call BEFORE the mutations they describe. For steps over many files: constant cost per entry, where saveUndo
   * rewrites the whole record. Logged keys are left out of saveUndo's record and read back merged (journal.readUndo).
   */
  appendUndo(key: string, entries: readonly unknown[]): void;
  /** Client wait bound for a payload of `bytes` (see executor for the formula). */
  clientTimeoutMs(bytes: number): number;
  /** Human notes for the run record (e.g. "auto-management was on and is now off"). */
  note(text: string): void;
  /**
   * What `check` read that `run` of the same step may use moments later instead of asking again (the repoint keeps the
   * client's file list of its torrent here). Absent (a step run without its check): run reads for itself.
   */
  carried?: Map<string, unknown>;
  /** Aborted when apply is asked to stop: long work (a copy) ends at its next safe point with InterruptedError. Absent in undo. */
  signal?: AbortSignal;
  /**
   * Hands the step's fsyncs (`flush`) to the executor, which runs them once the step has left the disk slot and before
   * the group's next step or its end — the flushes of several groups overlap the next group's copy, and nothing of the
   * group reaches the client or is recorded done before its data is durable. A failed flush fails the group (rolled
   * back). Absent (undo, a lone step): the step awaits `flush` itself before it returns.
   */
  durableLater?(flush: () => Promise<void>): void;
  /**
   * Resolves once the data of the group's steps before (a copy's files and folders) is durable — true when it already
   * was when asked, false when this waited for it — and rejects when it cannot be made durable. Present while that data
   * is still being made durable as this step starts: its reads go on meanwhile, every change it asks for (in the client,
   * on disk) waits for it; a step that acts on what it read before awaits it first (a wait made that read old).
   */
  durable?(): Promise<boolean>;
  /**
   * Runs a client check — a recheck and the wait for its end — in one of the run's checking slots (at most
   * `apply.parallelRechecks`, bounded by the client's own limit, at once across the groups in flight). Absent (undo,
   * a lone step): the check runs directly (an undo runs in a checking slot as a whole).
   */
  checking?<T>(fn: () => Promise<T>): Promise<T>;
  /** The run's record of the files its copies wrote and proved, for the refresh after the group (absent: it reads them). */
  written?: WrittenContent;
}

export interface StepOutcome {
  status: 'done' | 'noop';
  result?: unknown;
  bytesCopied?: number;
  bytesFreed?: number;
}

export interface StepHandler<S extends PlanStep> {
  /** Human one-liner for progress output. */
  describe(step: S): string;
  /** What a person must do when the automatic undo failed (the run record and `apply` show it), from the journaled undo data. */
  manualUndo(step: S, undo: UndoData): string;
  /** 'done' = nothing to do (no-op); 'todo' = run it; throws when a precondition is broken. */
  check(step: S, ctx: StepContext): Promise<'done' | 'todo'>;
  /** Perform the step, journaling undo data before each mutation. `undo` starts empty and is mutated + saved. */
  run(step: S, ctx: StepContext, undo: UndoData): Promise<StepOutcome>;
  /** Prove the effect by reading the world back; throws when it is not there. */
  verify(step: S, ctx: StepContext, undo: UndoData): Promise<void>;
  /**
   * Reverse what `run` did, using only journaled undo data (also after a crash, in another process). Must be
   * idempotent and remove only what this step created. Returns notes; throws when a person must act.
   */
  undo(step: S, ctx: Omit<StepContext, 'saveUndo' | 'appendUndo'> & { saveUndo?: (u: UndoData) => void }, undo: UndoData): Promise<string[]>;
}
