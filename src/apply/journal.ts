// The apply journal: run, group and step records written to SQLite before and after every action, committed at once.
import { randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { tableExists, type Db } from '../catalog/db.js';
import { HashallError } from '../errors.js';
import type { PlanGroup, PlanStep } from '../plan/types.js';
import { shortDedupeGroup } from '../plan/dedupe-short.js';

export const RUN_FORMAT_VERSION = 1;

/** Draws of a run id before giving up: with 65,536 suffixes per second, only a catalog holding nearly all is refused. */
const RUN_ID_DRAWS = 1000;

/**
 * Run ids sort by time: `20261126T014442Z-3f9a` (the second and 16 random bits), never one `taken` says the catalog
 * holds already (two runs in the same second drew the same suffix once in 65,536).
 */
export function newRunId(now: number, taken: (id: string) => boolean): string {
  const iso = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  for (let i = 0; i < RUN_ID_DRAWS; i++) {
    const id = `${iso}-${randomBytes(2).toString('hex')}`;
    if (!taken(id)) return id;
  }
  throw new HashallError(`no free run id for ${iso}: ${RUN_ID_DRAWS} drawn, all taken`, { hint: 'run the command again in a second' });
}

export type RunStatus =
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'rolled-back'
  | 'partial'
  | 'interrupted'
  | 'recovered'
  | 'needs-attention';
export type GroupStatus = 'planned' | 'running' | 'done' | 'failed' | 'rolled-back' | 'needs-attention' | 'skipped';
export type StepStatus = 'planned' | 'running' | 'done' | 'noop' | 'failed' | 'undone' | 'undo-failed';

/** Who runs apply, where, and on which plan (recorded with every run). */
export interface RunIdentity {
  user: string;
  host: string;
  pid: number;
  pidStart: string | null;
  command: string;
  planFile: string | null;
  planHash: string | null;
}

export interface RunStart extends RunIdentity {
  id: string;
  startedAt: number;
  configHash: string | null;
  catalogSerial: number | null;
}

/** A group to journal (planGroups): its index in the plan, the group, and optionally each step's state (StepState). */
export interface PlannedGroup {
  idx: number;
  group: PlanGroup;
  states?: readonly StepState[] | undefined;
}

/** JSON-able undo data of a step; each step kind defines its own shape. */
export type UndoData = Record<string, unknown>;

/**
 * A step's state when its group is journaled after the step was checked (a dedupe batch checks before it journals:
 * the checks read, nothing changes): planned (not reached), running with its undo data, or ended as a no-op or failed.
 */
export interface StepState {
  status: 'planned' | 'running' | 'noop' | 'failed';
  undo?: UndoData;
  result?: unknown;
  error?: string | null;
}

/**
 * Writes the journal. Every method commits immediately (autocommit statements on a WAL database) and then calls
 * `onBoundary` — the test-only crash hook counts these. A commit survives a kill -9 at once; it is durable against a
 * power loss by the next fsync of the WAL, which the executor makes right before every change (write-ahead.ts) —
 * recovery uses synchronous=FULL (an fsync per write).
 */
export class Journal {
  /** Statements compiled once per journal (a dedupe batch writes thousands of records; compiling each costs as much as running it). */
  private readonly statements = new Map<string, Statement>();

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
    private readonly onBoundary: (what: string) => void = () => undefined,
  ) {
    this.planTxn = db.transaction((runId: string, groups: readonly PlannedGroup[]) => this.planWrites(runId, groups));
  }

  private sql(text: string): Statement {
    let st = this.statements.get(text);
    if (!st) this.statements.set(text, (st = this.db.prepare(text)));
    return st;
  }

  private boundary(what: string): void {
    this.onBoundary(what);
  }

  startRun(r: RunStart): void {
    this.sql(
        `INSERT INTO runs (id, started_at, user, host, pid, pid_start, command, plan_file, plan_hash, config_hash, catalog_serial, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running')`,
      )
      .run(r.id, r.startedAt, r.user, r.host, r.pid, r.pidStart, r.command, r.planFile, r.planHash, r.configHash, r.catalogSerial);
    this.boundary('run-start');
  }

  /**
   * Record a group and all its steps as planned (one transaction), before any of them runs. The group's plan, its steps
   * included, is written once, in run_group_plans (see planWrites; getRun puts it all back together). With
   * `states`, each step is written as it stands (see StepState): one insert instead of an insert and two updates.
   */
  planGroup(runId: string, idx: number, g: PlanGroup, states?: readonly StepState[]): void {
    this.planTxn(runId, [{ idx, group: g, states }]);
    this.boundary(`group-planned ${g.id}`);
  }

  /** planWrites as one transaction, wrapped once per journal (a run plans thousands of groups). */
  private readonly planTxn: (runId: string, groups: readonly PlannedGroup[]) => void;

  /**
   * planGroup for several groups, in ONE transaction (all of them recorded, or none): a dedupe batch journals its
   * groups together once their checks are done, where a transaction (a savepoint inside the batch's) per group cost as
   * much as the group's own inserts.
   */
  planGroups(runId: string, groups: readonly PlannedGroup[]): void {
    if (groups.length === 0) return;
    this.planTxn(runId, groups);
    for (const g of groups) this.boundary(`group-planned ${g.group.id}`);
  }

  private planWrites(runId: string, groups: readonly PlannedGroup[]): void {
    // The groups' plans are written once, in one run_group_plans row for all of them (migration 15): each group with its
    // steps, but not what its row's columns hold (id, key, action, title, payload hash). Its reasons are in it, and the
    // row's reasons column starts empty (finishGroup appends the group's notes there). The run_groups and run_steps rows,
    // which the journal updates as the groups run, hold no plan (empty plan_group and plan_step): each update rewrites a
    // page of small rows, not the plans beside them — ~1.4 KB a dedupe group, written twice to the WAL when they shared
    // its rows. run-store.ts reads this shape and those of earlier versions (plans in the rows).
    // A dedupe group is recorded in the plan file's short form (src/plan/dedupe-short.ts: each file once, ~1/3 of the
    // whole group's bytes), which getRun reads back to exactly the group.
    const records: Record<string, unknown> = {};
    for (const { group: g } of groups) {
      const short = shortDedupeGroup(g);
      if (short) {
        const { id: _id, key: _key, action: _action, title: _title, ...record } = short;
        records[g.id] = record;
        continue;
      }
      const { id: _id, key: _key, action: _action, title: _title, payloadHash: _payloadHash, ...record } = g;
      records[g.id] = record;
    }
    this.sql(`INSERT INTO run_group_plans (run_id, seq, records) VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM run_group_plans WHERE run_id = ?), ?)`).run(
      runId,
      runId,
      JSON.stringify(records),
    );
    const now = this.now();
    const group = this.sql(
      `INSERT INTO run_groups (run_id, group_id, idx, group_key, action, title, payload_hash, plan_group, status, reasons, started_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, '', 'running', '[]', ?)`,
    );
    const planned = this.sql(`INSERT INTO run_steps (run_id, group_id, step_index, kind, status, plan_step) VALUES (?, ?, ?, ?, 'planned', '')`);
    // With states, each step as it stands after its check (the same row stepRunning, stepUndo and stepFinished would leave).
    const stated = this.sql(
      `INSERT INTO run_steps (run_id, group_id, step_index, kind, status, plan_step, undo, result, error, started_at, ended_at) VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?)`,
    );
    for (const { idx, group: g, states } of groups) {
      group.run(runId, g.id, idx, g.key, g.action, g.title, g.payloadHash, now);
      g.steps.forEach((s: PlanStep, i) => {
        if (!states) return void planned.run(runId, g.id, i, s.kind);
        const st = states[i] ?? { status: 'planned' };
        const started = st.status === 'planned' ? null : now;
        const ended = st.status === 'noop' || st.status === 'failed' ? now : null;
        const result = st.result === undefined ? null : JSON.stringify(st.result);
        stated.run(runId, g.id, i, s.kind, st.status, JSON.stringify(st.undo ?? {}), result, st.error ?? null, started, ended);
      });
    }
  }

  stepRunning(runId: string, groupId: string, idx: number, undo: UndoData): void {
    this.sql(`UPDATE run_steps SET status = 'running', undo = ?, started_at = ?, error = NULL WHERE run_id = ? AND group_id = ? AND step_index = ?`)
      .run(JSON.stringify(undo), this.now(), runId, groupId, idx);
    this.boundary(`step-running ${groupId}#${idx}`);
  }

  /**
   * Progressive undo data: written BEFORE each mutation inside a step, so a crash leaves enough to undo it. Keys in
   * `logged` are arrays kept in the append-only log (stepUndoAppend) and are left out of this record.
   */
  stepUndo(runId: string, groupId: string, idx: number, undo: UndoData, logged: ReadonlySet<string> = new Set()): void {
    const record = logged.size === 0 ? undo : Object.fromEntries(Object.entries(undo).filter(([k]) => !logged.has(k)));
    this.sql(`UPDATE run_steps SET undo = ? WHERE run_id = ? AND group_id = ? AND step_index = ?`).run(JSON.stringify(record), runId, groupId, idx);
    this.boundary(`step-undo-data ${groupId}#${idx}`);
  }

  /**
   * Append entries to the array `key` of a step's undo data, BEFORE the mutations they describe: one committed
   * insert of only the new entries, so journaling a step over N files costs O(N) in total (see migration 9).
   */
  stepUndoAppend(runId: string, groupId: string, idx: number, key: string, entries: readonly unknown[]): void {
    if (entries.length === 0) return;
    this.sql(
        `INSERT INTO run_step_undo (run_id, group_id, step_index, seq, key, entries)
         VALUES (?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM run_step_undo WHERE run_id = ? AND group_id = ? AND step_index = ?), ?, ?)`,
      )
      .run(runId, groupId, idx, runId, groupId, idx, key, JSON.stringify(entries));
    this.boundary(`step-undo-append ${groupId}#${idx}`);
  }

  stepFinished(runId: string, groupId: string, idx: number, status: 'done' | 'noop' | 'failed', result: unknown, error: string | null): void {
    this.sql(`UPDATE run_steps SET status = ?, result = ?, error = ?, ended_at = ? WHERE run_id = ? AND group_id = ? AND step_index = ?`)
      .run(status, result === undefined ? null : JSON.stringify(result), error, this.now(), runId, groupId, idx);
    this.boundary(`step-${status} ${groupId}#${idx}`);
  }

  stepUndone(runId: string, groupId: string, idx: number, status: 'undone' | 'undo-failed', error: string | null): void {
    this.sql(`UPDATE run_steps SET status = ?, error = COALESCE(?, error), undone_at = ? WHERE run_id = ? AND group_id = ? AND step_index = ?`)
      .run(status, error, this.now(), runId, groupId, idx);
    this.boundary(`step-${status} ${groupId}#${idx}`);
  }

  finishGroup(
    runId: string,
    groupId: string,
    status: GroupStatus,
    info: { error?: string | null; bytesCopied?: number; bytesFreed?: number; notes?: string[] } = {},
  ): void {
    const reasons = info.notes?.length
      ? JSON.stringify([
          ...(JSON.parse((this.sql(`SELECT reasons FROM run_groups WHERE run_id = ? AND group_id = ?`).get(runId, groupId) as { reasons: string }).reasons) as string[]),
          ...info.notes,
        ])
      : null;
    this.sql(
        `UPDATE run_groups SET status = ?, error = ?, bytes_copied = ?, bytes_freed = ?, ended_at = ?, reasons = COALESCE(?, reasons)
         WHERE run_id = ? AND group_id = ?`,
      )
      .run(status, info.error ?? null, info.bytesCopied ?? 0, info.bytesFreed ?? 0, this.now(), reasons, runId, groupId);
    this.boundary(`group-${status} ${groupId}`);
  }

  /** Runs `fn`'s journal writes (synchronous, no await) as one transaction: one commit for the records of many groups. */
  inTransaction(fn: () => void): void {
    this.db.transaction(fn)();
  }

  /** A point a crash test may stop at, for work whose record is a run note (trash restore). */
  checkpoint(what: string): void {
    this.boundary(what);
  }

  addRunNote(runId: string, note: string): void {
    const row = this.sql(`SELECT notes FROM runs WHERE id = ?`).get(runId) as { notes: string } | undefined;
    const notes = row ? (JSON.parse(row.notes) as string[]) : [];
    notes.push(note);
    this.sql(`UPDATE runs SET notes = ? WHERE id = ?`).run(JSON.stringify(notes), runId);
  }

  addAttention(runId: string, items: string[]): void {
    if (!items.length) return;
    const row = this.sql(`SELECT attention FROM runs WHERE id = ?`).get(runId) as { attention: string } | undefined;
    const all = row ? (JSON.parse(row.attention) as string[]) : [];
    all.push(...items);
    this.sql(`UPDATE runs SET attention = ? WHERE id = ?`).run(JSON.stringify(all), runId);
  }

  finishRun(runId: string, status: RunStatus, info: { bytesCopied: number; bytesFreed: number; error: string | null }): void {
    this.sql(`UPDATE runs SET status = ?, ended_at = ?, bytes_copied = ?, bytes_freed = ?, error = ? WHERE id = ?`)
      .run(status, this.now(), info.bytesCopied, info.bytesFreed, info.error, runId);
    this.boundary(`run-${status}`);
  }

  markRecovered(runId: string, byRunId: string, status: RunStatus): void {
    this.sql(`UPDATE runs SET status = ?, recovered_by = ?, ended_at = COALESCE(ended_at, ?) WHERE id = ?`).run(status, byRunId, this.now(), runId);
  }
}

/**
 * A reader of steps' undo data as journaled: a run_steps.undo record with every logged array appended to, in order.
 * Its statement is compiled once per reader (getRun reads every step of a run with one).
 */
export function undoReader(db: Db): (runId: string, groupId: string, idx: number, record: string) => UndoData {
  // A catalog opened read-only before migration 9 has no log (and then no logged entries).
  const logged = tableExists(db, 'run_step_undo')
    ? db.prepare(`SELECT key, entries FROM run_step_undo WHERE run_id = ? AND group_id = ? AND step_index = ? ORDER BY seq`)
    : null;
  return (runId, groupId, idx, record) => {
    const undo = JSON.parse(record) as UndoData;
    if (logged === null) return undo;
    for (const r of logged.all(runId, groupId, idx) as { key: string; entries: string }[]) {
      const list = Array.isArray(undo[r.key]) ? (undo[r.key] as unknown[]) : [];
      for (const e of JSON.parse(r.entries) as unknown[]) list.push(e);
      undo[r.key] = list;
    }
    return undo;
  };
}
