// The apply journal grows linearly with the files of a step: a copy and a view of many small files journal O(N) bytes.
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { getRun } from '../../../src/apply/run-store.js';
import type { LinkViewStep } from '../../../src/plan/types.js';
import { hashTreeSync, makeApplyFixture, makePlan, moveGroup, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { testDeps } from '../../support/apply-deps.js';

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
