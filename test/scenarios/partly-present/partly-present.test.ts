// A season pack moved to the pool by one plan, then a folder torrent holding one of its episodes (a hardlink on the stash) and an .nfo of its own moved by a later plan, on real tmpfs and a real qBittorrent: the later move copies only the .nfo and links the episode from the pack's copy (one inode on the pool), re-reading its bytes first; kill -9 mid-apply + `hashall recover` rolls back with nothing lost; everything seeds from the pool; every byte re-hashed; the next plan has nothing to do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, linkSync, lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hashTreeSync } from '../../support/apply-fixture.js';
import { filesUnder } from '../../support/inode-usage.js';
import { killApplyInMoveGroup } from '../../support/kill-apply.js';
import { qbtStashPool } from '../../support/qbt-stash-pool.js';
import type { StashPoolWorld } from '../../support/stash-pool-world.js';
import { fixtureBytes, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import type { LinkViewStep } from '../../../src/plan/types.js';

const qs = qbtStashPool();
let w: StashPoolWorld;
let season: MadeTorrent;
let folder: MadeTorrent;
let before: Record<string, Record<string, string>>;
const EP = 256 << 10;
const NFO = 3000;
const E03 = 'Show.S01E03.mkv';

const { seedsFrom, poolUsage } = qs;
function writeConfig(paths: string[]): void {
  qs.writeConfig([
    `placement: { default: keep, rules: [{ name: cold, match: { paths: [${paths.map((p) => JSON.stringify(p)).join(', ')}] }, place: pool }] }`,
    'safety: { minFree: 1MiB, retire: { observeHours: 1000 } }',
  ]);
}
const poolPack = (): string => path.join(w.seeding('pool', 'tv'), 'Show.S01');
const poolFolder = (): string => path.join(w.seeding('pool', 'extra'), 'Show.S01E03.Extras');

/** kill -9 of apply at `boundary` of the plan's move group, then `hashall recover`: rolled back, both torrents where they were. */
async function crashAndRecover(boundary: (id: string) => string): Promise<void> {
  const group = await killApplyInMoveGroup(w, (g) => boundary(g.id));
  const rec = await w.cli('recover', '--json');
  expect(rec.code, rec.stdout + rec.stderr).toBe(0);
  expect(JSON.parse(rec.stdout)).toMatchObject({ recovered: [{ status: 'recovered', groups: [{ id: group.id, action: 'rolled-back' }] }] });
  await seedsFrom(season, 'pool', 'tv');
  await seedsFrom(folder, 'stash', 'extra');
  // Nothing of the folder's on the pool; the pack's e03 back to its one name there; the stash link kept.
  expect(existsSync(poolFolder())).toBe(false);
  expect(lstatSync(path.join(poolPack(), E03)).nlink).toBe(1);
  expect(lstatSync(path.join(folder.contentPath, E03)).ino).toBe(lstatSync(path.join(season.contentPath, E03)).ino);
  expect(filesUnder(w.seeding('pool')).filter((f) => path.basename(f.path).startsWith('.hashall'))).toEqual([]);
}

beforeAll(async () => {
  w = qs.world('partly-present', { folders: ['tv', 'extra'] });
  const tv = w.seeding('stash', 'tv');
  const ex = w.seeding('stash', 'extra');
  const eps = Array.from({ length: 4 }, (_, i) => `Show.S01E${String(i + 1).padStart(2, '0')}.mkv`);
  season = makeTorrent({ saveDir: tv, name: 'Show.S01', files: eps.map((e) => ({ path: e, size: EP })), trackers: ['http://127.0.0.1:1/announce'] });
  // A folder torrent holding e03 (a hardlink of the pack's) and an .nfo of its own.
  mkdirSync(path.join(ex, 'Show.S01E03.Extras'));
  linkSync(path.join(season.contentPath, E03), path.join(ex, 'Show.S01E03.Extras', E03));
  writeFileSync(path.join(ex, 'Show.S01E03.Extras', 'Show.S01E03.nfo'), fixtureBytes('nfo', NFO));
  folder = makeTorrent({ saveDir: ex, name: 'Show.S01E03.Extras', files: [{ path: E03 }, { path: 'Show.S01E03.nfo' }], write: false, trackers: ['http://127.0.0.1:1/announce'] });
  ({ before } = await qs.seed([[season, tv], [folder, ex]]));
}, 120_000);

afterAll(() => qs.stop());

describe('a move whose payload is partly on the pool already (the pack moved by an earlier plan)', () => {
  it('plan 1 moves the pack alone', async () => {
    writeConfig(['tv/**']);
    const r = await w.cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await seedsFrom(season, 'pool', 'tv');
    await seedsFrom(folder, 'stash', 'extra');
    expect(poolUsage()).toEqual({ inodes: 4, bytes: 4 * EP });
  });

  it('plan 2 copies only the .nfo (and reserves only its bytes) and links the episode from the pack on the pool', async () => {
    writeConfig(['tv/**', 'extra/**']);
    const plan = await w.plan();
    const acting = plan.groups.filter((g) => g.action !== 'keep' && g.action !== 'pending');
    expect(acting.map((g) => [g.action, g.title]), JSON.stringify(acting.map((g) => g.reasons))).toEqual([['move', 'Show.S01E03.Extras']]);
    const g = acting[0]!;
    expect(plan.summary.bytesToCopy).toBe(NFO);
    expect(g.steps.map((s) => s.kind)).toEqual(['copy', 'link-view', 'repoint']);
    expect(g.steps[0]).toMatchObject({ kind: 'copy', files: [{ relpath: 'Show.S01E03.nfo', size: NFO }], bytes: NFO });
    expect((g.steps[1] as LinkViewStep).links).toEqual([
      // Naming its own source: linked only while that still shows the donor's owner, group and mode.
      { donor: path.join(poolPack(), E03), path: path.join(poolFolder(), E03), size: EP, sha256: before[folder.infoHash]![E03], hashDonor: true, metaOf: { fs: 'stash', path: expect.stringMatching(new RegExp(`/${E03.replace(/\./g, '\\.')}$`)), ino: expect.any(Number) } },
    ]);
  });

  // Step 0 copies the .nfo, step 1 links the episode, step 2 repoints.
  it('kill -9 once the link is journaled (not made yet), then `hashall recover`: rolled back, nothing lost', async () => {
    await crashAndRecover((id) => `step-undo-append ${id}#1`);
  });

  it('kill -9 once the link is made, then `hashall recover`: rolled back, nothing lost', async () => {
    await crashAndRecover((id) => `step-done ${id}#1`);
  });

  it('kill -9 right before the repoint, then `hashall recover`: rolled back, nothing lost', async () => {
    await crashAndRecover((id) => `step-running ${id}#2`);
  });

  it('apply: the episode is ONE inode with the pack on the pool, both seed from the pool, every byte equal; the next plan has nothing to do', async () => {
    const r = await w.cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await seedsFrom(season, 'pool', 'tv');
    await seedsFrom(folder, 'pool', 'extra');
    expect(lstatSync(path.join(poolFolder(), E03)).ino).toBe(lstatSync(path.join(poolPack(), E03)).ino);
    expect(poolUsage()).toEqual({ inodes: 5, bytes: 4 * EP + NFO });
    // The sources stay on the stash until their retire (observeHours), unchanged.
    expect(hashTreeSync(season.contentPath)).toEqual(before[season.infoHash]);
    expect(hashTreeSync(folder.contentPath)).toEqual(before[folder.infoHash]);
    const again = await w.cli('plan', '--detailed-exitcode');
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });
});
