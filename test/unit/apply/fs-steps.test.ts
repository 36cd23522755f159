// applyPlan over real tmpfs filesystems: copy (move), dedupe, retire, no-op second apply, never-overwrite, real EXDEV/ENOSPC, injected EACCES, source changed mid-copy.
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, chmodSync, chownSync, existsSync, lstatSync, readdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { getRun, listRuns } from '../../../src/apply/run-store.js';
import { purgeTrash } from '../../../src/apply/trash.js';
import { faultyFsPort } from '../../support/faulty-fs.js';
import { bytesFor, dedupeGroup, dedupePairOnStash, fileList, hashallLeftovers, fingerprint, hashTreeSync, makeApplyFixture, makePlan, moveGroup, payloadHashOf, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { testDeps } from '../../support/apply-deps.js';
import type { LinkViewStep, PlanGroup } from '../../../src/plan/types.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

function movieFixture(opts: { poolBytes?: number } = {}) {
  w = makeApplyFixture(opts);
  const src = path.join(w.stash, 'seeding', 'movies', 'Movie.A');
  writeTree(src, { 'a.mkv': bytesFor('a', 3 << 20), 'sub/b.srt': bytesFor('b', 1000), 'c.nfo': bytesFor('c', 0) });
  const dst = path.join(w.pool, 'seeding', 'movies', 'Movie.A');
  return { src, dst, before: hashTreeSync(src) };
}

describe('copy (move across filesystems)', () => {
  it('copies every file with its bytes, mode and mtime, records the relocation, bumps the serial; a second apply is a no-op', async () => {
    const { src, dst, before } = movieFixture();
    const serial0 = w.catalog.serial();
    const d = testDeps(w);
    const res = await applyPlan(d, makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(res.status).toBe('succeeded');
    expect(hashTreeSync(dst)).toEqual(before);
    expect(hashTreeSync(src)).toEqual(before); // the source stays until a later retire
    const s = lstatSync(path.join(src, 'a.mkv'), { bigint: true });
    const t = lstatSync(path.join(dst, 'a.mkv'), { bigint: true });
    expect(t.mode).toBe(s.mode);
    expect(t.mtimeMs).toBe(s.mtimeMs);
    expect(t.dev).not.toBe(s.dev);
    expect(res.bytesCopied).toBe((3 << 20) + 1000);
    expect(hashallLeftovers(w.pool)).toEqual([]);
    expect(w.catalog.serial()).toBe(serial0 + 1);
    const rel = w.catalog.db.prepare(`SELECT * FROM relocations`).all() as { source_root: string; target_root: string; payload_hash: string }[];
    expect(rel).toHaveLength(1);
    expect(rel[0]).toMatchObject({ source_root: src, target_root: dst, payload_hash: payloadHashOf(src) });
    const run = getRun(w.catalog.db, res.runId)!;
    expect(run.groupRecords[0]!.steps[0]!.status).toBe('done');
    expect(d.events.some((e) => e.type === 'copy-progress')).toBe(true);

    const again = await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(again.status).toBe('succeeded');
    expect(again.bytesCopied).toBe(0);
    expect(getRun(w.catalog.db, again.runId)!.groupRecords[0]!.steps[0]!.status).toBe('noop');
    expect(listRuns(w.catalog.db)).toHaveLength(2);
    expect(w.catalog.serial()).toBe(serial0 + 1); // nothing changed: no new serial, no second relocation
    expect((w.catalog.db.prepare(`SELECT COUNT(*) AS n FROM relocations`).get() as { n: number }).n).toBe(1);
  });

  it('never overwrites different content at the target: the group is rolled back and both sides are unchanged', async () => {
    const { src, dst, before } = movieFixture();
    writeTree(dst, { 'sub/b.srt': Buffer.from('someone else') });
    const plan = makePlan(w, [moveGroup('g1', w, src, dst)]);
    const res = await applyPlan(testDeps(w), plan);
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/something else is already there/);
    expect(hashTreeSync(dst)).toEqual({ 'sub/b.srt': sha256(Buffer.from('someone else')) });
    expect(hashTreeSync(src)).toEqual(before);
  });

  it('a real ENOSPC on a small tmpfs target rolls the group back and leaves no partial files', async () => {
    const { src, dst, before } = movieFixture({ poolBytes: 2 << 20 });
    const res = await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]), { skipPreflight: true });
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/ENOSPC|no space/i);
    expect(existsSync(path.join(w.pool, 'seeding'))).toBe(false); // created dirs removed
    expect(hashTreeSync(src)).toEqual(before);
  });

  it('preflight refuses a copy that would not fit (exit 5) before touching anything', async () => {
    const { src, dst } = movieFixture({ poolBytes: 2 << 20 });
    await expect(applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]))).rejects.toMatchObject({ exitCode: 5 });
    expect(readdirSync(w.pool)).toEqual([]);
  });

  it('an injected EACCES on the second file undoes the first one', async () => {
    const { src, dst, before } = movieFixture();
    const fs = faultyFsPort(realFsPort(), [{ op: 'copyFileVerified', nth: 2, code: 'EACCES' }]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(fs.fired).toHaveLength(1);
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/EACCES/);
    expect(readdirSync(w.pool)).toEqual([]);
    expect(hashTreeSync(src)).toEqual(before);
    const steps = getRun(w.catalog.db, res.runId)!.groupRecords[0]!.steps;
    expect(steps[0]!.status).toBe('undone');
  });

  it('a source file modified during its copy aborts the group', async () => {
    const { src, dst } = movieFixture();
    const victim = path.join(src, 'a.mkv');
    const fs = faultyFsPort(realFsPort(), [{ op: 'copyFileVerified', nth: 1, pathIncludes: 'a.mkv', after: () => appendFileSync(victim, 'late write') }]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/changed while it was being copied/);
    expect(readdirSync(w.pool)).toEqual([]);
    expect(lstatSync(victim).size).toBe((3 << 20) + 'late write'.length); // the writer's data is untouched
  });

  it('continues with the next group after a group-local failure (partial)', async () => {
    const { src, dst } = movieFixture();
    const src2 = path.join(w.stash, 'seeding', 'movies', 'Movie.B');
    writeTree(src2, { 'x.bin': bytesFor('x', 5000) });
    const dst2 = path.join(w.pool, 'seeding', 'movies', 'Movie.B');
    writeTree(dst, { 'a.mkv': Buffer.from('conflict') });
    const res = await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst), moveGroup('g2', w, src2, dst2)]));
    expect(res.status).toBe('partial');
    expect(res.groups.map((g) => g.status)).toEqual(['rolled-back', 'done']);
    expect(hashTreeSync(dst2)).toEqual(hashTreeSync(src2));
  });
});

/** A reuse group whose one step builds the view at `root` from `links`, fingerprinted from the donor payload as a plan made now would be. */
function viewGroup(donorDir: string, root: string, links: LinkViewStep['links'], expected?: string[]): PlanGroup {
  const step: LinkViewStep = { kind: 'link-view', fs: 'stash', torrentHash: 'a'.repeat(40), root, links };
  if (expected) step.expected = expected;
  return { ...moveGroup('g1', w, donorDir, path.join(w.pool, 'x')), action: 'reuse', steps: [step] };
}

describe('link-view', () => {
  it('builds hardlinks from a same-filesystem donor; existing identical links are no-ops', async () => {
    w = makeApplyFixture();
    const donor = path.join(w.stash, 'seeding', 'movies', 'M', 'm.mkv');
    writeTree(path.dirname(donor), { 'm.mkv': bytesFor('m', 4096) });
    const view = path.join(w.stash, 'seeding', 'cross-seed', 'trk', 'M', 'm.mkv');
    // Fingerprinted as a plan made at that moment would be (the donor's link count grows with the first apply).
    const group = (): PlanGroup => viewGroup(path.dirname(donor), path.dirname(view), [{ donor, path: view, size: 4096, sha256: sha256(bytesFor('m', 4096)) }]);
    const first = group();
    const res = await applyPlan(testDeps(w), makePlan(w, [first]));
    expect(res.status).toBe('succeeded');
    expect(lstatSync(view).ino).toBe(lstatSync(donor).ino);
    expect(hashallLeftovers(w.stash)).toEqual([]);
    // The first plan again is stale now: the donor gained the view's link since it was made.
    await expect(applyPlan(testDeps(w), makePlan(w, [first]))).rejects.toMatchObject({ exitCode: 5 });
    const again = await applyPlan(testDeps(w), makePlan(w, [group()]));
    expect(getRun(w.catalog.db, again.runId)!.groupRecords[0]!.steps[0]!.status).toBe('noop');
  });

  it('refuses to build a view in a directory that already holds another torrent\'s file: nothing linked, the stranger untouched', async () => {
    w = makeApplyFixture();
    const donorDir = path.join(w.stash, 'seeding', 'movies', 'M');
    writeTree(donorDir, { 'm.mkv': bytesFor('m', 4096), 'm.nfo': bytesFor('n', 10) });
    const viewRoot = path.join(w.stash, 'seeding', 'cross-seed', 'trk', 'M');
    writeTree(viewRoot, { 'other.mkv': bytesFor('other', 2048) }); // arrived after planning
    const links = ['m.mkv', 'm.nfo'].map((f) => ({ donor: path.join(donorDir, f), path: path.join(viewRoot, f), size: lstatSync(path.join(donorDir, f)).size, sha256: 'x' }));
    const group = viewGroup(donorDir, viewRoot, links, ['m.mkv', 'm.nfo']);
    const before = { donor: hashTreeSync(donorDir), view: hashTreeSync(viewRoot) };
    const res = await applyPlan(testDeps(w), makePlan(w, [group]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/already holds files that are not part of this torrent \(other\.mkv\)/);
    expect(hashTreeSync(viewRoot)).toEqual(before.view); // no link made beside the stranger
    expect(hashTreeSync(donorDir)).toEqual(before.donor);
    expect(hashallLeftovers(w.stash)).toEqual([]);
  });

  it('a real EXDEV across a bind mount of the same filesystem fails the group and removes the directories it made', async () => {
    w = makeApplyFixture();
    const donor = path.join(w.stash, 'seeding', 'M', 'm.mkv');
    writeTree(path.dirname(donor), { 'm.mkv': bytesFor('m', 4096) });
    const view = path.join(w.stashAlias, 'seeding', 'view', 'M', 'm.mkv');
    const group = viewGroup(path.dirname(donor), path.dirname(view), [{ donor, path: view, size: 4096, sha256: 'x' }]);
    const res = await applyPlan(testDeps(w), makePlan(w, [group]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/EXDEV/);
    expect(existsSync(path.join(w.stash, 'seeding', 'view'))).toBe(false);
    expect(existsSync(donor)).toBe(true);
  });

  it('refuses to replace a different file at a view path', async () => {
    w = makeApplyFixture();
    const donor = path.join(w.stash, 'seeding', 'M', 'm.mkv');
    writeTree(path.dirname(donor), { 'm.mkv': bytesFor('m', 4096) });
    const view = path.join(w.stash, 'seeding', 'view', 'm.mkv');
    writeTree(path.dirname(view), { 'm.mkv': bytesFor('other', 4096) });
    const group = viewGroup(path.dirname(donor), path.dirname(view), [{ donor, path: view, size: 4096, sha256: 'x' }]);
    const res = await applyPlan(testDeps(w), makePlan(w, [group]));
    expect(res.status).toBe('rolled-back');
    expect(hashTreeSync(path.dirname(view))['m.mkv']).toBe(sha256(bytesFor('other', 4096)));
  });
});

function dedupePair(keeper: string, dup: string, size: number, sha: string): PlanGroup {
  return dedupeGroup('d1', keeper, [dup], sha, size);
}

describe('dedupe-link', () => {
  it('replaces the duplicate by a hardlink of the keeper and frees its bytes', async () => {
    w = makeApplyFixture();
    const data = bytesFor('dup', 100_000);
    const { keeper, dup, group } = dedupePairOnStash(w, data);
    const res = await applyPlan(testDeps(w), makePlan(w, [group]));
    expect(res.status).toBe('succeeded');
    expect(res.bytesFreed).toBe(data.length);
    expect(lstatSync(dup).ino).toBe(lstatSync(keeper).ino);
    expect(hashTreeSync(path.join(w.stash, 'seeding'))).toEqual({ 'a/f.bin': sha256(data), 'b/f.bin': sha256(data) });
    expect(hashallLeftovers(w.stash)).toEqual([]);
  });

  it('refuses when the bytes differ (compared byte for byte right before), changing nothing', async () => {
    w = makeApplyFixture();
    const data = bytesFor('dup', 100_000);
    const other = Buffer.from(data);
    other[50_000] = other[50_000]! ^ 1;
    writeTree(w.stash, { 'seeding/a/f.bin': data, 'seeding/b/f.bin': other });
    const keeper = path.join(w.stash, 'seeding/a/f.bin');
    const dup = path.join(w.stash, 'seeding/b/f.bin');
    const res = await applyPlan(testDeps(w), makePlan(w, [dedupePair(keeper, dup, data.length, sha256(data))]));
    expect(res.status).toBe('rolled-back');
    expect(lstatSync(dup).ino).not.toBe(lstatSync(keeper).ino);
    expect(hashTreeSync(path.join(w.stash, 'seeding'))['b/f.bin']).toBe(sha256(other));
  });

  it.each([
    ['owner', (p: string) => chownSync(p, 1001, 1001)],
    ['mode', (p: string) => chmodSync(p, 0o600)],
  ])('refuses when the %s of a file changed since planning (mtime and inode unchanged), changing nothing', async (_what, change) => {
    w = makeApplyFixture();
    const data = bytesFor('dup', 100_000);
    const { keeper, dup, group } = dedupePairOnStash(w, data);
    change(dup);
    const before = lstatSync(dup);
    const res = await applyPlan(testDeps(w), makePlan(w, [group]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/linking would change what its path shows/);
    const after = lstatSync(dup);
    expect([after.ino, after.uid, after.gid, after.mode]).toEqual([before.ino, before.uid, before.gid, before.mode]);
    expect(after.ino).not.toBe(lstatSync(keeper).ino);
    expect(hashTreeSync(path.join(w.stash, 'seeding'))).toEqual({ 'a/f.bin': sha256(data), 'b/f.bin': sha256(data) });
  });
});

describe('dedupe-link against another local user swapping files between the check and the link', () => {
  /** keeper a/f.bin and duplicate b/f.bin with the same bytes, planned. */
  function pair() {
    w = makeApplyFixture();
    const data = bytesFor('dup', 100_000);
    return { data, ...dedupePairOnStash(w, data) };
  }

  it('a keeper swapped for another file right before the link: the duplicate keeps its bytes, nothing is left behind', async () => {
    const { data, keeper, dup, group } = pair();
    const aside = path.join(w.stash, 'seeding/a/moved-away.bin');
    const evil = Buffer.from(data);
    evil[0] = evil[0]! ^ 0xff;
    const real = realFsPort();
    const fs = {
      ...real,
      link: async (existing: string, newPath: string) => {
        if (existing === keeper) {
          renameSync(keeper, aside);
          writeFileSync(keeper, evil);
        }
        return real.link(existing, newPath);
      },
    };
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [group]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/keeper/);
    const tree = hashTreeSync(path.join(w.stash, 'seeding'));
    expect(tree['b/f.bin']).toBe(sha256(data));
    expect(tree['a/moved-away.bin']).toBe(sha256(data));
    expect(lstatSync(dup).ino).not.toBe(lstatSync(keeper).ino);
    expect(hashallLeftovers(w.stash)).toEqual([]);
  });

  it('a keeper written to after the compare, right before the link: refused, the duplicate keeps the bytes it had, nothing is left behind', async () => {
    const { data, keeper, dup, group } = pair();
    const real = realFsPort();
    const fs = {
      ...real,
      link: async (existing: string, newPath: string) => {
        if (existing === keeper) appendFileSync(keeper, 'appended after the compare');
        return real.link(existing, newPath);
      },
    };
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [group]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/changed since the compare/);
    const tree = hashTreeSync(path.join(w.stash, 'seeding'));
    expect(tree['b/f.bin']).toBe(sha256(data));
    expect(tree['a/f.bin']).toBe(sha256(Buffer.concat([data, Buffer.from('appended after the compare')])));
    expect(lstatSync(dup).ino).not.toBe(lstatSync(keeper).ino);
    expect(hashallLeftovers(w.stash)).toEqual([]);
  });

  it('a duplicate edited in place (mtime put back) and swapped for a true copy while it is compared: refused, its bytes kept', async () => {
    const { data, keeper, dup } = pair();
    const edited = Buffer.from(data);
    edited[70_000] = edited[70_000]! ^ 1;
    // Planned while both held `data` (its hash); edited in place since, its mtime put back: same inode, size and mtime
    // as planned, only the bytes tell.
    utimesSync(dup, 1_600_000_000, 1_600_000_000);
    const group = dedupePair(keeper, dup, data.length, sha256(data));
    writeFileSync(dup, edited);
    utimesSync(dup, 1_600_000_000, 1_600_000_000);
    const aside = path.join(w.stash, 'seeding/b/.aside');
    const real = realFsPort();
    const fs = {
      ...real,
      sameBytes: async (a: string, b: string, expect?: { a: number; b: number }) => {
        // Swap a true copy of the keeper in for the compare, and the edited duplicate back right after.
        renameSync(dup, aside);
        writeFileSync(dup, data);
        try {
          return await real.sameBytes(a, b, expect);
        } finally {
          renameSync(aside, dup);
        }
      },
    };
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [group]));
    expect(res.status).toBe('rolled-back');
    expect(hashTreeSync(path.join(w.stash, 'seeding'))).toEqual({ 'a/f.bin': sha256(data), 'b/f.bin': sha256(edited) });
    expect(lstatSync(dup).ino).not.toBe(lstatSync(keeper).ino);
    expect(hashallLeftovers(w.stash)).toEqual([]);
  });
});

function retireGroup(w: ApplyFixture, source: string, kept: string, relocationId: number): PlanGroup {
  const files = fileList(source);
  const bytes = files.reduce((n, f) => n + f.size, 0);
  return {
    id: 'r1',
    key: 'retire-1',
    action: 'retire',
    title: path.basename(source),
    payloadHash: payloadHashOf(source),
    torrents: [],
    from: { fs: 'stash', path: source },
    to: null,
    reasons: ['test retire'],
    rule: null,
    bytesToCopy: 0,
    bytesToFree: bytes,
    steps: [{ kind: 'retire', fs: 'stash', root: source, payloadHash: payloadHashOf(source), keptRoot: kept, keptFs: 'pool', relocationId, bytes }],
    fingerprint: { files: files.map((f) => fingerprint(path.join(source, f.relpath))), torrents: [] },
  };
}

describe('retire', () => {
  it('stages a verified move in the trash (same inodes, every byte) until the purge deletes it after the window; the relocation is marked retired', async () => {
    const { src, dst, before } = movieFixture();
    const moved = await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]));
    expect(moved.status).toBe('succeeded');
    const relId = (w.catalog.db.prepare(`SELECT id FROM relocations`).get() as { id: number }).id;
    const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(w, src, dst, relId)]));
    expect(res.status).toBe('succeeded');
    expect(existsSync(src)).toBe(false);
    expect(hashTreeSync(dst)).toEqual(before);
    // Staged whole in the trash, the same inodes, until the purge after the window.
    const staged = path.join(w.stash, '.hashall-trash', res.runId, 'seeding', 'movies', 'Movie.A');
    expect(hashTreeSync(staged)).toEqual(before);
    expect(lstatSync(path.join(w.stash, '.hashall-trash'))).toMatchObject({ uid: 0, mode: 0o40700 });
    // Its journal recorded what it renamed into the trash and every file it proved, before anything may delete it.
    const undo = getRun(w.catalog.db, res.runId)!.groupRecords[0]!.steps[0]!.undo;
    expect(undo).toMatchObject({ phase: 'kept', fs: 'stash', origin: src, trashRel: `${res.runId}/seeding/movies/Movie.A`, trashId: { ino: expect.any(Number) as number }, inos: expect.any(Array) as number[] });
    expect((undo.inos as number[]).length).toBe(Object.keys(before).length);
    expect(undo.inos).toEqual(expect.arrayContaining(Object.keys(before).map((r) => lstatSync(path.join(staged, r)).ino)));
    // The purge after the window removes it; the levels it created in the trash go, the trash directory stays private.
    const purged = await purgeTrash({ catalog: w.catalog, config: w.config, fs: realFsPort(), now: () => Date.now() + 3_600_000, emit: () => undefined, runId: 'later' });
    expect(purged.map((o) => o.action)).toEqual(['removed']);
    expect(readdirSync(path.join(w.stash, '.hashall-trash'))).toEqual([]);
    expect(lstatSync(path.join(w.stash, '.hashall-trash'))).toMatchObject({ uid: 0, mode: 0o40700 });
    expect((w.catalog.db.prepare(`SELECT retired_at FROM relocations WHERE id = ?`).get(relId) as { retired_at: number | null }).retired_at).not.toBeNull();
    expect(res.bytesFreed).toBe((3 << 20) + 1000);
  });

  it('removes the folders the retire left empty, up to but never the category folder or the seeding root', async () => {
    w = makeApplyFixture();
    w.config.categories = { movies: { path: 'movies', place: null }, xseed: { path: 'cross-seed/{tracker}', place: null } };
    const src = path.join(w.stash, 'seeding', 'movies', '2020', 'Movie.C');
    const xs = path.join(w.stash, 'seeding', 'cross-seed', 'tracker-a', 'Movie.D');
    writeTree(src, { 'c.mkv': bytesFor('c', 5000) });
    writeTree(xs, { 'd.mkv': bytesFor('d', 5000) });
    writeTree(path.join(w.stash, 'seeding', 'movies', '2021', 'Other'), { 'o.mkv': bytesFor('o', 10) });
    const dst = path.join(w.pool, 'seeding', 'movies', '2020', 'Movie.C');
    const xdst = path.join(w.pool, 'seeding', 'cross-seed', 'tracker-a', 'Movie.D');
    expect((await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst), moveGroup('g2', w, xs, xdst)]))).status).toBe('succeeded');
    const rels = w.catalog.db.prepare(`SELECT id, source_root FROM relocations ORDER BY id`).all() as { id: number; source_root: string }[];
    const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(w, src, dst, rels[0]!.id)]));
    expect(res.status).toBe('succeeded');
    expect(existsSync(path.join(w.stash, 'seeding', 'movies', '2020'))).toBe(false); // emptied by the retire
    expect(readdirSync(path.join(w.stash, 'seeding', 'movies'))).toEqual(['2021']); // the category folder stays
    expect(getRun(w.catalog.db, res.runId)!.notes.join('\n')).toMatch(/left empty: .*movies\/2020/);
    const res2 = await applyPlan(testDeps(w), makePlan(w, [{ ...retireGroup(w, xs, xdst, rels[1]!.id), id: 'r2', key: 'retire-2' }]));
    expect(res2.status).toBe('succeeded');
    // cross-seed/tracker-a matches the category cross-seed/{tracker}: kept, empty.
    expect(readdirSync(path.join(w.stash, 'seeding', 'cross-seed', 'tracker-a'))).toEqual([]);
  });

  it('never deletes the last copy: a kept copy that differs puts the source back', async () => {
    const { src, dst, before } = movieFixture();
    await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]));
    const relId = (w.catalog.db.prepare(`SELECT id FROM relocations`).get() as { id: number }).id;
    const plan = makePlan(w, [retireGroup(w, src, dst, relId)]);
    writeFileSync(path.join(dst, 'sub', 'b.srt'), 'corrupted');
    const res = await applyPlan(testDeps(w), plan);
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/the source stays/);
    expect(hashTreeSync(src)).toEqual(before);
  });

  it('a failure while staging the source (injected EXDEV on the rename into the trash) keeps the source and the kept copy', async () => {
    const { src, dst, before } = movieFixture();
    await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]));
    const relId = (w.catalog.db.prepare(`SELECT id FROM relocations`).get() as { id: number }).id;
    const fs = faultyFsPort(realFsPort(), [{ op: 'renameAt', nth: 1, code: 'EXDEV' }]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [retireGroup(w, src, dst, relId)]));
    expect(res.status).toBe('rolled-back');
    expect(hashTreeSync(src)).toEqual(before);
    expect(hashTreeSync(dst)).toEqual(before);
  });
});
