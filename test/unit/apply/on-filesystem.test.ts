// Apply writes only to the filesystem the plan names: an unmounted pool or another tmpfs in its place is refused before any write.
import { afterEach, describe, expect, it } from 'vitest';
import { lstatSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { filesystemGuard } from '../../../src/apply/on-filesystem.js';
import { scanRoots } from '../../../src/catalog/scan/scan-roots.js';
import { CatalogError } from '../../../src/errors.js';
import { devToMajorMinor } from '../../../src/fs/mountinfo.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, dedupeFile, hashTreeSync, makeApplyFixture, makePlan, moveGroup, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import type { PlanGroup } from '../../../src/plan/types.js';
import { mountTmpfs, unmount } from '../../support/mounts.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

function world() {
  w = makeApplyFixture();
  const src = path.join(w.stash, 'seeding', 'movies', 'S');
  writeTree(src, { 'a.bin': bytesFor('sa', 200_000), 'd/b.bin': bytesFor('sb', 3000) });
  const dst = path.join(w.pool, 'seeding', 'movies', 'S');
  const rows = () => w.catalog.db.prepare(`SELECT uuid, dev, root_birth FROM filesystems WHERE name = 'pool'`).all();
  return { src, dst, before: hashTreeSync(src), poolRows: rows(), rows };
}

describe('a saved plan applied while the target filesystem is not the one it names', () => {
  it('pool unmounted (umount -l): the group is refused before any write, nothing lands on the disk below the mount point', async () => {
    const { src, dst, before, poolRows, rows } = world();
    const plan = makePlan(w, [moveGroup('g1', w, src, dst)]);
    unmount(w.pool); // the mount point is now an empty directory on the disk that holds the test's temp dir
    const res = await applyPlan(testDeps(w), plan);
    expect(res.status).toBe('rolled-back');
    expect(res.bytesCopied).toBe(0);
    expect(res.groups[0]!.error).toMatch(/not on filesystem pool as the catalog recorded it/);
    expect(res.groups[0]!.error).toMatch(/is pool mounted\?/);
    expect(readdirSync(w.pool)).toEqual([]);
    expect(hashTreeSync(src)).toEqual(before);
    expect(rows()).toEqual(poolRows); // nothing else registered under the name
  });

  it('another tmpfs mounted in its place (same source, same mount point, same device number) is told apart by the birth time of its root and refused', async () => {
    const { src, dst, before } = world();
    const plan = makePlan(w, [moveGroup('g1', w, src, dst)]);
    unmount(w.pool);
    mountTmpfs(w.pool, 64 << 20, 'hashall-pool');
    // The kernel hands a new tmpfs the lowest free device number — often the one just freed (as outside this test
    // suite), but not reliably here where other tests mount at the same time. Make it so: the catalog's device for
    // pool is the one the new tmpfs has. Its fallback identity (type, source, mount point) is equal too.
    w.catalog.db.prepare(`UPDATE filesystems SET dev = ? WHERE name = 'pool'`).run(devToMajorMinor(lstatSync(w.pool).dev));
    const res = await applyPlan(testDeps(w), plan);
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/another filesystem is mounted at .*pool: its root was created/);
    expect(readdirSync(w.pool)).toEqual([]);
    expect(hashTreeSync(src)).toEqual(before);
  });

  it('a group on the stash alone still runs while the pool is unmounted: the refusal is local to the pool group', async () => {
    const { src, dst, before } = world();
    const data = bytesFor('dd', 5000);
    const keeper = path.join(w.stash, 'seeding', 'k', 'k.bin');
    const dup = path.join(w.stash, 'seeding', 'd', 'd.bin');
    writeTree(path.dirname(keeper), { 'k.bin': data });
    writeTree(path.dirname(dup), { 'd.bin': data });
    const k = dedupeFile(keeper, sha256(data));
    const d = dedupeFile(dup, sha256(data));
    const dedupe: PlanGroup = {
      id: 'g2',
      key: 'dedupe-test',
      action: 'dedupe',
      title: 'k.bin',
      payloadHash: null,
      torrents: [],
      from: { fs: 'stash', path: keeper },
      to: { fs: 'stash', path: keeper },
      reasons: ['test'],
      rule: null,
      bytesToCopy: 0,
      bytesToFree: 5000,
      steps: [{ kind: 'dedupe-link', fs: 'stash', keeper: k, duplicate: d }],
      fingerprint: { files: [k, d], torrents: [] },
    };
    const plan = makePlan(w, [moveGroup('g1', w, src, dst), dedupe]);
    unmount(w.pool);
    const res = await applyPlan(testDeps(w), plan);
    expect(res.groups.map((g) => g.status)).toEqual(['rolled-back', 'done']);
    expect(lstatSync(dup).ino).toBe(lstatSync(keeper).ino);
    expect(readdirSync(w.pool)).toEqual([]);
    expect(hashTreeSync(src)).toEqual(before);
  });

  it("apply's catalog bookkeeping never registers the disk below an unmounted pool under the name pool", async () => {
    const { rows, poolRows } = world();
    unmount(w.pool);
    const root = path.join(w.pool, 'seeding');
    writeTree(root, { 'x.bin': bytesFor('x', 10) }); // as if a copy had landed there
    const before = w.catalog.db.prepare(`SELECT count(*) AS n FROM filesystems`).get();
    await expect(scanRoots(w.catalog, [{ path: root, kind: 'adhoc' }], { drift: 'metadata', filesystems: w.config.filesystems, now: () => Date.now(), expectFilesystem: 'pool' })).rejects.toThrow(CatalogError);
    expect(w.catalog.db.prepare(`SELECT count(*) AS n FROM filesystems`).get()).toEqual(before);
    expect(rows()).toEqual(poolRows);
  });
});

// One prove() call resolves each distinct parent folder once (a folder there is no symlink, so its real path is its
// parent's and its name): the mount found, and so the verdict, must be realpath(3)'s for every place all the same.
describe('places proven together, whose folders are reached through symbolic links', () => {
  function guard() {
    const fs = realFsPort();
    return { fs, g: filesystemGuard({ catalog: w.catalog, config: w.config, fs }) };
  }

  it('folders below a pool folder swapped for a symlink into the stash are refused, naming the mount they really are on', async () => {
    w = makeApplyFixture();
    mkdirSync(path.join(w.stash, 'seeding', 'movies', 't1'), { recursive: true });
    mkdirSync(path.join(w.stash, 'seeding', 'movies', 't2'), { recursive: true });
    mkdirSync(path.join(w.pool, 'seeding'), { recursive: true });
    symlinkSync(path.join(w.stash, 'seeding', 'movies'), path.join(w.pool, 'seeding', 'movies'));
    const { fs, g } = guard();
    const places = ['t1', 't2'].map((t) => ({ fs: 'pool', path: path.join(w.pool, 'seeding', 'movies', t) }));
    await expect(g.prove(places)).rejects.toThrow(new RegExp(`movies/t1 is on device \\S+ mounted at ${w.stash}, pool is`));
    await fs.close();
  });

  it('folders reached through a symlink to the stash mount are on the stash (its mount found through the real path of their parent)', async () => {
    w = makeApplyFixture();
    mkdirSync(path.join(w.stash, 'seeding', 'a'), { recursive: true });
    mkdirSync(path.join(w.stash, 'seeding', 'b'), { recursive: true });
    const link = path.join(path.dirname(w.stash), 'stash-link');
    symlinkSync(w.stash, link);
    const { fs, g } = guard();
    const places = ['a', 'b', 'a/missing'].map((t) => ({ fs: 'stash', path: path.join(link, 'seeding', t) }));
    const proven = await g.prove(places);
    expect(places.map((p) => proven.get(p))).toEqual([path.join(link, 'seeding', 'a'), path.join(link, 'seeding', 'b'), path.join(link, 'seeding', 'a')]);
    // The same places on the pool: refused, the stash named as where they are.
    await expect(g.prove(places.map((p) => ({ ...p, fs: 'pool' })))).rejects.toThrow(new RegExp(`mounted at ${w.stash}, pool is`));
    await fs.close();
  });

  it('a place that is itself a symlink to a stash folder, beside a real pool folder, is refused', async () => {
    w = makeApplyFixture();
    mkdirSync(path.join(w.stash, 'seeding', 'x'), { recursive: true });
    mkdirSync(path.join(w.pool, 'seeding', 'real'), { recursive: true });
    symlinkSync(path.join(w.stash, 'seeding', 'x'), path.join(w.pool, 'seeding', 'x'));
    const { fs, g } = guard();
    const real = { fs: 'pool', path: path.join(w.pool, 'seeding', 'real') };
    expect((await g.prove([real])).get(real)).toBe(real.path);
    await expect(g.prove([real, { fs: 'pool', path: path.join(w.pool, 'seeding', 'x') }])).rejects.toThrow(/shows no mount of device \S+ holding .*stash\/seeding\/x/);
    await fs.close();
  });
});
