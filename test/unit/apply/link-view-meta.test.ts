// A move linking a file from the copy of another inode of equal content (LinkViewLink.metaOf) on real tmpfs: linked only while the file's own source shows the copy's owner, group and mode — a chown or chmod before apply, or between the step's first read and its link, rolls the group back with every byte kept.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import type { LinkViewStep, PlanGroup } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, fingerprint, hashallLeftovers, hashTreeSync, makeApplyFixture, makePlan, moveGroup, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { faultyFsPort, type Fault } from '../../support/faulty-fs.js';

let w: ApplyFixture | null = null;
afterEach(() => {
  w?.cleanup();
  w = null;
});

const E3 = bytesFor('e3', 70_000);

/**
 * A pack on stash (e3 and e4) and a repack holding the same e3 on another inode; the group copies the pack to pool and
 * links the repack's e3 there from that copy (as the planner merges them where the pool dedupes).
 */
function world(): { group: PlanGroup; own: string; view: string; copy: string; before: Record<string, string> } {
  w = makeApplyFixture();
  const seeding = path.join(w.stash, 'seeding');
  writeTree(seeding, { 'tv/Pack/e3.mkv': E3, 'tv/Pack/e4.mkv': bytesFor('e4', 5000), 'xs/Repack/e3.mkv': E3 });
  const own = path.join(seeding, 'xs/Repack/e3.mkv');
  for (const p of [own, path.join(seeding, 'tv/Pack/e3.mkv')]) {
    chownSync(p, 0, 0);
    chmodSync(p, 0o644);
  }
  const copy = path.join(w.pool, 'seeding/tv/Pack/e3.mkv');
  const view = path.join(w.pool, 'seeding/xs/Repack/e3.mkv');
  const link: LinkViewStep = {
    kind: 'link-view',
    fs: 'pool',
    torrentHash: 'b'.repeat(40),
    root: path.dirname(view),
    links: [{ donor: copy, path: view, size: E3.length, sha256: sha256(E3), metaOf: { fs: 'stash', path: own, ino: lstatSync(own).ino } }],
  };
  const group = moveGroup('g1', w, path.join(seeding, 'tv/Pack'), path.join(w.pool, 'seeding/tv/Pack'), [link]);
  group.fingerprint.files.push(fingerprint(own));
  return { group, own, view, copy, before: hashTreeSync(seeding) };
}

/** Rolled back with nothing on the pool, every byte on the stash as before, the refusal naming the owner and mode. */
function refused(res: Awaited<ReturnType<typeof applyPlan>>, before: Record<string, string>): void {
  expect(res.groups.map((g) => g.status)).toEqual(['rolled-back']);
  expect(res.groups[0]!.error).toMatch(/would change owner, group or mode/);
  expect(existsSync(path.join(w!.pool, 'seeding', 'tv'))).toBe(false);
  expect(existsSync(path.join(w!.pool, 'seeding', 'xs'))).toBe(false);
  expect(hashTreeSync(path.join(w!.stash, 'seeding'))).toEqual(before);
  expect(hashallLeftovers(w!.pool)).toEqual([]);
}

describe('link-view from the copy of another inode of equal content (metaOf)', () => {
  it('the same owner, group and mode: linked from the copy', async () => {
    const { group, view, copy } = world();
    const res = await applyPlan(testDeps(w!), makePlan(w!, [group]));
    expect(res.groups.map((g) => g.status)).toEqual(['done']);
    expect(lstatSync(view).ino).toBe(lstatSync(copy).ino);
  });

  for (const [what, change] of [
    ['made private (chmod 0600)', (p: string) => chmodSync(p, 0o600)],
    ['given to another owner (chown 1001)', (p: string) => chownSync(p, 1001, 0)],
    ['given to another group (chown :1002)', (p: string) => chownSync(p, 0, 1002)],
  ] as const) {
    it(`the linked file's own source ${what} after the plan: the group is rolled back, nothing lost`, async () => {
      const { group, own, before } = world();
      change(own);
      refused(await applyPlan(testDeps(w!), makePlan(w!, [group])), before);
    });
  }

  it('the source chmod-ed between the step\'s first read and its link (after the link probe): read again right before the link, rolled back', async () => {
    const { group, own, before } = world();
    const fault: Fault = { op: 'link', nth: 1, pathIncludes: 'probe', after: () => chmodSync(own, 0o600) };
    const fs = faultyFsPort(realFsPort(), [fault]);
    refused(await applyPlan(testDeps(w!, { fs }), makePlan(w!, [group])), before);
    expect(fs.fired).toEqual([fault]);
  });
});
