// purgeTrash on real tmpfs: old trash of a finished run goes (noted on the records), young/unfinished/unknown trash stays, symlinks are unlinked not followed; the apply and recover call sites.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ApplyEvent } from '../../../src/apply/events.js';
import { formatRunDetail } from '../../../src/apply/format-event.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { Journal, type RunStatus } from '../../../src/apply/journal.js';
import { runApply, runRecover } from '../../../src/apply/run-apply.js';
import { getRun } from '../../../src/apply/run-store.js';
import { purgeTrash } from '../../../src/apply/trash.js';
import { bytesFor, hashTreeSync, makeApplyWorld, makePlan, writeTree, type ApplyWorld } from '../../support/apply-world.js';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

let w: ApplyWorld;
afterEach(() => w?.cleanup());

function world(observeHours = 72, mode: 'staged' | 'never' = 'staged') {
  w = makeApplyWorld();
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

/** Trash of `runId` on stash: a retired payload staged as retire.ts does it. */
function plantTrash(runId: string, rel = 'seeding/movies/Old.Movie'): string {
  const dir = path.join(w.stash, '.hashall-trash', runId, rel);
  writeTree(dir, { 'a.mkv': bytesFor(`${runId}-a`, 20_000), 'sub/b.srt': bytesFor(`${runId}-b`, 300) });
  return path.join(w.stash, '.hashall-trash', runId);
}

/** Age every entry of a tree (dirs included, symlinks skipped) so its mtime is `ms`. */
function ageTree(p: string, ms: number): void {
  const st = lstatSync(p);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) for (const n of readdirSync(p)) ageTree(path.join(p, n), ms);
  utimesSync(p, ms / 1000, ms / 1000);
}

function deps(runId: string, events: ApplyEvent[] = [], now = NOW) {
  return { catalog: w.catalog, config: w.config, fs: realFsPort(), now: () => now, emit: (e: ApplyEvent) => events.push(e), runId };
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
    expect(existsSync(path.join(w.stash, '.hashall-trash'))).toBe(false); // the empty trash directory goes too
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

  it('unlinks a symlink planted in the trash without following it: the target outside is untouched', async () => {
    world(72);
    recordRun('r-old', 'succeeded', NOW - 100 * HOUR);
    const trash = plantTrash('r-old');
    const outside = path.join(w.pool, 'precious');
    writeTree(outside, { 'keep.bin': bytesFor('precious', 5000), 'deep/also.bin': bytesFor('also', 10) });
    const before = hashTreeSync(outside);
    symlinkSync(outside, path.join(trash, 'seeding', 'link-to-dir'));
    symlinkSync(path.join(outside, 'keep.bin'), path.join(trash, 'link-to-file'));
    expect(readlinkSync(path.join(trash, 'link-to-file'))).toBe(path.join(outside, 'keep.bin'));
    recordRun('r-now', 'running', null);
    const out = await purgeTrash(deps('r-now'));
    expect(out[0]).toMatchObject({ action: 'removed', files: 4, bytes: 20_300 }); // links are entries, not bytes
    expect(out[0]!.paths).toContain('seeding/link-to-dir');
    expect(existsSync(trash)).toBe(false);
    expect(hashTreeSync(outside)).toEqual(before);
  });

  it('a directory with no run record: kept with a warning while young; once old, removed by a run with a record, kept by recover', async () => {
    world(72);
    const unknown = path.join(w.stash, '.hashall-trash', 'mystery');
    writeTree(unknown, { 'x.bin': bytesFor('x', 1000) });
    ageTree(unknown, NOW - 1 * HOUR); // the files may be old, the tree changed an hour ago
    recordRun('r-now', 'running', null);
    const events: ApplyEvent[] = [];
    const young = await purgeTrash(deps('r-now', events));
    expect(young[0]).toMatchObject({ action: 'kept', ownerRunId: null });
    expect(young[0]!.reason).toMatch(/WARNING: .*no recorded run.*stays/);
    expect(events.some((e) => e.type === 'trash' && e.message.startsWith('WARNING'))).toBe(true);
    expect(existsSync(path.join(unknown, 'x.bin'))).toBe(true);

    ageTree(unknown, NOW - 100 * HOUR);
    const norecord = await purgeTrash(deps('recover-xyz')); // `hashall recover` keeps no run record of its own
    expect(norecord[0]).toMatchObject({ action: 'kept' });
    expect(norecord[0]!.reason).toMatch(/only an apply run/);
    expect(existsSync(path.join(unknown, 'x.bin'))).toBe(true);

    const old = await purgeTrash(deps('r-now'));
    expect(old[0]).toMatchObject({ action: 'removed', files: 1, bytes: 1000 });
    expect(existsSync(unknown)).toBe(false);
    expect(getRun(w.catalog.db, 'r-now')!.notes.join('\n')).toMatch(/no run record for mystery.*x\.bin/);
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
    expect(out[0]!.reason).toMatch(/is a symlink/);
    expect(existsSync(path.join(elsewhere, 'r-old', 'f.bin'))).toBe(true);
  });
});

describe('call sites', () => {
  const common = (now: number) => ({ config: w.config, client: null, now: () => now, catalog: w.catalog, command: 'test' });

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
    expect(formatRunDetail(getRun(w.catalog.db, 'r-apply')!)).toMatch(/note: trash purge: removing .*r-old.*20300 bytes/);
  });

  it('runRecover recovers the crashed run first, then keeps its now-young trash and purges the old one', async () => {
    world(72);
    recordRun('r-crashed', 'running', null); // this host, dead pid: recovery marks it recovered, ended now
    recordRun('r-old', 'failed', NOW - 100 * HOUR);
    plantTrash('r-crashed');
    plantTrash('r-old');
    const events: ApplyEvent[] = [];
    const recovered = await runRecover({ ...common(NOW), emit: (e) => events.push(e), runId: 'rec-1' });
    expect(recovered.map((r) => [r.runId, r.status])).toEqual([['r-crashed', 'recovered']]);
    const trashEvents = events.filter((e): e is Extract<ApplyEvent, { type: 'trash' }> => e.type === 'trash');
    expect(trashEvents.map((e) => [path.basename(e.path), e.action])).toEqual([
      ['r-crashed', 'kept'],
      ['r-old', 'removed'],
    ]);
    expect(existsSync(path.join(w.stash, '.hashall-trash', 'r-crashed', 'seeding/movies/Old.Movie/a.mkv'))).toBe(true);
    expect(getRun(w.catalog.db, 'r-old')!.notes.join('\n')).toMatch(/removed by rec-1/);
  });
});
