// Two torrents holding equal content on two inodes (a season pack, and a folder that downloaded its e3 again beside an nfo of its own) moved to a pool that dedupes, in one plan, on real tmpfs and a real qBittorrent: one group, e3 copied once and the second torrent linked from that copy, both seeding from one inode; a kill -9 between its repoints is recovered with nothing lost; a second plan has nothing to do. Every byte re-hashed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { filesUnder } from '../../support/inode-usage.js';
import { killApplyInMoveGroup } from '../../support/kill-apply.js';
import { qbtStashPool } from '../../support/qbt-stash-pool.js';
import type { StashPoolWorld } from '../../support/stash-pool-world.js';
import { fixtureBytes, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import type { RepointStep } from '../../../src/plan/types.js';

const qs = qbtStashPool();
let w: StashPoolWorld;
let qc: TorrentClient;
let season: MadeTorrent;
let repack: MadeTorrent;
const EP = 256 << 10;
const NFO = 3000;

const { seedsFrom, poolUsage } = qs;
function writeConfig(dedupe: string): void {
  qs.writeConfig([
    'placement: { default: keep, rules: [{ name: cold, match: { paths: ["tv/**", "cross-seed/**"] }, place: pool }] }',
    'safety: { minFree: 1MiB, retire: { observeHours: 1000 } }',
    // The episodes (256 KiB) are below the default dedupe.minSize (1 MiB): dedupe would not link them.
    `dedupe: { filesystems: [${dedupe}], minSize: 64KiB }`,
  ]);
}

beforeAll(async () => {
  w = qs.world('equal-content-move', { folders: ['tv', 'cross-seed'] });
  const tv = w.seeding('stash', 'tv');
  const xs = w.seeding('stash', 'cross-seed');
  const eps = Array.from({ length: 4 }, (_, i) => `Show.S01E${String(i + 1).padStart(2, '0')}.mkv`);
  season = makeTorrent({ saveDir: tv, name: 'Show.S01', files: eps.map((e) => ({ path: e, size: EP })), trackers: ['http://127.0.0.1:1/announce'] });
  // Downloaded again on its own: the same e3 bytes (another inode), and an nfo of its own.
  repack = makeTorrent({ saveDir: xs, name: 'Show.S01E03.REPACK', files: [{ path: eps[2]!, content: readFileSync(path.join(season.contentPath, eps[2]!)) }, { path: 'Show.S01E03.nfo', content: fixtureBytes('nfo', NFO) }], trackers: ['http://127.0.0.1:1/announce'] });
  expect(lstatSync(path.join(repack.contentPath, eps[2]!)).ino).not.toBe(lstatSync(path.join(season.contentPath, eps[2]!)).ino);
  ({ qc } = await qs.seed([[season, tv], [repack, xs]]));
}, 120_000);

afterAll(() => qs.stop());

describe('torrents holding equal content on other inodes, moved in one plan to a pool that dedupes', () => {
  it('where the pool does not dedupe: two groups, each copying its own e3', async () => {
    writeConfig('');
    const plan = await w.plan();
    const acting = plan.groups.filter((g) => g.action !== 'keep');
    expect(acting.map((g) => [g.action, g.title, g.bytesToCopy])).toEqual([
      ['move', 'Show.S01', 4 * EP],
      ['move', 'Show.S01E03.REPACK', EP + NFO],
    ]);
  });

  it('are one move group: e3 copied (and reserved) once, the repack linked from that copy, its own nfo copied', async () => {
    writeConfig('pool');
    const plan = await w.plan();
    const acting = plan.groups.filter((g) => g.action !== 'keep');
    expect(acting.map((g) => [g.action, g.title, g.torrents.length]), JSON.stringify(acting.map((g) => g.reasons))).toEqual([['move', 'Show.S01', 2]]);
    const g = acting[0]!;
    expect(plan.summary.bytesToCopy).toBe(4 * EP + NFO);
    expect(g.steps.map((s) => s.kind)).toEqual(['copy', 'copy', 'link-view', 'repoint', 'repoint']);
    // The repack's relocation is recorded with its own content's hash (its retire proves it, every byte).
    expect(g.steps.filter((s): s is RepointStep => s.kind === 'repoint').map((r) => r.payloadHash === undefined)).toEqual([true, false]);
    expect(g.reasons.join('\n')).toContain('same content (size and SHA-256) as a file of "Show.S01" on another inode');
  });

  it('kill -9 between the repoints of the group, then `hashall recover`: both torrents back on the stash, nothing lost', async () => {
    // Killed right before the second repoint: the pack already seeds from the pool, the repack not yet.
    const group = await killApplyInMoveGroup(w, (g) => `step-running ${g.id}#${g.steps.findIndex((s) => s.kind === 'repoint') + 1}`);
    expect((await qc.getTorrent(season.infoHash))?.savePath).toBe(w.seeding('pool', 'tv'));
    const rec = await w.cli('recover', '--json');
    expect(rec.code, rec.stdout + rec.stderr).toBe(0);
    expect(JSON.parse(rec.stdout)).toMatchObject({ recovered: [{ status: 'recovered', groups: [{ id: group.id, action: 'rolled-back' }] }] });
    for (const [t, c] of [[season, 'tv'], [repack, 'cross-seed']] as const) await seedsFrom(t, 'stash', c);
    expect(filesUnder(w.seeding('pool'))).toEqual([]);
  });

  it('apply moves them: one inode per content on the pool, both seeding from it, every byte as before; a second plan has nothing to do', async () => {
    const r = await w.cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const [t, c] of [[season, 'tv'], [repack, 'cross-seed']] as const) await seedsFrom(t, 'pool', c);
    expect(poolUsage()).toEqual({ inodes: 5, bytes: 4 * EP + NFO });
    const pack = path.join(w.seeding('pool', 'tv'), 'Show.S01');
    expect(lstatSync(path.join(w.seeding('pool', 'cross-seed'), 'Show.S01E03.REPACK', 'Show.S01E03.mkv')).ino).toBe(lstatSync(path.join(pack, 'Show.S01E03.mkv')).ino);
    const again = await w.cli('plan', '--detailed-exitcode');
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });
});
