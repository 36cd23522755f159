// The apply journal grows linearly with the files of a step: a copy and a view of many small files journal O(N) bytes.
import { afterEach, describe, expect, it } from 'vitest';
import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { getRun } from '../../../src/apply/run-store.js';
import { Journal } from '../../../src/apply/journal.js';
import type { LinkViewStep } from '../../../src/plan/types.js';
import { bytesFor, dedupeGroup, hashTreeSync, makeApplyFixture, makePlan, moveGroup, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { testDeps } from '../../support/apply-deps.js';
import { planRecord, toOldShape } from '../../support/journal-shapes.js';

let w: ApplyFixture | null = null;
afterEach(() => {
  w?.cleanup();
  w = null;
});

/** Copy N small files (in N/10 directories) to pool and build a second view of them; count journal writes and bytes. */
async function journalOf(n: number): Promise<{ writes: number; bytes: number }> {
  w = makeApplyFixture();
  const src = path.join(w.stash, 'seeding', 'many', `Many.${n}`);
  const tree: Record<string, Buffer> = {};
  for (let i = 0; i < n; i++) tree[`d${Math.floor(i / 10)}/f${i}.txt`] = Buffer.from(`file ${i}\n`);
  writeTree(src, tree);
  const dst = path.join(w.pool, 'seeding', 'many', `Many.${n}`);
  const view = path.join(w.pool, 'seeding', 'cross-seed', `Many.${n}`);
  const files = Object.keys(tree).sort();
  const link: LinkViewStep = {
    kind: 'link-view',
    fs: 'pool',
    torrentHash: 'a'.repeat(40),
    root: view,
    links: files.map((rel) => ({ donor: path.join(dst, rel), path: path.join(view, rel), size: tree[rel]!.length, sha256: sha256(tree[rel]!) })),
  };
  const db = w.catalog.db;
  const undoLen = db.prepare(`SELECT length(undo) AS n FROM run_steps WHERE run_id = ? AND group_id = 'g1' AND step_index = ?`);
  const lastAppend = db.prepare(`SELECT length(entries) AS n FROM run_step_undo ORDER BY rowid DESC LIMIT 1`);
  let writes = 0;
  let bytes = 0;
  const deps = testDeps(w, {
    // Every committed journal write of undo data, with the bytes it wrote (the whole record, or only the appended entries).
    onBoundary: (what) => {
      const m = /^step-undo-(data|append) g1#(\d+)$/.exec(what);
      if (!m) return;
      writes++;
      bytes += m[1] === 'data' ? (undoLen.get(deps.runId, Number(m[2])) as { n: number }).n : (lastAppend.get() as { n: number }).n;
    },
  });
  const res = await applyPlan(deps, makePlan(w, [moveGroup('g1', w, src, dst, [link])]));
  expect(res.status, res.groups[0]?.error ?? '').toBe('succeeded');
  expect(hashTreeSync(dst)).toEqual(hashTreeSync(src));
  expect(hashTreeSync(view)).toEqual(hashTreeSync(src));
  // What recovery would read back is the whole record: every file and link, every created directory.
  const steps = getRun(db, deps.runId)!.groupRecords[0]!.steps;
  expect((steps[0]!.undo.files as { ino?: number }[]).filter((e) => e.ino !== undefined)).toHaveLength(n);
  expect(steps[0]!.undo.dirs as string[]).toContain(path.join(dst, 'd0'));
  expect(steps[1]!.undo.links as unknown[]).toHaveLength(n);
  return { writes, bytes };
}

describe('journal size of a many-file step', () => {
  it('grows linearly with the number of files (writes and bytes), not with its square', async () => {
    const small = await journalOf(200);
    const large = await journalOf(2000);
    // 10× the files: 10× the journaled bytes (quadratic would be 100×); writes are per batch, not per file.
    expect(large.bytes).toBeLessThan(small.bytes * 13);
    expect(large.bytes / 2000).toBeLessThan(1000);
    expect(large.writes).toBeLessThan(2000 / 20);
    expect(large.writes).toBeLessThan(small.writes * 13);
  }, 600_000);
});

describe("journal of a batch of dedupe groups", () => {
  it("holds each group's plan once, steps included, apart from the rows the journal updates as the group runs, and reads every group back whole, as older records too", async () => {
    w = makeApplyFixture();
    const seeding = path.join(w.stash, 'seeding');
    const data = Array.from({ length: 12 }, (_, i) => bytesFor(`journal-once-${i}`, 3_000 + i));
    writeTree(seeding, Object.fromEntries(data.flatMap((d, i) => ['m', 'x', 'y'].map((dir) => [`${dir}/${i}.bin`, d]))));
    const p = (r: string) => path.join(seeding, r);
    const groups = data.map((d, i) => dedupeGroup(`g${i}`, p(`m/${i}.bin`), [p(`x/${i}.bin`), p(`y/${i}.bin`)], sha256(d), d.length));
    const deps = testDeps(w);
    const res = await applyPlan(deps, makePlan(w, groups));
    expect(res.status, res.groups.map((g) => g.error).join('; ')).toBe('succeeded');
    const db = w.catalog.db;
    // The run_groups and run_steps rows (updated as each group runs: running, undo data, done) hold no plan: an update
    // rewrites their small rows, not a page of plans written once.
    expect(db.prepare(`SELECT DISTINCT plan_group FROM run_groups WHERE run_id = ?`).pluck().all(deps.runId)).toEqual(['']);
    expect(db.prepare(`SELECT DISTINCT plan_step FROM run_steps WHERE run_id = ?`).pluck().all(deps.runId)).toEqual(['']);
    // The batch's plans in one row, written once: each step once, in its group's record; no larger than the plan's groups.
    const rows = db.prepare(`SELECT records FROM run_group_plans WHERE run_id = ?`).pluck().all(deps.runId) as string[];
    expect(rows).toHaveLength(1);
    const records = JSON.parse(rows[0]!) as Record<string, unknown>;
    expect(Object.keys(records).sort()).toEqual(groups.map((g) => g.id).sort());
    // A dedupe group's record is the plan file's short form (src/plan/dedupe-short.ts): each file once, its two steps as
    // indices — under half the whole groups' bytes.
    for (const g of groups) {
      expect(Object.keys(records[g.id] as object).sort()).toEqual(['bytesToFree', 'dedupe', 'reasons']);
      expect((records[g.id] as { dedupe: { duplicates: number[] } }).dedupe.duplicates).toHaveLength(2);
      for (const f of g.fingerprint.files) expect(JSON.stringify(records[g.id]).split(JSON.stringify(f.path))).toHaveLength(2);
    }
    expect(rows[0]!.length).toBeLessThanOrEqual(groups.reduce((n, g) => n + JSON.stringify(g).length, 0) / 2);
    // Recovery, runs show and unresolved runs read the group with its steps, in order.
    const read = getRun(db, deps.runId)!;
    expect(read.groupRecords.map((g) => g.group)).toEqual(groups);
    expect(read.groupRecords[3]!.steps.map((s) => s.step)).toEqual(groups[3]!.steps);
    // Records of older versions (plans in the rows, every earlier shape; whole groups in run_group_plans) read the same.
    const shapes = ['whole', 'no-steps', 'columns', 'plans-whole'] as const;
    shapes.forEach((shape, i) => toOldShape(db, deps.runId, `g${i + 3}`, shape));
    const again = getRun(db, deps.runId)!;
    expect(again.groupRecords.map((g) => g.group)).toEqual(groups);
    expect(again.groupRecords.map((g) => g.reasons)).toEqual(groups.map((g) => g.reasons));
    for (const i of [3, 4, 5, 6]) expect(again.groupRecords[i]!.steps.map((s) => s.step)).toEqual(groups[i]!.steps);
  });
});

/** Three pairs of equal files under the fixture's seeding root (m/I.bin and x/I.bin) and a dedupe group for each. */
function threeDedupePairs(fx: ApplyFixture, tag: string) {
  const seeding = path.join(fx.stash, 'seeding');
  const data = Array.from({ length: 3 }, (_, i) => bytesFor(`${tag}-${i}`, 2_000 + i));
  writeTree(seeding, Object.fromEntries(data.flatMap((d, i) => ['m', 'x'].map((dir) => [`${dir}/${i}.bin`, d]))));
  const p = (r: string) => path.join(seeding, r);
  return { seeding, p, groups: data.map((d, i) => dedupeGroup(`g${i}`, p(`m/${i}.bin`), [p(`x/${i}.bin`)], sha256(d), d.length)) };
}

describe("a dedupe batch's group records", () => {
  it('are written all or none: a failure journaling one group leaves no group of the batch recorded, and nothing changed', async () => {
    w = makeApplyFixture();
    const { seeding, p, groups } = threeDedupePairs(w, 'journal-batch');
    const before = hashTreeSync(seeding);
    const db = w.catalog.db;
    db.exec(`CREATE TEMP TRIGGER fail_g2 BEFORE INSERT ON main.run_groups WHEN new.group_id = 'g2' BEGIN SELECT RAISE(ABORT, 'injected journal failure'); END`);
    const deps = testDeps(w);
    await expect(applyPlan(deps, makePlan(w, groups))).rejects.toThrow('injected journal failure');
    expect(db.prepare(`SELECT count(*) FROM run_groups WHERE run_id = ?`).pluck().get(deps.runId)).toBe(0);
    expect(db.prepare(`SELECT count(*) FROM run_steps WHERE run_id = ?`).pluck().get(deps.runId)).toBe(0);
    expect(hashTreeSync(seeding)).toEqual(before);
    expect(lstatSync(p('x/0.bin')).nlink).toBe(1);
  });
});

describe("a group's journal record", () => {
  it('holds its reasons once and none of the values its row has columns for; the group, its reasons and its notes read back whole, as older records too', async () => {
    w = makeApplyFixture();
    const groups = threeDedupePairs(w, 'journal-reasons').groups.map((g, i) => ({ ...g, reasons: [`first reason of group ${i}`, `second reason of group ${i}`] }));
    const deps = testDeps(w);
    const res = await applyPlan(deps, makePlan(w, groups));
    expect(res.status, res.groups.map((g) => g.error).join('; ')).toBe('succeeded');
    const db = w.catalog.db;
    const rows = db.prepare(`SELECT group_id, plan_group, reasons FROM run_groups WHERE run_id = ? ORDER BY idx`).all(deps.runId) as { group_id: string; plan_group: string; reasons: string }[];
    expect(rows).toHaveLength(3);
    for (const [i, r] of rows.entries()) {
      const record = JSON.stringify(planRecord(db, deps.runId, r.group_id));
      expect((r.plan_group + record + r.reasons).split(`first reason of group ${i}`)).toHaveLength(2);
      expect(record).not.toContain(groups[i]!.key);
    }
    expect(getRun(db, deps.runId)!.groupRecords.map((g) => g.group)).toEqual(groups);
    expect(getRun(db, deps.runId)!.groupRecords.map((g) => g.reasons)).toEqual(groups.map((g) => g.reasons));
    // A group's notes (finishGroup) follow its reasons.
    new Journal(db, () => 0).finishGroup(deps.runId, 'g1', 'done', { notes: ['a note'] });
    expect(getRun(db, deps.runId)!.groupRecords[1]!.reasons).toEqual([...groups[1]!.reasons, 'a note']);
    expect(getRun(db, deps.runId)!.groupRecords[1]!.group).toEqual(groups[1]);
    // Records of older versions: the whole group, or the group without its steps, with its reasons and then its notes in
    // the column; the group without its columns' values, with its notes only in the column.
    new Journal(db, () => 0).finishGroup(deps.runId, 'g2', 'done', { notes: ['old note'] });
    const saved = db.prepare(`SELECT rowid AS id, records FROM run_group_plans`).all() as { id: number; records: string }[];
    for (const shape of ['whole', 'no-steps', 'columns', 'plans-whole'] as const) {
      toOldShape(db, deps.runId, 'g2', shape);
      const read = getRun(db, deps.runId)!.groupRecords[2]!;
      expect(read.group).toEqual(groups[2]);
      expect(read.reasons).toEqual([...groups[2]!.reasons, 'old note']);
      // Back to this version's shape for the next one.
      db.prepare(`UPDATE run_groups SET plan_group = '', reasons = '["old note"]' WHERE run_id = ? AND group_id = 'g2'`).run(deps.runId);
      db.prepare(`UPDATE run_steps SET plan_step = '' WHERE run_id = ? AND group_id = 'g2'`).run(deps.runId);
      for (const r of saved) db.prepare(`UPDATE run_group_plans SET records = ? WHERE rowid = ?`).run(r.records, r.id);
    }
  });
});

describe('WAL checkpoints during apply', () => {
  it('are not made automatically while the run journals (durability is the WAL fsync before each change); the threshold is restored after the run', async () => {
    w = makeApplyFixture();
    const seeding = path.join(w.stash, 'seeding');
    const data = Array.from({ length: 4 }, (_, i) => bytesFor(`checkpoint-${i}`, 2_000 + i));
    writeTree(seeding, Object.fromEntries(data.flatMap((d, i) => ['m', 'x'].map((dir) => [`${dir}/${i}.bin`, d]))));
    const p = (r: string) => path.join(seeding, r);
    const groups = data.map((d, i) => dedupeGroup(`g${i}`, p(`m/${i}.bin`), [p(`x/${i}.bin`)], sha256(d), d.length));
    const db = w.catalog.db;
    const threshold = () => db.pragma('wal_autocheckpoint', { simple: true }) as number;
    const before = threshold();
    const seen = new Set<number>();
    const deps = testDeps(w, { onBoundary: () => void seen.add(threshold()) });
    const res = await applyPlan(deps, makePlan(w, groups));
    expect(res.status, res.groups.map((g) => g.error).join('; ')).toBe('succeeded');
    expect([...seen].every((n) => n >= 16_384)).toBe(true);
    expect(seen.size).toBeGreaterThan(0);
    expect(threshold()).toBe(before);
    for (const [i, d] of data.entries()) expect(sha256(readFileSync(p(`x/${i}.bin`)))).toBe(sha256(d));
  });
});
