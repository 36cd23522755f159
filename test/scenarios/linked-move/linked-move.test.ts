// Torrents whose payloads share files by hardlink (a season pack, a cross-seeded episode linked from it, a folder holding another episode linked plus a file of its own) moved to the pool in one plan, on real tmpfs and a real qBittorrent: one group, each shared file copied once, every torrent seeding from one inode per content; a kill -9 between its repoints is recovered with nothing lost; a second plan has nothing to do; each source retires on its own. Every byte re-hashed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, linkSync, lstatSync, mkdirSync, writeFileSync } from 'node:fs';
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
let episode: MadeTorrent;
let extra: MadeTorrent;
const EP = 256 << 10;

const { seedsFrom, poolUsage } = qs;
function writeConfig(observe: string): void {
  qs.writeConfig([
    'placement: { default: keep, rules: [{ name: cold, match: { paths: ["tv/**", "cross-seed/**", "extra/**"] }, place: pool }] }',
    `safety: { minFree: 1MiB, retire: { observeHours: ${observe} } }`,
  ]);
}

beforeAll(async () => {
  w = qs.world('linked-move', { folders: ['tv', 'cross-seed', 'extra'] });
  const tv = w.seeding('stash', 'tv');
  const xs = w.seeding('stash', 'cross-seed');
  const ex = w.seeding('stash', 'extra');
  const eps = Array.from({ length: 10 }, (_, i) => `Show.S01E${String(i + 1).padStart(2, '0')}.mkv`);
  season = makeTorrent({ saveDir: tv, name: 'Show.S01', files: eps.map((e) => ({ path: e, size: EP })), trackers: ['http://127.0.0.1:1/announce'] });
  // cross-seed's hardlink mode: the single episode is a link of the pack's e3.
  linkSync(path.join(season.contentPath, eps[2]!), path.join(xs, eps[2]!));
  episode = makeTorrent({ saveDir: xs, name: eps[2]!, files: [{}], write: false, trackers: ['http://127.0.0.1:1/announce'] });
  // A folder holding e5 linked plus a file of its own.
  mkdirSync(path.join(ex, 'Show.S01E05.Extras'));
  linkSync(path.join(season.contentPath, eps[4]!), path.join(ex, 'Show.S01E05.Extras', eps[4]!));
  writeFileSync(path.join(ex, 'Show.S01E05.Extras', 'sample.mkv'), fixtureBytes('sample', 20_000));
  extra = makeTorrent({ saveDir: ex, name: 'Show.S01E05.Extras', files: [{ path: eps[4]! }, { path: 'sample.mkv' }], write: false, trackers: ['http://127.0.0.1:1/announce'] });
  ({ qc } = await qs.seed([[season, tv], [episode, xs], [extra, ex]]));
}, 120_000);

afterAll(() => qs.stop());

describe('torrents sharing files by hardlink, moved in one plan', () => {
  it('are one move group: each shared file copied (and reserved) once, the other torrents linked from that copy', async () => {
    writeConfig('1000h');
    const plan = await w.plan();
    const acting = plan.groups.filter((g) => g.action !== 'keep');
    expect(acting.map((g) => [g.action, g.title, g.torrents.length]), JSON.stringify(acting.map((g) => g.reasons))).toEqual([['move', 'Show.S01', 3]]);
    const g = acting[0]!;
    // What the plan reserves on the pool: the pack's bytes and the extra's own file, nothing twice.
    expect(plan.summary.bytesToCopy).toBe(10 * EP + 20_000);
    expect(g.steps.map((s) => s.kind)).toEqual(['copy', 'link-view', 'copy', 'link-view', 'repoint', 'repoint', 'repoint']);
    const repoints = g.steps.filter((s): s is RepointStep => s.kind === 'repoint');
    // The linked torrents' relocations are recorded with their own content's hash (their retire proves it).
    expect(repoints.map((r) => r.payloadHash === undefined)).toEqual([true, false, false]);
    expect(g.reasons.join('\n')).toContain('also "Show.S01E03.mkv": 1 of its files is a hardlink of a file of "Show.S01" on stash');
  });

  it('kill -9 between the repoints of the group, then `hashall recover`: every torrent back on the stash, nothing lost', async () => {
    // Killed right before the second repoint: the pack already seeds from the pool, the episode not yet.
    const group = await killApplyInMoveGroup(w, (g) => `step-running ${g.id}#${g.steps.findIndex((s) => s.kind === 'repoint') + 1}`);
    expect((await qc.getTorrent(season.infoHash))?.savePath).toBe(w.seeding('pool', 'tv'));
    const rec = await w.cli('recover', '--json');
    expect(rec.code, rec.stdout + rec.stderr).toBe(0);
    expect(JSON.parse(rec.stdout)).toMatchObject({ recovered: [{ status: 'recovered', groups: [{ id: group.id, action: 'rolled-back' }] }] });
    for (const [t, c] of [[season, 'tv'], [episode, 'cross-seed'], [extra, 'extra']] as const) await seedsFrom(t, 'stash', c);
    expect(filesUnder(w.seeding('pool'))).toEqual([]);
    // The stash still links the episode and the extra's e5 to the pack's files.
    expect(lstatSync(episode.contentPath).ino).toBe(lstatSync(path.join(season.contentPath, 'Show.S01E03.mkv')).ino);
  });

  it('apply moves them: one inode per content on the pool, every torrent seeding from it; a second plan has nothing to do', async () => {
    const r = await w.cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const [t, c] of [[season, 'tv'], [episode, 'cross-seed'], [extra, 'extra']] as const) await seedsFrom(t, 'pool', c);
    expect(poolUsage()).toEqual({ inodes: 11, bytes: 10 * EP + 20_000 });
    const pack = path.join(w.seeding('pool', 'tv'), 'Show.S01');
    expect(lstatSync(path.join(w.seeding('pool', 'cross-seed'), 'Show.S01E03.mkv')).ino).toBe(lstatSync(path.join(pack, 'Show.S01E03.mkv')).ino);
    expect(lstatSync(path.join(w.seeding('pool', 'extra'), 'Show.S01E05.Extras', 'Show.S01E05.mkv')).ino).toBe(lstatSync(path.join(pack, 'Show.S01E05.mkv')).ino);
    const again = await w.cli('plan', '--detailed-exitcode');
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it('each source is retired on its own relocation (its own content), the shared inodes with it; the pool keeps everything', async () => {
    writeConfig('0h');
    await new Promise((r) => setTimeout(r, 1100));
    const plan = await w.plan();
    const retires = plan.groups.filter((g) => g.action !== 'keep');
    expect(retires.map((g) => [g.action, g.from?.path])).toEqual(
      expect.arrayContaining([['retire', season.contentPath], ['retire', episode.contentPath], ['retire', extra.contentPath]]),
    );
    expect(retires).toHaveLength(3);
    // The shared inodes are freed once, with the last of their links.
    expect(plan.summary.bytesToFree.stash).toBe(10 * EP + 20_000);
    const r = await w.cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const t of [season, episode, extra]) expect(existsSync(t.contentPath)).toBe(false);
    for (const [t, c] of [[season, 'tv'], [episode, 'cross-seed'], [extra, 'extra']] as const) await seedsFrom(t, 'pool', c);
    expect(poolUsage()).toEqual({ inodes: 11, bytes: 10 * EP + 20_000 });
    const again = await w.cli('plan', '--detailed-exitcode');
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });
});
