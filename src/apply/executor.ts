// Executes a plan group by group: journal → check → run → verify per step; rollback of the group on failure; guard at the end.
// Invariants: never re-decide (a step may become a no-op, never another action); every mutation is journaled first;
// a failed group is undone in reverse; a failed undo stops the run and records what a person must do.
import { batcher, type BatchAnswers } from '../clients/batch.js';
import { hasContentPath, stuckCheckMs, waitCheckOver, waitForState } from '../clients/confirm.js';
import { clientSet, type ClientSet } from '../clients/client-set.js';
import { instanceOf, torrentKey, torrentLabel } from '../domain/instance.js';
import { setDurability, withWalCheckpointEvery, type CatalogDb } from '../catalog/db.js';
import type { TorrentState } from '../clients/types.js';
import type { HashallConfig } from '../config/types.js';
import { ClientError, HashallError, InterruptedError, errorText } from '../errors.js';
import type { Plan, PlanGroup, PlanStep } from '../plan/types.js';
import { expandPlan } from './plan-expand.js';
import { recordDedupeGroups, recordGroupOutcome, recordMovedGroups, type DedupeDone, type MovedDone, type RescanRoot } from './bookkeeping.js';
import type { Emit } from './events.js';
import type { FsPort } from './fs-port.js';
import { Journal, type RunIdentity, type RunStatus, type UndoData } from './journal.js';
import { filesystemGuard, proveSteps, stepPlaces } from './on-filesystem.js';
import { actionableGroups, preflight } from './preflight.js';
import { checkGroupScope } from './scope.js';
import { clientPhaseWidth, recheckWidth, slotBatcher, Slots, overlaps, waitsForClient } from './schedule.js';
import { handlerFor } from './steps/index.js';
import { WrittenContent } from './written-content.js';
import type { StepContext } from './steps/types.js';
import { clientChangesAfter, fsChangesAfter, writeAhead, writeAheadClient, writeAheadFs } from './write-ahead.js';
import { batchable, DEDUPE_BATCH_GROUPS, runDedupeBatch, type DedupeBatchEnv } from './dedupe-batch.js';
import { copyBatchable, copyBatcher } from './copy-batch.js';
import { isBusyPhase, isSettledHealthy } from '../domain/torrent-phase.js';


export interface ApplyDeps {
  catalog: CatalogDb;
  config: HashallConfig;
  /** Every configured instance's client (a repoint step uses its torrent's instance). */
  clients: ClientSet;
  fs: FsPort;
  now: () => number;
  runId: string;
  emit: Emit;
  identity: RunIdentity;
  rescanRoot?: RescanRoot;
  /** Called after every committed journal write (test-only crash hook: see crash-hook.ts). */
  onBoundary?: (what: string) => void;
  /** Replaces the fsync of the journal's WAL before each change (tests record the order; see write-ahead.ts). */
  syncJournal?: (catalog: CatalogDb) => void;
  /** Bound for client waits on a payload of `bytes`; default {@link defaultClientTimeoutMs}. */
  clientTimeoutMs?: (bytes: number) => number;
  /** Bound for the final guard waiting out `checking`/`moving` states (default 10 minutes). */
  guardTimeoutMs?: number;
  /** Runs once the run record exists, before the first group (runApply in src/reconcile/apply.ts purges old trash here, noting it on the record). */
  beforeGroups?: () => Promise<void>;
  /**
   * Aborted when a person asks apply to stop (SIGINT/SIGTERM). Checked at safe points: before each group and step, and
   * between copy chunks. A group with steps left is rolled back; one whose steps are all done is finished. Rollback
   * itself never stops. The aborted signal's `reason` names the signal.
   */
  stop?: AbortSignal;
}

export interface ApplyOptions {
  /** Skip the stale-plan checks (only for a plan already checked by the caller). */
  skipPreflight?: boolean;
}

export interface GroupResult {
  id: string;
  title: string;
  action: string;
  status: 'done' | 'rolled-back' | 'needs-attention' | 'skipped';
  error: string | null;
  bytesCopied: number;
  bytesFreed: number;
}

export interface RunResult {
  runId: string;
  status: RunStatus;
  groups: GroupResult[];
  bytesCopied: number;
  bytesFreed: number;
  attention: string[];
  guardProblems: string[];
  notes: string[];
}

/**
 * Client waits scale with the payload: 2 minutes plus 1 second per 50 MB (a recheck reads every byte; qBittorrent
 * also schedules checks at a ~1 s cadence, see research §6).
 */
export function defaultClientTimeoutMs(bytes: number): number {
  return 120_000 + Math.ceil(bytes / 50_000);
}

/** Failures that are not local to one group: the client is unreachable or refuses us. */
export function isFatal(err: unknown): boolean {
  return err instanceof ClientError && (err.kind === 'network' || err.kind === 'auth');
}

// errorText lives in src/errors.ts (reconcile/notify.ts needs it without loading the executor); re-exported for apply/*.
export { errorText };

/** What a person must do when the automatic undo of a step failed (each step kind's handler says it). */
export function manualUndo(step: PlanStep, undo: UndoData): string {
  return handlerFor(step).manualUndo(step, undo);
}

export interface StepRow {
  index: number;
  step: PlanStep;
  status: string;
  undo: UndoData;
}

export type BaseCtx = Omit<StepContext, 'saveUndo' | 'appendUndo' | 'stepIndex' | 'group' | 'note'>;

/**
 * Undo the steps of a group in reverse (those running, done or failed; no-ops changed nothing). Returns the notes and,
 * when an undo failed, what a person must do (and stops there).
 */
export async function rollbackGroup(
  base: BaseCtx,
  journal: Journal,
  runId: string,
  group: PlanGroup,
  steps: StepRow[],
  /** Runs each undo in the slot its step kind uses (apply with several groups in flight); by default directly. */
  serialize: <T>(step: PlanStep, fn: () => Promise<T>) => Promise<T> = (_step, fn) => fn(),
): Promise<{ ok: boolean; notes: string[]; attention: string[] }> {
  const notes: string[] = [];
  for (const s of [...steps].sort((a, b) => b.index - a.index)) {
    if (!['running', 'done', 'failed'].includes(s.status)) continue;
    const h = handlerFor(s.step);
    try {
      const ctx = { ...base, group, stepIndex: s.index, note: (t: string) => notes.push(t) };
      notes.push(...(await serialize(s.step, () => h.undo(s.step, ctx, s.undo))));
      journal.stepUndone(runId, group.id, s.index, 'undone', null);
      base.emit({ type: 'undo', runId, groupId: group.id, step: s.index, kind: s.step.kind, status: 'undone' });
    } catch (err) {
      const msg = errorText(err);
      journal.stepUndone(runId, group.id, s.index, 'undo-failed', `undo failed: ${msg}`);
      base.emit({ type: 'undo', runId, groupId: group.id, step: s.index, kind: s.step.kind, status: 'undo-failed', error: msg });
      const attention = [`group ${group.id} (${group.title}), step ${s.index} (${s.step.kind}): automatic undo failed (${msg}). To do by hand: ${manualUndo(s.step, s.undo)}`];
      for (const rest of steps.filter((x) => x.index < s.index && ['running', 'done', 'failed'].includes(x.status))) {
        attention.push(`then step ${rest.index} (${rest.step.kind}): ${manualUndo(rest.step, rest.undo)}`);
      }
      return { ok: false, notes, attention };
    }
  }
  return { ok: true, notes, attention: [] };
}

/**
 * The guard: no torrent of the run may be downloading, missing files, erroring, incomplete or gone from its client.
 * Every torrent is read (and waited for) at once: an adapter that batches reads answers them with one call, where one
 * read after another made a run of 200 torrents wait ~0.4 s. Problems are named in the order of `torrents`.
 */
export async function guardTorrents(clients: ClientSet, torrents: readonly { client?: string; hash: string }[], timeoutMs: number): Promise<string[]> {
  const each = await Promise.allSettled(torrents.map((ref) => guardOne(clients, ref, timeoutMs)));
  const failed = each.find((e): e is PromiseRejectedResult => e.status === 'rejected');
  if (failed) throw failed.reason;
  return each.flatMap((e) => (e.status === 'fulfilled' && e.value !== null ? [e.value] : []));
}

/** How long the guard reads again a torrent whose state its adapter cannot name yet, before naming it a problem. */
const UNKNOWN_SETTLE_MS = 15_000;

/** One torrent's guard problem, or null when it is settled and healthy (a client that cannot be reached throws). */
async function guardOne(clients: ClientSet, ref: { client?: string; hash: string }, timeoutMs: number): Promise<string | null> {
  const client = clients.get(instanceOf(ref));
  const h = ref.hash;
  // The waits below poll its state alone; where its content is comes from this first read.
  const first = await client.getTorrent(h);
  let t: TorrentState | null = first;
  if (t && isBusyPhase(t.phase)) {
    // A check sitting at progress 0 with nothing changing is qBittorrent 4.5's stuck check (clients/confirm.ts): no wait
    // ends it, so it is named once that has lasted half the bound (at most 2 min: four times the window a recheck's wait
    // allows, since a check merely queued behind the user's own checks looks the same) — the guard only reads; what
    // ends it is the user's to do.
    const window = Math.min(timeoutMs / 2, 4 * stuckCheckMs(timeoutMs));
    let stuck = false;
    try {
      ({ t, stuck } = await waitCheckOver(client, h, 'finish checking/moving', { timeoutMs }, { stuckAfterMs: window, endStuck: false }));
    } catch (err) {
      if (isFatal(err)) throw err;
      return `${t.name} (${torrentLabel(ref)}) is still ${t.rawState} after ${Math.round(timeoutMs / 1000)} s`;
    }
    if (stuck) {
      return `${t.name} (${torrentLabel(ref)}) is stuck at ${t.rawState}, progress 0 (nothing changed for ${Math.round(window / 1000)} s; qBittorrent 4.5 does not end such a check by itself): pause it, then recheck it in the client`;
    }
  }
  if (t && t.phase === 'unknown') {
    // A state the adapter cannot name yet (Deluge between libtorrent pausing or resuming a torrent — its queue does —
    // and its own state catching up) settles within seconds: read it again a while before calling it a problem.
    try {
      t = await waitForState(client, h, (x) => x.phase !== 'unknown', { timeoutMs: Math.min(timeoutMs, UNKNOWN_SETTLE_MS), intervalMs: 200, what: 'a known state' });
    } catch (err) {
      if (isFatal(err)) throw err;
      t = await client.getTorrent(h);
    }
  }
  if (!t) return `${h} of client "${instanceOf(ref)}" is no longer in the client (removed during the run, or the client did not answer for it)`;
  // Not checking or moving any more (waited for above): settled and healthy, or a problem.
  return isSettledHealthy(t) ? null : `${t.name} (${torrentLabel(ref)}) is ${t.rawState} at progress ${t.progress} in ${hasContentPath(t) ? t.contentPath : (first?.contentPath ?? t.savePath)}`;
}

/** One width for every instance: the smallest any of them allows (a client slot may be taken by any instance's recheck). */
async function sharedRecheckWidth(config: HashallConfig, clients: ClientSet): Promise<{ width: number; note: string | null }> {
  const each = await Promise.all(clients.names.map((n) => recheckWidth(config, clients.get(n))));
  const notes = each.flatMap((e) => (e.note === null ? [] : [e.note]));
  return { width: Math.min(...each.map((e) => e.width)), note: notes.length > 0 ? notes.join('; ') : null };
}

/**
 * WAL pages between automatic checkpoints while apply journals (64 MiB of 4 KiB pages; SQLite's default is 1,000): a
 * dedupe run of 2,000 groups writes ~3,000 pages and checkpointed twice in the middle (each copies the pages back and
 * fsyncs the database: 30–130 ms on a busy disk). Durability is unchanged: the write-ahead rule fsyncs the WAL itself
 * (write-ahead.ts); the checkpoint comes when the catalog is closed, or at the next writer's commit past the default.
 */
const APPLY_WAL_PAGES = 16_384;

export function applyPlan(deps: ApplyDeps, planned: Plan, opts: ApplyOptions = {}): Promise<RunResult> {
  return withWalCheckpointEvery(deps.catalog.db, APPLY_WAL_PAGES, () => runPlan(deps, planned, opts));
}

async function runPlan(deps: ApplyDeps, planned: Plan, opts: ApplyOptions): Promise<RunResult> {
  // The per-file lists a plan leaves to the catalog, read back at its serial (stale, exit 5, when the catalog changed).
  const plan = expandPlan(deps.catalog, planned);
  if (!opts.skipPreflight) await preflight(plan, deps);
  setDurability(deps.catalog.db, 'full');
  const journal = new Journal(deps.catalog.db, deps.now, deps.onBoundary);
  const runId = deps.runId;
  const groups = actionableGroups(plan);
  const clientTimeoutMs = deps.clientTimeoutMs ?? defaultClientTimeoutMs;
  journal.startRun({
    id: runId,
    startedAt: deps.now(),
    ...deps.identity,
    configHash: deps.config.configHash,
    catalogSerial: deps.catalog.serial(),
  });
  deps.emit({ type: 'run-start', runId, groups: groups.length, planFile: deps.identity.planFile });
  await deps.beforeGroups?.();
  // From here journal writes commit at once (a kill -9 loses none) and are fsynced together right before the next
  // change on disk or in the client — the write-ahead rule — instead of one fsync each (write-ahead.ts).
  setDurability(deps.catalog.db, 'normal');
  const wal = writeAhead(deps.catalog, deps.syncJournal);
  const guard = filesystemGuard({ catalog: deps.catalog, config: deps.config, fs: deps.fs });
  const base: BaseCtx = {
    fs: writeAheadFs(deps.fs, wal),
    clients: clientSet(deps.clients.names.map((n) => [n, writeAheadClient(deps.clients.get(n), wal)] as const)),
    config: deps.config,
    catalog: deps.catalog,
    runId,
    now: deps.now,
    emit: deps.emit,
    clientTimeoutMs,
    written: new WrittenContent(),
  };
  const attention: string[] = [];
  const notes: string[] = [];
  let fatal = null as string | null; // set by the closures below (TS would narrow a plain null)
  let stop = false;
  const stopped = (): string | null => (deps.stop?.aborted ? `interrupted by ${String(deps.stop.reason ?? 'a signal')}` : null);
  let cutShort = false;

  // Groups that repoint torrents overlap: while up to `width` of them wait for the client (repoint + recheck), the next
  // one copies. Disk steps (copy, link, dedupe, retire, their undo and the catalog bookkeeping) run one at a time, in the
  // order groups ask for them; every other group runs alone (see schedule.ts). Each group keeps its own journal
  // entries, verification and rollback; the lock stays global.
  const sched = deps.clients.names.length > 0 && groups.filter(overlaps).length > 1 ? await sharedRecheckWidth(deps.config, deps.clients) : { width: 1, note: null };
  if (sched.note) notes.push(sched.note);
  const disk = new Slots(1);
  // `width` checks at once (checkSlots: a recheck and the wait for its end). Twice as many groups in their client phase
  // (clientSlots): while the checks run, as many groups are paused and moved, each ready to ask for its recheck the
  // moment a slot frees — qBittorrent starts queued checks in a pass about once a second, so a group that still had to
  // pause and move when a slot freed missed passes. The resume comes after the check, outside its slot.
  const clientSlots = new Slots(clientPhaseWidth(sched.width));
  const checkSlots = new Slots(sched.width);
  const slotFor = (step: PlanStep): Slots => (waitsForClient(step) ? clientSlots : disk);
  // An undo of a client step runs in a checking slot as a whole (it may wait out a check and ask for one).
  const serialize = <T>(step: PlanStep, fn: () => Promise<T>): Promise<T> => (waitsForClient(step) ? clientSlots.run(() => checkSlots.run(fn)) : disk.run(fn));
  const byIndex: (GroupResult | undefined)[] = [];

  const finish = (gi: number, group: PlanGroup, status: GroupResult['status'], error: string | null, bytesCopied: number, bytesFreed: number): void => {
    byIndex[gi] = { id: group.id, title: group.title, action: group.action, status, error, bytesCopied, bytesFreed };
  };
  /** Why no step may start now, as the error its group is rolled back with (a signal, or another group's failure that is not local); null when it may. */
  const halt = (): Error | null => {
    // A signal: steps are left, so the group is rolled back (a group whose steps all ran is finished).
    if (stopped()) return new InterruptedError(`${stopped()}; the group is rolled back`);
    // Another group in flight hit a failure that is not local (the client unreachable, an undo that failed): no group
    // goes on into it; this one is rolled back here, as a signal would.
    if (stop) return new HashallError(`not continued: ${fatal ?? 'the run stopped'}; the group is rolled back`);
    return null;
  };
  const stepContext = (group: PlanGroup, row: StepRow, groupNotes: string[], flushes?: (() => Promise<void>)[]): StepContext => {
    const logged = new Set<string>();
    // Object.assign, not a spread: V8 took ~20 µs per `{ ...base, … }` of this shape (a dedupe batch makes one per pair).
    return Object.assign({}, base, flushes ? { durableLater: (flush: () => Promise<void>) => void flushes.push(flush) } : {}, {
      carried: new Map(),
      checking: (fn) => checkSlots.run(fn),
      signal: deps.stop,
      group,
      stepIndex: row.index,
      saveUndo: (u) => journal.stepUndo(runId, group.id, row.index, u, logged),
      appendUndo: (key, entries) => {
        logged.add(key);
        const list = Array.isArray(row.undo[key]) ? (row.undo[key] as unknown[]) : (row.undo[key] = []);
        journal.stepUndoAppend(runId, group.id, row.index, key, entries);
        list.push(...entries);
      },
      note: (t: string) => groupNotes.push(t),
    } satisfies Partial<StepContext>);
  };
  /**
   * The step's client calls wait for the journal only up to the step's own last write (its running record, then each
   * undo record it saves before a change): the write-ahead rule for its changes. Other groups' later writes describe
   * their own changes and are synced before those; a repoint's pause, move, recheck and resume no longer each wait
   * for an fsync of whatever the groups in flight wrote meanwhile. Called right after the step's running record.
   */
  const ownClientCalls = (ctx: StepContext): StepContext => {
    let mark = wal.mark();
    return {
      ...ctx,
      clients: clientSet(deps.clients.names.map((n) => [n, writeAheadClient(deps.clients.get(n), wal, () => mark)] as const)),
      saveUndo: (u) => {
        ctx.saveUndo(u);
        mark = wal.mark();
      },
      appendUndo: (key, entries) => {
        ctx.appendUndo(key, entries);
        mark = wal.mark();
      },
    };
  };
  /**
   * The step's changes (in the client and on disk) wait for `durable`, the data of the group's step before being made
   * durable (StepContext.durable); its reads (a repoint's check: the torrent, its file list, the files at the target) go
   * on meanwhile. A failed flush fails the step's first change, which is not made.
   */
  const afterDurable = (ctx: StepContext, durable: { done: Promise<void>; settled: () => boolean } | null): StepContext => {
    if (durable === null) return ctx;
    const gate = (): Promise<void> => durable.done;
    return {
      ...ctx,
      durable: async () => {
        const already = durable.settled();
        await durable.done;
        return already;
      },
      fs: fsChangesAfter(ctx.fs, gate),
      clients: clientSet(ctx.clients.names.map((n) => [n, clientChangesAfter(ctx.clients.get(n), gate)] as const)),
    };
  };
  /** Every step succeeded: the catalog bookkeeping and the group's end, in one transaction. */
  const endDone = async (gi: number, group: PlanGroup, rows: StepRow[], bytes: { copied: number; freed: number }, groupNotes: string[]): Promise<void> => {
    const markDone = () => journal.finishGroup(runId, group.id, 'done', { bytesCopied: bytes.copied, bytesFreed: bytes.freed, notes: groupNotes });
    const changed = rows.some((r) => r.status === 'done');
    // Groups in flight that moved torrents and end at the same moment: their rescans and rows together (recordMovedGroups).
    const more = (group.action === 'move' || group.action === 'reuse') && overlaps(group) ? await recordMoved({ group, changed, markDone }) : await disk.run(() =>
      recordGroupOutcome(deps.catalog, group, {
        runId,
        now: deps.now(),
        changed,
        rescanRoot: deps.rescanRoot,
        written: base.written,
        markDone,
        refreshFailed: (path, error) => deps.emit({ type: 'refresh-failed', runId, groupId: group.id, path, error }),
      }),
    );
    groupNotes.push(...more);
    finishDone(gi, group, bytes, groupNotes);
  };
  /** A group recorded done (its bookkeeping committed): its result and event (to `emit`: a dedupe batch emits its events together). */
  const finishDone = (gi: number, group: PlanGroup, bytes: { copied: number; freed: number }, groupNotes: string[], emit: Emit = deps.emit): void => {
    notes.push(...groupNotes);
    finish(gi, group, 'done', null, bytes.copied, bytes.freed);
    emit({ type: 'group-done', runId, groupId: group.id, status: 'done' });
  };
  /** The bookkeeping of the move/reuse groups queued for the disk slot together, as one (at most 256 groups). */
  const recordMoved = slotBatcher(
    disk,
    async (items: MovedDone[]): Promise<string[][]> => {
      const byGroup = await recordMovedGroups(deps.catalog, items, {
        runId,
        now: deps.now(),
        rescanRoot: deps.rescanRoot,
        written: base.written,
        refreshFailed: (groupId, path, error) => deps.emit({ type: 'refresh-failed', runId, groupId, path, error }),
      });
      return items.map((d) => byGroup.get(d.group.id) ?? []);
    },
    (queued) => Math.min(queued.length, 256),
  );
  /** A dedupe batch's bookkeeping: every done group of it in one transaction (see recordDedupeGroups). */
  const recordDone = (done: DedupeDone[]): Promise<Map<string, string[]>> =>
    disk.run(() =>
      recordDedupeGroups(deps.catalog, done, {
        now: deps.now(),
        rescanRoot: deps.rescanRoot,
        refreshFailed: (groupId, path, error) => deps.emit({ type: 'refresh-failed', runId, groupId, path, error }),
      }),
    );
  /** A step failed (or the run stops): undo the group's steps in reverse; a failed undo stops the run. */
  const endFailed = async (gi: number, group: PlanGroup, rows: StepRow[], failure: unknown, groupNotes: string[]): Promise<void> => {
    const error = errorText(failure);
    const rb = await rollbackGroup(base, journal, runId, group, rows, serialize);
    notes.push(...groupNotes, ...rb.notes);
    if (!rb.ok) {
      attention.push(...rb.attention);
      journal.addAttention(runId, rb.attention);
      journal.finishGroup(runId, group.id, 'needs-attention', { error, notes: rb.notes });
      finish(gi, group, 'needs-attention', error, 0, 0);
      deps.emit({ type: 'group-done', runId, groupId: group.id, status: 'needs-attention', error });
      stop = true;
      fatal ??= `stopped after group ${group.id}: its rollback failed`;
      return;
    }
    journal.finishGroup(runId, group.id, 'rolled-back', { error, notes: rb.notes });
    if (failure instanceof InterruptedError) cutShort = true;
    finish(gi, group, 'rolled-back', error, 0, 0);
    deps.emit({ type: 'group-done', runId, groupId: group.id, status: 'rolled-back', error });
    if (isFatal(failure) || failure instanceof InterruptedError) {
      stop = true;
      fatal ??= `stopped: ${error}`;
    }
  };
  /** Before a group starts: once the run stops (a signal, a failure that is not local), it and every later group are skipped. */
  const notStarted = (gi: number, group: PlanGroup): boolean => {
    if (!stop && stopped()) {
      stop = true;
      fatal = `${stopped()}: not started`;
    }
    if (stop) finish(gi, group, 'skipped', fatal, 0, 0);
    return stop;
  };

  /**
   * Groups started in the same turn (every group a wide run starts at once) are recorded as planned in one transaction:
   * nothing changes on disk or in the client between those records, and each group's first change waits for its own
   * (write-ahead). A crash before the commit leaves none of them recorded — and none started.
   */
  const recordPlanned = batcher<number, void>(async (gis) => {
    journal.inTransaction(() => {
      for (const gi of gis) journal.planGroup(runId, gi, groups[gi]!);
    });
    return new Map();
  }, 256);

  /**
   * The scope checks and filesystem proofs asked in the same turn — every group a wide run starts at once, the repoints
   * of the groups a copy batch's flush lets go together — made in one pass: each directory found real once, one read
   * of /proc/self/mountinfo and one identity lookup per filesystem for every place (200 groups read it 400 times, the
   * proofs 0.2-0.7 s of main-thread samples in the adopt bench's profile; 0.08-0.17 s in passes). As strong as a proof
   * each: every ask is answered by a pass begun after it was asked and before its group's next change. When the pass
   * fails, its asks are proven one by one, so only the groups it concerns fail.
   */
  // A batcher answer that is not an Error resolves: whatever a check throws is made one, so it still fails its group.
  const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
  const proofAsks = new Map<number, { group: PlanGroup; steps: PlanStep[]; scope: boolean }>();
  let proofSerial = 0;
  const provePass = batcher<number, void>(async (ids) => {
    const out: BatchAnswers<number, void> = new Map();
    const asks = ids.map((id) => {
      const ask = proofAsks.get(id)!;
      proofAsks.delete(id);
      return { id, ...ask };
    });
    // The groups' scope checks side by side (their lstats overlap), sharing the directories found real in this pass.
    const realDirs = new Set<string>();
    const scoped = await Promise.allSettled(asks.map((a) => (a.scope ? checkGroupScope(a.group, deps.config, deps.fs, realDirs) : Promise.resolve())));
    const live = asks.filter((a, i) => {
      const r = scoped[i]!;
      if (r.status === 'rejected') out.set(a.id, asError(r.reason));
      return r.status === 'fulfilled';
    });
    try {
      await guard.prove(live.flatMap((a) => a.steps.flatMap((st) => stepPlaces(st, a.group))));
    } catch {
      const each = await Promise.allSettled(live.map((a) => proveSteps(guard, a.group, a.steps)));
      for (const [i, r] of each.entries()) if (r.status === 'rejected') out.set(live[i]!.id, asError(r.reason));
    }
    return out;
  }, 256);
  /** Proves `steps` of `group` in the next pass (with its scope check first when `scope`); throws as checkGroupScope/proveSteps do. */
  const prove = async (group: PlanGroup, steps: PlanStep[], scope: boolean): Promise<void> => {
    const id = proofSerial++;
    proofAsks.set(id, { group, steps, scope });
    await provePass(id);
  };

  const runGroup = async (gi: number, group: PlanGroup): Promise<void> => {
    await recordPlanned(gi);
    deps.emit({ type: 'group-start', runId, groupId: group.id, action: group.action, title: group.title, steps: group.steps.length });
    const rows: StepRow[] = group.steps.map((step, index) => ({ index, step, status: 'planned', undo: {} }));
    const groupNotes: string[] = [];
    let bytesCopied = 0;
    let bytesFreed = 0;
    let failure: unknown = null;
    try {
      // A step reaching outside the configured roots (hand-edited plan, other config) fails the group before anything runs,
      // and so does one whose filesystem is not the one the plan names (unmounted, or another mounted in its place).
      await prove(group, group.steps, true);
    } catch (err) {
      failure = err;
      deps.emit({ type: 'step-failed', runId, groupId: group.id, step: 0, kind: group.steps[0]!.kind, error: errorText(err) });
    }
    // A step's fsyncs handed over by durableLater (a copy's files and folders): run once the step has left the disk
    // slot — overlapping the next group's copy — and before the group's next change or its end. When the next step waits
    // for the client (a repoint), it starts meanwhile: its check only reads (the torrent, its file list, the files at the
    // target: ~0.1-0.3 s at width 200, the flush 0.2-1.5 s) and its first change waits for the flush (afterDurable).
    const flushes: (() => Promise<void>)[] = [];
    let durable: { done: Promise<void>; settled: () => boolean; row: StepRow } | null = null;
    /** The flush of the step before, settled: false when it failed (the group's failure, unless it already has one). */
    const settleDurable = async (): Promise<boolean> => {
      if (durable === null) return true;
      const { done, row } = durable;
      durable = null;
      try {
        await done;
        return true;
      } catch (err) {
        if (failure === null) {
          failure = err;
          deps.emit({ type: 'step-failed', runId, groupId: group.id, step: row.index, kind: row.step.kind, error: `not made durable: ${errorText(err)}` });
        }
        return false;
      }
    };
    for (const row of failure === null ? rows : []) {
      const batched = overlaps(group) && copyBatchable(row) ? await copyBatch({ group, row, notes: groupNotes, flushes }) : null;
      if (batched) {
        bytesCopied += batched.bytesCopied;
        failure = batched.error;
      }
      const ended = batched ? batched.error !== null : await slotFor(row.step).run(async (): Promise<boolean> => {
        const halted = halt();
        if (halted) {
          failure = halted;
          return true;
        }
        const h = handlerFor(row.step);
        deps.emit({ type: 'step-start', runId, groupId: group.id, step: row.index, kind: row.step.kind, what: h.describe(row.step) });
        row.status = 'running';
        journal.stepRunning(runId, group.id, row.index, row.undo);
        const ctx = afterDurable(ownClientCalls(stepContext(group, row, groupNotes, flushes)), durable);
        try {
          // Again right before each step (a retire deletes): a filesystem unmounted since the group began is caught here.
          if (row.index > 0) await prove(group, [row.step], false);
          if ((await h.check(row.step, ctx)) === 'done') {
            row.status = 'noop';
            journal.stepFinished(runId, group.id, row.index, 'noop', { reason: 'already done' }, null);
            deps.emit({ type: 'step-done', runId, groupId: group.id, step: row.index, kind: row.step.kind, status: 'noop', note: 'already done' });
            return false;
          }
          const out = await h.run(row.step, ctx, row.undo);
          await h.verify(row.step, ctx, row.undo);
          bytesCopied += out.bytesCopied ?? 0;
          bytesFreed += out.bytesFreed ?? 0;
          row.status = 'done';
          journal.stepFinished(runId, group.id, row.index, 'done', out.result, null);
          deps.emit({ type: 'step-done', runId, groupId: group.id, step: row.index, kind: row.step.kind, status: 'done' });
          return false;
        } catch (err) {
          failure = err;
          row.status = 'failed';
          journal.stepFinished(runId, group.id, row.index, 'failed', undefined, errorText(err));
          deps.emit({ type: 'step-failed', runId, groupId: group.id, step: row.index, kind: row.step.kind, error: errorText(err) });
          return true;
        }
      });
      if (!(await settleDurable()) || ended) break;
      if (flushes.length > 0) {
        let settled = false;
        const done = Promise.all(flushes.splice(0).map((f) => f())).then(() => void (settled = true));
        durable = { done, settled: () => settled, row };
        const next = rows[row.index + 1];
        if (next && waitsForClient(next.step)) {
          done.catch(() => undefined); // settled after the next step (settleDurable), its error kept there
          continue;
        }
        if (!(await settleDurable())) break;
      }
    }
    if (failure === null) await endDone(gi, group, rows, { copied: bytesCopied, freed: bytesFreed }, groupNotes);
    else await endFailed(gi, group, rows, failure, groupNotes);
  };
  // The copy steps of groups that overlap, queued for the disk at the same moment, run as one batch (copy-batch.ts).
  const copyBatch = copyBatcher({ runId, journal, emit: deps.emit, guard, disk, wal, fs: deps.fs, halt, stepContext: (group, row, groupNotes) => stepContext(group, row, groupNotes) });
  // Its error is not lost by the catch: a failed WAL fsync stops the write-ahead for good, and the batch's first link
  // then fails with it (write-ahead.ts, fail-stop) — the catch only keeps the rejection from going unhandled.
  const syncAhead = () => void wal.syncBefore().catch(() => undefined);
  const batchEnv: DedupeBatchEnv = { runId, journal, base, guard, emit: deps.emit, stepContext, syncAhead, halt, notStarted, recordDone, finishDone, endFailed };

  // Up to 2 × width + 1 overlapping groups in flight (width checking, as many pausing, moving or resuming, one copying).
  // A group that cannot overlap waits until every group before it has ended. Nothing is left running when this loop ends.
  const inFlight = new Set<Promise<void>>();
  let thrown: { err: unknown } | null = null;
  for (let gi = 0; gi < groups.length; gi++) {
    const group = groups[gi]!;
    const alone = !overlaps(group);
    while (inFlight.size > 0 && (alone || inFlight.size > clientPhaseWidth(sched.width))) await Promise.race(inFlight);
    if (batchable(group)) {
      // Consecutive dedupe groups run as one batch (dedupe-batch.ts): one WAL fsync for all their temp names, one
      // fsync per folder for all their swaps.
      const batch = [{ gi, group }];
      while (batch.length < DEDUPE_BATCH_GROUPS && gi + 1 < groups.length && batchable(groups[gi + 1]!)) batch.push({ gi: gi + 1, group: groups[++gi]! });
      try {
        await runDedupeBatch(batchEnv, batch);
      } catch (err) {
        thrown ??= { err };
        stop = true;
      }
      continue;
    }
    if (notStarted(gi, group)) continue;
    const p: Promise<void> = runGroup(gi, group)
      .catch((err: unknown) => {
        // An unexpected throw (the journal's database failed, say): start no more groups, let those in flight end, rethrow.
        thrown ??= { err };
        stop = true;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (alone) await p;
  }
  await Promise.all(inFlight);
  if (thrown) throw (thrown as { err: unknown }).err;
  const results = byIndex.filter((r): r is GroupResult => r !== undefined);

  // The guard: every torrent this run touched must be complete and healthy.
  let guardProblems: string[] = [];
  const started = new Set(results.filter((r) => r.status !== 'skipped').map((r) => r.id));
  const touchedBy = new Map(groups.filter((g) => started.has(g.id)).flatMap((g) => g.torrents.map((t) => [torrentKey(t), t] as const)));
  const touched = [...touchedBy.values()];
  if (deps.clients.names.length > 0 && touched.length && !fatal?.startsWith('stopped:')) {
    try {
      guardProblems = await guardTorrents(deps.clients, touched, deps.guardTimeoutMs ?? 600_000);
    } catch (err) {
      guardProblems = [`the guard could not read the client: ${errorText(err)}`];
    }
    if (guardProblems.length) deps.emit({ type: 'guard', runId, problems: guardProblems });
  }

  const bytesCopied = results.reduce((n, r) => n + r.bytesCopied, 0);
  const bytesFreed = results.reduce((n, r) => n + r.bytesFreed, 0);
  const done = results.filter((r) => r.status === 'done').length;
  let status: RunStatus;
  if (attention.length) status = 'needs-attention';
  else if (cutShort || results.some((r) => r.status === 'skipped' && stopped())) status = 'interrupted';
  else if (fatal || guardProblems.length) status = 'failed';
  else if (done === results.length) status = 'succeeded';
  else if (done === 0) status = 'rolled-back';
  else status = 'partial';
  for (const n of notes) journal.addRunNote(runId, n);
  const failedGroups = results.filter((r) => r.error).map((r) => `${r.id}: ${r.error}`);
  const error = [fatal, ...(guardProblems.length ? [`guard: ${guardProblems.join('; ')}`] : []), ...failedGroups].filter(Boolean).join('\n') || null;
  journal.finishRun(runId, status, { bytesCopied, bytesFreed, error });
  // The run's last records made durable; a journal that could not be (write-ahead.ts) ends the command with its error.
  let unsynced: unknown = null;
  try {
    wal.sync();
  } catch (err) {
    unsynced = err;
  }
  setDurability(deps.catalog.db, 'full');
  deps.emit({ type: 'run-done', runId, status, bytesCopied, bytesFreed, attention });
  if (unsynced !== null) throw unsynced;
  return { runId, status, groups: results, bytesCopied, bytesFreed, attention, guardProblems, notes };
}
