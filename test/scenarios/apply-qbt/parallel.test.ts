// apply with several move groups in flight on a REAL qbittorrent-nox: rechecks overlap (bounded by the client's own
// checking limit and apply.parallelRechecks), copies overlap rechecks, and a group whose recheck fails is rolled back alone.
import { singleClient } from '../../../src/clients/client-set.js';
import { testInstance } from '../../support/instance.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ApplyEvent } from '../../../src/apply/events.js';
import { applyPlan } from '../../../src/apply/executor.js';
import type { QbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { bytesFor, hashTreeSync, makeApplyFixture, makePlan, type ApplyFixture } from '../../support/apply-fixture.js';
import { testDeps } from '../../support/apply-deps.js';
import { realFsPort, type FsPort } from '../../../src/apply/fs-port.js';
import { parallelGroups, seedParallel } from '../../support/parallel-groups.js';
import { makeRescanRoot } from '../../../src/reconcile/refresh.js';
import type { RescanRoot } from '../../../src/apply/bookkeeping.js';
import type { CatalogDb } from '../../../src/catalog/db.js';
import { qbtClientPerFile } from '../../support/qbt-client.js';
import { mountTmpfs } from '../../support/mounts.js';
import { heldPathNow } from '../../support/held-path.js';

// Every read of /proc/self/mountinfo, counted (the filesystem proof reads it once per pass: see the proof test below).
const mountReads = vi.hoisted(() => ({ n: 0 }));
vi.mock('../../../src/fs/mountinfo.js', async (original) => {
  const real = await original<typeof import('../../../src/fs/mountinfo.js')>();
  return { ...real, readMountInfo: (...a: Parameters<typeof real.readMountInfo>) => (mountReads.n++, real.readMountInfo(...a)) };
});

const qbts = qbtSandboxes();
let sb: QbtSandbox;
let qb: QbittorrentClient;
let w: ApplyFixture;
const timeouts = { clientTimeoutMs: () => 30_000, guardTimeoutMs: 30_000 };

qbtClientPerFile(qbts, (s, c) => ([sb, qb] = [s, c]));
afterEach(() => w?.cleanup());

async function setCheckingSlots(n: number): Promise<void> {
  await sb.api('POST', '/app/setPreferences', { json: JSON.stringify({ max_active_checking_torrents: n }) });
  expect(await qb.checkingLimit!()).toBe(n);
}

/** The most steps of `kind` open at once (step-start … step-done/failed), from the event order. */
function maxOpen(events: ApplyEvent[], kind: string): number {
  const open = new Set<string>();
  let max = 0;
  for (const e of events) {
    if (e.type === 'step-start' && e.kind === kind) open.add(e.groupId);
    if ((e.type === 'step-done' || e.type === 'step-failed') && e.kind === kind) open.delete(e.groupId);
    max = Math.max(max, open.size);
  }
  return max;
}

/** Whether some copy started while another group's repoint (and recheck) was under way. */
function copyOverlappedRecheck(events: ApplyEvent[]): boolean {
  const repointing = new Set<string>();
  for (const e of events) {
    if (e.type === 'step-start' && e.kind === 'repoint') repointing.add(e.groupId);
    if ((e.type === 'step-done' || e.type === 'step-failed') && e.kind === 'repoint') repointing.delete(e.groupId);
    if (e.type === 'step-start' && e.kind === 'copy' && [...repointing].some((g) => g !== e.groupId)) return true;
  }
  return false;
}

/**
 * The client's calls in order, by torrent: `recheck` (a check asked), `checked` (its wait for the end of the check
 * returned), `move` (setLocation asked).
 */
function clientLog(client: QbittorrentClient): { client: TorrentClient; log: { what: 'recheck' | 'checked' | 'move'; hash: string }[] } {
  const log: { what: 'recheck' | 'checked' | 'move'; hash: string }[] = [];
  const proxy = new Proxy(client, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return async (...a: unknown[]) => {
        if (key === 'recheck' || key === 'setLocation') for (const hash of a[0] as string[]) log.push({ what: key === 'recheck' ? 'recheck' : 'move', hash });
        const out = await (v as (...x: unknown[]) => Promise<unknown>).apply(target, a);
        if (key === 'waitFor' && (a[2] as { what?: string }).what === 'recheck to completion') log.push({ what: 'checked', hash: a[0] as string });
        return out;
      };
    },
  });
  return { client: proxy, log };
}

/** The most checks open at once (a recheck asked … its wait returned), and how many moves were asked while that many were open. */
function checksOpen(log: ReturnType<typeof clientLog>['log']): { max: number; movesAtMax: number } {
  const open = new Set<string>();
  let max = 0;
  const openAtMove: number[] = [];
  for (const e of log) {
    if (e.what === 'recheck') open.add(e.hash);
    if (e.what === 'checked') open.delete(e.hash);
    if (e.what === 'move') openAtMove.push(open.size);
    max = Math.max(max, open.size);
  }
  return { max, movesAtMax: openAtMove.filter((n) => n === max).length };
}

/** `inner` with every read of a torrent (`read HASH`) and every change asked of one (`change HASH`) pushed to `log`, in order. */
function loggingClient(inner: TorrentClient, log: string[]): TorrentClient {
  const changes = new Set(['pause', 'resume', 'setLocation', 'recheck', 'setDownloadPath', 'setAutoManagement']);
  return new Proxy(inner, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...a: unknown[]) => {
        if (key === 'getTorrent') log.push(`read ${String(a[0])}`);
        if (typeof key === 'string' && changes.has(key)) for (const h of a[0] as string[]) log.push(`change ${h}`);
        return (v as (...x: unknown[]) => unknown).apply(target, a);
      };
    },
  }) as TorrentClient;
}

/**
 * Two groups, one torrent running and one paused (`name` prefixes them), applied through loggingClient at width 2; each
 * repoint's `on` event goes into the same log as `mark HASH`. The run must succeed; returns the seeded torrents and the log.
 */
async function applyLogged(name: string, on: 'step-start' | 'step-done', mark: string) {
  w = makeApplyFixture();
  w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
  w.config.apply = { auto: false, parallelRechecks: 2 };
  const ts = await seedParallel(sb, w, name, 2);
  const log: string[] = [];
  const groups = await parallelGroups(qb, w, ts);
  const hashOf = new Map(groups.map((g) => [g.id, g.torrents[0]!.hash]));
  // The end of each fsync of a file or folder at or under a group's target, as `durable HASH` (a copy's flush).
  const hashAt = new Map(ts.map((x) => [x.dst, x.t.infoHash]));
  const real = realFsPort();
  const fs: FsPort = new Proxy(real, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        const out = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (key === 'fsyncFile' || key === 'fsyncDir') for (const [dst, h] of hashAt) if (String(args[0]).startsWith(dst)) log.push(`durable ${h}`);
        return out;
      };
    },
  });
  const deps = testDeps(w, { clients: singleClient(loggingClient(qb, log)), fs, ...timeouts, emit: (e) => void (e.type === on && e.kind === 'repoint' && log.push(`${mark} ${hashOf.get(e.groupId)}`)) });
  const res = await applyPlan(deps, makePlan(w, groups));
  expect(res.status, JSON.stringify(res.groups.map((g) => g.error))).toBe('succeeded');
  return { ts, log };
}

describe('several groups in flight on a real qBittorrent', () => {
  it("rechecks overlap up to the client's checking limit (2 here, below apply.parallelRechecks 8); the next groups pause and move meanwhile, copies overlap them; every torrent ends complete at the target", async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    w.config.apply = { auto: false, parallelRechecks: 8 };
    await setCheckingSlots(2);
    try {
      const ts = await seedParallel(sb, w, 'Limit', 6);
      const { client, log } = clientLog(qb);
      const deps = testDeps(w, { clients: singleClient(client), ...timeouts });
      const res = await applyPlan(deps, makePlan(w, await parallelGroups(qb, w, ts)));
      expect(res.status, JSON.stringify(res)).toBe('succeeded');
      // Never more checks at once than the client runs; more than one. While both run, the next groups are paused and
      // moved, ready for the first slot that frees (qBittorrent starts queued checks about once a second).
      const checks = checksOpen(log);
      expect(checks.max).toBe(2);
      expect(checks.movesAtMax).toBeGreaterThan(0);
      // At most twice the checking width in their client phase: those checking, and as many paused and moved ahead.
      expect(maxOpen(deps.events, 'repoint')).toBeLessThanOrEqual(4);
      // Disk work one batch at a time: the copies open together are those of the groups waiting for the disk at once,
      // never more than the groups in flight (twice the checking width + the one copying).
      expect(maxOpen(deps.events, 'copy')).toBeLessThanOrEqual(5);
      expect(copyOverlappedRecheck(deps.events)).toBe(true);
      // Events stay grouped: every group's steps in order, each group started and ended once.
      for (const g of res.groups) {
        const mine = deps.events.filter((e) => 'groupId' in e && e.groupId === g.id).map((e) => `${e.type}${'step' in e ? e.step : ''}`);
        expect(mine.filter((x) => !x.startsWith('copy-progress') && !x.startsWith('recheck-progress'))).toEqual(['group-start', 'step-start0', 'step-done0', 'step-start1', 'step-done1', 'group-done']);
      }
      for (const x of ts) {
        expect(await qb.getTorrent(x.t.infoHash), x.name).toMatchObject({ savePath: x.toSave, contentPath: x.dst, progress: 1, running: x.running });
        expect(hashTreeSync(x.dst)).toEqual(x.before);
        expect(hashTreeSync(x.root)).toEqual(x.before);
      }
    } finally {
      await setCheckingSlots(16);
    }
  });

  it("every copied file and its folder are durable before the client is pointed at them and before the group ends, with groups in flight (fsynced one by one, or by one syncfs of the pool once a batch wrote many files)", async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    w.config.apply = { auto: false, parallelRechecks: 4 };
    // 12 torrents of two files: the batches after the first hold more than SYNCFS_MIN_FILES files.
    const ts = await seedParallel(sb, w, 'Durable', 12, 40_000);
    // One ordered log of durability (data fsynced inside the copy, a file/folder fsync later, or a syncfs of the
    // filesystem after the files were linked into place) and client mutations.
    const log: string[] = [];
    const real = realFsPort();
    const fs: FsPort = new Proxy(real, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return async (...args: unknown[]) => {
          // Copies write through held folders (/proc/self/fd/N/name): logged as the folder's path, read before the call (its descriptor is open).
          const at = args.map((a) => (typeof a === 'string' ? heldPathNow(a) : a));
          const out = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          args = at;
          if (key === 'copyFileVerified' && (args[2] as { syncData?: boolean } | undefined)?.syncData !== false) log.push(`data-in ${path.dirname(String(args[1]))}`);
          if (key === 'fsyncFile') log.push(`data ${String(args[0])}`);
          if (key === 'fsyncDir') log.push(`dir ${String(args[0])}`);
          if (key === 'link') log.push(`placed ${path.dirname(String(args[1]))}`);
          if (key === 'syncFilesystem' && out === 'synced') log.push('syncfs');
          return out;
        };
      },
    });
    const mutations = new Set(['pause', 'resume', 'setLocation', 'recheck', 'setAutoManagement', 'setDownloadPath', 'addTags', 'removeTags']);
    const client: TorrentClient = new Proxy(qb, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (typeof key === 'string' && mutations.has(key)) for (const h of args[0] as string[]) log.push(`client ${h}`);
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const deps = testDeps(w, { client, fs, ...timeouts, emit: (e) => void (e.type === 'group-done' && log.push(`end ${e.groupId}`)) });
    const res = await applyPlan(deps, makePlan(w, await parallelGroups(qb, w, ts)));
    expect(res.status, JSON.stringify(res)).toBe('succeeded');
    let bySyncfs = 0;
    ts.forEach((x, i) => {
      const firstClient = log.indexOf(`client ${x.t.infoHash}`);
      const end = log.indexOf(`end g${i + 1}`);
      expect(firstClient, x.name).toBeGreaterThan(-1);
      const upTo = log.slice(0, Math.min(firstClient, end));
      expect(upTo.lastIndexOf(`placed ${x.dst}`), `${x.name}: its files linked into place first`).toBeGreaterThan(-1);
      if (upTo.indexOf('syncfs', upTo.lastIndexOf(`placed ${x.dst}`)) > -1) {
        bySyncfs++;
      } else {
        for (const f of ['a.mkv', 'b.nfo']) {
          const inCopy = upTo.filter((e) => e === `data-in ${x.dst}`).length === 2;
          expect(inCopy || upTo.includes(`data ${path.join(x.dst, f)}`), `${x.name}/${f} durable before the client is pointed at it`).toBe(true);
        }
        expect(upTo.includes(`dir ${x.dst}`), `${x.name}: its folder fsynced first`).toBe(true);
      }
      expect(hashTreeSync(x.dst)).toEqual(x.before);
    });
    // The batches' timing decides how many groups went each way; some went by a syncfs (12 groups, 24 files).
    expect(bySyncfs, log.filter((e) => e === 'syncfs' || e.startsWith('end')).join(', ')).toBeGreaterThan(0);
  });

  it("a repoint's check reads the client while its copy's data is made durable; its first change waits for that durability", async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    w.config.apply = { auto: false, parallelRechecks: 4 };
    const ts = await seedParallel(sb, w, 'Overlap', 3, 40_000);
    const hashAt = new Map(ts.map((x) => [x.dst, x.t.infoHash]));
    // One ordered log: each torrent's file list read (only a repoint's check reads it) and changes, each data fsync's
    // end. A group's data fsyncs are held until its torrent's file list was asked for — released anyway after 3 s, so
    // code that reads the client only once the data is durable ends (and fails the order below) instead of hanging.
    const log: string[] = [];
    const listed = new Map<string, () => void>();
    const asked = (h: string): Promise<void> => new Promise((resolve) => void listed.set(h, resolve));
    const waits = new Map(ts.map((x) => [x.t.infoHash, asked(x.t.infoHash)]));
    const real = realFsPort();
    const fs: FsPort = new Proxy(real, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return async (...args: unknown[]) => {
          const h = key === 'fsyncFile' ? hashAt.get(path.dirname(String(args[0]))) : undefined;
          if (h) await Promise.race([waits.get(h)!, new Promise((r) => setTimeout(r, 3_000))]);
          const out = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (h) log.push(`data ${h}`);
          return out;
        };
      },
    });
    const changes = new Set(['pause', 'resume', 'setLocation', 'recheck', 'setDownloadPath', 'setAutoManagement']);
    const client: TorrentClient = new Proxy(qb, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...a: unknown[]) => {
          if (key === 'listFiles') {
            log.push(`list ${String(a[0])}`);
            listed.get(String(a[0]))?.();
          }
          if (typeof key === 'string' && changes.has(key)) for (const h of a[0] as string[]) log.push(`change ${h}`);
          return (v as (...x: unknown[]) => unknown).apply(target, a);
        };
      },
    });
    const deps = testDeps(w, { client, fs, ...timeouts });
    const res = await applyPlan(deps, makePlan(w, await parallelGroups(qb, w, ts)));
    expect(res.status, JSON.stringify(res.groups.map((g) => g.error))).toBe('succeeded');
    for (const x of ts) {
      const h = x.t.infoHash;
      const list = log.indexOf(`list ${h}`);
      const lastData = log.lastIndexOf(`data ${h}`);
      expect(list, x.name).toBeGreaterThan(-1);
      expect(lastData, x.name).toBeGreaterThan(-1);
      // The check's read did not wait for the data sync; the first change did.
      expect(list, `${x.name}: its file list read while its data was made durable`).toBeLessThan(lastData);
      expect(log.indexOf(`change ${h}`), `${x.name}: nothing changed in the client before its data is durable`).toBeGreaterThan(lastData);
      expect(await qb.getTorrent(h), x.name).toMatchObject({ savePath: x.toSave, progress: 1, running: x.running });
      expect(hashTreeSync(x.dst)).toEqual(x.before);
    }
  });

  it("a copy whose data cannot be made durable (fsync fails) rolls its group back before any change in the client; the groups beside it complete", async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    w.config.apply = { auto: false, parallelRechecks: 4 };
    const ts = await seedParallel(sb, w, 'NoSync', 3, 40_000);
    const bad = ts[1]!;
    const real = realFsPort();
    const fs: FsPort = new Proxy(real, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return async (...args: unknown[]) => {
          if (key === 'fsyncFile' && path.dirname(String(args[0])) === bad.dst) throw Object.assign(new Error(`EIO: i/o error, fsync '${String(args[0])}'`), { code: 'EIO' });
          return (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      },
    });
    const log: string[] = [];
    const deps = testDeps(w, { clients: singleClient(loggingClient(qb, log)), fs, ...timeouts });
    const res = await applyPlan(deps, makePlan(w, await parallelGroups(qb, w, ts)));
    // The copies of one batch share one flush: the groups of the failing group's batch fail with it (which of them
    // share it depends on timing); every other group completes.
    expect(res.groups[1]!.status).toBe('rolled-back');
    ts.forEach((x, i) => {
      const g = res.groups[i]!;
      expect(['done', 'rolled-back'], x.name).toContain(g.status);
      if (g.status === 'done') return;
      expect(g.error, x.name).toMatch(/EIO/);
      expect(log.filter((e) => e === `change ${x.t.infoHash}`), `${x.name}: nothing asked of the client while its data is not durable`).toEqual([]);
    });
    for (const [i, x] of ts.entries()) {
      const done = res.groups[i]!.status === 'done';
      expect(await qb.getTorrent(x.t.infoHash), x.name).toMatchObject({ savePath: done ? x.toSave : x.fromSave, progress: 1, running: x.running });
      expect(existsSync(x.dst), x.name).toBe(done);
      expect(hashTreeSync(done ? x.dst : x.root), x.name).toEqual(x.before);
    }
  });

  it("a repoint reads its torrent once before its first change: run takes the read its check made moments before (read again only after a wait for its copy's data to be durable)", async () => {
    // One ordered log: each repoint's start (event) and the client's reads and changes of its torrent; one torrent
    // running, one paused.
    const { ts, log } = await applyLogged('OneRead', 'step-start', 'repoint');
    for (const x of ts) {
      const h = x.t.infoHash;
      const from = log.indexOf(`repoint ${h}`);
      const firstChange = log.indexOf(`change ${h}`, from);
      expect(from, x.name).toBeGreaterThan(-1);
      expect(firstChange, x.name).toBeGreaterThan(from);
      // Read again only when check read it before its copy's data was durable (run then waited for that, which made the
      // read old): the second read comes after.
      const reads = log.slice(from, firstChange).flatMap((e, i) => (e === `read ${h}` ? [from + i] : []));
      const lastDurable = log.lastIndexOf(`durable ${h}`, firstChange);
      expect(lastDurable, x.name).toBeGreaterThan(-1);
      if (reads.length !== 1) {
        expect(reads, x.name).toHaveLength(2);
        expect(reads[0]!, x.name).toBeLessThan(lastDurable);
        expect(reads[1]!, x.name).toBeGreaterThan(lastDurable);
      }
      expect(await qb.getTorrent(h), x.name).toMatchObject({ savePath: x.toSave, progress: 1, running: x.running });
      expect(hashTreeSync(x.dst)).toEqual(x.before);
    }
  });

  it("a repoint's verify takes the read-back of its last change: no read of the torrent between that change and the step's end", async () => {
    // One ordered log: the client's reads and changes of each torrent, and each repoint's end (event); the running
    // torrent's last change is its resume, the paused one's its recheck.
    const { ts, log } = await applyLogged('LastRead', 'step-done', 'repointed');
    for (const x of ts) {
      const h = x.t.infoHash;
      const end = log.indexOf(`repointed ${h}`);
      const lastChange = log.lastIndexOf(`change ${h}`, end);
      expect(lastChange, x.name).toBeGreaterThan(-1);
      expect(end, x.name).toBeGreaterThan(lastChange);
      expect(log.slice(lastChange, end).filter((e) => e === `read ${h}`), x.name).toHaveLength(0);
      // What verify proved from that read holds: at the target, complete, running as before; the bytes unchanged.
      expect(await qb.getTorrent(h), x.name).toMatchObject({ savePath: x.toSave, progress: 1, running: x.running });
      expect(hashTreeSync(x.dst)).toEqual(x.before);
    }
  });

  it('a recheck failing in one group rolls back that group alone; the groups in flight beside it complete', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    w.config.apply = { auto: false, parallelRechecks: 3 };
    const ts = await seedParallel(sb, w, 'Fail', 3);
    const bad = ts[1]!;
    // Right before qBittorrent is pointed at the second copy, its bytes rot (same size): the real recheck ends incomplete.
    const client: TorrentClient = new Proxy(qb, {
      get(target, key, receiver) {
        if (key === 'setLocation') {
          return async (hashes: string[], location: string) => {
            if (hashes.includes(bad.t.infoHash) && location === bad.toSave) writeFileSync(path.join(bad.dst, 'a.mkv'), bytesFor('rot', 120_001));
            return target.setLocation(hashes, location);
          };
        }
        const v = Reflect.get(target, key, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const deps = testDeps(w, { client, ...timeouts });
    const res = await applyPlan(deps, makePlan(w, await parallelGroups(qb, w, ts)));
    expect(res.status).toBe('partial');
    expect(res.groups.map((g) => g.status)).toEqual(['done', 'rolled-back', 'done']);
    expect(res.groups[1]!.error).toMatch(/recheck|incomplete/);
    expect(res.guardProblems).toEqual([]);
    expect(maxOpen(deps.events, 'repoint')).toBeGreaterThanOrEqual(2);
    for (const x of ts) {
      const moved = x !== bad;
      const tt = await qb.waitFor(x.t.infoHash, (t) => t.phase !== 'checking' && t.phase !== 'moving', { timeoutMs: 30_000 });
      expect(tt, x.name).toMatchObject({ savePath: moved ? x.toSave : x.fromSave, progress: 1, running: x.running });
      expect(hashTreeSync(x.root)).toEqual(x.before); // every source intact
      if (moved) expect(hashTreeSync(x.dst)).toEqual(x.before);
      else expect(existsSync(bad.dst)).toBe(false); // the rotten copy is ours: removed by the rollback
    }
  });

  it('groups ending together are recorded together: their targets rescanned in one scan, every copied file then in the catalog; a failed refresh is each group\'s note and event, the moves stay done', async () => {
    for (const failing of [false, true]) {
      w?.cleanup();
      w = makeApplyFixture();
      w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
      w.config.apply = { auto: false, parallelRechecks: 4 };
      const ts = await seedParallel(sb, w, failing ? 'Unrecorded' : 'Recorded', 4, 30_000);
      const real = makeRescanRoot(w.config, Date.now);
      const calls = { one: 0, many: [] as number[] };
      // The first refresh waits until every group's repoint is done (bounded), so the others end while it holds the disk.
      let repointed = 0;
      let allRepointed = (): void => undefined;
      const gate = new Promise<void>((resolve) => (allRepointed = resolve));
      const events: ApplyEvent[] = [];
      const emit = (e: ApplyEvent): void => {
        events.push(e);
        if (e.type === 'step-done' && e.kind === 'repoint' && ++repointed === ts.length) allRepointed();
      };
      const rescanRoot: RescanRoot = Object.assign(async (...a: Parameters<RescanRoot>) => {
        calls.one++;
        await real(...a);
      }, {
        many: async (catalog: CatalogDb, roots: readonly string[], fsName: string) => {
          calls.many.push(roots.length);
          if (calls.many.length === 1) await Promise.race([gate, new Promise((r) => setTimeout(r, 60_000))]);
          if (failing) throw new Error('scan root is unreadable');
          await real.many!(catalog, roots, fsName);
        },
      });
      const deps = testDeps(w, { clients: singleClient(qb), rescanRoot, emit, ...timeouts });
      const res = await applyPlan(deps, makePlan(w, await parallelGroups(qb, w, ts)));
      expect(res.status, JSON.stringify(res)).toBe('succeeded');
      expect(calls.one).toBe(0);
      expect(calls.many.reduce((n, x) => n + x, 0)).toBe(ts.length); // every group's target, once
      expect(calls.many).toEqual([1, ts.length - 1]); // the first alone; the others, ended meanwhile, in one scan
      for (const [i, x] of ts.entries()) {
        expect(hashTreeSync(x.dst)).toEqual(x.before);
        if (failing) {
          expect(events.filter((e) => e.type === 'refresh-failed' && e.groupId === `g${i + 1}`).map((e) => 'path' in e && e.path)).toEqual([x.dst]);
          expect(res.notes.some((n) => n.includes(`catalog not refreshed for ${x.dst} (scan root is unreadable)`))).toBe(true);
          continue;
        }
        for (const [rel, sha] of Object.entries(x.before)) {
          // In the catalog, with its hash where the scan read it (size-first: unknown when no other file has its size).
          const row = w.catalog.db.prepare(`SELECT size, sha256 FROM file_paths WHERE abs_path = ? AND status = 'active'`).get(path.join(x.dst, rel)) as { size: number; sha256: string | null } | undefined;
          expect(row, `${x.name}/${rel} in the catalog`).toBeDefined();
          expect(row!.sha256 ?? sha).toBe(sha);
        }
      }
      await sb.api('POST', '/torrents/delete', { hashes: ts.map((x) => x.t.infoHash).join('|'), deleteFiles: 'false' });
    }
  });
  it("every client change of a group comes after an fsync of that group's own journal writes before it — and no longer waits for another group's writes made meanwhile", async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    w.config.apply = { auto: false, parallelRechecks: 2 }; // the later groups copy (and write the journal) while the first ones repoint
    const ts = await seedParallel(sb, w, 'Ahead', 6, 30_000);
    const groups = await parallelGroups(qb, w, ts);
    const groupOf = new Map(groups.map((g) => [g.torrents[0]!.hash, g.id]));
    // One ordered log: journal writes (by group), the start of each WAL fsync (it covers every write before it), client changes (by group).
    const log: { kind: 'write' | 'sync' | 'change'; group?: string; what: string }[] = [];
    const client = new Proxy(qb, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (typeof v !== 'function' || !['pause', 'resume', 'setLocation', 'recheck', 'setDownloadPath', 'setAutoManagement'].includes(String(key))) return v;
        return (hashes: string[], ...rest: unknown[]) => {
          for (const h of hashes) log.push({ kind: 'change', group: groupOf.get(h), what: String(key) });
          return (v as (...a: unknown[]) => unknown).apply(target, [hashes, ...rest]);
        };
      },
    }) as TorrentClient;
    const deps = testDeps(w, {
      clients: singleClient(client),
      ...timeouts,
      onBoundary: (what) => log.push({ kind: 'write', group: /\b(g\d+)\b/.exec(what)?.[1], what }),
      syncJournal: () => void log.push({ kind: 'sync', what: 'fsync' }),
    });
    const res = await applyPlan(deps, makePlan(w, groups));
    expect(res.status, JSON.stringify(res.groups.map((g) => g.error))).toBe('succeeded');
    const unsynced = new Map<string, string>(); // group → its first journal write not yet covered by an fsync
    let waitedForOthers = 0;
    let changes = 0;
    for (const e of log) {
      if (e.kind === 'write' && e.group && !unsynced.has(e.group)) unsynced.set(e.group, e.what);
      else if (e.kind === 'sync') unsynced.clear();
      else if (e.kind === 'change') {
        changes++;
        expect(unsynced.get(e.group!), `${e.group} ${e.what} while its "${unsynced.get(e.group!)}" was not synced`).toBeUndefined();
        if (unsynced.size > 0) waitedForOthers++; // went ahead while other groups' writes were not synced yet
      }
    }
    expect(changes).toBeGreaterThanOrEqual(ts.length * 3); // pause (running ones), setLocation, recheck, resume
    expect(waitedForOthers).toBeGreaterThan(0);
    for (const x of ts) {
      expect(await qb.getTorrent(x.t.infoHash), x.name).toMatchObject({ savePath: x.toSave, progress: 1, running: x.running });
      expect(hashTreeSync(x.dst)).toEqual(x.before);
    }
  });
  it('groups started together are proven in one pass (scope and filesystem: mountinfo read once for all), as are the repoints that start together', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    w.config.apply = { auto: false, parallelRechecks: 8 };
    const ts = await seedParallel(sb, w, 'Proof', 8, 20_000);
    const groups = await parallelGroups(qb, w, ts);
    const deps = testDeps(w, { clients: singleClient(qb), ...timeouts });
    const reads = mountReads.n;
    const res = await applyPlan(deps, makePlan(w, groups));
    expect(res.status, JSON.stringify(res.groups.map((g) => g.error))).toBe('succeeded');
    // Before: each group read mountinfo at its start and again before its repoint (16 reads for 8 groups).
    expect(mountReads.n - reads).toBeLessThan(groups.length);
    for (const x of ts) expect(hashTreeSync(x.dst)).toEqual(x.before);
  });
  it('a group of a shared proof pass whose target is not on its filesystem fails alone, before any change; the others of the pass complete', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    w.config.apply = { auto: false, parallelRechecks: 8 };
    const ts = await seedParallel(sb, w, 'Alien', 3, 20_000);
    // The second torrent's target folder is another filesystem mounted inside pool's seeding root.
    const alien = path.join(w.pool, 'seeding', 'alien');
    mountTmpfs(alien, 8 << 20, 'hashall-alien');
    const x = ts[1]!;
    [x.toSave, x.dst] = [alien, path.join(alien, x.name)];
    const log: string[] = [];
    const groups = await parallelGroups(qb, w, ts);
    const res = await applyPlan(testDeps(w, { clients: singleClient(loggingClient(qb, log)), ...timeouts }), makePlan(w, groups));
    expect(res.groups.map((g) => g.status)).toEqual(['done', 'rolled-back', 'done']);
    expect(res.groups[1]!.error).toMatch(/not on filesystem pool/);
    expect(existsSync(x.dst)).toBe(false);
    expect(log.filter((l) => l === `change ${x.t.infoHash}`)).toEqual([]);
    for (const y of [ts[0]!, ts[2]!]) expect(hashTreeSync(y.dst)).toEqual(y.before);
  });
  it('groups started together are recorded as planned in one commit: none is visible to another connection before the last is written, all are after', async () => {
    w = makeApplyFixture();
    w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
    w.config.apply = { auto: false, parallelRechecks: 8 };
    const ts = await seedParallel(sb, w, 'Planned', 4, 20_000);
    const reader = new Database(w.config.catalog, { readonly: true });
    try {
      const seen: number[] = []; // groups of the run another connection sees, at each group-planned record
      let runId = '';
      const deps = testDeps(w, {
        clients: singleClient(qb),
        ...timeouts,
        onBoundary: (what) => {
          if (what.startsWith('group-planned ')) seen.push((reader.prepare('SELECT count(*) AS n FROM run_groups WHERE run_id = ?').get(runId) as { n: number }).n);
        },
      });
      runId = deps.runId;
      const res = await applyPlan(deps, makePlan(w, await parallelGroups(qb, w, ts)));
      expect(res.status, JSON.stringify(res.groups.map((g) => g.error))).toBe('succeeded');
      expect(seen).toEqual([0, 0, 0, 0]);
      expect((reader.prepare('SELECT count(*) AS n FROM run_groups WHERE run_id = ?').get(runId) as { n: number }).n).toBe(4);
    } finally {
      reader.close();
    }
  });
});

