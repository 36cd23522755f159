// Test support: rewrites a run's journal records into the shapes earlier versions of hashall wrote, so tests can check that recovery and the run store still read what an older apply left.
import type { Db } from '../../src/catalog/db.js';
import type { PlanGroup } from '../../src/plan/types.js';
import { wholeDedupeGroup, type ShortDedupeGroup } from '../../src/plan/dedupe-short.js';

/**
 * The shapes of a group's plan record, oldest first: `whole` — the whole group, steps included, in run_groups.plan_group
 * (reasons column: reasons then notes); `no-steps` — the group without its steps there, each step in its run_steps.plan_step
 * (same reasons column); `columns` — that without id, key, action, title and payload hash (reasons in the record, notes
 * only in the column; sessions 10–11, before migration 15). Every one has no run_group_plans row. `plans-whole` — the
 * record in run_group_plans as the whole group without those five (migration 15 until dedupe groups were recorded in
 * their short form, session 12).
 */
export type OldShape = 'whole' | 'no-steps' | 'columns' | 'plans-whole';

/** A record of run_group_plans as the whole group without its columns' values (a dedupe group's is short since session 12). */
function wholeRecord(row: { group_id: string; group_key: string; title: string }, record: Omit<PlanGroup, 'id' | 'key' | 'action' | 'title' | 'payloadHash'>): Omit<PlanGroup, 'id' | 'key' | 'action' | 'title' | 'payloadHash'> {
  if (!('dedupe' in record)) return record;
  const short = record as unknown as Pick<ShortDedupeGroup, 'reasons' | 'bytesToFree' | 'dedupe'>;
  const whole = wholeDedupeGroup({ id: row.group_id, key: row.group_key, action: 'dedupe', title: row.title, ...short });
  if (typeof whole === 'string') throw new Error(`toOldShape: ${row.group_id}: ${whole}`);
  const { id: _id, key: _key, action: _action, title: _title, payloadHash: _payloadHash, ...rest } = whole;
  return rest;
}

/** This version's plan record of group `groupId` of run `runId` (in run_group_plans), or undefined. */
export function planRecord(db: Db, runId: string, groupId: string): Record<string, unknown> | undefined {
  for (const text of db.prepare(`SELECT records FROM run_group_plans WHERE run_id = ?`).pluck().all(runId) as string[]) {
    const records = JSON.parse(text) as Record<string, Record<string, unknown>>;
    if (records[groupId]) return records[groupId];
  }
  return undefined;
}

/** Rewrite group `groupId` of run `runId` (journaled by this version) into `shape`, its status, undo data and results untouched. */
export function toOldShape(db: Db, runId: string, groupId: string, shape: OldShape): void {
  const row = db.prepare(`SELECT group_id, group_key, action, title, payload_hash, reasons FROM run_groups WHERE run_id = ? AND group_id = ? AND plan_group = ''`).get(runId, groupId) as
    | { group_id: string; group_key: string; action: string; title: string; payload_hash: string | null; reasons: string }
    | undefined;
  const planned = db.prepare(`SELECT rowid AS id, records FROM run_group_plans WHERE run_id = ?`).all(runId) as { id: number; records: string }[];
  const holder = planned.find((p) => (JSON.parse(p.records) as Record<string, unknown>)[groupId] !== undefined);
  if (!row || !holder) throw new Error(`toOldShape: ${runId}/${groupId} has no plan record of this version`);
  const records = JSON.parse(holder.records) as Record<string, Omit<PlanGroup, 'id' | 'key' | 'action' | 'title' | 'payloadHash'>>;
  const { steps, ...head } = wholeRecord(row, records[groupId]!);
  if (shape === 'plans-whole') {
    // The record of migration 15 before dedupe groups were short: the whole group without its columns' values.
    records[groupId] = { ...head, steps };
    db.prepare(`UPDATE run_group_plans SET records = ? WHERE rowid = ?`).run(JSON.stringify(records), holder.id);
    return;
  }
  delete records[groupId];
  const notes = JSON.parse(row.reasons) as string[];
  const whole = { id: row.group_id, key: row.group_key, action: row.action, title: row.title, payloadHash: row.payload_hash, ...head };
  const setStep = db.prepare(`UPDATE run_steps SET plan_step = ? WHERE run_id = ? AND group_id = ? AND step_index = ?`);
  db.transaction(() => {
    steps.forEach((s, i) => setStep.run(JSON.stringify(s), runId, groupId, i));
    const [record, reasons] =
      shape === 'whole' ? [{ ...whole, steps }, [...head.reasons, ...notes]] : shape === 'no-steps' ? [whole, [...head.reasons, ...notes]] : [head, notes];
    db.prepare(`UPDATE run_groups SET plan_group = ?, reasons = ? WHERE run_id = ? AND group_id = ?`).run(JSON.stringify(record), JSON.stringify(reasons), runId, groupId);
    if (Object.keys(records).length === 0) db.prepare(`DELETE FROM run_group_plans WHERE rowid = ?`).run(holder.id);
    else db.prepare(`UPDATE run_group_plans SET records = ? WHERE rowid = ?`).run(JSON.stringify(records), holder.id);
  })();
}

/** Every group of every run into `shape` (what an older apply killed mid-run left); returns how many groups. */
export function allToOldShape(db: Db, shape: OldShape): number {
  const rows = db.prepare(`SELECT run_id, group_id FROM run_groups WHERE plan_group = ''`).all() as { run_id: string; group_id: string }[];
  for (const r of rows) toOldShape(db, r.run_id, r.group_id, shape);
  if (shape !== 'plans-whole' && db.prepare(`SELECT count(*) FROM run_group_plans`).pluck().get() !== 0) throw new Error('allToOldShape: plan rows left');
  return rows.length;
}
