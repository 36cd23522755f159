// The planner given file lists only where detailNeeds says makes exactly the plan it makes with every list loaded.
import { describe, expect, it } from 'vitest';
import type { CatalogSnapshot } from '../../../src/domain/snapshot.js';
import { buildPlan } from '../../../src/plan/build.js';
import { detailNeeds } from '../../../src/plan/needs.js';
import { showcaseInput } from '../render/showcase.js';
import { SnapshotBuilder, baseConfig, movieFiles, rule, trimmedLikeReader, NOW, STASH_SEED } from './fixtures.js';

const plan = (config: Parameters<typeof detailNeeds>[0], snapshot: CatalogSnapshot, now: number) => buildPlan({ config, snapshot, now, createdAt: new Date(now).toISOString() });

describe('detailNeeds', () => {
  it('names exactly the payloads of the groups that act, and the trimmed snapshot plans identically (showcase: every action)', () => {
    const { config, snapshot, now } = showcaseInput();
    const full = plan(config, snapshot, now);
    const small = trimmedLikeReader(config, snapshot, now);
    const loaded = Object.values(small.payloads).filter((p) => p.files !== null).length;
    expect(loaded).toBeGreaterThan(0);
    expect(loaded).toBeLessThan(Object.keys(small.payloads).length); // something really was left out
    expect(plan(config, small, now)).toEqual(full);
    const acting = new Set(full.groups.filter((g) => g.action === 'move' || g.action === 'reuse').map((g) => g.from!.path));
    for (const root of acting) expect(small.payloads[root]!.files).not.toBeNull();
  });

  it('a group that would act without its file lists is blocked, never planned from nothing', () => {
    const config = baseConfig({ placement: { default: 'stash', rules: [rule('all-to-pool', 'pool')] } });
    const root = `${STASH_SEED}/movies/Foo.2020`;
    const snap = new SnapshotBuilder(config).payload(root, movieFiles('foo')).torrent({ hash: 'a'.repeat(40), content: root }).build();
    snap.payloads[root]!.files = null;
    snap.torrents[0]!.files = null;
    const g = plan(config, snap, NOW).groups[0]!;
    expect(g.action).toBe('blocked');
    expect(g.steps).toEqual([]);
    expect(g.reasons.join(' ')).toMatch(/were not loaded/);
  });

  it('a torrent whose listing differs from its payload is blocked with what differs once both lists are loaded, and unloaded lists never pass', () => {
    const config = baseConfig();
    const root = `${STASH_SEED}/movies/Foo.2020`;
    const b = new SnapshotBuilder(config).payload(root, movieFiles('foo'));
    b.torrent({ hash: 'b'.repeat(40), content: root, files: [{ name: 'Foo.2020/foo.mkv', size: 1 }] });
    const snap = b.build();
    expect(snap.torrents[0]!.listingDigest).not.toBe(snap.payloads[root]!.listingDigest);
    expect(plan(config, snap, NOW).groups[0]!.reasons.join(' ')).toMatch(/differ from the disk|missing from the catalog payload|not part of/);
    snap.torrents[0]!.files = null;
    expect(plan(config, snap, NOW).groups[0]!.reasons.join(' ')).toMatch(/were not loaded, so they cannot be compared/);
  });
});
