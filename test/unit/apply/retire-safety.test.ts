// Retire never deletes what the kept copy does not hold: extra files in the source tree, or a torrent outside the relocation still seeding from it.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { purgeTrash } from '../../../src/apply/trash.js';
import type { PlanGroup } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, hashTreeSync, makeApplyWorld, makePlan, moveGroup, payloadHashOf, writeTree, type ApplyWorld } from '../../support/apply-world.js';
import { fakeTorrent } from '../../support/fake-qbt.js';
import { useFakeClient } from '../../support/fake-client.js';
import { faultyFsPort } from '../../support/faulty-fs.js';
import { unmount } from '../../support/mounts.js';

let w: ApplyWorld;
const fx = useFakeClient();
afterEach(() => {
  fx.fake.torrents.clear();
  w?.cleanup();
});

/** A payload moved to the pool (source still on stash), its payload hash and relocation id. */
async function moved() {
  w = makeApplyWorld();
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
});

describe('retire: a staged source that cannot be put back is never left for the trash purge', () => {
  it('kept copy broken after staging and the source path re-created meanwhile: needs attention, and the purge keeps the original', async () => {
    const { src, dst, relId, hash } = await moved();
    const original = readFileSync(path.join(src, 'a.bin'));
    // Right after the source is renamed into the trash: something re-creates its path (a client starting to download
    // there) and the kept copy gets damaged, so the re-proof fails and the source cannot be renamed back.
    const fs = faultyFsPort(realFsPort(), [
      {
        op: 'rename',
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
