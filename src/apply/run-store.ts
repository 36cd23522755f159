// The runs tables' owner beside the journal (which writes a run as it goes): reads run records back — list, show one
// run with every step, find interrupted and unresolved runs — and the few writes made outside a run (ack, mark interrupted).
import { instanceOf } from '../domain/instance.js';
import { tableExists, type Db } from '../catalog/db.js';
import type { PlanGroup, PlanStep } from '../plan/types.js';
import { wholeDedupeGroup, type ShortDedupeGroup } from '../plan/dedupe-short.js';
import type { UnresolvedRun } from '../domain/unresolved-run.js';
import { groupPaths } from '../plan/unresolved.js';
import { readRunNotifications, type RunNotification } from '../notify/state.js';
import { RUN_FORMAT_VERSION, undoReader, type GroupStatus, type RunStatus, type StepStatus, type UndoData, type RunIdentity } from './journal.js';

export interface RunSummary extends RunIdentity {
  id: string;
  startedAt: number;
  endedAt: number | null;
  configHash: string | null;
  status: RunStatus;
  groups: { total: number; done: number; failed: number; rolledBack: number };
  bytesCopied: number;
  bytesFreed: number;
  error: string | null;
  attention: string[];
  notes: string[];
  recoveredBy: string | null;
  /** Who said a needs-attention run was dealt with by hand (`hashall runs ack`), and when (epoch ms); null until then. */
  ackedBy: string | null;
  ackedAt: number | null;
}

export interface StepRecord {
  index: number;
  kind: PlanStep['kind'];
  status: StepStatus;
  step: PlanStep;
  undo: UndoData;
  result: unknown;
  error: string | null;
  startedAt: number | null;
  endedAt: number | null;
  undoneAt: number | null;
}

export interface GroupRecord {
  id: string;
  index: number;
  key: string;
  action: string;
  title: string;
  payloadHash: string | null;
  status: GroupStatus;
  reasons: string[];
  error: string | null;
  bytesCopied: number;
  bytesFreed: number;
  group: PlanGroup;
  steps: StepRecord[];
}

export interface RunDetail extends RunSummary {
  formatVersion: typeof RUN_FORMAT_VERSION;
  groupRecords: GroupRecord[];
  /** The notifications sent (or failed) about this run: target names, never URLs. */
  notifications: RunNotification[];
}

interface RunRow {
  id: string;
  started_at: number;
  ended_at: number | null;
  user: string;
  host: string;
  pid: number;
  pid_start: string | null;
  command: string;
  plan_file: string | null;
  plan_hash: string | null;
  config_hash: string | null;
  status: RunStatus;
  bytes_copied: number;
  bytes_freed: number;
  error: string | null;
  attention: string;
  notes: string;
  recovered_by: string | null;
  acked_at: number | null;
  acked_by: string | null;
}

function summarize(db: Db, r: RunRow): RunSummary {
  const counts = db
    .prepare(
      `SELECT COUNT(*) AS total, SUM(status = 'done') AS done, SUM(status IN ('failed','needs-attention')) AS failed, SUM(status = 'rolled-back') AS rolledBack
       FROM run_groups WHERE run_id = ?`,
    )
    .get(r.id) as { total: number; done: number | null; failed: number | null; rolledBack: number | null };
  return {
    id: r.id,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    user: r.user,
    host: r.host,
    pid: r.pid,
    pidStart: r.pid_start,
    command: r.command,
    planFile: r.plan_file,
    planHash: r.plan_hash,
    configHash: r.config_hash,
    status: r.status,
    groups: { total: counts.total, done: counts.done ?? 0, failed: counts.failed ?? 0, rolledBack: counts.rolledBack ?? 0 },
    bytesCopied: r.bytes_copied,
    bytesFreed: r.bytes_freed,
    error: r.error,
    attention: JSON.parse(r.attention) as string[],
    notes: JSON.parse(r.notes) as string[],
    recoveredBy: r.recovered_by,
    ackedBy: r.acked_by,
    ackedAt: r.acked_at,
  };
}

export function listRuns(db: Db): RunSummary[] {
  const rows = db.prepare(`SELECT * FROM runs ORDER BY started_at DESC, id DESC`).all() as RunRow[];
  return rows.map((r) => summarize(db, r));
}

export function getRun(db: Db, id: string): RunDetail | null {
  const r = db.prepare(`SELECT * FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
  if (!r) return null;
  // A catalog opened read-only before migration 15 has no run_group_plans (and then every plan is in its row).
  const plans = tableExists(db, 'run_group_plans');
  type Head = Omit<PlanGroup, 'steps'> & { steps?: PlanStep[] };
  const records = new Map<string, Head>();
  if (plans) {
    for (const text of db.prepare(`SELECT records FROM run_group_plans WHERE run_id = ? ORDER BY seq`).pluck().all(id) as string[]) {
      for (const [groupId, record] of Object.entries(JSON.parse(text) as Record<string, Head>)) records.set(groupId, record);
    }
  }
  const groups = db.prepare(`SELECT * FROM run_groups WHERE run_id = ? ORDER BY idx`).all(id) as {
    group_id: string;
    idx: number;
    group_key: string;
    action: string;
    title: string;
    payload_hash: string | null;
    plan_group: string;
    status: GroupStatus;
    reasons: string;
    error: string | null;
    bytes_copied: number;
    bytes_freed: number;
  }[];
  const stepsStmt = db.prepare(`SELECT * FROM run_steps WHERE run_id = ? AND group_id = ? ORDER BY step_index`);
  const readUndo = undoReader(db);
  return {
    formatVersion: RUN_FORMAT_VERSION,
    ...summarize(db, r),
    notifications: readRunNotifications(db, id),
    groupRecords: groups.map((g) => {
      // Four shapes of a group's plan (journal.ts planWrites): in its row, the whole group, steps included (the oldest);
      // in its row, the group without its steps (each in its step's row); that without its id, key, action, title and
      // payload hash (each in its column); and, with an empty plan_group and empty plan_steps, in run_group_plans (one
      // row for the groups journaled together): the group with its steps, without those five. The reasons column holds
      // the group's reasons and then its notes in the first two; in the last two, its notes only (the reasons are in the
      // record).
      const head = g.plan_group === '' ? wholeRecord(g, records.get(g.group_id)) : (JSON.parse(g.plan_group) as Head);
      if (head === undefined) throw new Error(`run ${id}: the plan of group ${g.group_id} is missing from the journal`);
      const steps = stepRecords(g.group_id, head.steps);
      const columnsOnly = head.id === undefined;
      const noted = JSON.parse(g.reasons) as string[];
      const group: PlanGroup = {
        ...(columnsOnly ? { id: g.group_id, key: g.group_key, action: g.action as PlanGroup['action'], title: g.title, payloadHash: g.payload_hash } : {}),
        ...head,
        steps: head.steps ?? steps.map((s) => s.step),
      };
      return {
        id: g.group_id,
        index: g.idx,
        key: g.group_key,
        action: g.action,
        title: g.title,
        payloadHash: g.payload_hash,
        status: g.status,
        reasons: columnsOnly ? [...group.reasons, ...noted] : noted,
        error: g.error,
        bytesCopied: g.bytes_copied,
        bytesFreed: g.bytes_freed,
        group,
        steps,
      };
    }),
  };
  /**
   * A run_group_plans record as the whole group without its columns' values: a dedupe group's is in the plan file's short
   * form (src/plan/dedupe-short.ts) since session 12, read back to exactly the group journaled; earlier records are whole.
   */
  function wholeRecord(g: { group_id: string; group_key: string; title: string }, record: Head | undefined): Head | undefined {
    if (record === undefined || !('dedupe' in record)) return record;
    const { reasons, bytesToFree, dedupe } = record as unknown as Pick<ShortDedupeGroup, 'reasons' | 'bytesToFree' | 'dedupe'>;
    const whole = wholeDedupeGroup({ id: g.group_id, key: g.group_key, action: 'dedupe', title: g.title, reasons, bytesToFree, dedupe });
    if (typeof whole === 'string') throw new Error(`run ${id}: the plan of group ${g.group_id} in the journal is damaged: ${whole}`);
    const { id: _id, key: _key, action: _action, title: _title, payloadHash: _payloadHash, ...head } = whole;
    return head as Head;
  }

  /** The group's step records; a step row with an empty plan_step has its plan in the group's record (`planned`). */
  function stepRecords(groupId: string, planned: readonly PlanStep[] | undefined): GroupRecord['steps'] {
    return (
        stepsStmt.all(id, groupId) as {
          step_index: number;
          kind: PlanStep['kind'];
          status: StepStatus;
          plan_step: string;
          undo: string;
          result: string | null;
          error: string | null;
          started_at: number | null;
          ended_at: number | null;
          undone_at: number | null;
        }[]
      ).map((s) => {
        const step = s.plan_step === '' ? planned?.[s.step_index] : (JSON.parse(s.plan_step) as PlanStep);
        if (step === undefined) throw new Error(`run ${id}: the plan of step ${s.step_index} of group ${groupId} is missing from the journal`);
        return {
          index: s.step_index,
          kind: s.kind,
          status: s.status,
          step,
          undo: readUndo(id, groupId, s.step_index, s.undo),
          result: s.result === null ? null : (JSON.parse(s.result) as unknown),
          error: s.error,
          startedAt: s.started_at,
          endedAt: s.ended_at,
          undoneAt: s.undone_at,
        };
      });
  }
}

/** Runs still marked `running` (their process may be alive — the caller checks pid/host). */
export function runningRuns(db: Db): RunSummary[] {
  return (db.prepare(`SELECT * FROM runs WHERE status = 'running' ORDER BY started_at`).all() as RunRow[]).map((r) => summarize(db, r));
}

const OPEN_GROUP = new Set(['running', 'needs-attention', 'failed']);
const MAYBE_PAUSED = new Set(['running', 'failed', 'undo-failed']);

/**
 * Runs a person or a recovery must still resolve, oldest first: needs-attention runs nobody acknowledged, and unfinished
 * ones (running — an apply at work, or killed — and interrupted without an end time, a recovery that died). With the
 * paths of their open groups and the torrents a repoint of those groups paused while running and never resumed.
 */
export function unresolvedRuns(db: Db): UnresolvedRun[] {
  const rows = db
    .prepare(
      `SELECT * FROM runs WHERE (status = 'needs-attention' AND acked_at IS NULL) OR status = 'running' OR (status = 'interrupted' AND ended_at IS NULL)
       ORDER BY started_at, id`,
    )
    .all() as RunRow[];
  return rows.map((r) => {
    const detail = getRun(db, r.id)!;
    const open = detail.groupRecords.filter((g) => OPEN_GROUP.has(g.status));
    const paused = open.flatMap((g) =>
      g.steps.flatMap((s) => (s.step.kind === 'repoint' && s.undo.wasRunning === true && MAYBE_PAUSED.has(s.status) ? [{ client: instanceOf(s.step), hash: s.step.torrentHash, name: s.step.torrentName }] : [])),
    );
    return {
      runId: r.id,
      status: r.status,
      startedAt: r.started_at,
      command: r.command,
      attention: detail.attention,
      paths: [...new Set(open.flatMap((g) => groupPaths(g.group)))].sort(),
      pausedTorrents: paused,
    };
  });
}

/** Record that `by` dealt with a needs-attention run by hand; returns false when there is no such run to acknowledge. */
export function ackRun(db: Db, id: string, by: string, at: number): boolean {
  return db.prepare(`UPDATE runs SET acked_at = ?, acked_by = ? WHERE id = ? AND status = 'needs-attention' AND acked_at IS NULL`).run(at, by, id).changes === 1;
}

/** Whether run `id` is recorded. */
export function runExists(db: Db, id: string): boolean {
  return db.prepare(`SELECT 1 FROM runs WHERE id = ?`).get(id) !== undefined;
}

/** Status and end time of run `id` (null: no such run). */
export function runState(db: Db, id: string): { id: string; status: RunStatus; endedAt: number | null } | null {
  const r = db.prepare(`SELECT id, status, ended_at FROM runs WHERE id = ?`).get(id) as { id: string; status: RunStatus; ended_at: number | null } | undefined;
  return r ? { id: r.id, status: r.status, endedAt: r.ended_at } : null;
}

/** The latest run other than `except` that applied the plan file whose bytes hash to `planHash` (null: none). */
export function lastRunOfPlan(db: Db, planHash: string, except: string): { id: string; status: RunStatus; endedAt: number | null } | null {
  const r = db.prepare(`SELECT id, status, ended_at FROM runs WHERE plan_hash = ? AND id != ? ORDER BY started_at DESC, id DESC LIMIT 1`).get(planHash, except) as
    | { id: string; status: RunStatus; ended_at: number | null }
    | undefined;
  return r ? { id: r.id, status: r.status, endedAt: r.ended_at } : null;
}

/** Every run id, oldest first. */
export function runIds(db: Db): string[] {
  return (db.prepare(`SELECT id FROM runs ORDER BY started_at, id`).all() as { id: string }[]).map((r) => r.id);
}

/** Runs marked interrupted without an end time (a recovery that died, or one about to start), oldest first. */
export function unfinishedInterruptedRunIds(db: Db): string[] {
  return (db.prepare(`SELECT id FROM runs WHERE status = 'interrupted' AND ended_at IS NULL ORDER BY started_at`).all() as { id: string }[]).map((r) => r.id);
}

/** Needs-attention runs nobody acknowledged, oldest first. */
export function unackedAttentionRunIds(db: Db): string[] {
  return (db.prepare(`SELECT id FROM runs WHERE status = 'needs-attention' AND acked_at IS NULL ORDER BY started_at, id`).all() as { id: string }[]).map((r) => r.id);
}

/** Mark run `id` interrupted: recovery does it before undoing anything, so a recovery that dies is recovered again. */
export function markRunInterrupted(db: Db, id: string): void {
  db.prepare(`UPDATE runs SET status = 'interrupted' WHERE id = ?`).run(id);
}

/** The status and result of each step of group `groupId` of run `runId`, as journaled. */
export function stepResults(db: Db, runId: string, groupId: string): { step_index: number; status: string; result: string | null }[] {
  return db.prepare(`SELECT step_index, status, result FROM run_steps WHERE run_id = ? AND group_id = ?`).all(runId, groupId) as { step_index: number; status: string; result: string | null }[];
}
