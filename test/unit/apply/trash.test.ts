// purgeTrash on real tmpfs: only what a retire recorded (dev, ino) goes, once its run is finished and the window over; unrecorded, replaced or foreign trash stays and is reported; symlinks never followed; the apply and recover call sites.
import { singleClient } from '../../../src/clients/client-set.js';
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { ApplyEvent } from '../../../src/apply/events.js';
import { formatRunDetail } from '../../../src/render/apply-text.js';
import { realFsPort, type FsPort } from '../../../src/apply/fs-port.js';
import { Journal, type RunStatus } from '../../../src/apply/journal.js';
import { runApply, runRecover } from '../../../src/reconcile/apply.js';
import { getRun } from '../../../src/apply/run-store.js';
import type { TrashRecord } from '../../../src/apply/trash-record.js';
import { purgeTrash } from '../../../src/apply/trash.js';
import type { TreeHooks } from '../../../src/fs/no-follow-tree.js';
import { payloadHash } from '../../../src/domain/payload-hash.js';
import { bytesFor, hashTreeSync, makeApplyFixture, makePlan, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

let w: ApplyFixture;
afterEach(() => w?.cleanup());

function world(observeHours = 72, mode: 'staged' | 'never' = 'staged') {
  w = makeApplyFixture();
  w.config.safety.retire = { mode, observeHours };
  return w;
}

/** A run record as the journal writes it; `endedAt` null leaves it `running` (a crash nobody recovered yet). */
function recordRun(id: string, status: RunStatus, endedAt: number | null, host = os.hostname()): void {
  const startedAt = (endedAt ?? NOW) - HOUR;
  let clock = startedAt;
  const j = new Journal(w.catalog.db, () => clock);
  j.startRun({ id, startedAt, user: 'test', host, pid: 999_999_999, pidStart: null, command: 'hashall apply', planFile: null, planHash: null, configHash: null, catalogSerial: null });
  if (endedAt !== null) {
    clock = endedAt;
    j.finishRun(id, status, { bytesCopied: 0, bytesFreed: 0, error: null });
  }
}

/** hashall's trash directory on stash as retire makes it (root-owned, 0700). */
function trashRoot(): string {
  const root = path.join(w.stash, '.hashall-trash');
  mkdirSync(root, { recursive: true, mode: 0o700 });
  chmodSync(root, 0o700);
  return root;
}

/** The payload every planted retire staged (and kept on the pool), and its payload hash. */
const OLD_MOVIE = { 'a.mkv': bytesFor('old-a', 20_000), 'sub/b.srt': bytesFor('old-b', 300) };
const OLD_MOVIE_HASH = payloadHash(Object.entries(OLD_MOVIE).map(([relpath, b]) => ({ relpath, size: b.length, sha256: createHash('sha256').update(b).digest('hex') })))!;

/** Trash of `runId` on stash, staged and journaled as retire.ts does it: the run's retire step records (dev, ino) of the root and of every file. */
function plantTrash(runId: string, rel = 'seeding/movies/Old.Movie', staged?: (dir: string) => void): string {
  const root = trashRoot();
  const dir = path.join(root, runId, rel);
  writeTree(dir, OLD_MOVIE);
  staged?.(dir); // what else the retire found there before it recorded the tree
  const st = lstatSync(dir);
  const rootSt = lstatSync(root);
  const rec: TrashRecord = {
    trash: dir,
    trashRel: `${runId}/${rel}`,
    trashRootId: { dev: rootSt.dev, ino: rootSt.ino },
    trashId: { dev: st.dev, ino: st.ino },
    trashDirs: [runId, ...rel.split('/').slice(0, -1).map((_p, i, a) => `${runId}/${a.slice(0, i + 1).join('/')}`)],
    inos: Object.keys(hashTreeSync(dir)).map((r) => lstatSync(path.join(dir, r)).ino),
  };
  journalRetire(runId, { ...rec, phase: 'deleting' });
  // The copy the retire kept, whole on the pool (the purge removes a staged source only while it is there). The record
  // has no kept files (as an older hashall wrote it): the purge reads the kept copy again against the payload hash.
  writeTree(path.join(w.pool, 'seeding', 'movies', 'Old.Movie'), OLD_MOVIE);
  return path.join(root, runId);
}

/** A retire group of `runId` whose step's undo data is `undo` (the run record must exist). */
function journalRetire(runId: string, undo: Record<string, unknown>): void {
  const j = new Journal(w.catalog.db, () => NOW);
  const root = path.join(w.stash, 'seeding', 'movies', 'Old.Movie');
  const step = { kind: 'retire' as const, fs: 'stash', root, payloadHash: OLD_MOVIE_HASH, keptRoot: path.join(w.pool, 'seeding', 'movies', 'Old.Movie'), keptFs: 'pool', relocationId: 1, bytes: 20_300 };
  const n = (w.catalog.db.prepare(`SELECT COUNT(*) AS n FROM run_groups WHERE run_id = ?`).get(runId) as { n: number }).n;
  const group = { id: `rg${n}`, key: `retire-${n}`, action: 'retire' as const, title: 'Old.Movie', payloadHash: step.payloadHash, torrents: [], from: { fs: 'stash', path: root }, to: null, reasons: [], rule: null, bytesToCopy: 0, bytesToFree: 20_300, steps: [step], fingerprint: { files: [], torrents: [] } };
  j.planGroup(runId, n, group);
  j.stepRunning(runId, group.id, 0, undo);
}

/** The real FsPort with test hooks inside its tree removal. */
function hookedFs(hooks: TreeHooks): FsPort {
  const real = realFsPort();
  return { ...real, rmTree: (base, rel, opts) => real.rmTree(base, rel, { ...opts, hooks }) };
}

/** Age every entry of a tree (dirs included, symlinks skipped) so its mtime is `ms`. */
function ageTree(p: string, ms: number): void {
  const st = lstatSync(p);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) for (const n of readdirSync(p)) ageTree(path.join(p, n), ms);
  utimesSync(p, ms / 1000, ms / 1000);
}

function deps(runId: string, events: ApplyEvent[] = [], now = NOW, fs: FsPort = realFsPort()) {
  return { catalog: w.catalog, config: w.config, fs, now: () => now, emit: (e: ApplyEvent) => events.push(e), runId };
}

describe('purgeTrash', () => {
  it('removes the trash of a finished run that ended before the observation window, noting files and bytes on both records', async () => {
    world(72);
    recordRun('r-old', 'succeeded', NOW - 100 * HOUR);
    recordRun('r-now', 'running', null);
    const trash = plantTrash('r-old');
    const events: ApplyEvent[] = [];
    const out = await purgeTrash(deps('r-now', events));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ action: 'removed', ownerRunId: 'r-old', files: 2, bytes: 20_300, fs: 'stash' });
    expect(out[0]!.paths).toEqual(['seeding/movies/Old.Movie/a.mkv', 'seeding/movies/Old.Movie/sub/b.srt']);
    expect(existsSync(trash)).toBe(false);
    // The trash directory itself stays, empty and private: removing it would let anyone re-create it.
    expect(readdirSync(path.join(w.stash, '.hashall-trash'))).toEqual([]);
    expect(statSync(path.join(w.stash, '.hashall-trash')).mode & 0o7777).toBe(0o700);
    const mine = getRun(w.catalog.db, 'r-now')!;
    expect(mine.notes.join('\n')).toMatch(/trash purge: removing .*r-old.*2 file\(s\), 20300 bytes.*Old\.Movie\/a\.mkv, seeding\/movies\/Old\.Movie\/sub\/b\.srt/);
    expect(formatRunDetail(mine)).toMatch(/note: trash purge: removing/);
    expect(getRun(w.catalog.db, 'r-old')!.notes.join('\n')).toMatch(/removed by r-now/);
    expect(events.filter((e) => e.type === 'trash').map((e) => (e as { action: string }).action)).toEqual(['removed']);
  });

  it('keeps trash of a run that ended within the window, of a run still running or interrupted, and of a run that needs attention', async () => {
    world(72);
    recordRun('r-young', 'succeeded', NOW - 10 * HOUR);
    recordRun('r-crashed', 'running', null); // pid gone, not recovered yet
    recordRun('r-recovering', 'interrupted', NOW - 200 * HOUR);
    recordRun('r-attn', 'needs-attention', NOW - 200 * HOUR);
    for (const id of ['r-young', 'r-crashed', 'r-recovering', 'r-attn']) plantTrash(id);
    const snapshot = hashTreeSync(path.join(w.stash, '.hashall-trash'));
    recordRun('r-now', 'running', null);
    const out = await purgeTrash(deps('r-now'));
    expect(out.map((o) => [o.ownerRunId, o.action])).toEqual([
      ['r-attn', 'kept'],
      ['r-crashed', 'kept'],
      ['r-recovering', 'kept'],
      ['r-young', 'kept'],
    ]);
    expect(out.find((o) => o.ownerRunId === 'r-young')!.reason).toMatch(/within observeHours 72/);
    expect(out.find((o) => o.ownerRunId === 'r-crashed')!.reason).toMatch(/is running .*not yet recovered/);
    expect(out.find((o) => o.ownerRunId === 'r-recovering')!.reason).toMatch(/is interrupted .*not yet recovered/);
    expect(out.find((o) => o.ownerRunId === 'r-attn')!.reason).toMatch(/needs attention/);
    expect(hashTreeSync(path.join(w.stash, '.hashall-trash'))).toEqual(snapshot);
    expect(getRun(w.catalog.db, 'r-now')!.notes).toEqual([]);

    // The same trash once the window is over: only the finished run's goes.
    const later = await purgeTrash(deps('r-now', [], NOW + 100 * HOUR));
    expect(later.filter((o) => o.action === 'removed').map((o) => o.ownerRunId)).toEqual(['r-young']);
    expect(existsSync(path.join(w.stash, '.hashall-trash', 'r-young'))).toBe(false);
    expect(existsSync(path.join(w.stash, '.hashall-trash', 'r-crashed', 'seeding/movies/Old.Movie/a.mkv'))).toBe(true);
  });

  it('unlinks a symlink planted in a recorded tree without following it: the target outside is untouched', async () => {
    world(72);
    recordRun('r-old', 'succeeded', NOW - 100 * HOUR);
    const trash = plantTrash('r-old');
    const tree = path.join(trash, 'seeding', 'movies', 'Old.Movie');
    const outside = path.join(w.pool, 'precious');
    writeTree(outside, { 'keep.bin': bytesFor('precious', 5000), 'deep/also.bin': bytesFor('also', 10) });
    const before = hashTreeSync(outside);
    symlinkSync(outside, path.join(tree, 'link-to-dir'));
    symlinkSync(path.join(outside, 'keep.bin'), path.join(tree, 'sub', 'link-to-file'));
    expect(readlinkSync(path.join(tree, 'sub', 'link-to-file'))).toBe(path.join(outside, 'keep.bin'));
    recordRun('r-now', 'running', null);
    const out = await purgeTrash(deps('r-now'));
    expect(out[0]).toMatchObject({ action: 'removed', files: 4, bytes: 20_300 }); // links are entries, not bytes
    expect(out[0]!.paths).toContain('seeding/movies/Old.Movie/link-to-dir');
    expect(existsSync(trash)).toBe(false);
    expect(hashTreeSync(outside)).toEqual(before);
  });

  it('an entry no run recorded is never deleted, however old, by apply or recover: reported with how to remove it by hand', async () => {
    world(72);
    const unknown = path.join(trashRoot(), 'mystery');
    writeTree(unknown, { 'x.bin': bytesFor('x', 1000) });
    ageTree(unknown, NOW - 1000 * HOUR);
    recordRun('r-legacy', 'succeeded', NOW - 1000 * HOUR); // a real finished run, but its retire recorded no identity (older hashall)
    writeTree(path.join(w.stash, '.hashall-trash', 'r-legacy', 'seeding', 'Old'), { 'y.bin': bytesFor('y', 100) });
    journalRetire('r-legacy', { trash: path.join(w.stash, '.hashall-trash', 'r-legacy', 'seeding', 'Old'), dirs: [], phase: 'deleting' });
    const snapshot = hashTreeSync(path.join(w.stash, '.hashall-trash'));
    recordRun('r-now', 'running', null);
    for (const runId of ['r-now', 'recover-xyz']) {
      const events: ApplyEvent[] = [];
      const out = await purgeTrash(deps(runId, events));
      expect(out.map((o) => [path.basename(o.path), o.action])).toEqual([
        ['mystery', 'kept'],
        ['r-legacy', 'kept'],
      ]);
      expect(out[0]!.reason).toMatch(/WARNING: .*mystery \(1 file\(s\), 1000 bytes\) is not recorded as hashall's own: no run record names mystery; hashall never deletes what it did not record/);
      expect(out[0]!.reason).toMatch(/remove it by hand: rm -r --one-file-system -- '.*\/\.hashall-trash\/mystery'/);
      expect(out[1]!.reason).toMatch(/run r-legacy recorded no identity/);
      expect(events.some((e) => e.type === 'trash' && e.message.startsWith('WARNING'))).toBe(true);
    }
    expect(hashTreeSync(path.join(w.stash, '.hashall-trash'))).toEqual(snapshot);
    expect(getRun(w.catalog.db, 'r-now')!.notes).toEqual([]);
  });

  it('a recorded entry whose inode differs from the recorded one is kept and reported, its content untouched', async () => {
    world(72);
    recordRun('r-old', 'succeeded', NOW - 100 * HOUR);
    const trash = plantTrash('r-old');
    const tree = path.join(trash, 'seeding', 'movies', 'Old.Movie');
    // Something replaced the staged tree by another directory of the same name (same files, other inodes).
    renameSync(tree, `${tree}.orig`);
    writeTree(tree, { 'a.mkv': bytesFor('r-old-a', 20_000), 'sub/b.srt': bytesFor('other', 300) });
    const snapshot = hashTreeSync(trash);
    recordRun('r-now', 'running', null);
    const out = await purgeTrash(deps('r-now'));
    expect(out[0]).toMatchObject({ action: 'kept', ownerRunId: 'r-old' });
    expect(out[0]!.reason).toMatch(/Old\.Movie is not what hashall put there \(device \d+ inode \d+, recorded \d+\/\d+\); it is kept/);
    expect(out[0]!.reason).toMatch(/rm -r --one-file-system/);
    expect(hashTreeSync(trash)).toEqual(snapshot);
    expect(getRun(w.catalog.db, 'r-now')!.notes.join('\n')).toMatch(/not what hashall put there/);
  });

  it('a file planted in a recorded tree after it was recorded stops the removal and is kept', async () => {
    world(72);
    recordRun('r-old', 'succeeded', NOW - 100 * HOUR);
    const trash = plantTrash('r-old');
    const planted = path.join(trash, 'seeding', 'movies', 'Old.Movie', 'sub', 'planted.bin');
    writeTree(path.dirname(planted), { 'planted.bin': bytesFor('planted', 77) });
    recordRun('r-now', 'running', null);
    const out = await purgeTrash(deps('r-now'));
    expect(out[0]).toMatchObject({ action: 'failed' });
    expect(out[0]!.reason).toMatch(/planted\.bin \(device \d+ inode \d+\) is not among what hashall recorded/);
    expect(existsSync(planted)).toBe(true);
  });

  it('a directory swapped for a symlink to a victim between the check and the removal (hook): the victim is untouched', async () => {
    world(72);
    recordRun('r-old', 'succeeded', NOW - 100 * HOUR);
    const trash = plantTrash('r-old');
    const tree = path.join(trash, 'seeding', 'movies', 'Old.Movie');
    const victim = path.join(w.stash, 'library', 'Victim');
    writeTree(victim, { 'b.srt': bytesFor('victim-b', 300), 'v.mkv': bytesFor('victim-v', 9000) });
    const before = hashTreeSync(victim);
    const fs = hookedFs({
      beforeOpenDir: (rel) => {
        if (rel !== 'sub') return;
        renameSync(path.join(tree, 'sub'), path.join(tree, 'sub.old'));
        symlinkSync(victim, path.join(tree, 'sub'));
      },
    });
    recordRun('r-now', 'running', null);
    const out = await purgeTrash(deps('r-now', [], NOW, fs));
    expect(out[0]!.action).toBe('failed');
    expect(out[0]!.reason).toMatch(/symbolic link; hashall never follows it/);
    expect(hashTreeSync(victim)).toEqual(before);
  });

  it('a trash entry holding a bind mount of the same filesystem (staged with it by an older hashall, or bound there by root) is never removed through it: reported, no `rm -r` advised, the bound folder keeps every byte', async () => {
    world(72);
    recordRun('r-old', 'succeeded', NOW - 100 * HOUR);
    recordRun('r-now', 'running', null);
    // Root's folder on the stash, bound over the payload's sub folder; an older retire listed (and recorded) through it.
    const backup = path.join(w.stash, 'backup', 'subs');
    writeTree(backup, { 'b.srt': OLD_MOVIE['sub/b.srt'] });
    const backupBefore = hashTreeSync(backup);
    let mountPoint = '';
    const trash = plantTrash('r-old', 'seeding/movies/Old.Movie', (dir) => {
      mountPoint = path.join(dir, 'sub');
      execFileSync('mount', ['--bind', backup, mountPoint]);
    });
    const trashBefore = hashTreeSync(trash);
    const out = await purgeTrash(deps('r-now'));
    expect(out.map((o) => o.action)).toEqual(['failed']);
    expect(out[0]!.reason).toContain(`holds a mount point (${mountPoint})`);
    expect(out[0]!.reason).toContain(`umount ${mountPoint}`);
    // `rm -r --one-file-system` does not stop at a bind mount of the same filesystem: never advised here.
    expect(out[0]!.reason).not.toContain('rm -r');
    expect(hashTreeSync(backup)).toEqual(backupBefore);
    expect(hashTreeSync(trash)).toEqual(trashBefore);
    // Unmounted, the entry is what the run recorded (but for the bound file): the purge removes only that, as ever.
    execFileSync('umount', [mountPoint]);
    await purgeTrash(deps('r-now'));
    expect(hashTreeSync(backup)).toEqual(backupBefore);
  });

  it('with safety.retire.mode never, nothing is removed, even long after the window', async () => {
    world(1, 'never');
    recordRun('r-old', 'succeeded', NOW - 1000 * HOUR);
    const trash = plantTrash('r-old');
    recordRun('r-now', 'running', null);
    const out = await purgeTrash(deps('r-now'));
    expect(out[0]).toMatchObject({ action: 'kept' });
    expect(out[0]!.reason).toMatch(/mode is never/);
    expect(existsSync(path.join(trash, 'seeding/movies/Old.Movie/a.mkv'))).toBe(true);
  });

  it('a trash directory that is itself a symlink is reported and not entered', async () => {
    world(1);
    const elsewhere = path.join(w.pool, 'elsewhere');
    writeTree(path.join(elsewhere, 'r-old'), { 'f.bin': bytesFor('f', 100) });
    recordRun('r-old', 'succeeded', NOW - 100 * HOUR);
    mkdirSync(w.stash, { recursive: true });
    symlinkSync(elsewhere, path.join(w.stash, '.hashall-trash'));
    recordRun('r-now', 'running', null);
    const out = await purgeTrash(deps('r-now'));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ action: 'kept' });
    expect(out[0]!.reason).toMatch(/is a symbolic link; hashall never follows it; refusing to use it/);
    expect(out[0]!.reason).toMatch(/hashall neither enters nor removes it/);
    expect(existsSync(path.join(elsewhere, 'r-old', 'f.bin'))).toBe(true);
  });

  it('a trash directory owned by another user or writable by others is reported and not entered', async () => {
    world(1);
    recordRun('r-old', 'succeeded', NOW - 100 * HOUR);
    const trash = plantTrash('r-old');
    recordRun('r-now', 'running', null);
    const root = path.join(w.stash, '.hashall-trash');
    chownSync(root, 65534, 65534);
    const foreign = await purgeTrash(deps('r-now'));
    expect(foreign).toHaveLength(1);
    expect(foreign[0]!.reason).toMatch(/owned by uid 65534, not by hashall's user \(uid 0\); refusing to use it/);
    chownSync(root, 0, 0);
    chmodSync(root, 0o777);
    const open = await purgeTrash(deps('r-now'));
    expect(open[0]!.reason).toMatch(/writable by its group \(mode 777\); refusing/);
    expect(existsSync(path.join(trash, 'seeding', 'movies', 'Old.Movie', 'a.mkv'))).toBe(true);
  });
});

describe('call sites', () => {
  const common = (now: number) => ({ config: w.config, clients: singleClient(null), now: () => now, catalog: w.catalog, command: 'test' });

  it('runApply purges after recovery, before the groups, and the new run record explains it', async () => {
    world(72);
    recordRun('r-old', 'succeeded', NOW - 100 * HOUR);
    recordRun('r-young', 'succeeded', NOW - 1 * HOUR);
    plantTrash('r-old');
    plantTrash('r-young');
    const events: ApplyEvent[] = [];
    const out = await runApply({ ...common(NOW), plan: makePlan(w, []), planFile: null, planHash: null, emit: (e) => events.push(e), runId: 'r-apply' });
    expect(out.result.status).toBe('succeeded');
    expect(out.trash.map((t) => [t.ownerRunId, t.action])).toEqual([
      ['r-old', 'removed'],
      ['r-young', 'kept'],
    ]);
    const types = events.map((e) => e.type);
    expect(types.indexOf('run-start')).toBeLessThan(types.indexOf('trash'));
    expect(existsSync(path.join(w.stash, '.hashall-trash', 'r-old'))).toBe(false);
    expect(existsSync(path.join(w.stash, '.hashall-trash', 'r-young', 'seeding/movies/Old.Movie/a.mkv'))).toBe(true);
    expect(formatRunDetail(getRun(w.catalog.db, 'r-apply')!)).toMatch(/note: trash purge: removing what r-old recorded.*20300 bytes/);
  });

  it('runRecover first finishes the crashed run\'s recorded deletion (by the same no-follow remover), then purges the old trash', async () => {
    world(72);
    recordRun('r-crashed', 'running', null); // this host, dead pid: recovery marks it recovered, ended now
    recordRun('r-old', 'failed', NOW - 100 * HOUR);
    plantTrash('r-crashed');
    plantTrash('r-old');
    const events: ApplyEvent[] = [];
    const recovered = await runRecover({ ...common(NOW), emit: (e) => events.push(e), runId: 'rec-1' });
    expect(recovered.map((r) => [r.runId, r.status])).toEqual([['r-crashed', 'recovered']]);
    const trashEvents = events.filter((e): e is Extract<ApplyEvent, { type: 'trash' }> => e.type === 'trash');
    expect(trashEvents.map((e) => [path.basename(e.path), e.action])).toEqual([['r-old', 'removed']]);
    expect(recovered[0]!.groups[0]).toMatchObject({ action: 'finished' });
    expect(recovered[0]!.groups[0]!.notes.join('\n')).toMatch(/the deletion was completed/);
    expect(readdirSync(path.join(w.stash, '.hashall-trash'))).toEqual([]);
    expect(getRun(w.catalog.db, 'r-old')!.notes.join('\n')).toMatch(/removed by rec-1/);
  });
});

describe('a retire journaled by an older hashall (no identities recorded)', () => {
  const common = (now: number) => ({ config: w.config, clients: singleClient(null), now: () => now, catalog: w.catalog, command: 'test' });
  /** Run a shell command as `nobody` (uid 65534): the attacker. */
  const asNobody = (script: string, cwd: string) => execFileSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', 'sh', '-c', script], { cwd, stdio: 'pipe' });
  const source = () => path.join(w.stash, 'seeding', 'movies', 'Old.Movie');
  /** A crashed run (this host, dead pid) whose legacy retire staged `files` at its trash path; returns that path. */
  const legacyStaged = (runId: string, files: Record<string, Buffer>, phase: string): string => {
    recordRun(runId, 'running', null);
    const staged = path.join(trashRoot(), runId, 'seeding', 'movies', 'Old.Movie');
    writeTree(staged, files);
    journalRetire(runId, { trash: staged, dirs: [], phase });
    return staged;
  };

  it('recovery puts a staged source proven to be the payload back (through held folders), never deletes one that was being deleted, and leaves one that is not the payload: each needing a person says what to do', async () => {
    world(72);
    mkdirSync(path.dirname(source()), { recursive: true });
    legacyStaged('r-staged', OLD_MOVIE, 'staged');
    const deleting = legacyStaged('r-deleting', { 'a.mkv': bytesFor('r-deleting-a', 2000) }, 'deleting');
    const other = legacyStaged('r-other', { 'a.mkv': bytesFor('r-other-a', 2000) }, 'staged');
    const recovered = await runRecover({ ...common(NOW), emit: () => undefined, runId: 'rec-legacy' });
    expect(getRun(w.catalog.db, 'r-staged')!.status).toBe('recovered');
    expect(getRun(w.catalog.db, 'r-deleting')!.status).toBe('needs-attention');
    expect(recovered.find((r) => r.runId === 'r-deleting')!.attention.join('\n')).toMatch(/recorded no identity of it; hashall does not delete it.*rm -r --one-file-system/);
    expect(hashTreeSync(source())).toEqual(Object.fromEntries(Object.entries(OLD_MOVIE).map(([rel, b]) => [rel, createHash('sha256').update(b).digest('hex')]))); // the payload, back
    expect(existsSync(path.join(w.stash, '.hashall-trash', 'r-staged', 'seeding', 'movies', 'Old.Movie'))).toBe(false);
    expect(readFileSync(path.join(deleting, 'a.mkv'))).toEqual(bytesFor('r-deleting-a', 2000));
    // Not the payload the retire moved (the source's place is taken now anyway): left where it is, with the way back by hand.
    expect(getRun(w.catalog.db, 'r-other')!.status).toBe('needs-attention');
    expect(readFileSync(path.join(other, 'a.mkv'))).toEqual(bytesFor('r-other-a', 2000));
    expect(getRun(w.catalog.db, 'r-other')!.attention.join('\n')).toMatch(/not undone/);
  });

  it('a staged tree that is not the payload the retire moved is never put back at the source path: left in the trash, the way back by hand told', async () => {
    world(72);
    mkdirSync(path.dirname(source()), { recursive: true });
    const staged = legacyStaged('r-other', { ...OLD_MOVIE, 'extra.nfo': bytesFor('extra', 10) }, 'staged');
    const before = hashTreeSync(staged);
    const recovered = await runRecover({ ...common(NOW), emit: () => undefined, runId: 'rec-legacy' });
    expect(getRun(w.catalog.db, 'r-other')!.status).toBe('needs-attention');
    expect(recovered[0]!.attention.join('\n')).toMatch(/not exactly the payload[\s\S]*mv -n -T --/);
    expect(existsSync(source())).toBe(false);
    expect(hashTreeSync(staged)).toEqual(before);
  });

  it('a user who can write the filesystem root swaps .hashall-trash for a folder of theirs whose path leads into the library: the library is never moved, the staged source stays', async () => {
    world(72);
    chmodSync(w.root, 0o755);
    chmodSync(w.stash, 0o777); // a filesystem root other users can write (non-sticky)
    mkdirSync(path.dirname(source()), { recursive: true });
    chownSync(path.dirname(source()), 65534, 65534); // the client's folder: the attacker writes there
    const staged = legacyStaged('r-staged', OLD_MOVIE, 'staged');
    const library = path.join(w.stash, 'library', 'movies');
    writeTree(path.join(library, 'Old.Movie'), { 'a.mkv': bytesFor('library-a', 5000), 'poster.jpg': bytesFor('library-p', 700) });
    const libraryBefore = hashTreeSync(library);
    const stagedBefore = hashTreeSync(staged);
    asNobody(`mv .hashall-trash .hashall-trash.old && mkdir -p .hashall-trash/r-staged/seeding && ln -s ${library} .hashall-trash/r-staged/seeding/movies`, w.stash);
    const recovered = await runRecover({ ...common(NOW), emit: () => undefined, runId: 'rec-legacy' });
    expect(hashTreeSync(library)).toEqual(libraryBefore);
    expect(existsSync(source())).toBe(false);
    expect(hashTreeSync(path.join(w.stash, '.hashall-trash.old', 'r-staged', 'seeding', 'movies', 'Old.Movie'))).toEqual(stagedBefore);
    expect(getRun(w.catalog.db, 'r-staged')!.status).toBe('needs-attention');
    expect(recovered[0]!.attention.join('\n')).toMatch(/\.hashall-trash is owned by uid 65534/);
  });

  it('the folder the source goes back into swapped for a symlink to a root-only folder: nothing is moved there, the staged source stays', async () => {
    world(72);
    chmodSync(w.root, 0o755);
    const seeding = path.join(w.stash, 'seeding');
    mkdirSync(path.dirname(source()), { recursive: true });
    chownSync(seeding, 65534, 65534); // a seeding root the client owns
    chownSync(path.dirname(source()), 65534, 65534);
    const staged = legacyStaged('r-staged', OLD_MOVIE, 'staged');
    const stagedBefore = hashTreeSync(staged);
    const hidden = path.join(w.stash, 'private');
    writeTree(hidden, { 'keys.txt': bytesFor('keys', 100) });
    chmodSync(hidden, 0o700);
    asNobody(`mv movies movies.old && ln -s ${hidden} movies`, seeding);
    const recovered = await runRecover({ ...common(NOW), emit: () => undefined, runId: 'rec-legacy' });
    expect(readdirSync(hidden)).toEqual(['keys.txt']);
    expect(hashTreeSync(staged)).toEqual(stagedBefore);
    expect(readdirSync(path.join(seeding, 'movies.old'))).toEqual([]);
    expect(getRun(w.catalog.db, 'r-staged')!.status).toBe('needs-attention');
    expect(recovered[0]!.attention.join('\n')).toMatch(/not undone/);
  });
});

describe('a local user attacking the purge (real non-root user, real helper processes)', () => {
  /** Run a shell command as `nobody` (uid 65534): the attacker. */
  const asNobody = (script: string, cwd: string) => execFileSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', 'sh', '-c', script], { cwd, stdio: 'pipe' });

  it('a trash planted by a user who can write the filesystem root, its subdirectory swapped for a symlink while the purge walks: nothing outside is touched', async () => {
    world(72);
    chmodSync(w.root, 0o755);
    chmodSync(w.stash, 0o777); // a filesystem root other users can write (non-sticky)
    const victim = path.join(w.stash, 'library', 'Victim');
    writeTree(victim, { 'b.srt': bytesFor('victim-b', 300), 'v.mkv': bytesFor('victim-v', 9000) });
    const before = hashTreeSync(victim);
    recordRun('r-old', 'succeeded', NOW - 100 * HOUR); // a real, finished, old run: its id is what the attacker names the junk after
    asNobody('mkdir -p .hashall-trash/r-old/oldjunk/sub && echo x > .hashall-trash/r-old/oldjunk/sub/b.srt && touch -d 2020-01-01 .hashall-trash/r-old/oldjunk/sub/b.srt .hashall-trash/r-old/oldjunk/sub .hashall-trash/r-old/oldjunk .hashall-trash/r-old', w.stash);
    const sub = path.join(w.stash, '.hashall-trash', 'r-old', 'oldjunk', 'sub');
    // The swap, by the attacker, right after hashall looked at `sub` and saw a directory (the second look: the removal's).
    const real = realFsPort();
    let looks = 0;
    const swap = (): void => void asNobody(`mv sub sub.old && ln -s ${victim} sub`, path.dirname(sub));
    const fs: FsPort = {
      ...real,
      lstat: async (p) => {
        const st = await real.lstat(p);
        if (p === sub && st?.kind === 'dir' && ++looks === 2) swap();
        return st;
      },
      rmTree: (base, rel, opts) => real.rmTree(base, rel, { ...opts, hooks: { beforeOpenDir: (r) => (r === 'oldjunk/sub' ? swap() : undefined) } }),
    };
    recordRun('r-now', 'running', null);
    const out = await purgeTrash(deps('r-now', [], NOW, fs));
    expect(hashTreeSync(victim)).toEqual(before);
    expect(out.map((o) => o.action)).toEqual(['kept']);
    expect(out[0]!.reason).toMatch(/\.hashall-trash is owned by uid 65534, not by hashall's user \(uid 0\); refusing to use it/);
    expect(lstatSync(path.join(sub, 'b.srt')).isFile()).toBe(true); // the attacker's junk is not hashall's to delete either
  });
});
