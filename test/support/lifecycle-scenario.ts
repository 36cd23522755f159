// Test support: the lifecycles a self-hoster lives through, through the CLI on real tmpfs and a REAL daemon of any client type — a move, a pause and a client restart in the window, the placement changed back, the retire, a torrent removed before its retire and re-added elsewhere, the client emptied, a dedupe then a move.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TorrentClient } from '../../src/clients/types.js';
import type { Plan } from '../../src/plan/types.js';
import { stashPoolConfigText, type StashPoolConfig } from '../../src/sandbox/stash-pool-config.js';
import { fixtureBytes, makeTorrent, type MadeTorrent } from '../../src/sandbox/torrent-file.js';
import { hashTreeSync } from './apply-fixture.js';
import { runCli } from './cli.js';
import { makeTempDir, mountTmpfs, type TempDir } from './mounts.js';

const TRACKER = 'http://127.0.0.1:1/announce';

/** One running daemon, driven as its user would (its own web UI's calls), and hashall's client for it. */
export interface LifecycleDaemon {
  /** The instance's line in hashall.yaml (a password as a `${VAR}` reference) and the environment it needs. */
  instance: NonNullable<StashPoolConfig['clients']>[string];
  env: Record<string, string>;
  client: TorrentClient;
  /** Add `t` with its data already in `saveDir`, checked by the daemon, running or stopped. */
  add(t: MadeTorrent, saveDir: string, running: boolean): Promise<void>;
  /** The user stops (pauses) / starts the torrent. */
  stop(hash: string): Promise<void>;
  start(hash: string): Promise<void>;
  /** The user removes the torrent, keeping its files. */
  remove(hash: string): Promise<void>;
  /** The client's queue lets only `n` torrents seed at once (Deluge's default is 5, Transmission's seed queue 10); the others wait queued. Absent where the client has no queue. */
  limitQueue?(n: number): Promise<void>;
  /** The daemon is restarted (a reboot, an upgrade): it may re-check its torrents on its own. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

type Groups = [string, string, string[]][];

export function lifecycleScenario(name: string, startDaemon: (dir: string) => Promise<LifecycleDaemon>): void {
  describe(`lifecycles on a real ${name}`, () => {
    let tmp: TempDir;
    let d: LifecycleDaemon;
    let stash: string;
    let pool: string;
    let configFile: string;
    const cli = (...args: string[]) => runCli([...args, '--config', configFile], { cwd: tmp.path, env: { ...process.env, NO_COLOR: '1', ...d.env } });
    function writeConfig(lines: string[]): void {
      const seeding = { stash: [path.join(stash, 'seeding')], pool: [path.join(pool, 'seeding')] };
      writeFileSync(configFile, stashPoolConfigText({ catalog: 'catalog.db', stash, pool, seeding, libraries: [path.join(stash, 'library')], clients: { c: d.instance } }, lines));
    }
    async function groups(): Promise<Groups> {
      const r = await cli('plan', '--json');
      expect([0, 2], r.stdout + r.stderr).toContain(r.code);
      return (JSON.parse(r.stdout) as Plan).groups
        .filter((g) => g.action !== 'keep')
        .map((g) => [g.action, g.from ? `${g.from.fs}→${g.to?.fs}` : '', g.action === 'blocked' ? g.reasons : []]);
    }
    async function apply(): Promise<void> {
      const r = await cli('apply', '--auto-approve');
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    async function seedsFrom(t: MadeTorrent, saveDir: string, bytes: Record<string, string>, running = true): Promise<void> {
      // Past checking and moving, and past a state the client has not caught up with yet (Deluge, while its queue pauses or resumes it).
      const x = await d.client.waitFor(t.infoHash, (y) => y.phase !== 'checking' && y.phase !== 'moving' && y.phase !== 'unknown', { timeoutMs: 60_000, intervalMs: 100, what: 'finish checking' });
      expect(x).toMatchObject({ savePath: saveDir, progress: 1, running });
      expect(hashTreeSync(path.join(saveDir, path.basename(t.contentPath)))).toEqual(bytes);
    }
    async function gone(hash: string): Promise<void> {
      for (let i = 0; i < 200 && (await d.client.getTorrent(hash)) !== null; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await d.client.getTorrent(hash)).toBeNull();
    }
    const tick = () => new Promise((r) => setTimeout(r, 1100));

    beforeAll(async () => {
      tmp = makeTempDir('hashall-life-');
      stash = path.join(tmp.path, 'stash');
      pool = path.join(tmp.path, 'pool');
      mountTmpfs(stash, 32 << 20, 'life-stash');
      mountTmpfs(pool, 32 << 20, 'life-pool');
      for (const x of ['movies', 'tv']) mkdirSync(path.join(stash, 'seeding', x), { recursive: true });
      for (const x of [path.join(pool, 'seeding'), path.join(stash, 'library')]) mkdirSync(x, { recursive: true });
      d = await startDaemon(path.join(tmp.path, 'daemon'));
      configFile = path.join(tmp.path, 'hashall.yaml');
    }, 180_000);

    afterAll(async () => {
      await d?.close();
      tmp?.cleanup();
    });

    describe('one torrent: moved, paused and restarted in the window, placed back, retired, removed, re-added, emptied', () => {
      let t: MadeTorrent;
      let other: MadeTorrent;
      let before: Record<string, string>;
      const stashMovies = () => path.join(stash, 'seeding', 'movies');
      const poolMovies = () => path.join(pool, 'seeding', 'movies');
      const place = (where: 'stash' | 'pool', observe: string) => writeConfig([`placement: { default: ${where} }`, `safety: { minFree: 1MiB, retire: { observeHours: ${observe} } }`]);

      it('moves to the pool; the source waits out its window', async () => {
        t = makeTorrent({ saveDir: stashMovies(), name: 'Flip', files: [{ path: 'f.mkv', size: 2 << 20 }, { path: 'f.nfo', size: 100 }], trackers: [TRACKER] });
        before = hashTreeSync(t.contentPath);
        await d.add(t, stashMovies(), true);
        place('pool', '1000h');
        expect(await groups()).toEqual([['move', 'stash→pool', []]]);
        await apply();
        await seedsFrom(t, poolMovies(), before);
        expect(await groups()).toEqual([['pending', 'stash→pool', []]]);
      });

      it('stopped by the user in the window: still healthy (complete), still pending; started again', async () => {
        await d.stop(t.infoHash);
        await d.client.waitFor(t.infoHash, (y) => !y.running && y.phase === 'paused-complete', { timeoutMs: 30_000, intervalMs: 100, what: 'stop' });
        expect(await groups()).toEqual([['pending', 'stash→pool', []]]);
        await d.start(t.infoHash);
        await d.client.waitFor(t.infoHash, (y) => y.running && y.phase === 'seeding', { timeoutMs: 30_000, intervalMs: 100, what: 'start' });
        await seedsFrom(t, poolMovies(), before);
      });

      it('the client restarted (it may re-check on its own) in the window: seeds from the pool, still pending', async () => {
        await d.restart();
        place('pool', '1000h'); // its new port
        await seedsFrom(t, poolMovies(), before);
        expect(await groups()).toEqual([['pending', 'stash→pool', []]]);
      });

      it('placement changed back: a reuse onto the stash copy closes the first move', async () => {
        place('stash', '1000h');
        expect(await groups()).toEqual([['reuse', 'pool→stash', []], ['pending', 'stash→pool', []]]);
        await apply();
        await seedsFrom(t, stashMovies(), before);
        expect(await groups()).toEqual([['pending', 'pool→stash', []]]);
      });

      it('after the window the pool copy is retired; nothing is left to do', async () => {
        place('stash', '0h');
        await tick();
        expect(await groups()).toEqual([['retire', 'pool→stash', []]]);
        await apply();
        await seedsFrom(t, stashMovies(), before);
        expect(existsSync(path.join(poolMovies(), 'Flip'))).toBe(false);
        const again = await cli('plan', '--detailed-exitcode');
        expect(again.code, again.stdout + again.stderr).toBe(0);
      });

      it('moved again, then removed by the user before its retire: no group is left (not blocked for good); both copies stay', async () => {
        place('pool', '1000h');
        expect(await groups()).toEqual([['move', 'stash→pool', []]]);
        await apply();
        await seedsFrom(t, poolMovies(), before);
        other = makeTorrent({ saveDir: poolMovies(), name: 'Other', files: [{ path: 'o.mkv', size: 50_000 }], trackers: [TRACKER] });
        await d.add(other, poolMovies(), true);
        await d.remove(t.infoHash);
        await gone(t.infoHash);
        expect(await groups()).toEqual([]);
        expect(hashTreeSync(path.join(stashMovies(), 'Flip'))).toEqual(before);
        expect(hashTreeSync(path.join(poolMovies(), 'Flip'))).toEqual(before);
      });

      it('re-added by the user at the stash copy: the move is undone by hand, its retire group goes away (not blocked for good); a reuse back onto the pool copy waits out a new window', async () => {
        await d.add(t, stashMovies(), true);
        await seedsFrom(t, stashMovies(), before);
        // Placement keep: the torrent stays where the user put it; the stash copy is live, nothing is left to retire.
        writeConfig(['placement: { default: keep }', 'safety: { minFree: 1MiB, retire: { observeHours: 0h } }']);
        await tick();
        expect(await groups()).toEqual([]);
        place('pool', '1000h');
        expect(await groups()).toEqual([['reuse', 'stash→pool', []]]);
        await apply();
        await seedsFrom(t, poolMovies(), before);
        expect(await groups()).toEqual([['pending', 'stash→pool', []]]);
      });

      it('the client emptied: refused until sync --accept-empty; then plans work and nothing was deleted', async () => {
        for (const h of [t.infoHash, other.infoHash]) await d.remove(h);
        for (const h of [t.infoHash, other.infoHash]) await gone(h);
        const refused = await cli('plan');
        expect(refused.code, refused.stdout + refused.stderr).toBe(1);
        expect(refused.stderr).toMatch(/reported no torrents, but the catalog knows \d+ active torrent/);
        const ok = await cli('sync', '--accept-empty', 'c', '--json');
        expect(ok.code, ok.stdout + ok.stderr).toBe(0);
        expect(JSON.parse(ok.stdout)).toMatchObject({ client: 'c', torrents: 0 });
        const plan = await cli('plan', '--json');
        expect([0, 2], plan.stdout + plan.stderr).toContain(plan.code);
        expect(plan.stdout + plan.stderr).not.toMatch(/"action": ?"blocked"/);
        expect((await cli('sync')).code).toBe(0);
        expect(hashTreeSync(path.join(stashMovies(), 'Flip'))).toEqual(before);
        expect(hashTreeSync(path.join(poolMovies(), 'Flip'))).toEqual(before);
      });
    });

    describe('a dedupe, then a move of one of the linked torrents', () => {
      let alpha: MadeTorrent;
      let beta: MadeTorrent;
      let gamma: MadeTorrent;
      const bytes = new Map<string, Record<string, string>>();
      const dir = (fs: string, cat: string) => path.join(fs, 'seeding', cat);
      function rules(cold: readonly string[], observe: string): void {
        const r = cold.length ? `[{ name: cold, match: { paths: [${cold.map((c) => JSON.stringify(c)).join(', ')}] }, place: pool }]` : '[]';
        writeConfig([`placement: { default: keep, rules: ${r} }`, 'dedupe: { filesystems: [stash, pool], minSize: 1 }', 'orphans: { minAge: 0d }', `safety: { minFree: 1MiB, retire: { observeHours: ${observe} } }`]);
      }

      beforeAll(() => {
        // A fresh stash/pool pair and catalog (what the first lifecycle left is not this one's business); the same
        // daemon, emptied by the first lifecycle.
        stash = path.join(tmp.path, 'stash2');
        pool = path.join(tmp.path, 'pool2');
        mountTmpfs(stash, 32 << 20, 'life-stash2');
        mountTmpfs(pool, 32 << 20, 'life-pool2');
        for (const x of ['movies', 'tv']) mkdirSync(dir(stash, x), { recursive: true });
        for (const x of [path.join(pool, 'seeding'), path.join(stash, 'library'), path.join(tmp.path, 'two')]) mkdirSync(x, { recursive: true });
        configFile = path.join(tmp.path, 'two', 'hashall.yaml');
      });

      it('links the three torrents’ identical files into one inode', async () => {
        const same = fixtureBytes('shared episode', 1 << 20);
        alpha = makeTorrent({ saveDir: dir(stash, 'movies'), name: 'Alpha', files: [{ path: 'e.mkv', content: same }, { path: 'a.nfo', size: 100 }], trackers: [TRACKER] });
        beta = makeTorrent({ saveDir: dir(stash, 'tv'), name: 'Beta', files: [{ path: 'e.mkv', content: same }, { path: 'b.nfo', size: 120 }], trackers: [TRACKER] });
        gamma = makeTorrent({ saveDir: dir(stash, 'tv'), name: 'Gamma', files: [{ path: 'e.mkv', content: same }, { path: 'g.nfo', size: 140 }], trackers: [TRACKER] });
        for (const x of [alpha, beta, gamma]) {
          bytes.set(x.infoHash, hashTreeSync(x.contentPath));
          await d.add(x, path.dirname(x.contentPath), true);
        }
        rules([], '0h');
        const sync = await cli('sync');
        expect(sync.code, sync.stdout + sync.stderr).toBe(0);
        expect((await groups()).map((g) => g[0])).toEqual(['dedupe']);
        await apply();
        expect(statSync(path.join(alpha.contentPath, 'e.mkv')).ino).toBe(statSync(path.join(beta.contentPath, 'e.mkv')).ino);
        expect(statSync(path.join(gamma.contentPath, 'e.mkv')).ino).toBe(statSync(path.join(beta.contentPath, 'e.mkv')).ino);
      });

      it('moves Alpha to the pool and retires its stash copy', async () => {
        rules(['movies/**'], '0h');
        expect(await groups()).toEqual([['move', 'stash→pool', []]]);
        await apply();
        await seedsFrom(alpha, dir(pool, 'movies'), bytes.get(alpha.infoHash)!);
        await tick();
        expect(await groups()).toEqual([['retire', 'stash→pool', []]]);
        await apply();
        expect(existsSync(alpha.contentPath)).toBe(false);
        const again = await cli('plan', '--detailed-exitcode');
        expect(again.code, again.stdout + again.stderr).toBe(0);
      });

      it('Gamma removed from its client, keeping its files: an orphan', async () => {
        await d.remove(gamma.infoHash);
        await gone(gamma.infoHash);
        expect((await cli('scan')).code).toBe(0);
        expect((await cli('sync')).code).toBe(0);
        const r = await cli('orphans', '--json');
        expect(r.code, r.stderr).toBe(0);
        const report = JSON.parse(r.stdout) as { trees: { path: string }[] };
        expect(report.trees.map((x) => x.path)).toEqual([gamma.contentPath]);
      });

      it('Beta can move in turn, and seeds complete from the pool', async () => {
        rules(['movies/**', 'tv/**'], '1000h');
        expect(await groups()).toEqual([['move', 'stash→pool', []]]);
        await apply();
        await seedsFrom(beta, dir(pool, 'tv'), bytes.get(beta.infoHash)!);
        await seedsFrom(alpha, dir(pool, 'movies'), bytes.get(alpha.infoHash)!);
      });
    });

    // Only clients with a queue get these tests at all (rTorrent has none): a skipped test would be counted.
    const withQueue = name.startsWith('deluge') || name.startsWith('transmission') ? describe : (_title: string, _body: () => void): void => undefined;
    withQueue('queue limits: one torrent seeds, the others wait queued', () => {
      const movies = (fs: string) => path.join(fs, 'seeding', 'movies');
      const made: { t: MadeTorrent; bytes: Record<string, string> }[] = [];
      beforeAll(async () => {
        stash = path.join(tmp.path, 'stash3');
        pool = path.join(tmp.path, 'pool3');
        mountTmpfs(stash, 32 << 20, 'life-stash3');
        mountTmpfs(pool, 32 << 20, 'life-pool3');
        for (const x of [movies(stash), path.join(pool, 'seeding'), path.join(stash, 'library'), path.join(tmp.path, 'three')]) mkdirSync(x, { recursive: true });
        configFile = path.join(tmp.path, 'three', 'hashall.yaml');
        // The daemon holds the dedupe lifecycle's torrents: remove them (their files stay) and tell hashall they went.
        for (const x of await d.client.listTorrents()) await d.remove(x.hash);
        for (let i = 0; i < 200 && (await d.client.listTorrents()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      });

      it('each torrent is moved; the queued ones too; each seeds (or waits queued, running) complete from the pool', async () => {
        for (const n of ['Q1', 'Q2', 'Q3']) {
          const t = makeTorrent({ saveDir: movies(stash), name: n, files: [{ path: `${n}.mkv`, size: 300_000 }, { path: 'x.nfo', size: 50 }], trackers: [TRACKER] });
          made.push({ t, bytes: hashTreeSync(t.contentPath) });
          await d.add(t, movies(stash), true);
        }
        await d.limitQueue!(1);
        const queued = async () => (await d.client.listTorrents()).filter((x) => /queued|wait/i.test(x.rawState)).length;
        for (let i = 0; i < 200 && (await queued()) < 2; i++) await new Promise((r) => setTimeout(r, 50));
        expect(await queued(), (await d.client.listTorrents()).map((x) => x.rawState).join(' ')).toBe(2);
        writeConfig(['placement: { default: pool }', 'safety: { minFree: 1MiB, retire: { observeHours: 0h } }']);
        expect(await groups()).toEqual(made.map(() => ['move', 'stash→pool', []]));
        await apply();
        for (const m of made) await seedsFrom(m.t, movies(pool), m.bytes);
      });

      it('after the window, every source is retired', async () => {
        await tick();
        expect(await groups()).toEqual(made.map(() => ['retire', 'stash→pool', []]));
        await apply();
        for (const m of made) expect(existsSync(m.t.contentPath)).toBe(false);
        for (const m of made) await seedsFrom(m.t, movies(pool), m.bytes);
        const again = await cli('plan', '--detailed-exitcode');
        expect(again.code, again.stdout + again.stderr).toBe(0);
      });
    });

    describe('a single-file torrent (no folder of its own): moved, restarted, retired', () => {
      const movies = (fs: string) => path.join(fs, 'seeding', 'movies');
      let t: MadeTorrent;
      let bytes: string;
      beforeAll(async () => {
        stash = path.join(tmp.path, 'stash4');
        pool = path.join(tmp.path, 'pool4');
        mountTmpfs(stash, 32 << 20, 'life-stash4');
        mountTmpfs(pool, 32 << 20, 'life-pool4');
        for (const x of [movies(stash), path.join(pool, 'seeding'), path.join(stash, 'library'), path.join(tmp.path, 'four')]) mkdirSync(x, { recursive: true });
        configFile = path.join(tmp.path, 'four', 'hashall.yaml');
        for (const x of await d.client.listTorrents()) await d.remove(x.hash);
        for (let i = 0; i < 200 && (await d.client.listTorrents()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      });
      const fileHash = (p: string) => hashTreeSync(path.dirname(p))[path.basename(p)];

      it('moves to the pool; seeds from there after a client restart; the source is retired after the window', async () => {
        t = makeTorrent({ saveDir: movies(stash), name: 'Solo.2020.mkv', files: [{ size: 700_000 }], trackers: [TRACKER] });
        bytes = fileHash(t.contentPath)!;
        expect(bytes).toBeTruthy();
        await d.add(t, movies(stash), true);
        writeConfig(['placement: { default: pool }', 'safety: { minFree: 1MiB, retire: { observeHours: 0h } }']);
        expect(await groups()).toEqual([['move', 'stash→pool', []]]);
        await apply();
        const dst = path.join(movies(pool), 'Solo.2020.mkv');
        const seeded = async () => {
          // Past checking and moving, and past a state the client has not caught up with yet (Deluge, while its queue pauses or resumes it).
      const x = await d.client.waitFor(t.infoHash, (y) => y.phase !== 'checking' && y.phase !== 'moving' && y.phase !== 'unknown', { timeoutMs: 60_000, intervalMs: 100, what: 'finish checking' });
          expect(x).toMatchObject({ savePath: movies(pool), contentPath: dst, progress: 1, running: true });
          expect(fileHash(dst)).toBe(bytes);
        };
        await seeded();
        await d.restart();
        writeConfig(['placement: { default: pool }', 'safety: { minFree: 1MiB, retire: { observeHours: 0h } }']);
        await seeded();
        await tick();
        expect(await groups()).toEqual([['retire', 'stash→pool', []]]);
        await apply();
        expect(existsSync(t.contentPath)).toBe(false);
        await seeded();
        const again = await cli('plan', '--detailed-exitcode');
        expect(again.code, again.stdout + again.stderr).toBe(0);
      });
    });
  });
}
