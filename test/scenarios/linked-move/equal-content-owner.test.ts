// Equal content on two inodes of different owner or mode, moved to a pool that dedupes, on real tmpfs and a real qBittorrent: never linked into one inode (dedupe would not link them) — a chmod after the plan makes apply refuse and roll back the merged group; a plan made after it copies each, and apply keeps each file's own owner and mode. Every byte re-hashed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { contentHashes, filesUnder, inodeUsage } from '../../support/inode-usage.js';
import { stashPoolWorld, type StashPoolWorld } from '../../support/stash-pool-world.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, fixtureBytes, makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { createQbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import { readPlanFile } from '../../../src/plan/plan-file-io.js';
import type { LinkViewStep } from '../../../src/plan/types.js';

const qbts = qbtSandboxes();
let w: StashPoolWorld;
let qbt: QbtSandbox;
let qc: TorrentClient;
let season: MadeTorrent;
let repack: MadeTorrent;
let before: Record<string, Record<string, string>>;
const EP = 256 << 10;
const NFO = 3000;
const E3 = 'Show.S01E03.mkv';

/** Owner, group and permission bits of a file. */
function metaOf(p: string): { uid: number; gid: number; mode: number } {
  const st = lstatSync(p);
  return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
}
async function seedsFrom(t: MadeTorrent, fs: 'stash' | 'pool', category: string): Promise<void> {
  const saveDir = w.seeding(fs, category);
  const x = await qc.waitFor(t.infoHash, (y) => y.phase !== 'checking', { timeoutMs: 30_000, intervalMs: 100, what: 'finish checking' });
  expect(x).toMatchObject({ savePath: saveDir, progress: 1 });
  expect(contentHashes(path.join(saveDir, path.basename(t.contentPath)))).toEqual(before[t.infoHash]);
}
/** Both torrents' sources on the stash, every byte as before. */
function sourcesIntact(): void {
  for (const t of [season, repack]) expect(contentHashes(t.contentPath)).toEqual(before[t.infoHash]);
}

beforeAll(async () => {
  w = stashPoolWorld('equal-content-owner', { folders: ['tv', 'cross-seed'] });
  const tv = w.seeding('stash', 'tv');
  const xs = w.seeding('stash', 'cross-seed');
  const eps = Array.from({ length: 4 }, (_, i) => `Show.S01E${String(i + 1).padStart(2, '0')}.mkv`);
  season = makeTorrent({ saveDir: tv, name: 'Show.S01', files: eps.map((e) => ({ path: e, size: EP })), trackers: ['http://127.0.0.1:1/announce'] });
  // Downloaded again on its own: the same e3 bytes (another inode), and an nfo of its own.
  repack = makeTorrent({ saveDir: xs, name: 'Show.S01E03.REPACK', files: [{ path: E3, content: readFileSync(path.join(season.contentPath, E3)) }, { path: 'Show.S01E03.nfo', content: fixtureBytes('nfo', NFO) }], trackers: ['http://127.0.0.1:1/announce'] });
  for (const t of [season, repack]) {
    chownSync(path.join(t.contentPath, E3), 0, 0);
    chmodSync(path.join(t.contentPath, E3), 0o644);
  }
  before = Object.fromEntries([season, repack].map((t) => [t.infoHash, contentHashes(t.contentPath)]));
  qbt = await qbts.start({ dir: path.join(w.tmp.path, 'qbt') });
  qc = createQbittorrentClient({ url: qbt.url, timeoutMs: 10_000 });
  await addTorrent(qbt, season, { savepath: tv, paused: false });
  await addTorrent(qbt, repack, { savepath: xs, paused: false });
  w.writeConfig({ qbt: { type: 'qbittorrent', url: qbt.url } }, [
    'placement: { default: keep, rules: [{ name: cold, match: { paths: ["tv/**", "cross-seed/**"] }, place: pool }] }',
    'safety: { minFree: 1MiB, retire: { observeHours: 1000 } }',
    'dedupe: { filesystems: [pool], minSize: 64KiB }',
  ]);
}, 120_000);

afterAll(async () => {
  await qc?.close();
  await qbts.stopAll();
  w?.cleanup();
});

describe('equal content on two inodes whose owner or mode differ, moved to a pool that dedupes', () => {
  it('planned with the same owner and mode, then the repack\'s e3 chmod-ed: apply refuses the merged group and rolls it back, nothing lost', async () => {
    const file = path.join(w.tmp.path, 'plan.json');
    const p = await w.cli('plan', '--out', file);
    expect(p.code, p.stdout + p.stderr).toBe(0);
    const groups = readPlanFile(file).plan.groups.filter((g) => g.action === 'move');
    expect(groups.map((g) => g.torrents.length)).toEqual([2]);
    const view = groups[0]!.steps.find((s): s is LinkViewStep => s.kind === 'link-view')!;
    expect(view.links.map((l) => l.metaOf?.path)).toEqual([path.join(repack.contentPath, E3)]);

    // After the plan, the repack's own e3 becomes private to its owner: linked to the pack's copy it would be 0644 again.
    chmodSync(path.join(repack.contentPath, E3), 0o600);
    const r = await w.cli('apply', file, '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/owner, group or mode/);
    expect(r.stdout).toMatch(/Apply rolled-back: 0\/1 group\(s\) done/);
    for (const [t, c] of [[season, 'tv'], [repack, 'cross-seed']] as const) await seedsFrom(t, 'stash', c);
    sourcesIntact();
    expect(filesUnder(w.seeding('pool'))).toEqual([]);
    expect(metaOf(path.join(repack.contentPath, E3))).toEqual({ uid: 0, gid: 0, mode: 0o600 });
  });

  it('planned after the change (another owner and mode): two groups, each copying its own e3; apply keeps each file\'s owner and mode', async () => {
    chownSync(path.join(repack.contentPath, E3), 1001, 1002);
    chmodSync(path.join(repack.contentPath, E3), 0o600);
    const plan = await w.plan();
    const acting = plan.groups.filter((g) => g.action !== 'keep');
    expect(acting.map((g) => [g.action, g.title, g.bytesToCopy]), JSON.stringify(acting.map((g) => g.reasons))).toEqual([
      ['move', 'Show.S01', 4 * EP],
      ['move', 'Show.S01E03.REPACK', EP + NFO],
    ]);
    const r = await w.cli('apply', '--auto-approve');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const [t, c] of [[season, 'tv'], [repack, 'cross-seed']] as const) await seedsFrom(t, 'pool', c);
    sourcesIntact();
    expect(inodeUsage(w.seeding('pool'))).toEqual({ inodes: 6, bytes: 5 * EP + NFO });
    expect(metaOf(path.join(w.seeding('pool', 'tv'), 'Show.S01', E3))).toEqual({ uid: 0, gid: 0, mode: 0o644 });
    expect(metaOf(path.join(w.seeding('pool', 'cross-seed'), 'Show.S01E03.REPACK', E3))).toEqual({ uid: 1001, gid: 1002, mode: 0o600 });
    // Dedupe does not link them either: nothing left to do.
    const again = await w.cli('plan', '--detailed-exitcode');
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });
});
