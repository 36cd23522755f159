// Needs-attention runs: listed with their paths by the run store, blocked in the plan, retried by recover, or acknowledged with `hashall runs ack`.
import { singleClient } from '../../../src/clients/client-set.js';
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { runRecover } from '../../../src/reconcile/apply.js';
import { getRun, unresolvedRuns } from '../../../src/apply/run-store.js';
import { loadConfig } from '../../../src/config/load.js';
import { blockUnresolved } from '../../../src/plan/unresolved.js';
import { renderPlanText } from '../../../src/render/plan-text.js';
import { testDeps } from '../../support/apply-deps.js';
import { faultyFsPort } from '../../support/faulty-fs.js';
import { runCli } from '../../support/cli.js';
import { bytesFor, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, moveGroup, writeTree, writeFixtureConfig, type ApplyFixture } from '../../support/apply-fixture.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

/** A move whose copy fails at link() and whose undo cannot remove the temp file: a real needs-attention run. */
async function needsAttention() {
  w = makeApplyFixture();
  const src = path.join(w.stash, 'seeding', 'movies', 'M');
  writeTree(src, { 'm.mkv': bytesFor('m', 5000) });
  const dst = path.join(w.pool, 'seeding', 'movies', 'M');
  const before = hashTreeSync(src);
  const fs = faultyFsPort(realFsPort(), [
    { op: 'link', nth: 1, code: 'EIO' },
    { op: 'unlink', nth: 1, code: 'EACCES' },
  ]);
  const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, dst), moveGroup('g2', w, src, path.join(w.pool, 'seeding', 'other', 'M'))]));
  expect(res.status).toBe('needs-attention');
  return { src, dst, before, runId: res.runId };
}

describe('unresolved runs', () => {
  it('the run store lists a needs-attention run with the paths of its open group; the planner blocks groups touching them and shows the run first', async () => {
    const { src, dst, runId } = await needsAttention();
    const open = unresolvedRuns(w.catalog.db);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ runId, status: 'needs-attention', pausedTorrents: [] });
    expect(open[0]!.paths).toEqual([src, dst].sort());
    expect(open[0]!.attention.join('\n')).toMatch(/automatic undo failed/);

    const touching = moveGroup('g1', w, path.join(src), path.join(w.pool, 'seeding', 'elsewhere', 'M'));
    const unrelatedSrc = path.join(w.stash, 'seeding', 'tv', 'S');
    writeTree(unrelatedSrc, { 'e.mkv': bytesFor('e', 100) });
    const unrelated = moveGroup('g2', w, unrelatedSrc, path.join(w.pool, 'seeding', 'tv', 'S'));
    const [a, b] = blockUnresolved([touching, unrelated], open);
    expect(a).toMatchObject({ action: 'blocked', steps: [], bytesToCopy: 0 });
    expect(a!.reasons[0]).toBe(
      `apply run ${runId} needs attention and touches ${src}: resolve it first — \`hashall recover\` retries its rollback (and resumes what it paused); or do by hand what \`hashall runs show ${runId}\` says, then \`hashall runs ack ${runId}\``,
    );
    expect(b).toBe(unrelated);
    const text = renderPlanText({ ...makePlan(w, [a!, b!].map((g, i) => ({ ...g, id: `g${i + 1}` }))), unresolvedRuns: open }, { color: false });
    expect(text.startsWith(`Unresolved apply runs (groups touching their paths are blocked until they are resolved):\n\n  ! run ${runId} needs attention`)).toBe(true);
  });

  it('recover retries the failed undo: the .part is removed, the run becomes recovered, nothing is left to resolve', async () => {
    const { src, before, runId } = await needsAttention();
    expect(hashallLeftovers(w.pool)).toHaveLength(1); // the temp file its undo could not remove
    const out = await runRecover({ config: w.config, clients: singleClient(null), command: 'test recover', now: () => Date.now(), emit: () => undefined, catalog: w.catalog });
    expect(out).toEqual([{ runId, status: 'recovered', groups: [{ id: 'g1', action: 'rolled-back', notes: expect.any(Array) }], attention: [] }]);
    expect(hashallLeftovers(w.pool)).toEqual([]);
    expect(hashTreeSync(src)).toEqual(before);
    expect(getRun(w.catalog.db, runId)!.status).toBe('recovered');
    expect(unresolvedRuns(w.catalog.db)).toEqual([]);
  });

  it('a group whose effect is complete despite the failure is finished, not undone: the relocation is recorded (the kept copy re-hashed)', async () => {
    w = makeApplyFixture();
    const src = path.join(w.stash, 'seeding', 'movies', 'F');
    writeTree(src, { 'f.mkv': bytesFor('f', 7000) });
    const dst = path.join(w.pool, 'seeding', 'movies', 'F');
    const before = hashTreeSync(src);
    // The file is in place when fsync of its directory fails; the undo then cannot remove it: needs attention.
    const fs = faultyFsPort(realFsPort(), [
      { op: 'fsyncDir', nth: 1, code: 'EIO' },
      { op: 'unlink', nth: 2, code: 'EACCES' },
    ]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(res.status).toBe('needs-attention');
    expect(hashTreeSync(dst)).toEqual(before);
    expect(w.catalog.db.prepare(`SELECT COUNT(*) FROM relocations`).pluck().get()).toBe(0); // the bug: never recorded
    const out = await runRecover({ config: w.config, clients: singleClient(null), command: 'test recover', now: () => Date.now(), emit: () => undefined, catalog: w.catalog });
    expect(out).toEqual([{ runId: res.runId, status: 'recovered', groups: [{ id: 'g1', action: 'finished', notes: [] }], attention: [] }]);
    const run = getRun(w.catalog.db, res.runId)!;
    expect(run.status).toBe('recovered');
    expect(run.groupRecords[0]!.status).toBe('done');
    expect(w.catalog.db.prepare(`SELECT source_root, target_root FROM relocations`).all()).toEqual([{ source_root: src, target_root: dst }]);
    expect(hashTreeSync(dst)).toEqual(before);
    expect(hashTreeSync(src)).toEqual(before);
  });

  it('`hashall runs ack ID` records who and when; the run no longer blocks and is not retried; other runs cannot be acknowledged', async () => {
    const { runId } = await needsAttention();
    const cfg = writeFixtureConfig(w);
    w.config = loadConfig(cfg, { env: {}, cwd: w.root }).config;
    const missing = await runCli(['runs', 'ack', 'no-such-run', '--config', cfg]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no run with id no-such-run');
    const ack = await runCli(['runs', 'ack', runId, '--config', cfg], { now: () => Date.UTC(2026, 0, 2, 3, 4, 5) });
    expect(ack.code, ack.stderr).toBe(0);
    expect(ack.stdout).toMatch(new RegExp(`^run ${runId} acknowledged by .+@.+ at 2026-01-02T03:04:05.000Z; plan no longer blocks its paths\\n$`));
    const run = getRun(w.catalog.db, runId)!;
    expect(run.ackedAt).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(run.ackedBy).toMatch(/@/);
    expect(unresolvedRuns(w.catalog.db)).toEqual([]);
    const again = await runCli(['runs', 'ack', runId, '--config', cfg]);
    expect(again.stdout).toContain('was already acknowledged by');
    // --json: one document, the same facts.
    const json = await runCli(['runs', 'ack', runId, '--json', '--config', cfg]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ runId, acknowledged: true, already: true, ackedBy: run.ackedBy, ackedAt: '2026-01-02T03:04:05.000Z' });
    const leftovers = hashallLeftovers(w.pool);
    const out = await runRecover({ config: w.config, clients: singleClient(null), command: 'test recover', now: () => Date.now(), emit: () => undefined, catalog: w.catalog });
    expect(out).toEqual([]); // acknowledged: a person dealt with it, hashall does not act on it again
    expect(hashallLeftovers(w.pool)).toEqual(leftovers);
    const okSrc = path.join(w.stash, 'seeding', 'tv', 'S');
    writeTree(okSrc, { 'e.mkv': bytesFor('e', 100) });
    const ok = await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, okSrc, path.join(w.pool, 'seeding', 'tv', 'S'))]));
    expect(ok.status).toBe('succeeded');
    const refused = await runCli(['runs', 'ack', ok.runId, '--config', cfg]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`run ${ok.runId} is succeeded, not needs-attention: there is nothing to acknowledge`);
  });
});
