// End to end on the demo seedbox: real tmpfs stash/pool, real qBittorrent; plan → apply → plan converges; retire after the window.
import { contentTree } from '../../support/content-tree.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSeedboxOnTmpfs } from '../../support/demo-on-tmpfs.js';
import { existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import type { DemoSeedbox } from '../../../src/demo/seedbox.js';
import { makeTempDir, type TempDir } from '../../support/mounts.js';
import { runCli } from '../../support/cli.js';
import type { Plan } from '../../../src/plan/types.js';

const HOUR = 3600_000;
let tmp: TempDir;
let seedbox: DemoSeedbox;
let clockOffset = 0;
const now = (): number => Date.now() + clockOffset;

function allHashes(): Set<string> {
  return new Set([...contentTree(seedbox.stash).values(), ...contentTree(seedbox.pool).values()]);
}

async function hashall(...args: string[]) {
  return runCli([...args, '--config', seedbox.configPath], { cwd: seedbox.base, now });
}

async function hashallAnswering(answer: string, ...args: string[]) {
  return runCli([...args, '--config', seedbox.configPath], { cwd: seedbox.base, now, interactive: true, prompt: async () => answer });
}

async function torrents(): Promise<Record<string, { save_path: string; content_path: string; state: string; progress: number }>> {
  const res = await seedbox.qbt.api('GET', '/torrents/info');
  const list = JSON.parse(res.text) as { hash: string; save_path: string; content_path: string; state: string; progress: number }[];
  return Object.fromEntries(list.map((t) => [t.hash, t]));
}

async function planJson(): Promise<Plan> {
  const r = await hashall('plan', '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Plan;
}

beforeAll(async () => {
  tmp = makeTempDir('hashall-reconcile-');
  seedbox = await demoSeedboxOnTmpfs(tmp.path);
});

afterAll(async () => {
  await seedbox?.qbt.stop();
  tmp?.cleanup();
});

/** Every file's inode under `dir` (relative path → inode). */
function inodesUnder(dir: string): Map<string, number> {
  return new Map([...contentTree(dir).keys()].map((rel) => [rel, lstatSync(path.join(dir, rel)).ino]));
}

describe('plan → apply → plan on the demo seedbox', () => {
  let contentBefore: Set<string>;
  let oldInodes: Map<string, number>;

  it('size-first: a payload whose files no other file shares the size of is not hashed by the scan, and a plan from the catalog alone blocks it (never moves it); plan with refresh hashes it', async () => {
    expect((await hashall('scan')).code).toBe(0);
    expect((await hashall('sync')).code).toBe(0); // without --hash-missing: payload hashes stay unknown
    const r = await hashall('plan', '--no-refresh', '--json');
    const plan = JSON.parse(r.stdout) as Plan;
    const old = plan.groups.find((g) => g.title === 'Old.Movie.2009');
    expect(old?.action).toBe('blocked');
    expect(old?.reasons.join('\n')).toMatch(/payload hash unknown: \d+ of \d+ files/);
    // The next test plans with the refresh: the sync hashes the payload files of complete torrents, then moves them.
  });

  it('plans a move, a sibling move, a reuse, a dedupe and keeps the library-linked movie warm (exit 2 with --detailed-exitcode)', async () => {
    contentBefore = allHashes();
    const r = await hashall('plan', '--detailed-exitcode');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toContain('Plan: 2 to move, 1 to reuse, 1 to dedupe, 0 to retire, 0 blocked.');
    const plan = await planJson();
    const byTitle = Object.fromEntries(plan.groups.map((g) => [g.title, g]));
    expect(byTitle['Old.Movie.2009']?.action).toBe('move');
    expect(byTitle['Album.2015.FLAC']?.action).toBe('reuse');
    expect(byTitle['Album.2015.FLAC']?.bytesToCopy).toBe(0);
    expect(byTitle['Linked.Movie.2021']?.action).toBe('stay');
    const show = plan.groups.find((g) => g.torrents.some((t) => t.hash === seedbox.torrents.show.infoHash));
    expect(show?.action).toBe('move');
    expect(show?.torrents.map((t) => t.hash).sort()).toEqual([seedbox.torrents.show.infoHash, seedbox.torrents.xseed.infoHash].sort());
  });

  it('apply without a plan file refuses without a terminal, and changes nothing when the user declines', async () => {
    const before = [contentTree(seedbox.stash), contentTree(seedbox.pool)];
    const refused = await hashall('apply');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/no terminal to ask/);
    const declined = await hashallAnswering('no', 'apply');
    // Declining is not success: a distinct, documented exit code.
    expect(declined.code, declined.stderr).toBe(6);
    expect(declined.stdout).toContain('Plan: 2 to move');
    expect(declined.stderr).toContain('apply cancelled');
    expect([contentTree(seedbox.stash), contentTree(seedbox.pool)]).toEqual(before);
  });

  it('applies a saved plan: data on pool, torrents seeding from pool, library link intact, duplicates linked', async () => {
    const planFile = path.join(seedbox.base, 'plan-1.json');
    expect((await hashall('plan', '--out', planFile)).code).toBe(0);
    const r = await hashall('apply', planFile, '--auto-approve', '--json');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // --json: events on stdout only; the wait for each repointed torrent's recheck is visible as progress events.
    expect(r.stderr).toBe('');
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; torrentHash?: string; progress?: number });
    const rechecked = new Set(events.filter((e) => e.type === 'recheck-progress').map((e) => e.torrentHash));
    for (const key of ['old', 'show', 'xseed', 'album'] as const) expect(rechecked.has(seedbox.torrents[key].infoHash), key).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'run-done', status: 'succeeded' });

    const t = await torrents();
    for (const key of ['old', 'show', 'xseed', 'album'] as const) {
      const info = t[seedbox.torrents[key].infoHash];
      expect(info?.save_path.startsWith(seedbox.seedPool), `${key} save_path ${info?.save_path}`).toBe(true);
      expect(info?.progress).toBe(1);
      expect(info?.state).toMatch(/^(stalledUP|uploading|queuedUP|forcedUP)$/);
    }
    const linked = t[seedbox.torrents.linked.infoHash];
    expect(linked?.save_path.startsWith(seedbox.seedStash)).toBe(true);
    // The library's hardlink still shares the inode of the seeding copy.
    const libFile = path.join(seedbox.library, 'Linked Movie (2021)', 'Linked Movie (2021).mkv');
    expect(lstatSync(libFile).ino).toBe(lstatSync(seedbox.torrents.linked.paths[0] as string).ino);
    // Cross-seed siblings on pool share inodes (one copy, two views).
    const a = path.join(seedbox.seedPool, 'tv', 'Some.Show.S01', 'e01.mkv');
    const b = path.join(seedbox.seedPool, 'cross-seed', 'Some Show S01 [other tracker]', 'e01.mkv');
    expect(lstatSync(a).ino).toBe(lstatSync(b).ino);
    expect(lstatSync(a).dev).not.toBe(lstatSync(seedbox.torrents.show.paths[0] as string).dev);
    // Dedupe made the two trailers one inode.
    expect(lstatSync(seedbox.extras[0]).ino).toBe(lstatSync(seedbox.extras[1]).ino);
    // Nothing lost: every piece of content that existed still exists.
    const after = allHashes();
    for (const h of contentBefore) expect(after.has(h)).toBe(true);
  });

  it("apply's catalog bookkeeping is the world: a plan from the catalog alone equals a plan after a full rescan and sync", async () => {
    const fromBookkeeping = await hashall('plan', '--no-refresh', '--json');
    expect(fromBookkeeping.code, fromBookkeeping.stderr).toBe(0);
    const rescanned = await hashall('plan', '--json');
    expect(rescanned.code, rescanned.stderr).toBe(0);
    const groups = (out: string): Plan['groups'] => (JSON.parse(out) as Plan).groups;
    expect(groups(fromBookkeeping.stdout).length).toBeGreaterThan(0); // the pending retires
    expect(groups(fromBookkeeping.stdout)).toEqual(groups(rescanned.stdout));
  });

  it('converges: a second plan has nothing to do and a second apply (cron style, no file) changes nothing', async () => {
    const r = await hashall('plan', '--detailed-exitcode');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const before = [contentTree(seedbox.stash), contentTree(seedbox.pool)];
    const again = await hashall('apply', '--auto-approve');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^No changes\./m);
    // The README's cron line on a quiet night: NDJSON on stdout, nothing at all on stderr.
    const json = await hashall('apply', '--auto-approve', '--json');
    expect(json.code, json.stderr).toBe(0);
    expect(json.stderr).toBe('');
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; summary?: string });
    expect(lines.at(-1)).toMatchObject({ type: 'no-changes' });
    expect(lines.at(-1)?.summary).toMatch(/^No changes\./);
    expect([contentTree(seedbox.stash), contentTree(seedbox.pool)]).toEqual(before);
  });

  it('retires the superseded stash copies only after the observation window, never the last copy', async () => {
    const pending = await planJson();
    expect(pending.groups.filter((g) => g.action === 'pending').length).toBeGreaterThan(0);
    expect(pending.groups.filter((g) => g.action === 'retire')).toEqual([]);

    clockOffset = 73 * HOUR;
    const plan = await planJson();
    const retire = plan.groups.filter((g) => g.action === 'retire');
    expect(retire.length).toBeGreaterThan(0);
    oldInodes = inodesUnder(path.join(seedbox.seedStash, 'movies', 'Old.Movie.2009'));
    const r = await hashallAnswering('yes', 'apply');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/to retire/);

    expect(existsSync(path.join(seedbox.seedStash, 'movies', 'Old.Movie.2009'))).toBe(false);
    expect(existsSync(path.join(seedbox.seedStash, 'music', 'Album.2015.FLAC'))).toBe(false);
    // Every superseded view of the moved sibling group is gone from stash too: no duplicate bytes across filesystems.
    expect([...contentTree(seedbox.seedStash).keys()].sort()).toEqual([path.join('movies', 'Linked.Movie.2021', 'Linked.Movie.2021.mkv')]);
    // The pool copies are intact and the torrents still complete there.
    const t = await torrents();
    for (const key of ['old', 'album', 'show', 'xseed'] as const) expect(t[seedbox.torrents[key].infoHash]?.progress).toBe(1);
    const after = allHashes();
    for (const h of contentBefore) expect(after.has(h)).toBe(true);
    // And then it has converged again.
    expect((await hashall('plan', '--detailed-exitcode')).code).toBe(0);
  });

  it('trash restore puts a retired source back with the same inodes and bytes, and repoints nothing: its torrent keeps seeding from pool', async () => {
    const old = path.join(seedbox.seedStash, 'movies', 'Old.Movie.2009');
    const listed = await hashall('trash', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const item = (JSON.parse(listed.stdout) as { items: { origin: string; trash: string; runId: string; purgeAfter: number | null }[] }).items.find((i) => i.origin === old)!;
    expect(item.purgeAfter).toBeGreaterThan(now());
    const staged = contentTree(item.trash);
    const r = await hashall('trash', 'restore', old);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no torrent client is repointed/);
    expect(inodesUnder(old)).toEqual(oldInodes);
    expect(contentTree(old)).toEqual(staged);
    expect([...staged.values()].every((h) => contentBefore.has(h))).toBe(true);
    const t = (await torrents())[seedbox.torrents.old.infoHash]!;
    expect(t.content_path.startsWith(seedbox.pool)).toBe(true);
    expect(t.progress).toBe(1);
    expect((await hashall('runs')).stdout).toMatch(/hashall trash restore /);
  });
});
