// Dedupe groups in a plan file's short form: written for every planned dedupe group, read back to exactly that group (steps and fingerprint), refused when damaged; anything else written whole.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/plan/build.js';
import { serializePlan } from '../../../src/plan/plan-file.js';
import { parsePlan } from '../../../src/plan/plan-file-io.js';
import { shortDedupeGroup } from '../../../src/plan/dedupe-short.js';
import type { Plan, PlanGroup } from '../../../src/plan/types.js';
import { SnapshotBuilder, baseConfig, STASH_SEED, MOVIES_LIB } from './fixtures.js';

/** A plan with several dedupe groups as the planner makes them: a keeper with a second link, a duplicate inode with two paths, mtimes that differ, two metadata sets of one content. */
function dedupePlan(): Plan {
  const b = new SnapshotBuilder(baseConfig({ dedupe: { filesystems: ['stash'], minSize: 0 } }));
  b.file(`${STASH_SEED}/a/x.bin`, 1000, 'dup', undefined, { mtimeNs: '1700000000000000001' });
  b.file(`${STASH_SEED}/b/x.bin`, 1000, 'dup', undefined, { mtimeNs: '1700000000000000002' });
  b.link(`${STASH_SEED}/b/x.bin`, `${STASH_SEED}/c/x.bin`);
  b.file(`${STASH_SEED}/d/x.bin`, 1000, 'dup', undefined, { mtimeNs: '1700000000000000003' });
  b.link(`${STASH_SEED}/d/x.bin`, `${STASH_SEED}/e/x.bin`);
  b.file(`${STASH_SEED}/m/y.bin`, 500, 'why', undefined, { meta: { uid: 0, gid: 0, mode: 0o644 } });
  b.file(`${STASH_SEED}/n/y.bin`, 500, 'why', undefined, { meta: { uid: 0, gid: 0, mode: 0o644 } });
  b.file(`${STASH_SEED}/o/y.bin`, 500, 'why', undefined, { meta: { uid: 1000, gid: 1000, mode: 0o600 } });
  b.file(`${MOVIES_LIB}/p/y.bin`, 500, 'why', undefined, { meta: { uid: 1000, gid: 1000, mode: 0o600 } });
  const snapshot = b.build();
  return buildPlan({ config: b.config, snapshot, now: b.now, createdAt: new Date(b.now).toISOString() });
}

const dedupeGroups = (p: Plan): PlanGroup[] => p.groups.filter((g) => g.action === 'dedupe');

describe('plan files: dedupe groups in their short form', () => {
  it('every planned dedupe group is written short (each file once) and reads back to exactly the group planned', () => {
    const plan = dedupePlan();
    expect(dedupeGroups(plan).length).toBeGreaterThanOrEqual(3);
    expect(dedupeGroups(plan).some((g) => g.steps.length > 1 && g.fingerprint.files.length > g.steps.length + 1)).toBe(true);
    const text = serializePlan(plan);
    const written = JSON.parse(text) as { formatVersion: number; groups: Record<string, unknown>[] };
    expect(written.formatVersion).toBe(2);
    for (const g of written.groups.filter((x) => x.action === 'dedupe')) {
      expect(Object.keys(g).sort()).toEqual(['action', 'bytesToFree', 'dedupe', 'id', 'key', 'reasons', 'title']);
    }
    // Exactly the groups planned: every step (keeper, duplicate, size, SHA-256, metadata) and every fingerprint file
    // (inode, size, mtime, link count) — a file changed since planning still makes the plan stale.
    const read = parsePlan(text);
    expect(read).toEqual(plan);
    // The same text as the planner's objects give when written whole (the run journal stores groups so).
    expect(JSON.stringify(read)).toBe(JSON.stringify(plan));
    // Each file once: its path appears in the short group once, where the whole group repeats it in steps, fingerprint, from and to.
    for (const g of dedupeGroups(plan)) {
      const w = written.groups.find((x) => x.id === g.id)!;
      for (const f of g.fingerprint.files) expect(JSON.stringify(w.dedupe).split(JSON.stringify(f.path)).length - 1).toBe(1);
    }
    const whole = JSON.stringify(dedupeGroups(plan).map((g) => [g.steps, g.fingerprint, g.from, g.to]), null, 2).length;
    const short = JSON.stringify(written.groups.filter((g) => g.action === 'dedupe').map((g) => g.dedupe), null, 2).length;
    expect(short).toBeLessThan(whole / 2);
  });

  it('a group read from its short form has that form (as derived from an equal group, key for key) without deriving it again', () => {
    const plan = dedupePlan();
    const read = parsePlan(serializePlan(plan));
    for (const [i, g] of dedupeGroups(read).entries()) {
      const answered = shortDedupeGroup(g);
      // Derived from the planner's group and from a copy of the group read (objects never read from a short form).
      expect(JSON.stringify(answered)).toBe(JSON.stringify(shortDedupeGroup(dedupeGroups(plan)[i]!)));
      expect(JSON.stringify(answered)).toBe(JSON.stringify(shortDedupeGroup(structuredClone(g))));
      // The same object each time: kept from the read, not made again.
      expect(shortDedupeGroup(g)).toBe(answered);
    }
  });

  it('a plan file of format version 1 (dedupe groups whole) reads as before', () => {
    const plan = dedupePlan();
    const v1 = JSON.stringify({ ...plan, formatVersion: 1 }, null, 2);
    expect(parsePlan(v1)).toEqual(plan);
  });

  it('a group that would not read back exactly from the short form is written whole', () => {
    const plan = dedupePlan();
    const g = dedupeGroups(plan).find((x) => x.steps.length > 1)!;
    const step0 = g.steps[0]!;
    if (step0.kind !== 'dedupe-link') throw new Error('not a dedupe step');
    const variants: PlanGroup[] = [
      { ...g, rule: 'r' },
      { ...g, to: null },
      { ...g, fingerprint: { ...g.fingerprint, files: g.fingerprint.files.map(({ nlink: _n, ...f }) => f) } },
      { ...g, fingerprint: { ...g.fingerprint, files: g.fingerprint.files.slice(1) } },
      { ...g, steps: [{ ...step0, duplicate: { ...step0.duplicate, mtimeNs: '1' } }, ...g.steps.slice(1)] },
      { ...g, steps: [{ ...step0, duplicate: { ...step0.duplicate, meta: { uid: 1, gid: 0, mode: 0o644 } } }, ...g.steps.slice(1)] },
      { ...g, fingerprint: { ...g.fingerprint, files: g.fingerprint.files.map((f, i) => (i === 0 ? { ...f, size: f.size + 1 } : f)) } },
      { ...g, steps: [step0, step0] },
      { ...g, action: 'blocked' },
    ];
    for (const v of variants) {
      expect(shortDedupeGroup(v)).toBeNull();
      const p = { ...plan, groups: [v] };
      expect(JSON.parse(serializePlan(p)).groups[0]).toEqual(JSON.parse(JSON.stringify(v)));
      expect(parsePlan(serializePlan(p))).toEqual(p);
    }
  });

  it('a damaged short group is refused, naming where (schema first, then indices)', () => {
    const text = serializePlan(dedupePlan());
    const at = (edit: (g: { dedupe: Record<string, unknown> }) => void): string => {
      const doc = JSON.parse(text) as { groups: { action: string; dedupe: Record<string, unknown> }[] };
      edit(doc.groups.find((g) => g.action === 'dedupe')!);
      try {
        parsePlan(JSON.stringify(doc), 'plan file p.json');
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(at((g) => (g.dedupe.sha256 = 'abc'))).toMatch(/plan file p\.json does not match schemas\/plan\.schema\.json:\n {2}\/groups\/\d+\/dedupe\/sha256: must match pattern/);
    expect(at((g) => delete (g.dedupe.files as Record<string, unknown>[])[0]!.nlink)).toMatch(/\/groups\/\d+\/dedupe\/files\/0: must have required property 'nlink'/);
    expect(at((g) => ((g.dedupe.files as Record<string, unknown>[])[0]!.size = 1))).toMatch(/\/groups\/\d+\/dedupe\/files\/0: must NOT have additional properties/);
    expect(at((g) => (g.dedupe.duplicates = []))).toMatch(/\/groups\/\d+\/dedupe\/duplicates: must NOT have fewer than 1 items/);
    expect(at((g) => (g.dedupe.keeper = 99))).toMatch(/plan file p\.json does not hold a readable plan:\n {2}\/groups\/\d+\/dedupe\/keeper: 99 is not an index of dedupe\/files/);
    expect(at((g) => (g.dedupe.duplicates = [g.dedupe.keeper]))).toMatch(/\/groups\/\d+\/dedupe\/duplicates\/0: \d+ is the keeper/);
    expect(at((g) => (g.dedupe.duplicates = [1, 1].map((i) => (i === g.dedupe.keeper ? 0 : i))))).toMatch(/dedupe\/duplicates\/1: \d+ is listed twice/);
  });
});
