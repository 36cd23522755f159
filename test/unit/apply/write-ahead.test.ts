// The write-ahead rule of the grouped journal fsync: no change on disk happens while a journal write made before it is not yet synced; writes between two changes share one sync.
import { afterEach, describe, expect, it } from 'vitest';
import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort, type FsPort } from '../../../src/apply/fs-port.js';
import { bytesFor, dedupeGroup, hashTreeSync, makeApplyFixture, makePlan, moveGroup, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { testDeps } from '../../support/apply-deps.js';
import { writeAhead, writeAheadClient } from '../../../src/apply/write-ahead.js';
import type { TorrentClient } from '../../../src/clients/types.js';

let w: ApplyFixture | null = null;
afterEach(() => {
  w?.cleanup();
  w = null;
});

const CHANGES = ['copyFileVerified', 'link', 'rename', 'unlink', 'rmdir', 'mkdirAt'] as const;

/** The real FsPort, logging each change it makes. */
function loggingFs(log: string[]): FsPort {
  const fs = realFsPort();
  const out: FsPort = { ...fs };
  for (const op of CHANGES) {
    const real = fs[op] as (...args: unknown[]) => Promise<unknown>;
    (out as unknown as Record<string, unknown>)[op] = (...args: unknown[]) => {
      log.push(`change ${op} ${String(args[args.length > 1 ? 1 : 0])}`);
      return real(...args);
    };
  }
  return out;
}

describe('journal write-ahead', () => {
  it('every change on disk comes after a sync of every journal write before it; a group pays one sync per change at most', async () => {
    w = makeApplyFixture();
    const src = path.join(w.stash, 'seeding', 'movies', 'Movie.W');
    writeTree(src, { 'a.mkv': bytesFor('wa', 200_000), 'sub/b.nfo': bytesFor('wb', 300) });
    const data = bytesFor('wdup', 50_000);
    writeTree(path.join(w.stash, 'seeding'), { 'x/d.bin': data, 'y/d.bin': data, 'z/d.bin': data });
    const p = (r: string) => path.join(w!.stash, 'seeding', r);
    const dst = path.join(w.pool, 'seeding', 'movies', 'Movie.W');
    const plan = makePlan(w, [moveGroup('g1', w, src, dst), dedupeGroup('g2', p('x/d.bin'), [p('y/d.bin'), p('z/d.bin')], sha256(data), data.length)]);
    const log: string[] = [];
    const deps = testDeps(w, { fs: loggingFs(log), onBoundary: (what) => log.push(`commit ${what}`), syncJournal: () => log.push('sync') });
    const res = await applyPlan(deps, plan);
    expect(res.status, res.groups.map((g) => g.error).join('; ')).toBe('succeeded');
    expect(hashTreeSync(dst)).toEqual(hashTreeSync(src));
    let unsynced: string | null = null;
    for (const e of log) {
      if (e.startsWith('commit ')) unsynced = e;
      else if (e === 'sync') unsynced = null;
      else expect(unsynced, `${e} while "${unsynced}" was not synced`).toBeNull();
    }
    const changes = log.filter((e) => e.startsWith('change ')).length;
    const commits = log.filter((e) => e.startsWith('commit ')).length;
    const syncs = log.filter((e) => e === 'sync').length;
    expect(changes).toBeGreaterThan(8);
    expect(syncs).toBeLessThanOrEqual(changes + 1); // + the end of the run
    expect(syncs).toBeLessThan(commits); // writes with no change between them share one sync
    // The end of the run is synced too: nothing is left unsynced after the last commit.
    expect(log.lastIndexOf('sync')).toBeGreaterThan(log.findLastIndex((e) => e.startsWith('commit ')));
  });
});

describe('journal write-ahead before client calls', () => {
  it('every call that may change the client is preceded by a sync, any method not known as a read too; reads are not', async () => {
    const log: string[] = [];
    const methods = ['version', 'listTorrents', 'getTorrent', 'listFiles', 'checkingLimit', 'renamesIncompleteFiles', 'waitFor', 'close', 'pause', 'resume', 'setLocation', 'recheck', 'setAutoManagement', 'setDownloadPath', 'addTags', 'removeTags', 'someFutureMutation'];
    const client = Object.fromEntries(methods.map((m) => [m, async () => void log.push(m)])) as unknown as TorrentClient;
    const wrapped = writeAheadClient(client, { sync: () => void log.push('sync'), syncBefore: async () => void log.push('sync'), mark: () => 0 });
    for (const m of methods) await (wrapped as unknown as Record<string, () => Promise<void>>)[m]!();
    const synced = log.flatMap((e, i) => (e !== 'sync' && log[i - 1] === 'sync' ? [e] : []));
    expect(synced).toEqual(['pause', 'resume', 'setLocation', 'recheck', 'setAutoManagement', 'setDownloadPath', 'addTags', 'removeTags', 'someFutureMutation']);
  });
});

describe('journal write-ahead: one fsync shared by the changes of several groups', () => {
  it('callers while an fsync is in flight share it only when it began after their writes; a write made meanwhile waits for the next', async () => {
    w = makeApplyFixture();
    const db = w.catalog.db;
    db.exec('CREATE TEMP TABLE wa_probe (n INTEGER)');
    const write = () => db.prepare('INSERT INTO wa_probe (n) VALUES (1)').run();
    const calls: (() => void)[] = [];
    const wa = writeAhead(w.catalog, () => new Promise<void>((resolve) => calls.push(resolve)));
    const settled = new Set<string>();
    const track = (name: string, p: Promise<void>) => p.then(() => void settled.add(name));
    const tick = () => new Promise((r) => setImmediate(r));
    write();
    const a = track('a', wa.syncBefore());
    const b = track('b', wa.syncBefore()); // nothing written since a's fsync began: shares it
    await tick();
    expect(calls).toHaveLength(1);
    write(); // committed while the first fsync is in flight
    const c = track('c', wa.syncBefore());
    await tick();
    expect(calls).toHaveLength(1);
    calls[0]!();
    await Promise.all([a, b]);
    await tick();
    expect([...settled].sort()).toEqual(['a', 'b']); // c's write is not covered by the first fsync
    expect(calls).toHaveLength(2);
    calls[1]!();
    await c;
    expect(settled.has('c')).toBe(true);
    await wa.syncBefore(); // nothing new: no fsync
    expect(calls).toHaveLength(2);
  });
});

describe('journal write-ahead after a failed fsync', () => {
  it('fails every later sync, even when an fsync would now succeed: after an error the kernel may have dropped the journal pages it could not write', async () => {
    w = makeApplyFixture();
    const db = w.catalog.db;
    db.exec('CREATE TEMP TABLE wa_fail (n INTEGER)');
    const write = () => db.prepare('INSERT INTO wa_fail (n) VALUES (1)').run();
    let calls = 0;
    const wa = writeAhead(w.catalog, () => {
      calls++;
      if (calls === 1) return Promise.reject(Object.assign(new Error('fsync: input/output error'), { code: 'EIO' }));
      return Promise.resolve();
    });
    write();
    await expect(wa.syncBefore()).rejects.toThrow(/input\/output error/);
    write();
    await expect(wa.syncBefore()).rejects.toThrow(/journal .*could not be made durable/);
    expect(() => wa.sync()).toThrow(/journal .*could not be made durable/);
    await expect(wa.syncBefore(wa.mark())).rejects.toMatchObject({ code: 'EIO' });
    expect(calls).toBe(1); // never asked again: a later success would prove nothing
  });

  it('an apply whose first journal fsync fails changes nothing on disk, ends with the reason and leaves no group done', async () => {
    w = makeApplyFixture();
    const data = bytesFor('wfail', 50_000);
    writeTree(path.join(w.stash, 'seeding'), { 'x/d.bin': data, 'y/d.bin': data });
    const src = path.join(w.stash, 'seeding', 'movies', 'Movie.F');
    writeTree(src, { 'a.mkv': bytesFor('fa', 100_000) });
    const p = (r: string) => path.join(w!.stash, 'seeding', r);
    const before = { stash: hashTreeSync(w.stash), pool: hashTreeSync(w.pool) };
    const inodes = [p('x/d.bin'), p('y/d.bin')].map((f) => lstatSync(f).ino);
    const plan = makePlan(w, [dedupeGroup('g1', p('x/d.bin'), [p('y/d.bin')], sha256(data), data.length), moveGroup('g2', w, src, path.join(w.pool, 'seeding', 'movies', 'Movie.F'))]);
    let calls = 0;
    const deps = testDeps(w, {
      syncJournal: () => {
        calls++;
        if (calls === 1) throw Object.assign(new Error('fsync: input/output error'), { code: 'EIO' });
      },
    });
    const outcome = await applyPlan(deps, plan).then(
      (r) => ({ status: r.status, done: r.groups.filter((g) => g.status === 'done').length, errors: r.groups.map((g) => g.error ?? '').join('; ') }),
      (e: unknown) => ({ status: 'threw', done: 0, errors: String(e) }),
    );
    expect(outcome.done).toBe(0);
    expect(outcome.errors).toMatch(/input\/output error|could not be made durable/);
    expect(hashTreeSync(w.stash)).toEqual(before.stash);
    expect(hashTreeSync(w.pool)).toEqual(before.pool);
    expect([p('x/d.bin'), p('y/d.bin')].map((f) => lstatSync(f).ino)).toEqual(inodes);
  });
});

describe('journal write-ahead up to a mark (a copy batch: its own writes, not other groups\')', () => {
  it('fsyncs when the writes up to the mark are not covered yet; a write made after the mark does not make it fsync again', async () => {
    w = makeApplyFixture();
    const db = w.catalog.db;
    db.exec('CREATE TEMP TABLE wa_mark (n INTEGER)');
    const write = () => db.prepare('INSERT INTO wa_mark (n) VALUES (1)').run();
    let fsyncs = 0;
    const wa = writeAhead(w.catalog, () => void fsyncs++);
    write();
    const mine = wa.mark();
    await wa.syncBefore(mine);
    expect(fsyncs).toBe(1);
    write(); // another group's record, after the batch's own
    await wa.syncBefore(mine);
    expect(fsyncs).toBe(1); // the batch's records are durable already
    write();
    const later = wa.mark();
    await wa.syncBefore(later);
    expect(fsyncs).toBe(2); // its own new record is not
    await wa.syncBefore(); // no mark: every write so far, covered by that fsync
    expect(fsyncs).toBe(2);
  });
});

describe('journal write-ahead of a dedupe batch', () => {
  it('the batch starts the fsync of its records once they commit, before it proves its folders and checks its first pair again; no link before it', async () => {
    w = makeApplyFixture();
    const data = bytesFor('wbatch', 40_000);
    writeTree(path.join(w.stash, 'seeding'), { 'k/a.bin': data, 'd1/a.bin': data, 'd2/a.bin': data });
    const p = (r: string) => path.join(w!.stash, 'seeding', r);
    const plan = makePlan(w, [dedupeGroup('g1', p('k/a.bin'), [p('d1/a.bin')], sha256(data), data.length), dedupeGroup('g2', p('k/a.bin'), [p('d2/a.bin')], sha256(data), data.length)]);
    const log: string[] = [];
    const fs = loggingFs(log);
    const reads: FsPort = { ...fs, lstatId: (q) => (log.push(`read ${q}`), fs.lstatId(q)) };
    const deps = testDeps(w, { fs: reads, onBoundary: (what) => log.push(`commit ${what}`), syncJournal: () => log.push('sync') });
    const res = await applyPlan(deps, plan);
    expect(res.status, res.groups.map((g) => g.error).join('; ')).toBe('succeeded');
    const planned = log.findLastIndex((e) => e.startsWith('commit group-planned'));
    expect(planned).toBeGreaterThan(-1);
    const next = log.slice(planned + 1).find((e) => e === 'sync' || e.startsWith('read ') || e.startsWith('change '));
    expect(next).toBe('sync');
    // The rule itself: no change while a commit before it is unsynced.
    let unsynced: string | null = null;
    for (const e of log) {
      if (e.startsWith('commit ')) unsynced = e;
      else if (e === 'sync') unsynced = null;
      else if (e.startsWith('change ')) expect(unsynced, `${e} while "${unsynced}" was not synced`).toBeNull();
    }
  });
});

describe('journal write-ahead of a dedupe batch whose fsync fails', () => {
  it('the fsync started ahead fails: no link is made, the groups fail and every duplicate keeps its own bytes', async () => {
    w = makeApplyFixture();
    const data = bytesFor('wfail', 30_000);
    writeTree(path.join(w.stash, 'seeding'), { 'k/a.bin': data, 'd1/a.bin': data, 'd2/a.bin': data });
    const p = (r: string) => path.join(w!.stash, 'seeding', r);
    const plan = makePlan(w, [dedupeGroup('g1', p('k/a.bin'), [p('d1/a.bin')], sha256(data), data.length), dedupeGroup('g2', p('k/a.bin'), [p('d2/a.bin')], sha256(data), data.length)]);
    const log: string[] = [];
    let fsyncs = 0;
    const deps = testDeps(w, {
      fs: loggingFs(log),
      syncJournal: () => (++fsyncs === 1 ? Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })) : undefined),
    });
    // The run stops (fail-stop: its end cannot be made durable either), naming the fsync's error; what matters here is
    // that nothing was linked.
    const out = await applyPlan(deps, plan).then((r) => r.status, (err: unknown) => String(err));
    expect(out).toMatch(/could not be made durable|failed/);
    expect(log.filter((e) => e.startsWith('change link'))).toEqual([]);
    const ino = (r: string) => lstatSync(p(r)).ino;
    expect(new Set([ino('k/a.bin'), ino('d1/a.bin'), ino('d2/a.bin')]).size).toBe(3);
    expect(readFileSync(p('d1/a.bin')).equals(data) && readFileSync(p('d2/a.bin')).equals(data)).toBe(true);
  });
});
