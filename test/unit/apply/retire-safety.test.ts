// Retire never deletes what the kept copy does not hold (extra files, a torrent outside the relocation still seeding from it), nor anything it did not record, whatever a local user does to its trash.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { payloadHash } from '../../../src/domain/payload-hash.js';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort, type FsPort } from '../../../src/apply/fs-port.js';
import { getRun } from '../../../src/apply/run-store.js';
import { recordedRemoval } from '../../../src/apply/trash-record.js';
import { purgeTrash, type PurgeProgress } from '../../../src/apply/trash.js';
import { purgeProgressLine } from '../../../src/render/trash-text.js';
import { restoreFromTrash } from '../../../src/apply/trash-restore.js';
import { removeTree } from '../../../src/fs/no-follow-tree.js';
import type { PlanGroup, RetireStep } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, hashTreeSync, makeApplyFixture, makePlan, moveGroup, payloadHashOf, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';
import { fakeTorrent } from '../../support/fake-qbt.js';
import { useFakeClient } from '../../support/fake-client.js';
import { faultyFsPort } from '../../support/faulty-fs.js';
import { rotOnDisk, unreadableOnDisk } from '../../support/bit-rot.js';
import { scanRoots } from '../../../src/catalog/scan/scan-roots.js';
import { openIntegrityProblems, openProblemPaths } from '../../../src/catalog/integrity.js';
import { repairCorrupted } from '../../../src/reconcile/repair.js';
import { singleClient } from '../../../src/clients/client-set.js';
import { unmount } from '../../support/mounts.js';

let w: ApplyFixture;
const fx = useFakeClient();
afterEach(() => {
  fx.fake.torrents.clear();
  w?.cleanup();
});

/** A payload moved to the pool (source still on stash), its payload hash and relocation id. */
async function moved(opts: { poolExt4?: boolean } = {}) {
  w = makeApplyFixture({ poolExt4: opts.poolExt4 ?? false });
  const src = path.join(w.stash, 'seeding', 'movies', 'R');
  writeTree(src, { 'a.bin': bytesFor('ra', 30_000), 'sub/b.bin': bytesFor('rb', 2000) });
  const dst = path.join(w.pool, 'seeding', 'movies', 'R');
  const hash = payloadHashOf(src);
  const res = await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]));
  expect(res.status).toBe('succeeded');
  const relId = (w.catalog.db.prepare(`SELECT id FROM relocations`).get() as { id: number }).id;
  return { src, dst, relId, hash };
}

function retireGroup(src: string, dst: string, hash: string, relId: number, bytes: number): PlanGroup {
  return {
    id: 'r1',
    key: 'retire-1',
    action: 'retire',
    title: 'R',
    payloadHash: hash,
    torrents: [],
    from: { fs: 'stash', path: src },
    to: null,
    reasons: ['test retire'],
    rule: null,
    bytesToCopy: 0,
    bytesToFree: bytes,
    steps: [{ kind: 'retire', fs: 'stash', root: src, payloadHash: hash, keptRoot: dst, keptFs: 'pool', relocationId: relId, bytes }],
    fingerprint: { files: [], torrents: [] },
  };
}

describe('retire: the source holds nothing the kept copy lacks', () => {
  it('a file in the source tree that is not in the payload (another torrent, a user file) is never deleted', async () => {
    const { src, dst, relId, hash } = await moved();
    writeTree(src, { 'Other.Torrent/other.bin': bytesFor('other', 4000) }); // a hitchhiker left by an older tool
    const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/source stays/);
    expect(readFileSync(path.join(src, 'Other.Torrent', 'other.bin'))).toEqual(bytesFor('other', 4000));
    expect(hashTreeSync(path.join(src))).toHaveProperty('a.bin');
  });

  it('a source file whose bytes changed since the copy is never deleted', async () => {
    const { src, dst, relId, hash } = await moved();
    writeTree(src, { 'sub/b.bin': bytesFor('changed', 2000) }); // same name and size, other bytes
    const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('rolled-back');
    expect(readFileSync(path.join(src, 'sub', 'b.bin'))).toEqual(bytesFor('changed', 2000));
  });

  it('a torrent outside the relocation still seeding from the source keeps it', async () => {
    const { src, dst, relId, hash } = await moved();
    const h = 'c'.repeat(40);
    fx.fake.torrents.set(h, fakeTorrent(h, { name: 'Cross.Seed.R', state: 'stalledUP', save_path: path.dirname(src), content_path: src }));
    const res = await applyPlan(testDeps(w, { client: fx.client }), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/Cross\.Seed\.R/);
    expect(existsSync(path.join(src, 'a.bin'))).toBe(true);
  });

  it('with the source exactly the payload and no torrent on it, retire still deletes it', async () => {
    const { src, dst, relId, hash } = await moved();
    const h = 'd'.repeat(40);
    fx.fake.torrents.set(h, fakeTorrent(h, { name: 'Elsewhere', state: 'stalledUP', save_path: path.dirname(dst), content_path: dst }));
    const res = await applyPlan(testDeps(w, { client: fx.client }), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('succeeded');
    expect(existsSync(src)).toBe(false);
  });
});

describe('retire: a mount inside the source (same filesystem, same st_dev)', () => {
  it('a folder bound into the source by root (a container runtime, a backup) is never staged, listed through or purged: the source stays, the bound folder keeps every byte', async () => {
    const { src, dst, relId, hash } = await moved();
    const srcBefore = hashTreeSync(src);
    // Root's copy of the payload's sub folder elsewhere on the stash, bound over it: the same bytes, so a proof read
    // through the mount passes, and the purge would then delete the bound folder's own files.
    const backup = path.join(w.stash, 'backup', 'R-sub');
    writeTree(backup, { 'b.bin': bytesFor('rb', 2000) });
    const backupBefore = hashTreeSync(backup);
    const mountPoint = path.join(src, 'sub');
    execFileSync('mount', ['--bind', backup, mountPoint]);
    const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toContain(`${src} holds a mount point (${mountPoint})`);
    expect(res.groups[0]!.error).toContain(`umount ${mountPoint}`);
    expect(existsSync(path.join(w.stash, '.hashall-trash', res.runId))).toBe(false);
    // The trash purge after the window finds nothing of it to remove.
    await purgeTrash({ catalog: w.catalog, config: w.config, fs: realFsPort(), now: () => Date.now() + 3_600_000, emit: () => undefined, runId: 'later' });
    // Read again in full: the bound folder lost nothing, and neither did the source under the mount.
    expect(hashTreeSync(backup)).toEqual(backupBefore);
    unmount(mountPoint);
    expect(hashTreeSync(src)).toEqual(srcBefore);
  });
});

describe('retire: the executor re-checks the gates itself (a hand-edited or early plan)', () => {
  it('with safety.retire.mode never, a retire step deletes nothing', async () => {
    const { src, dst, relId, hash } = await moved();
    w.config.safety.retire.mode = 'never';
    const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/mode is never/);
    expect(existsSync(path.join(src, 'a.bin'))).toBe(true);
  });

  it('before the observation window since the repoint is over, the source stays', async () => {
    const { src, dst, relId, hash } = await moved();
    w.config.safety.retire.observeHours = 24;
    const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/observ/);
    expect(existsSync(path.join(src, 'a.bin'))).toBe(true);
    // Once the window is over (the clock moved on), the same step runs.
    const later = await applyPlan(testDeps(w, { now: () => Date.now() + 25 * 3_600_000 }), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(later.status).toBe('succeeded');
    expect(existsSync(src)).toBe(false);
  });
  it('a sync since the plan saw the torrent unhealthy on the target: the window counts from that sync, and the source stays', async () => {
    const { src, dst, relId, hash } = await moved();
    w.config.safety.retire.observeHours = 24;
    // The plan was made a day and more after the repoint; then a sync saw the torrent missing files on the pool.
    const at = Date.now() + 25 * 3_600_000;
    w.catalog.db.prepare(`UPDATE relocations SET unhealthy_at = ?, unhealthy_what = 'torrent "R" was missing-files (missingFiles)' WHERE id = ?`).run(at - 3_600_000, relId);
    const res = await applyPlan(testDeps(w, { now: () => at }), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/observation window of relocation \d+ is not over/);
    expect(existsSync(path.join(src, 'a.bin'))).toBe(true);
  });
});

describe('retire: a staged source that cannot be put back is never left for the trash purge', () => {
  it('kept copy broken after staging and the source path re-created meanwhile: needs attention, and the purge keeps the original', async () => {
    const { src, dst, relId, hash } = await moved();
    const original = readFileSync(path.join(src, 'a.bin'));
    // Right after the source is renamed into the trash: something re-creates its path (a client starting to download
    // there) and the kept copy gets damaged, so the re-proof fails and the source cannot be renamed back.
    const fs = faultyFsPort(realFsPort(), [
      {
        op: 'renameAt',
        nth: 1,
        after: () => {
          mkdirSync(src, { recursive: true });
          writeFileSync(path.join(src, 'a.bin'), 'partial download');
          writeFileSync(path.join(dst, 'a.bin'), 'damaged');
        },
      },
    ]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('needs-attention');
    expect(res.attention.join('\n')).toMatch(/\.hashall-trash/);
    // A later run's purge (window long over) must not delete the only good copy of a.bin.
    await purgeTrash({ catalog: w.catalog, config: w.config, fs: realFsPort(), now: () => Date.now() + 1000 * 3_600_000, emit: () => undefined, runId: 'later' });
    const trashed = path.join(w.stash, '.hashall-trash', res.runId, 'seeding', 'movies', 'R', 'a.bin');
    expect(readFileSync(trashed)).toEqual(original);
  });
});

describe('retire: the purge never removes the last copy', () => {
  it('the kept copy removed or cut short during the window (its torrent deleted "with data"): the staged source stays, saying why; whole again, it goes', async () => {
    const { src, dst, relId, hash } = await moved();
    const before = hashTreeSync(src);
    const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('succeeded');
    const staged = path.join(w.stash, '.hashall-trash', res.runId, 'seeding', 'movies', 'R');
    const purge = () => purgeTrash({ catalog: w.catalog, config: w.config, fs: realFsPort(), now: () => Date.now() + 3_600_000, emit: () => undefined, runId: 'later' });
    const saved = path.join(w.pool, 'saved-R');
    execFileSync('mv', [dst, saved]);
    let out = await purge();
    expect(out.map((o) => o.action)).toEqual(['kept']);
    expect(out[0]!.reason).toMatch(/kept copy .*R (is gone|cannot be listed).*may be the only copy left/);
    expect(hashTreeSync(staged)).toEqual(before);
    // Back, but one file cut short: still not the copy the retire proved.
    execFileSync('cp', ['-a', saved, dst]);
    writeFileSync(path.join(dst, 'sub', 'b.bin'), bytesFor('rb', 1000));
    out = await purge();
    expect(out[0]!.reason).toMatch(/holds sub\/b\.bin with 1000 bytes, not 2000/);
    expect(hashTreeSync(staged)).toEqual(before);
    // Whole again: the purge removes what the retire recorded.
    writeFileSync(path.join(dst, 'sub', 'b.bin'), bytesFor('rb', 2000));
    out = await purge();
    expect(out.map((o) => o.action)).toEqual(['removed']);
    expect(existsSync(staged)).toBe(false);
    expect(hashTreeSync(dst)).toEqual(before);
  });
});

describe('retire: the purge judges only what is still in the trash', () => {
  it('one entry of a run restored, its kept copy removed since: the run\'s other entry is still purged', async () => {
    const { src, dst, relId, hash } = await moved();
    const s2 = path.join(w.stash, 'seeding', 'movies', 'S');
    const d2 = path.join(w.pool, 'seeding', 'movies', 'S');
    writeTree(s2, { 's.bin': bytesFor('s', 5000) });
    expect((await applyPlan(testDeps(w), makePlan(w, [moveGroup('g2', w, s2, d2)]))).status).toBe('succeeded');
    const rel2 = (w.catalog.db.prepare(`SELECT max(id) AS id FROM relocations`).get() as { id: number }).id;
    const second = { ...retireGroup(s2, d2, payloadHashOf(s2), rel2, 5000), id: 'r2', key: 'retire-2', title: 'S' };
    second.steps = [{ ...(second.steps[0] as RetireStep), root: s2, keptRoot: d2, relocationId: rel2 }];
    const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000), second]));
    expect(res.status).toBe('succeeded');
    // R comes back (trash restore), and then its pool copy is removed: nothing of R is in the trash any more.
    const back = await restoreFromTrash({ catalog: w.catalog, config: w.config, fs: realFsPort(), now: () => Date.now(), runId: res.runId }, src);
    expect(back.map((o) => o.action)).toEqual(['restored']);
    execFileSync('rm', ['-r', dst]);
    const out = await purgeTrash({ catalog: w.catalog, config: w.config, fs: realFsPort(), now: () => Date.now() + 3_600_000, emit: () => undefined, runId: 'later' });
    expect(out.map((o) => o.action)).toEqual(['removed']);
    expect(existsSync(path.join(w.stash, '.hashall-trash', res.runId))).toBe(false);
    expect(existsSync(path.join(src, 'a.bin'))).toBe(true);
  });
});

/** A retire of R run to its end: the staged source, the payload's bytes per file, and a purge after the window. */
async function retired(opts: { settle?: boolean; fs?: FsPort; poolExt4?: boolean; beforeRetire?: (dst: string) => Promise<void> } = {}) {
  const { src, dst, relId, hash } = await moved({ poolExt4: opts.poolExt4 ?? false });
  await opts.beforeRetire?.(dst);
  const before = hashTreeSync(src);
  // The kept files' last change a second and more before the proof (as after a real observation window).
  if (opts.settle) await new Promise((r) => setTimeout(r, 1100));
  const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
  expect(res.status, res.groups[0]?.error ?? '').toBe('succeeded');
  const staged = path.join(w.stash, '.hashall-trash', res.runId, 'seeding', 'movies', 'R');
  const purge = (fs: FsPort = opts.fs ?? realFsPort()) => purgeTrash({ catalog: w.catalog, config: w.config, fs, now: () => Date.now() + 3_600_000, emit: () => undefined, runId: 'later' });
  return { dst, staged, before, runId: res.runId, purge };
}

/** Every byte of the payload is still somewhere: the staged source (or the kept copy) hashes as before, file by file. */
function payloadSomewhere(before: Record<string, string>, ...trees: string[]): void {
  expect(trees.some((t) => existsSync(t) && JSON.stringify(hashTreeSync(t)) === JSON.stringify(before)), `the payload in one of ${trees.join(', ')}`).toBe(true);
}

describe('retire: the purge never removes the last copy — a kept copy replaced by a same-size file is not the copy proven', () => {

  it('a kept file replaced by another file of the same size (new inode): the staged source stays, saying why and how to restore it', async () => {
    const { dst, staged, before, runId, purge } = await retired();
    const b = path.join(dst, 'sub', 'b.bin');
    writeFileSync(`${b}.new`, bytesFor('not the payload', 2000));
    execFileSync('mv', [`${b}.new`, b]);
    const out = await purge();
    expect(out.map((o) => o.action)).toEqual(['kept']);
    expect(out[0]!.reason).toMatch(/holds sub\/b\.bin with other bytes than the retire proved.*may be the only copy left; restore it \(`hashall trash restore /);
    expect(out[0]!.reason).toContain(runId);
    expect(hashTreeSync(staged)).toEqual(before);
    payloadSomewhere(before, staged);
  });

  it('a kept file rewritten in place (same inode, same size) and its mtime set back to the nanosecond: the staged source stays', async () => {
    const { dst, staged, before, purge } = await retired({ settle: true });
    const a = path.join(dst, 'a.bin');
    const was = lstatSync(a, { bigint: true });
    writeFileSync(a, bytesFor('preallocated', 30_000)); // O_TRUNC: the same inode
    const ns = was.mtimeNs;
    execFileSync('touch', ['-m', '-d', `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`, a]);
    const is = lstatSync(a, { bigint: true });
    expect([is.ino, is.size, is.mtimeNs]).toEqual([was.ino, was.size, was.mtimeNs]);
    const out = await purge();
    expect(out.map((o) => o.action)).toEqual(['kept']);
    expect(out[0]!.reason).toMatch(/holds a\.bin with other bytes than the retire proved/);
    payloadSomewhere(before, staged);
  });

  it('the torrent deleted with its data and re-added (preallocated with zeros): the staged source stays until the kept copy holds the payload again, then goes', async () => {
    const { dst, staged, before, purge } = await retired();
    execFileSync('rm', ['-r', dst]);
    writeTree(dst, { 'a.bin': Buffer.alloc(30_000), 'sub/b.bin': Buffer.alloc(2000) });
    let out = await purge();
    expect(out.map((o) => o.action)).toEqual(['kept']);
    expect(out[0]!.reason).toMatch(/with other bytes than the retire proved/);
    payloadSomewhere(before, staged);
    // Downloaded again: other inodes, the same bytes — read again, they are the payload, and the source goes.
    writeTree(dst, { 'a.bin': bytesFor('ra', 30_000), 'sub/b.bin': bytesFor('rb', 2000) });
    out = await purge();
    expect(out.map((o) => o.action)).toEqual(['removed']);
    expect(existsSync(staged)).toBe(false);
    expect(hashTreeSync(dst)).toEqual(before);
  });

  it('a legitimate change meanwhile — the kept file linked to another inode with the same bytes (a dedupe), a chmod — costs one read, and the source goes', async () => {
    const { dst, staged, before, purge } = await retired({ settle: true });
    const a = path.join(dst, 'a.bin');
    execFileSync('cp', ['-p', a, path.join(w.pool, 'twin.bin')]);
    execFileSync('ln', ['-f', path.join(w.pool, 'twin.bin'), a]);
    chmodSync(path.join(dst, 'sub', 'b.bin'), 0o600);
    const fs = faultyFsPort(realFsPort(), []);
    const out = await purge(fs);
    expect(out.map((o) => o.action)).toEqual(['removed']);
    expect(fs.calls.hashFileStamped).toBe(2);
    expect(existsSync(staged)).toBe(false);
    expect(hashTreeSync(dst)).toEqual(before);
  });

  it('the kept copy unchanged since its proof: by default the purge still reads every kept file again (its progress told), then removes the source', async () => {
    const { dst, staged, before } = await retired({ settle: true });
    const fs = faultyFsPort(realFsPort(), []);
    const seen: PurgeProgress[] = [];
    const out = await purgeTrash({ catalog: w.catalog, config: w.config, fs, now: () => Date.now() + 3_600_000, emit: () => undefined, runId: 'later', onProgress: (p) => seen.push(p) });
    expect(out.map((o) => o.action)).toEqual(['removed']);
    expect(fs.calls.hashFileStamped).toBe(2);
    // Bytes of both kept files, never going back, ending at their total; the line a terminal shows.
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.every((p, i) => p.keptRoot === dst && p.totalBytes === 32_000 && (i === 0 || p.bytes >= seen[i - 1]!.bytes))).toBe(true);
    expect(seen.at(-1)!.bytes).toBe(32_000);
    expect(purgeProgressLine(seen.at(-1)!)).toMatch(/^trash purge: reading the kept copy .*\/R again: 100% 31\.\d KiB\/31\.\d KiB \(/);
    expect(existsSync(staged)).toBe(false);
    expect(hashTreeSync(dst)).toEqual(before);
  });

  it('with safety.retire.purgeCheck: stamp, a kept copy unchanged since its proof is trusted without a read', async () => {
    const { dst, staged, before, purge } = await retired({ settle: true });
    w.config.safety.retire.purgeCheck = 'stamp';
    const fs = faultyFsPort(realFsPort(), []);
    const out = await purge(fs);
    expect(out.map((o) => o.action)).toEqual(['removed']);
    expect(fs.calls.hashFileStamped ?? 0).toBe(0);
    expect(existsSync(staged)).toBe(false);
    expect(hashTreeSync(dst)).toEqual(before);
  });

  it('a trash record of an older hashall (no kept files recorded): the whole kept copy is read again against the payload hash', async () => {
    const { dst, staged, before, runId, purge } = await retired({ settle: true });
    const row = w.catalog.db.prepare(`SELECT rowid AS id, undo FROM run_steps WHERE run_id = ? AND kind = 'retire'`).get(runId) as { id: number; undo: string };
    const { keptFiles: _f, keptProvenAt: _t, ...old } = JSON.parse(row.undo) as Record<string, unknown>;
    w.catalog.db.prepare(`UPDATE run_steps SET undo = ? WHERE rowid = ?`).run(JSON.stringify(old), row.id);
    const b = path.join(dst, 'sub', 'b.bin');
    const good = readFileSync(b);
    writeFileSync(`${b}.new`, bytesFor('not the payload', 2000));
    execFileSync('mv', [`${b}.new`, b]);
    let out = await purge();
    expect(out.map((o) => o.action)).toEqual(['kept']);
    expect(out[0]!.reason).toMatch(/read again in full \(this trash was recorded by an older hashall.*no longer holds exactly the payload/);
    payloadSomewhere(before, staged);
    writeFileSync(b, good);
    const fs = faultyFsPort(realFsPort(), []);
    out = await purge(fs);
    expect(out.map((o) => o.action)).toEqual(['removed']);
    expect(fs.calls.hashFileStamped).toBe(2);
    expect(hashTreeSync(dst)).toEqual(before);
  });
});

describe('retire: the purge never removes the last copy — bit rot in the kept copy, which no stamp shows', () => {
  /** Catalogue the kept copy with its SHA-256, as a scan after the move does (the rows verify and the planner read). */
  const scanKept = async (dst: string) => {
    await scanRoots(w.catalog, [{ path: path.join(w.pool, 'seeding'), kind: 'seeding' }], { drift: 'metadata', hash: 'all', filesystems: w.config.filesystems, now: () => Date.now() });
    const rows = w.catalog.db.prepare(`SELECT count(*) FROM file_paths WHERE abs_path LIKE ? AND status = 'active' AND sha256 IS NOT NULL`).pluck().get(`${dst}/%`);
    expect(rows).toBe(2);
  };

  it('a byte of a kept file flipped on the disk underneath its ext4 (same device, inode, size, mtime and ctime): the staged source stays, and the damaged file is an open integrity problem as verify records it', async () => {
    const { dst, staged, before, runId, purge } = await retired({ settle: true, poolExt4: true, beforeRetire: scanKept });
    const a = path.join(dst, 'a.bin');
    const good = readFileSync(a);
    const stamp = (p: string) => {
      const st = lstatSync(p, { bigint: true });
      return [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs];
    };
    const was = stamp(a);
    rotOnDisk(w.poolDevice!, w.pool, 'seeding/movies/R/a.bin', 12_345);
    // Real bit rot: every stamp the retire recorded is unchanged, the bytes are not.
    expect(stamp(a)).toEqual(was);
    expect(readFileSync(a).equals(good)).toBe(false);
    const out = await purge();
    expect(out.map((o) => o.action)).toEqual(['kept']);
    expect(out[0]!.reason).toMatch(/a\.bin is damaged: read again in full, its SHA-256 is not the one the retire proved, though its device, inode, size, mtime and ctime are unchanged \(bit rot/);
    expect(out[0]!.reason).toContain(`hashall trash restore ${runId}`);
    payloadSomewhere(before, staged);
    const problems = openIntegrityProblems(w.catalog);
    expect(problems.map((p) => ({ path: p.path, kind: p.kind, expected: p.expected, source: p.source }))).toEqual([
      { path: a, kind: 'corrupted', expected: sha256(good), source: 'purge' },
    ]);
    // Judged again at every purge: still kept, the one problem refreshed, not doubled.
    expect((await purge()).map((o) => o.action)).toEqual(['kept']);
    expect(openIntegrityProblems(w.catalog)).toHaveLength(1);
    payloadSomewhere(before, staged);
    // The way out the message gives: restore the staged source, scan it, and verify --repair copies its good bytes over the damaged file.
    const src = path.join(w.stash, 'seeding', 'movies', 'R');
    expect((await restoreFromTrash({ catalog: w.catalog, config: w.config, fs: realFsPort(), now: () => Date.now(), runId }, src)).map((o) => o.action)).toEqual(['restored']);
    await scanRoots(w.catalog, [{ path: path.join(w.stash, 'seeding'), kind: 'seeding' }], { drift: 'metadata', hash: 'all', filesystems: w.config.filesystems, now: () => Date.now() });
    const fixed = await repairCorrupted({ catalog: w.catalog, config: w.config, clients: singleClient(null), paths: [a], now: () => Date.now(), emit: () => undefined });
    expect(fixed.map((o) => [o.status, o.source])).toEqual([['repaired', path.join(src, 'a.bin')]]);
    expect(readFileSync(a).equals(good)).toBe(true);
    expect(openIntegrityProblems(w.catalog)).toEqual([]);
    expect(hashTreeSync(dst)).toEqual(before);
  });

  it('a kept file that cannot be read (EIO): the staged source stays, nothing is removed; the message names the file by its real path', async () => {
    const { dst, staged, before, purge } = await retired({ settle: true });
    const fs = faultyFsPort(realFsPort(), [{ op: 'hashFileStamped', nth: 1, code: 'EIO' }]);
    const out = await purge(fs);
    expect(out.map((o) => o.action)).toEqual(['kept']);
    expect(out[0]!.reason).toMatch(/cannot be read again \(.*EIO.*may be the only copy left/);
    // Read through its folder held open (`/proc/self/fd/N/…`), named as the user knows it.
    expect(out[0]!.reason).toMatch(new RegExp(`cannot be read again \\(\\w+ ${dst}/[ab]\\.bin: `));
    expect(out[0]!.reason).not.toContain('/proc/self/fd');
    payloadSomewhere(before, staged);
  });

  it('a kept file the disk cannot read any more (a real EIO from its loop device): the staged source stays, and the file is an open `unreadable` problem as verify records it (doctor lists it, plans using it block)', async () => {
    const { dst, staged, before, purge } = await retired({ settle: true, poolExt4: true, beforeRetire: scanKept });
    const a = path.join(dst, 'a.bin');
    const good = readFileSync(a);
    unreadableOnDisk(w.poolDevice!, w.pool, 'seeding/movies/R/a.bin');
    expect(() => readFileSync(a)).toThrow(/EIO/);
    const out = await purge();
    expect(out.map((o) => o.action)).toEqual(['kept']);
    expect(out[0]!.reason).toMatch(/holds a\.bin, which cannot be read again \(.*EIO.*recorded as an unreadable file, as `hashall verify` records one/);
    payloadSomewhere(before, staged);
    const problems = openIntegrityProblems(w.catalog);
    expect(problems.map((p) => ({ path: p.path, kind: p.kind, expected: p.expected, found: p.found, source: p.source }))).toEqual([
      { path: a, kind: 'unreadable', expected: sha256(good), found: null, source: 'purge' },
    ]);
    expect(problems[0]!.detail).toMatch(/^EIO\b/);
    // Named by its real path, never by the held folder's anchored spelling.
    expect(out[0]!.reason).toContain(`cannot be read again (hash ${a}: `);
    expect(out[0]!.reason).not.toContain('/proc/self/fd');
    expect(problems[0]!.detail).not.toContain('/proc/self/fd');
    // What the planner reads to block every group that would use it (and doctor lists: every open problem).
    expect(openProblemPaths(w.catalog)).toEqual([{ path: a, kind: 'unreadable' }]);
    // Judged again at every purge: still kept, the one problem refreshed, not doubled.
    expect((await purge()).map((o) => o.action)).toEqual(['kept']);
    expect(openIntegrityProblems(w.catalog)).toHaveLength(1);
    payloadSomewhere(before, staged);
  });
});

describe('retire: a source that is missing because its filesystem is not mounted', () => {
  it('is not recorded as retired (unknown, not "already gone")', async () => {
    const { src, dst, relId, hash } = await moved();
    unmount(w.stashAlias);
    unmount(w.stash); // the stash filesystem goes away: its mountpoint is an empty directory now
    const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/mounted/);
    expect((w.catalog.db.prepare(`SELECT retired_at FROM relocations WHERE id = ?`).get(relId) as { retired_at: number | null }).retired_at).toBeNull();
  });
});

describe('retire: its trash and its deletion against a local user (real non-root user, real helper processes)', () => {
  const NOBODY = ['--reuid', '65534', '--regid', '65534', '--clear-groups'];

  it('a .hashall-trash planted by another user in a filesystem root they can write is refused: the source stays', async () => {
    const { src, dst, relId, hash } = await moved();
    const before = hashTreeSync(src);
    chmodSync(w.root, 0o755);
    chmodSync(w.stash, 0o777);
    execFileSync('setpriv', [...NOBODY, 'mkdir', path.join(w.stash, '.hashall-trash')]);
    const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/\.hashall-trash is owned by uid 65534, not by hashall's user \(uid 0\); refusing to use it/);
    expect(hashTreeSync(src)).toEqual(before);
    expect(readdirSync(path.join(w.stash, '.hashall-trash'))).toEqual([]);
  });

  it('a user process with its working directory inside the source swaps a subdirectory for a symlink while the purge deletes the staged source: the victim outside is untouched', async () => {
    const { src, dst, relId, hash } = await moved();
    const kept = hashTreeSync(dst);
    const victim = path.join(w.stash, 'library', 'Victim');
    writeTree(victim, { 'b.bin': bytesFor('victim-b', 2000), 'v.bin': bytesFor('victim-v', 900) });
    const victimBefore = hashTreeSync(victim);
    chmodSync(w.root, 0o755);
    execFileSync('chown', ['-R', '65534:65534', src]); // the client's files, as a torrent client running as a user writes them
    // The attacker sits in the source directory (it keeps that directory when retire renames it into the trash) and swaps on cue.
    const helper = spawn('setpriv', [...NOBODY, 'sh', '-c', `read go; mv sub sub.old && ln -s '${victim}' sub && echo done`], { cwd: src, stdio: ['pipe', 'pipe', 'inherit'] });
    const done = new Promise<void>((resolve, reject) => {
      helper.stdout.on('data', (d: Buffer) => (d.toString().includes('done') ? resolve() : undefined));
      helper.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`helper exited ${code}`))));
    });
    const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('succeeded');
    expect(existsSync(src)).toBe(false);
    const real = realFsPort();
    let swaps = 0;
    const fs: FsPort = {
      ...real,
      rmTree: (base, rel, opts) =>
        real.rmTree(base, rel, {
          ...opts,
          hooks: {
            beforeOpenDir: async (r) => {
              if (r !== 'sub' || swaps++) return;
              helper.stdin.write('go\n');
              await done;
            },
          },
        }),
    };
    const out = await purgeTrash({ catalog: w.catalog, config: w.config, fs, now: () => Date.now() + 3_600_000, emit: () => undefined, runId: 'later' });
    expect(swaps).toBeGreaterThan(0);
    expect(hashTreeSync(victim)).toEqual(victimBefore);
    expect(hashTreeSync(dst)).toEqual(kept);
    expect(out.map((o) => o.action)).toEqual(['failed']);
    expect(out[0]!.reason).toMatch(/symbolic link; hashall never follows it/);
  });

  it('a file planted in the staged source meanwhile (a process kept its working directory there): the purge removes only what was recorded and keeps the stranger', async () => {
    const { src, dst, relId, hash } = await moved();
    const kept = hashTreeSync(dst);
    const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('succeeded');
    const undo = getRun(w.catalog.db, res.runId)!.groupRecords[0]!.steps[0]!.undo;
    const staged = path.join(w.stash, '.hashall-trash', res.runId, 'seeding', 'movies', 'R');
    expect(undo).toMatchObject({ phase: 'kept' });
    writeTree(path.join(staged, 'sub'), { 'planted.bin': bytesFor('planted', 10) });
    // Removing by the record (as the purge does) stops at the stranger and keeps it.
    const root = (await realFsPort().holdPrivateDir(w.stash, '.hashall-trash', { create: false }))!;
    try {
      await expect(removeTree(root, undo.trashRel as string, recordedRemoval(undo as never))).rejects.toThrow(/planted\.bin .* is not among what hashall recorded/);
    } finally {
      await root.close();
    }
    const out = await purgeTrash({ catalog: w.catalog, config: w.config, fs: realFsPort(), now: () => Date.now() + 3_600_000, emit: () => undefined, runId: 'later' });
    expect(out.map((o) => o.action)).toEqual(['failed']);
    expect(readFileSync(path.join(staged, 'sub', 'planted.bin'))).toEqual(bytesFor('planted', 10));
    expect(hashTreeSync(dst)).toEqual(kept);
  });
});

describe('retire: a local user who can write the seeding root swaps its folders while the kept copy is read (real non-root user)', () => {
  const NOBODY = ['--reuid', '65534', '--regid', '65534', '--clear-groups'];
  const asNobody = (cwd: string, cmd: string): void => void execFileSync('setpriv', [...NOBODY, 'sh', '-c', cmd], { cwd, stdio: 'inherit' });

  /** The torrent client's user owns the seeding tree; a library beside it, with a copy of the payload's bytes (other inodes), belongs to root. */
  function hostileWorld(src: string): { seeding: string; victim: string; victimInodes: number[] } {
    chmodSync(w.root, 0o755);
    chmodSync(w.stash, 0o755);
    const seeding = path.join(w.stash, 'seeding');
    execFileSync('chown', ['-R', '65534:65534', seeding]);
    const victim = path.join(w.stash, 'library', path.basename(src));
    writeTree(victim, { 'a.bin': bytesFor('ra', 30_000), 'sub/b.bin': bytesFor('rb', 2000) });
    chmodSync(path.join(w.stash, 'library'), 0o755);
    return { seeding, victim, victimInodes: ['a.bin', 'sub/b.bin'].map((f) => lstatSync(path.join(victim, f)).ino) };
  }

  it('the category folder swapped for a symlink to the library: the library copy is never staged, recorded or purged', async () => {
    const { src, dst, relId, hash } = await moved();
    const before = hashTreeSync(src);
    const { seeding, victim, victimInodes } = hostileWorld(src);
    // While the kept copy is hashed (a user sees it with inotify, and it lasts as long as the read): movies -> ../library.
    const fs = faultyFsPort(realFsPort(), [{ op: 'hashFileStamped', nth: 1, pathIncludes: dst, before: () => asNobody(seeding, 'mv movies movies.real && ln -s ../library movies') }]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    // What was checked is what is staged: the source in its (renamed) folder, never what the name now leads to.
    expect(res.status, res.groups[0]?.error ?? '').toBe('succeeded');
    const undo = getRun(w.catalog.db, res.runId)!.groupRecords[0]!.steps[0]!.undo as { inos: number[] };
    expect(undo.inos.some((i) => victimInodes.includes(i))).toBe(false);
    expect(existsSync(path.join(seeding, 'movies.real', 'R'))).toBe(false);
    await purgeTrash({ catalog: w.catalog, config: w.config, fs: realFsPort(), now: () => Date.now() + 3_600_000, emit: () => undefined, runId: 'later' });
    expect(hashTreeSync(victim)).toEqual(before);
    expect(['a.bin', 'sub/b.bin'].map((f) => lstatSync(path.join(victim, f)).ino)).toEqual(victimInodes);
    expect(hashTreeSync(dst)).toEqual(before);
  });

  it('a failed proof puts the source back into the folder it was taken from, never where a swapped name leads (a folder of the attacker)', async () => {
    const { src, dst, relId, hash } = await moved();
    writeTree(src, { 'extra.bin': bytesFor('not in the payload', 100) }); // the proof after staging fails: it must go back
    const before = hashTreeSync(src);
    const { seeding, victim } = hostileWorld(src);
    const fs = faultyFsPort(realFsPort(), [{ op: 'hashFileStamped', nth: 1, pathIncludes: dst, before: () => asNobody(seeding, 'mkdir loot && mv movies movies.real && ln -s loot movies') }]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/not exactly the payload/);
    expect(readdirSync(path.join(seeding, 'loot'))).toEqual([]);
    expect(hashTreeSync(path.join(seeding, 'movies.real', 'R'))).toEqual(before);
    expect(existsSync(victim)).toBe(true);
    // Nothing of the run is left in the trash (no empty run folder for a later purge to judge).
    expect(readdirSync(path.join(w.stash, '.hashall-trash'))).toEqual([]);
  });

  it('a file written at the source path while the source is staged is never replaced by putting the source back', async () => {
    const { src: dir, dst: keptDir, relId } = await moved();
    // A one-file payload: a.bin alone (the move above put its copy on the pool).
    const src = path.join(dir, 'a.bin');
    const dst = path.join(keptDir, 'a.bin');
    const bytes = bytesFor('ra', 30_000);
    const hash = payloadHash([{ relpath: 'a.bin', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }])!;
    const group = retireGroup(src, dst, hash, relId, bytes.length);
    // Staged: a user writes a new file at its path (the folder is theirs), and the kept copy is found damaged.
    const fs = faultyFsPort(realFsPort(), [
      {
        op: 'renameAt',
        nth: 1,
        after: () => {
          writeFileSync(src, 'a new file of the user');
          writeFileSync(dst, bytesFor('damaged', 30_000));
        },
      },
    ]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [group]));
    expect(res.status).toBe('needs-attention');
    expect(res.attention.join('\n')).toMatch(/is in the way/);
    expect(readFileSync(src, 'utf8')).toBe('a new file of the user');
    expect(readFileSync(path.join(w.stash, '.hashall-trash', res.runId, 'seeding', 'movies', 'R', 'a.bin'))).toEqual(bytes);
  });

  it('a file swapped between the listing of the staged source and its read is never hashed in its place: the proof fails, nothing is recorded', async () => {
    const { src, dst, relId, hash } = await moved();
    const before = hashTreeSync(src);
    let swapped = '';
    // A process inside the staged tree puts a same-content copy (another inode) under a.bin's name just before it is
    // read: what the record would name (the listed inode) is then not what was read.
    const fs = faultyFsPort(realFsPort(), [
      {
        op: 'hashFile',
        nth: 1,
        pathIncludes: '/proc/self/fd/', // the staged tree is read through the held trash (the kept copy by its path)
        before: (args) => {
          swapped = String(args[0]).replace(/^.*\/movies\/R\//, '');
          // (the anchored name is this process's descriptor: the shell reaches it as /proc/<our pid>/fd/N)
          execFileSync('sh', ['-c', 'cp -p "$1" "$1.copy" && mv "$1" "$1.orig" && mv "$1.copy" "$1"', 'sh', String(args[0]).replace('/proc/self/', `/proc/${process.pid}/`)]);
        },
      },
    ]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(swapped).not.toBe('');
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/is not the file listed there a moment before/);
    expect(hashTreeSync(src)).toEqual({ ...before, [`${swapped}.orig`]: before[swapped] });
  });

  it('the source itself swapped for a symlink to the library copy: nothing is staged or recorded, everything stays where it is', async () => {
    const { src, dst, relId, hash } = await moved();
    const before = hashTreeSync(src);
    const { victim } = hostileWorld(src);
    const fs = faultyFsPort(realFsPort(), [{ op: 'hashFileStamped', nth: 1, pathIncludes: dst, before: () => asNobody(path.dirname(src), `mv R R.hidden && ln -s '${victim}' R`) }]);
    const res = await applyPlan(testDeps(w, { fs }), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/replaced meanwhile/);
    expect(lstatSync(src).isSymbolicLink()).toBe(true);
    expect(hashTreeSync(path.join(path.dirname(src), 'R.hidden'))).toEqual(before);
    expect(hashTreeSync(victim)).toEqual(before);
    expect(existsSync(path.join(w.stash, '.hashall-trash', res.runId))).toBe(false); // nothing of the run left there
  });
});

describe('retire: the kept copy must be on the filesystem the plan names', () => {
  it('a copy hidden on the system disk under an unmounted pool is not accepted; the stash source stays', async () => {
    const { src, dst, relId, hash } = await moved();
    const before = hashTreeSync(src);
    unmount(w.pool);
    // What an earlier apply while the pool was unmounted would have left on the disk below the mount point: a complete,
    // byte-identical copy at the kept path, now visible because the pool is not mounted again.
    writeTree(dst, { 'a.bin': bytesFor('ra', 30_000), 'sub/b.bin': bytesFor('rb', 2000) });
    expect(payloadHashOf(dst)).toBe(hash);
    const res = await applyPlan(testDeps(w), makePlan(w, [retireGroup(src, dst, hash, relId, 32_000)]));
    expect(res.status).toBe('rolled-back');
    expect(res.groups[0]!.error).toMatch(/not on filesystem pool as the catalog recorded it/);
    expect(hashTreeSync(src)).toEqual(before);
  });
});
