// Pure planner tests: every decision and reason of buildPlan from in-memory configs and snapshots.
import { describe, expect, it } from 'vitest';
import { buildPlan, hasChanges } from '../../../src/plan/build.js';
import type { Plan, PlanGroup } from '../../../src/plan/types.js';
import type { OrphanReport, OrphanTree } from '../../../src/plan/orphans.js';
import { SnapshotBuilder, baseConfig, rule, category, movieFiles, planTrimmedAlike, trimmedLikeReader, NOW, HOUR, GiB, MiB, STASH_SEED, POOL_SEED, MOVIES_LIB, sha } from './fixtures.js';

const toPool = () => baseConfig({ placement: { default: 'stash', rules: [rule('old-movies', 'pool', { categories: ['movies'] })] } });

/** The plan of the builder's snapshot, checked equal to the plan of its reader-trimmed snapshot (fixtures.ts). */
const plan = planTrimmedAlike;

function only(p: Plan): PlanGroup {
  expect(p.groups).toHaveLength(1);
  return p.groups[0]!;
}

function movie(b: SnapshotBuilder, name = 'Foo.2020', hash = 'aaaa000000000000000000000000000000000001', cat = 'movies'): SnapshotBuilder {
  return b.payload(`${STASH_SEED}/movies/${name}`, movieFiles(name)).torrent({ hash, content: `${STASH_SEED}/movies/${name}`, category: cat });
}

describe('buildPlan: demote by MOVE', () => {
  it('copies, then repoints, keeping the category layout verbatim and spelling client paths through the maps', () => {
    const p = plan(movie(new SnapshotBuilder(toPool())));
    const g = only(p);
    expect(g.action).toBe('move');
    expect(g.rule).toBe('old-movies');
    expect(g.from).toEqual({ fs: 'stash', path: `${STASH_SEED}/movies/Foo.2020` });
    expect(g.to).toEqual({ fs: 'pool', path: `${POOL_SEED}/movies/Foo.2020` });
    expect(g.reasons[0]).toBe('rule "old-movies" places it on pool');
    expect(g.reasons[1]).toMatch(/^no copy on pool yet: copying 4\.0 GiB from stash/);
    expect(g.steps.map((s) => s.kind)).toEqual(['copy', 'repoint']);
    const [copy, repoint] = g.steps;
    expect(copy).toMatchObject({ kind: 'copy', fromFs: 'stash', toFs: 'pool', toRoot: `${POOL_SEED}/movies/Foo.2020`, bytes: 4 * GiB + 1200 });
    expect(repoint).toMatchObject({
      kind: 'repoint',
      fromSavePath: '/data/stash/media/torrents/seeding/movies',
      toSavePath: '/data/pool/media/torrents/seeding/movies',
      expectedContentPath: '/data/pool/media/torrents/seeding/movies/Foo.2020',
      hostTo: `${POOL_SEED}/movies/Foo.2020`,
    });
    expect(g.bytesToCopy).toBe(4 * GiB + 1200);
    expect(p.summary).toMatchObject({ move: 1, bytesToCopy: 4 * GiB + 1200 });
    expect(hasChanges(p)).toBe(true);
    // The copied files and the fingerprinted ones are the payload's catalog rows at the plan's serial, by reference.
    expect(copy).not.toHaveProperty('files');
    expect(copy).toMatchObject({ catalogFiles: 2 });
    expect(g.fingerprint.files).toEqual([]);
    expect(g.fingerprint.payloads).toEqual([{ fs: 'stash', root: `${STASH_SEED}/movies/Foo.2020` }]);
    expect(g.fingerprint.torrents[0]).toMatchObject({ hash: 'aaaa000000000000000000000000000000000001', phase: 'seeding' });
  });

  it('a payload whose files are left to the catalog (no copy anywhere, one torrent) moves the same: one copy of the whole payload, by reference', () => {
    const b = movie(new SnapshotBuilder(toPool()));
    const trimmed = trimmedLikeReader(b.config, b.build(), b.now);
    expect(trimmed.payloads[`${STASH_SEED}/movies/Foo.2020`]).toMatchObject({ files: null, filesInCatalog: true });
    const g = only(plan(b)); // the same plan as from the full snapshot
    expect(g.action).toBe('move');
    expect(g.steps[0]).toMatchObject({ kind: 'copy', catalogFiles: 2, bytes: 4 * GiB + 1200 });
  });

  it('never plans a group whose lists it needs from files left to the catalog: siblings needing link views, or a payload already on the target, are blocked', () => {
    const leftToCatalog = (snap: ReturnType<SnapshotBuilder['build']>): typeof snap => {
      for (const p of Object.values(snap.payloads)) {
        p.files = null;
        p.filesInCatalog = true;
      }
      return snap;
    };
    const build = (b: SnapshotBuilder) => buildPlan({ config: b.config, snapshot: leftToCatalog(b.build()), now: b.now, createdAt: new Date(b.now).toISOString() });
    // Two torrents, two roots, one content: the second view links every file.
    const pair = new SnapshotBuilder(baseConfig({ placement: { default: 'pool', rules: [] } }));
    const a = `${STASH_SEED}/movies/Foo.2020.1080p`;
    const x = `${STASH_SEED}/cross-seed/trk/Foo 2020 1080p`;
    pair.payload(a, movieFiles('foo')).link(`${a}/foo.mkv`, `${x}/foo.mkv`).link(`${a}/foo.nfo`, `${x}/foo.nfo`).payload(x, []);
    pair.torrent({ hash: 'a1'.padEnd(40, '0'), content: a, category: 'movies' }).torrent({ hash: 'b2'.padEnd(40, '0'), content: x, category: 'cross-seed' });
    const g1 = only(build(pair));
    expect(g1.action).toBe('blocked');
    expect(g1.reasons[0]).toMatch(/were not loaded with the catalog snapshot/);
    // The same content on both filesystems, seeded from both: the primary is on the target, its files would be donors.
    const both = new SnapshotBuilder(baseConfig({ placement: { default: 'pool', rules: [] } }));
    both.payload(`${POOL_SEED}/movies/Foo.2020`, movieFiles('foo')).payload(`${STASH_SEED}/movies/Foo.2020`, movieFiles('foo'));
    both.torrent({ hash: 'a1'.padEnd(40, '0'), content: `${POOL_SEED}/movies/Foo.2020`, category: 'movies' }).torrent({ hash: 'b2'.padEnd(40, '0'), content: `${STASH_SEED}/movies/Foo.2020`, category: 'movies' });
    const g2 = only(build(both));
    expect(g2.action).toBe('blocked');
    expect(g2.reasons[0]).toMatch(/were not loaded with the catalog snapshot/);
  });

  it('moves cross-seed siblings with different top folders together: one copy, one view per sibling', () => {
    const b = new SnapshotBuilder(baseConfig({ placement: { default: 'pool', rules: [] } }));
    const a = `${STASH_SEED}/movies/Foo.2020.1080p`;
    const x = `${STASH_SEED}/cross-seed/trk/Foo 2020 1080p`;
    b.payload(a, movieFiles('foo'));
    b.link(`${a}/foo.mkv`, `${x}/foo.mkv`).link(`${a}/foo.nfo`, `${x}/foo.nfo`);
    b.payload(x, []);
    b.torrent({ hash: 'a1'.padEnd(40, '0'), content: a, category: 'movies' }).torrent({ hash: 'b2'.padEnd(40, '0'), content: x, category: 'cross-seed' });
    const g = only(plan(b));
    expect(g.action).toBe('move');
    expect(g.torrents.map((t) => t.hash[0])).toEqual(['b', 'a']);
    expect(g.steps.map((s) => s.kind)).toEqual(['copy', 'link-view', 'repoint', 'repoint']);
    const copy = g.steps[0]!;
    const view = g.steps[1]!;
    if (copy.kind !== 'copy' || view.kind !== 'link-view') throw new Error('unexpected steps');
    expect(copy.fromRoot).toBe(x);
    expect(copy.toRoot).toBe(`${POOL_SEED}/cross-seed/trk/Foo 2020 1080p`);
    expect(view.root).toBe(`${POOL_SEED}/movies/Foo.2020.1080p`);
    expect(view.links).toEqual([
      { donor: `${POOL_SEED}/cross-seed/trk/Foo 2020 1080p/foo.mkv`, path: `${POOL_SEED}/movies/Foo.2020.1080p/foo.mkv`, size: 4 * GiB, sha256: sha('foo-video') },
      { donor: `${POOL_SEED}/cross-seed/trk/Foo 2020 1080p/foo.nfo`, path: `${POOL_SEED}/movies/Foo.2020.1080p/foo.nfo`, size: 1200, sha256: sha('foo-nfo') },
    ]);
    expect(g.bytesToCopy).toBe(4 * GiB + 1200);
  });

  it('a mapped category goes to target seeding root + category path ({tracker} = tracker host) + payload name', () => {
    const cfg = toPool();
    cfg.categories = { movies: category('films/{tracker}') };
    const g = only(plan(movie(new SnapshotBuilder(cfg))));
    expect(g.to?.path).toBe(`${POOL_SEED}/films/tracker.example.org/Foo.2020`);
  });

  it('blocks a {tracker} category when the client reports no tracker', () => {
    const cfg = toPool();
    cfg.categories = { movies: category('films/{tracker}') };
    const b = new SnapshotBuilder(cfg).payload(`${STASH_SEED}/movies/Foo`, movieFiles('foo'));
    b.torrent({ hash: 'c'.repeat(40), content: `${STASH_SEED}/movies/Foo`, category: 'movies', tracker: '' });
    const g = only(plan(b));
    expect(g.action).toBe('blocked');
    expect(g.reasons[0]).toMatch(/needs \{tracker\}, but the client reports no tracker/);
  });

  it('moves a single-file torrent: the view root is the file itself, save path its directory', () => {
    const b = new SnapshotBuilder(toPool());
    const f = `${STASH_SEED}/movies/Bar.mkv`;
    b.payload(f, [{ rel: 'Bar.mkv', size: 5000, content: 'bar' }], { kind: 'file' }).torrent({ hash: 'd'.repeat(40), content: f, category: 'movies' });
    const g = only(plan(b));
    expect(g.action).toBe('move');
    const rp = g.steps.find((s) => s.kind === 'repoint');
    expect(rp).toMatchObject({ toSavePath: '/data/pool/media/torrents/seeding/movies', expectedContentPath: '/data/pool/media/torrents/seeding/movies/Bar.mkv' });
  });

  it('blocks a move that would leave less than safety.minFree, counting earlier moves of the same plan', () => {
    const cfg = toPool();
    cfg.safety.minFree = 10 * GiB;
    const b = new SnapshotBuilder(cfg).setFree('pool', 17 * GiB);
    movie(b, 'A.2020', 'a'.repeat(40));
    movie(b, 'B.2020', 'b'.repeat(40));
    const p = plan(b);
    expect(p.groups.map((g) => [g.title, g.action])).toEqual([
      ['A.2020', 'move'],
      ['B.2020', 'blocked'],
    ]);
    expect(p.groups[1]!.reasons[0]).toMatch(/copying 4\.0 GiB to pool would leave 9\.0 GiB free, below safety\.minFree \(10\.0 GiB\)/);
  });

  it('blocks a move when the free space of the target is unknown', () => {
    const g = only(plan(movie(new SnapshotBuilder(toPool()).setFree('pool', null))));
    expect(g.action).toBe('blocked');
    expect(g.reasons[0]).toMatch(/free space on pool is unknown/);
  });
});

describe('buildPlan: REUSE and promote', () => {
  it('reuses a pre-existing copy on the pool: zero bytes, views by hardlink from it', () => {
    const b = movie(new SnapshotBuilder(toPool()));
    b.file(`${POOL_SEED}/old/Foo.2020.mkv`, 4 * GiB, 'Foo.2020-video');
    b.file(`${POOL_SEED}/old/Foo.2020.nfo`, 1200, 'Foo.2020-nfo');
    const g = only(plan(b));
    expect(g.action).toBe('reuse');
    expect(g.bytesToCopy).toBe(0);
    expect(g.reasons[1]).toMatch(/the same content already exists on pool/);
    expect(g.steps.map((s) => s.kind)).toEqual(['link-view', 'repoint']);
    const view = g.steps[0]!;
    if (view.kind !== 'link-view') throw new Error('expected link-view');
    expect(view.links.map((l) => l.donor)).toEqual([`${POOL_SEED}/old/Foo.2020.mkv`, `${POOL_SEED}/old/Foo.2020.nfo`]);
    expect(g.fingerprint.files.map((f) => f.path)).toContain(`${POOL_SEED}/old/Foo.2020.mkv`);
  });

  it('a copy outside every seeding and library root (an ad-hoc scan catalogued it) is no donor: apply links only inside them, so the group copies', () => {
    const b = movie(new SnapshotBuilder(toPool()));
    b.file(`/pool/old/Foo.2020.mkv`, 4 * GiB, 'Foo.2020-video');
    b.file(`/pool/old/Foo.2020.nfo`, 1200, 'Foo.2020-nfo');
    const g = only(plan(b));
    expect(g.action).toBe('move');
    expect(g.steps.map((s) => s.kind)).toEqual(['copy', 'repoint']);
    expect(JSON.stringify(g)).not.toContain('/pool/old/');
  });

  it("no donor from a library hashall.yaml does not give the target (on its device, outside its path): apply's scope check refuses such a donor on every run", () => {
    const config = toPool();
    config.filesystems = { ...config.filesystems, pool: { name: 'pool', path: '/pool/media', aliases: [] } };
    config.libraries = [...config.libraries, '/pool/library'];
    const b = movie(new SnapshotBuilder(config));
    b.file(`/pool/library/Foo.2020.mkv`, 4 * GiB, 'Foo.2020-video');
    b.file(`/pool/library/Foo.2020.nfo`, 1200, 'Foo.2020-nfo');
    const g = only(plan(b));
    expect(g.action).not.toBe('reuse');
    expect(JSON.stringify(g.steps)).not.toContain('/pool/library/');
    // With the library under the entry's path, the same copy is the donor.
    const inside = movie(new SnapshotBuilder({ ...config, filesystems: { ...config.filesystems, pool: { name: 'pool', path: '/pool', aliases: [] } } }));
    inside.file(`/pool/library/Foo.2020.mkv`, 4 * GiB, 'Foo.2020-video');
    inside.file(`/pool/library/Foo.2020.nfo`, 1200, 'Foo.2020-nfo');
    const reuse = only(plan(inside));
    expect(reuse.action).toBe('reuse');
    expect(JSON.stringify(reuse.steps)).toContain('/pool/library/Foo.2020.mkv');
  });

  it('never takes a donor from an unfinished download (its bytes may still change): copies instead', () => {
    const b = movie(new SnapshotBuilder(toPool()));
    const dl = `${POOL_SEED}/other/Foo.Again`;
    b.payload(dl, [
      { rel: 'video.mkv', size: 4 * GiB, content: 'Foo.2020-video' },
      { rel: 'info.nfo', size: 1200, content: 'Foo.2020-nfo' },
    ]).torrent({ hash: 'bbbb000000000000000000000000000000000002', content: dl, category: 'other', phase: 'downloading', progress: 0.2 });
    const g = plan(b).groups.find((x) => x.title === 'Foo.2020')!;
    expect(g.action).toBe('move');
    expect(g.steps.map((s) => s.kind)).toEqual(['copy', 'repoint']);
  });

  it('a complete copy already at the target path needs no links, only the repoint', () => {
    const b = movie(new SnapshotBuilder(toPool()));
    b.payload(`${POOL_SEED}/movies/Foo.2020`, movieFiles('Foo.2020'));
    const g = only(plan(b));
    expect(g.action).toBe('reuse');
    expect(g.steps.map((s) => s.kind)).toEqual(['repoint']);
  });

  it('promote is reuse-only: no warm copy → blocked "no blind copy"', () => {
    const b = new SnapshotBuilder(baseConfig({ placement: { default: 'stash', rules: [] } }));
    b.payload(`${POOL_SEED}/movies/Old`, movieFiles('old')).torrent({ hash: 'e'.repeat(40), content: `${POOL_SEED}/movies/Old` });
    const g = only(plan(b));
    expect(g.action).toBe('blocked');
    expect(g.reasons[0]).toMatch(/no blind copy/);
    expect(g.reasons[0]).toMatch(/0 of 2 files there/);
  });

  it('promote reuses a warm copy (e.g. the library file) when one exists', () => {
    const b = new SnapshotBuilder(baseConfig({ placement: { default: 'stash', rules: [] } }));
    b.payload(`${POOL_SEED}/movies/Old`, movieFiles('old')).torrent({ hash: 'e'.repeat(40), content: `${POOL_SEED}/movies/Old` });
    b.file(`${MOVIES_LIB}/Old/old.mkv`, 4 * GiB, 'old-video');
    b.file(`${MOVIES_LIB}/Old/old.nfo`, 1200, 'old-nfo');
    const g = only(plan(b));
    expect(g.action).toBe('reuse');
    expect(g.reasons[0]).toMatch(/promote: reuse only/);
    expect(g.to).toEqual({ fs: 'stash', path: `${STASH_SEED}/movies/Old` });
  });
});

describe('buildPlan: external consumers', () => {
  it('a library link on a sibling already on the target holds nothing: its cold cross-seed is promoted by reuse from it', () => {
    const b = new SnapshotBuilder(baseConfig({ placement: { default: 'stash', rules: [] } }));
    const warm = `${STASH_SEED}/movies/Foo`;
    const cold = `${POOL_SEED}/cross-seed/trk/Foo`;
    b.payload(warm, movieFiles('foo'));
    b.link(`${warm}/foo.mkv`, `${MOVIES_LIB}/Foo/foo.mkv`);
    b.payload(cold, movieFiles('foo'));
    b.torrent({ hash: 'a'.repeat(40), content: warm, category: 'movies' }).torrent({ hash: 'b'.repeat(40), content: cold, category: 'cross-seed' });
    const g = only(plan(b));
    expect(g.action, g.reasons.join('; ')).toBe('reuse');
    expect(g.bytesToCopy).toBe(0);
    expect(g.reasons[0]).toMatch(/promote: reuse only/);
  });


  it('a library hardlink keeps the group warm whatever the rules say', () => {
    const b = movie(new SnapshotBuilder(toPool()));
    b.link(`${STASH_SEED}/movies/Foo.2020/Foo.2020.mkv`, `${MOVIES_LIB}/Foo (2020)/Foo.2020.mkv`);
    const g = only(plan(b));
    expect(g.action).toBe('stay');
    expect(g.reasons[0]).toBe(`stays on stash: an external consumer links its files (${MOVIES_LIB}/Foo (2020)/Foo.2020.mkv)`);
    expect(g.steps).toEqual([]);
  });

  it('one library link of one sibling is enough (no majority)', () => {
    const b = new SnapshotBuilder(toPool());
    movie(b, 'Foo', 'a'.repeat(40));
    b.payload(`${STASH_SEED}/movies/Foo-x`, movieFiles('Foo')).torrent({ hash: 'b'.repeat(40), content: `${STASH_SEED}/movies/Foo-x`, category: 'movies' });
    b.link(`${STASH_SEED}/movies/Foo-x/Foo.nfo`, `${MOVIES_LIB}/Foo/Foo.nfo`);
    const g = only(plan(b));
    expect(g.torrents).toHaveLength(2);
    expect(g.action).toBe('stay');
  });

  it('hardlinks only inside seeding roots are no consumer', () => {
    const b = movie(new SnapshotBuilder(toPool()));
    b.link(`${STASH_SEED}/movies/Foo.2020/Foo.2020.mkv`, `${STASH_SEED}/other/Foo.2020.mkv`);
    expect(only(plan(b)).action).toBe('move');
  });

  it('consumers resolved through an alias spelling (precomputed as "some") keep it warm; "unknown" blocks', () => {
    const some = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, movieFiles('a'), { consumers: 'some' });
    some.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, category: 'movies' });
    expect(only(plan(some)).action).toBe('stay');
    const unknown = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, movieFiles('a'), { consumers: 'unknown', consumerReasons: ['inode 12 has 3 links but the catalog knows 2'] });
    unknown.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, category: 'movies' });
    const g = only(plan(unknown));
    expect(g.action).toBe('blocked');
    expect(g.reasons[0]).toBe(`external-consumer status of ${STASH_SEED}/movies/A is unknown: inode 12 has 3 links but the catalog knows 2`);
  });
});

describe('buildPlan: blocked when anything is unknown', () => {
  const blockedBy = (b: SnapshotBuilder): string[] => {
    const g = only(plan(b));
    expect(g.action).toBe('blocked');
    expect(hasChanges(plan(b))).toBe(false);
    return g.reasons;
  };

  it('payload hash null', () => {
    const b = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, [{ rel: 'a.mkv', size: 10, content: null }, { rel: 'b', size: 1, content: 'b' }]);
    b.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, category: 'movies' });
    expect(blockedBy(b)[0]).toBe(`payload hash unknown: 1 of 2 files of ${STASH_SEED}/movies/A have no full SHA-256 yet`);
  });

  it('unmapped client path', () => {
    const b = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, movieFiles('a'));
    b.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, unmapped: 'no path map covers /downloads' });
    expect(blockedBy(b)[0]).toMatch(/has no host spelling: no path map covers \/downloads$/);
  });

  it('payload outside every seeding root', () => {
    const b = new SnapshotBuilder(toPool()).payload('/stash/elsewhere/A', movieFiles('a'));
    b.torrent({ hash: 'a'.repeat(40), content: '/stash/elsewhere/A' });
    expect(blockedBy(b)).toContain('payload /stash/elsewhere/A is outside every seeding root');
  });

  it('payload not in the catalog', () => {
    const b = new SnapshotBuilder(toPool());
    b.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/Ghost`, files: [{ name: 'Ghost/g.mkv', size: 5 }] });
    expect(blockedBy(b)[0]).toMatch(/payload .*Ghost of "Ghost" is not in the catalog/);
  });

  it('seeding root never scanned / scanned too long ago', () => {
    const never = movie(new SnapshotBuilder(toPool())).scanned(STASH_SEED, null);
    expect(blockedBy(never)[0]).toBe(`seeding root ${STASH_SEED} has never been scanned (run \`hashall scan\`)`);
    const old = movie(new SnapshotBuilder(toPool())).scanned(STASH_SEED, NOW - 30 * HOUR);
    expect(blockedBy(old)[0]).toMatch(/was last scanned 1d 6h ago, longer than safety\.maxScanAgeHours \(24h\)/);
  });

  it('library root never scanned makes consumers unknowable', () => {
    const b = movie(new SnapshotBuilder(toPool())).scanned(MOVIES_LIB, null);
    expect(blockedBy(b)[0]).toBe(`library root ${MOVIES_LIB} has never been scanned (run \`hashall scan\`); external consumers cannot be ruled out`);
  });

  it('target seeding root not scanned', () => {
    const b = movie(new SnapshotBuilder(toPool())).scanned(POOL_SEED, null);
    expect(blockedBy(b)[0]).toMatch(/^target seeding root \/pool\/media\/torrents\/seeding has never been scanned/);
  });

  it.each(['downloading', 'checking', 'moving', 'error', 'missing-files', 'paused-incomplete', 'unknown'] as const)('torrent %s', (phase) => {
    const b = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, movieFiles('a'));
    b.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, category: 'movies', phase });
    expect(blockedBy(b)[0]).toMatch(new RegExp(`^torrent "A" is ${phase} \\(`));
  });

  it('client never synced', () => {
    const b = movie(new SnapshotBuilder(toPool()));
    b.lastSyncAt = null;
    expect(blockedBy(b)[0]).toMatch(/never been synced/);
  });

  it('a file list that does not map onto the payload (incomplete / ambiguous)', () => {
    const extra = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, movieFiles('a'));
    extra.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, files: [{ name: 'A/a.mkv', size: 4 * GiB }, { name: 'A/a.nfo', size: 1200 }, { name: 'A/sample.mkv', size: 9 }] });
    expect(blockedBy(extra)[0]).toMatch(/files of "A" are missing from the catalog payload .*: sample\.mkv/);
    const dup = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, movieFiles('a'));
    dup.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, files: [{ name: 'A/a.mkv', size: 4 * GiB }, { name: 'A/a.mkv', size: 4 * GiB }, { name: 'A/a.nfo', size: 1200 }] });
    expect(blockedBy(dup)[0]).toMatch(/ambiguous: a\.mkv appear twice/);
    const fewer = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, movieFiles('a'));
    fewer.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, files: [{ name: 'A/a.mkv', size: 4 * GiB }] });
    expect(blockedBy(fewer)[0]).toMatch(/holds files that are not part of "A": a\.nfo/);
  });

  it('BEP 47 pad files (`.pad/N`): listed and absent, or on disk and not listed, the torrent still maps; a lookalike does not', () => {
    const listedAbsent = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, movieFiles('a'));
    listedAbsent.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, category: 'movies', files: [{ name: 'A/a.mkv', size: 4 * GiB }, { name: 'A/.pad/7', size: 7 }, { name: 'A/.pad/7', size: 7 }, { name: 'A/a.nfo', size: 1200 }] });
    expect(only(plan(listedAbsent)).action).toBe('move');
    const onDisk = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, [...movieFiles('a'), { rel: '.pad/7', size: 7, content: 'zeros' }]);
    onDisk.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, category: 'movies', files: [{ name: 'A/a.mkv', size: 4 * GiB }, { name: 'A/a.nfo', size: 1200 }] });
    expect(only(plan(onDisk)).action).toBe('move');
    const lookalike = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, [...movieFiles('a'), { rel: '.pad/7', size: 8, content: 'mine' }]);
    lookalike.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, category: 'movies', files: [{ name: 'A/a.mkv', size: 4 * GiB }, { name: 'A/a.nfo', size: 1200 }] });
    expect(blockedBy(lookalike)[0]).toMatch(/holds files that are not part of "A": \.pad\/7/);
  });

  it('files the client does not download: absent, not missing; present (in full or in part), the payload’s; larger than listed, or a wanted one absent, blocks', () => {
    const sample = { name: 'A/Sample/sample.mkv', size: 9, wanted: false as const };
    const absent = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, movieFiles('a'));
    absent.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, category: 'movies', files: [{ name: 'A/a.mkv', size: 4 * GiB }, { name: 'A/a.nfo', size: 1200 }, sample] });
    expect(only(plan(absent)).action).toBe('move');
    const present = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, [...movieFiles('a'), { rel: 'Sample/sample.mkv', size: 9, content: 'sample' }]);
    present.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, category: 'movies', files: [{ name: 'A/a.mkv', size: 4 * GiB }, { name: 'A/a.nfo', size: 1200 }, sample] });
    expect(only(plan(present)).action).toBe('move');
    const partial = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, [...movieFiles('a'), { rel: 'Sample/sample.mkv', size: 4, content: 'part' }]);
    partial.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, category: 'movies', files: [{ name: 'A/a.mkv', size: 4 * GiB }, { name: 'A/a.nfo', size: 1200 }, sample] });
    expect(only(plan(partial)).action).toBe('move');
    const larger = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, [...movieFiles('a'), { rel: 'Sample/sample.mkv', size: 12, content: 'more' }]);
    larger.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, category: 'movies', files: [{ name: 'A/a.mkv', size: 4 * GiB }, { name: 'A/a.nfo', size: 1200 }, sample] });
    expect(blockedBy(larger)[0]).toMatch(/Sample\/sample\.mkv \(not downloaded by the client: client 9 B, disk 12 B\)/);
    const wantedAbsent = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/A`, movieFiles('a'));
    wantedAbsent.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, category: 'movies', files: [{ name: 'A/a.mkv', size: 4 * GiB }, { name: 'A/a.nfo', size: 1200 }, { ...sample, wanted: undefined }] });
    expect(blockedBy(wantedAbsent)[0]).toMatch(/missing from the catalog payload .*: Sample\/sample\.mkv/);
  });

  it('a payload whose files are linked inside it is copied, counted and checked against minFree once per inode (the copy links the other names)', () => {
    const b = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/music/Album`, [
      { rel: 'CD1/01.flac', size: 200 * MiB, content: 'one' },
      { rel: 'CD1/cover.jpg', size: 3 * GiB, content: 'cover' },
    ]);
    b.link(`${STASH_SEED}/music/Album/CD1/cover.jpg`, `${STASH_SEED}/music/Album/CD2/cover.jpg`);
    b.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/music/Album`, category: 'movies' });
    const g = only(plan(b));
    expect(g.action).toBe('move');
    expect(g.bytesToCopy).toBe(3 * GiB + 200 * MiB);
    // The copy step records every name's size (what the executor checks the catalog against).
    expect(g.steps[0]).toMatchObject({ kind: 'copy', bytes: 6 * GiB + 200 * MiB });
    expect(g.reasons[1]).toMatch(/copying 3\.2 GiB from stash/);
    // 4 GiB free on pool with minFree 500 MiB: fits once per inode (3.2 GiB), not per name (6.2 GiB).
    const cfg = toPool();
    cfg.safety.minFree = 500 * MiB;
    const tight = new SnapshotBuilder(cfg).payload(`${STASH_SEED}/music/Album`, [
      { rel: 'CD1/01.flac', size: 200 * MiB, content: 'one' },
      { rel: 'CD1/cover.jpg', size: 3 * GiB, content: 'cover' },
    ]);
    tight.link(`${STASH_SEED}/music/Album/CD1/cover.jpg`, `${STASH_SEED}/music/Album/CD2/cover.jpg`);
    tight.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/music/Album`, category: 'movies' });
    tight.setFree('pool', 4 * GiB);
    expect(only(plan(tight)).action).toBe('move');
  });

  it('a torrent with libtorrent’s part file in its save path is blocked: a repoint would make the client move that file itself', () => {
    const part = `${STASH_SEED}/movies/.${'a'.repeat(40)}.parts`;
    const b = new SnapshotBuilder(toPool()).payload(`${STASH_SEED}/movies/Foo.2020`, movieFiles('Foo.2020'));
    b.torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/Foo.2020`, category: 'movies', partFile: part });
    const g = only(plan(b));
    expect(g.action).toBe('blocked');
    expect(g.reasons.join('\n')).toContain(`${part} holds pieces of files of "Foo.2020" that the client does not download (libtorrent's part file)`);
  });

  it('a snapshot without target occupancy blocks moves (unknown is never safe)', () => {
    const b = movie(new SnapshotBuilder(toPool()));
    b.withOccupancy = false;
    expect(blockedBy(b)[0]).toMatch(/cannot tell what already lies at .*Foo\.2020/);
  });
});

describe('buildPlan: hitchhiker collisions', () => {
  it('routes to a deterministic unique root when the target holds different content', () => {
    const b = movie(new SnapshotBuilder(toPool()));
    b.file(`${POOL_SEED}/movies/Foo.2020/other.mkv`, 77, 'someone-else');
    const g = only(plan(b));
    expect(g.action).toBe('move');
    const hash = g.payloadHash!;
    const unique = `${POOL_SEED}/movies/Foo.2020.hashall-${hash.slice(0, 12)}/Foo.2020`;
    expect(g.to?.path).toBe(unique);
    expect(g.reasons).toContain(`${POOL_SEED}/movies/Foo.2020 already holds different content; using the unique root ${unique} so two payloads never share a directory`);
    expect(g.steps.find((s) => s.kind === 'repoint')).toMatchObject({ toSavePath: `/data/pool/media/torrents/seeding/movies/Foo.2020.hashall-${hash.slice(0, 12)}` });
  });

  it('a name so long the unique folder beside it would pass 255 bytes: blocked with why, never a plan that fails with ENAMETOOLONG', () => {
    const name = 'F'.repeat(240);
    const b = new SnapshotBuilder(toPool());
    b.payload(`${STASH_SEED}/movies/${name}`, movieFiles(name)).torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/${name}`, category: 'movies' });
    b.file(`${POOL_SEED}/movies/${name}/other.mkv`, 77, 'someone-else');
    const g = only(plan(b));
    expect(g.action).toBe('blocked');
    expect(g.reasons.join('\n')).toMatch(/the unique folder beside it would have a 261-byte name, past the 255 bytes a filesystem allows/);
  });

  it('a torrent without a root folder whose save folder is the target category folder holds only its listed files there', () => {
    const rootlessOnPool = (b: SnapshotBuilder, files: { name: string; size: number }[]) => {
      for (const f of files) b.file(`${POOL_SEED}/movies/${f.name}`, f.size, f.name);
      b.payload(`${POOL_SEED}/movies`, []);
      b.torrent({ hash: 'c'.repeat(40), content: `${POOL_SEED}/movies`, category: 'movies', files, rootless: true });
    };
    const b = movie(new SnapshotBuilder(toPool()));
    rootlessOnPool(b, [{ name: 'x1.mkv', size: 100 }, { name: 'x2.mkv', size: 100 }]);
    const g = plan(b).groups.find((x) => x.title === 'Foo.2020')!;
    expect(g.action, g.reasons.join('; ')).toBe('move');
    expect(g.to?.path).toBe(`${POOL_SEED}/movies/Foo.2020`);
    // One of its files lies inside the target folder: that folder is its, so the content goes elsewhere.
    const b2 = movie(new SnapshotBuilder(toPool()));
    rootlessOnPool(b2, [{ name: 'x1.mkv', size: 100 }, { name: 'Foo.2020/inner.mkv', size: 100 }]);
    const g2 = plan(b2).groups.find((x) => x.title === 'Foo.2020')!;
    expect(g2.to?.path ?? null).not.toBe(`${POOL_SEED}/movies/Foo.2020`);
  });

  it('two different payloads with the same name never share a target directory within one plan', () => {
    const cfg = toPool();
    cfg.categories = { movies: category('movies'), films: category('movies') };
    cfg.placement.rules = [rule('all', 'pool')];
    const b = new SnapshotBuilder(cfg);
    b.payload(`${STASH_SEED}/movies/Same`, movieFiles('one')).torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/Same`, category: 'movies' });
    b.payload(`${STASH_SEED}/films/Same`, movieFiles('two')).torrent({ hash: 'b'.repeat(40), content: `${STASH_SEED}/films/Same`, category: 'films' });
    const p = plan(b);
    const roots = p.groups.map((g) => g.to?.path);
    expect(p.groups.map((g) => g.action)).toEqual(['move', 'move']);
    expect(new Set(roots).size).toBe(2);
    expect(roots.filter((r) => r === `${POOL_SEED}/movies/Same`)).toHaveLength(1);
  });

  it('blocks when both the target and its unique root hold different content', () => {
    const b = movie(new SnapshotBuilder(toPool()));
    const g0 = only(plan(b));
    b.file(`${POOL_SEED}/movies/Foo.2020/x`, 1, 'x');
    b.file(`${POOL_SEED}/movies/Foo.2020.hashall-${g0.payloadHash!.slice(0, 12)}/Foo.2020/y`, 1, 'y');
    const g = only(plan(b));
    expect(g.action).toBe('blocked');
    expect(g.reasons[0]).toMatch(/^both .* already hold different content$/);
  });
});

describe('buildPlan: placement rules', () => {
  it('first matching rule wins; a rule must hold for EVERY sibling', () => {
    const cfg = baseConfig({
      placement: {
        default: 'stash',
        rules: [rule('tagged', 'pool', { tags: ['cold'] }), rule('keep-movies', 'keep', { categories: ['movies'] }), rule('fallback-pool', 'pool', { categories: ['movies', 'tv'] })],
      },
    });
    const b = new SnapshotBuilder(cfg);
    b.payload(`${STASH_SEED}/movies/A`, movieFiles('a')).torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/A`, category: 'movies', tags: ['cold'] });
    b.payload(`${STASH_SEED}/movies/A2`, movieFiles('a')).torrent({ hash: 'b'.repeat(40), content: `${STASH_SEED}/movies/A2`, category: 'movies' });
    const g = only(plan(b));
    expect(g.rule).toBe('keep-movies');
    expect(g.action).toBe('keep');
    expect(g.reasons[0]).toBe('rule "keep-movies" keeps it where it is');
  });

  it('a category place acts before all rules; already there = keep', () => {
    const cfg = toPool();
    cfg.categories = { movies: category('movies', 'stash') };
    const g = only(plan(movie(new SnapshotBuilder(cfg))));
    expect(g.action).toBe('keep');
    expect(g.rule).toBe('category:movies');
    expect(g.reasons[0]).toBe('already on stash: category "movies" belongs on stash');
  });

  it('no rule matched → default', () => {
    const cfg = baseConfig({ placement: { default: 'pool', rules: [rule('big', 'stash', { minSize: 100 * GiB })] } });
    const g = only(plan(movie(new SnapshotBuilder(cfg))));
    expect(g.action).toBe('move');
    expect(g.rule).toBeNull();
    expect(g.reasons[0]).toBe('no rule matched; the default places it on pool');
  });
});

describe('buildPlan: dedupe', () => {
  const dedupeOn = (fs: string[] = ['stash'], minSize = 0) => baseConfig({ dedupe: { filesystems: fs, minSize } });
  const SAME_MTIME = { mtimeNs: '1700000000000000000' };
  const links = (g: PlanGroup) => g.steps.flatMap((s) => (s.kind === 'dedupe-link' ? [s] : []));

  it('links every other inode to the keeper with the most links; only configured filesystems, size >= minSize', () => {
    const b = new SnapshotBuilder(dedupeOn(['stash'], 100));
    b.file(`${STASH_SEED}/a/x.bin`, 1000, 'dup');
    b.file(`${STASH_SEED}/b/x.bin`, 1000, 'dup');
    b.link(`${STASH_SEED}/b/x.bin`, `${STASH_SEED}/c/x.bin`);
    b.file(`${STASH_SEED}/d/x.bin`, 1000, 'dup');
    b.file('/pool/e/x.bin', 1000, 'dup');
    b.file('/pool/f/x.bin', 1000, 'dup');
    b.file(`${STASH_SEED}/small1`, 10, 'small');
    b.file(`${STASH_SEED}/small2`, 10, 'small');
    const p = plan(b);
    const g = only(p);
    expect(g.action).toBe('dedupe');
    const steps = links(g);
    expect(steps.map((s) => s.keeper.path)).toEqual([`${STASH_SEED}/b/x.bin`, `${STASH_SEED}/b/x.bin`]);
    expect(steps.map((s) => s.duplicate.path).sort()).toEqual([`${STASH_SEED}/a/x.bin`, `${STASH_SEED}/d/x.bin`]);
    expect(g.reasons[1]).toContain('it has the most links');
    expect(g.bytesToFree).toBe(2000);
    expect(p.summary.bytesToFree).toEqual({ stash: 2000 });
  });

  it('tie on links goes to the bytewise-lowest path', () => {
    const b = new SnapshotBuilder(dedupeOn(['pool']));
    b.file(`${POOL_SEED}/z/x.bin`, 1000, 'dup', undefined, SAME_MTIME);
    b.file(`${POOL_SEED}/B/x.bin`, 1000, 'dup', undefined, SAME_MTIME);
    b.file(`${POOL_SEED}/a/x.bin`, 1000, 'dup', undefined, SAME_MTIME);
    const g = only(plan(b));
    expect(links(g)[0]!.keeper.path).toBe(`${POOL_SEED}/B/x.bin`);
  });

  it('never links a path outside every seeding and library root (an ad-hoc `hashall scan /etc` catalogued it): apply would refuse it', () => {
    const b = new SnapshotBuilder(dedupeOn(['stash']));
    // Two copies of a system file on the stash filesystem, outside its roots: no group at all.
    b.file('/stash/etc/magic', 1000, 'magic', undefined, SAME_MTIME);
    b.file('/stash/etc/magic.mime', 1000, 'magic', undefined, SAME_MTIME);
    // One copy outside and two inside: only the two inside are linked; the outside inode is neither keeper nor duplicate.
    b.file('/stash/aaa/x.bin', 1000, 'dup', undefined, SAME_MTIME);
    b.file(`${STASH_SEED}/a/x.bin`, 1000, 'dup', undefined, SAME_MTIME);
    b.file(`${STASH_SEED}/b/x.bin`, 1000, 'dup', undefined, SAME_MTIME);
    // An inode with one link inside and one outside: the inside path may be linked, but its bytes stay in use.
    b.file(`${STASH_SEED}/c/y.bin`, 1000, 'why', undefined, SAME_MTIME);
    b.file(`${STASH_SEED}/d/y.bin`, 1000, 'why', undefined, SAME_MTIME);
    b.link(`${STASH_SEED}/d/y.bin`, '/stash/home/y.bin');
    const p = plan(b);
    const paths = p.groups.flatMap((g) => links(g).flatMap((s) => [s.keeper.path, s.duplicate.path]));
    expect(paths.filter((x) => !x.startsWith(`${STASH_SEED}/`))).toEqual([]);
    expect(p.groups.map((g) => g.action)).toEqual(['dedupe', 'dedupe']);
    const x = p.groups.find((g) => g.title === 'x.bin')!;
    expect(links(x).map((s) => [s.keeper.path, s.duplicate.path])).toEqual([[`${STASH_SEED}/a/x.bin`, `${STASH_SEED}/b/x.bin`]]);
    expect(x.fingerprint.files.map((f) => f.path)).toEqual([`${STASH_SEED}/a/x.bin`, `${STASH_SEED}/b/x.bin`]);
    const y = p.groups.find((g) => g.title === 'y.bin')!;
    expect(links(y).map((s) => s.duplicate.path)).toEqual([`${STASH_SEED}/c/y.bin`]);
    expect(y.bytesToFree).toBe(1000);
  });

  it("never links a file in a root hashall.yaml does not give the filesystem (a library outside its path on the same device): apply's scope check would refuse it on every run", () => {
    // The catalog finds the library on stash's device, but the stash entry's path holds only the torrents.
    const b = new SnapshotBuilder(dedupeOn());
    b.config = { ...b.config, filesystems: { ...b.config.filesystems, stash: { name: 'stash', path: '/stash/media/torrents', aliases: [] } } };
    b.file(`${MOVIES_LIB}/A/x.mkv`, 1000, 'x', undefined, SAME_MTIME);
    b.file(`${STASH_SEED}/a/x.mkv`, 1000, 'x', undefined, SAME_MTIME);
    b.file(`${STASH_SEED}/b/x.mkv`, 1000, 'x', undefined, SAME_MTIME);
    b.file(`${MOVIES_LIB}/B/y.mkv`, 1000, 'y', undefined, SAME_MTIME);
    b.file(`${STASH_SEED}/c/y.mkv`, 1000, 'y', undefined, SAME_MTIME);
    const p = plan(b);
    const paths = p.groups.flatMap((g) => links(g).flatMap((s) => [s.keeper.path, s.duplicate.path]));
    expect(paths.filter((x) => x.startsWith(MOVIES_LIB))).toEqual([]);
    const x = p.groups.find((g) => g.title === 'x.mkv')!;
    expect(x.action).toBe('dedupe');
    expect(links(x).map((s) => [s.keeper.path, s.duplicate.path])).toEqual([[`${STASH_SEED}/a/x.mkv`, `${STASH_SEED}/b/x.mkv`]]);
    expect(x.reasons.join('\n')).toContain(`not linked: ${MOVIES_LIB}/A/x.mkv lies on stash as scanned, but in library root ${MOVIES_LIB}, which hashall.yaml does not give filesystem stash`);
    // One copy left inside: nothing to link, and the plan says why instead of proposing a group apply refuses.
    const y = p.groups.find((g) => g.title === 'y.mkv')!;
    expect(y.action).toBe('blocked');
    expect(y.reasons).toEqual([
      '2 separate copies of the same 1000 B file on stash (equal size and SHA-256), not deduplicated',
      expect.stringMatching(new RegExp(`^not linked: ${MOVIES_LIB}/B/y.mkv lies on stash as scanned, but in library root ${MOVIES_LIB}, .*make filesystems.stash.path a folder holding both$`)),
    ]);
  });

  it('prefers a name without copy markers as the keeper ("trailer.mkv" over "trailer (copy).mkv") and says which way each link goes', () => {
    const b = new SnapshotBuilder(dedupeOn());
    b.file(`${STASH_SEED}/movies/Foo/trailer (copy).mkv`, 1000, 'trailer');
    b.file(`${STASH_SEED}/movies/Foo/trailer.mkv`, 1000, 'trailer');
    b.file(`${STASH_SEED}/movies/Foo/Copy of trailer.mkv`, 1000, 'trailer');
    const g = only(plan(b));
    expect(g.title).toBe('trailer.mkv');
    const steps = links(g);
    expect(steps.every((s) => s.keeper.path === `${STASH_SEED}/movies/Foo/trailer.mkv`)).toBe(true);
    expect(steps.map((s) => s.duplicate.path).sort()).toEqual([`${STASH_SEED}/movies/Foo/Copy of trailer.mkv`, `${STASH_SEED}/movies/Foo/trailer (copy).mkv`]);
    expect(g.reasons[1]).toContain('its name has no copy marker');
  });

  it("keeps the consumer's file (outside every seeding root) as the keeper, even with fewer links", () => {
    const b = new SnapshotBuilder(dedupeOn());
    b.file(`${STASH_SEED}/movies/Foo/foo.mkv`, 1000, 'foo', undefined, SAME_MTIME);
    b.link(`${STASH_SEED}/movies/Foo/foo.mkv`, `${STASH_SEED}/cross-seed/Foo/foo.mkv`);
    b.file(`${MOVIES_LIB}/Foo (2020)/foo.mkv`, 1000, 'foo', undefined, { ...SAME_MTIME, meta: { uid: 0, gid: 0, mode: 0o644 } });
    const g = only(plan(b));
    expect(links(g).every((s) => s.keeper.path === `${MOVIES_LIB}/Foo (2020)/foo.mkv`)).toBe(true);
    expect(g.reasons[1]).toContain('a consumer outside the seeding roots uses');
    expect(g.reasons[2]).toMatch(/^metadata: the keeper's wins — owner 0:0, mode 0644/);
  });

  it('links only files whose owner, group and mode agree; the others are left out with the reason', () => {
    const b = new SnapshotBuilder(dedupeOn());
    b.file(`${MOVIES_LIB}/Foo/foo.mkv`, 1000, 'foo', undefined, { ...SAME_MTIME, meta: { uid: 1001, gid: 1001, mode: 0o640 } });
    b.file(`${STASH_SEED}/movies/Foo/foo.mkv`, 1000, 'foo', undefined, { meta: { uid: 0, gid: 0, mode: 0o644 } });
    b.file(`${STASH_SEED}/cross-seed/Foo/foo.mkv`, 1000, 'foo', undefined, { meta: { uid: 0, gid: 0, mode: 0o644 } });
    const g = only(plan(b));
    expect(g.action).toBe('dedupe');
    for (const s of links(g)) {
      expect(s.keeper.meta).toEqual({ uid: 0, gid: 0, mode: 0o644 });
      expect(s.duplicate.meta).toEqual({ uid: 0, gid: 0, mode: 0o644 });
      expect([s.keeper.path, s.duplicate.path]).not.toContain(`${MOVIES_LIB}/Foo/foo.mkv`);
    }
    expect(g.reasons.join('\n')).toContain('owner, group or mode differ between the copies');
    expect(g.reasons.join('\n')).toContain(`owner 0:0, mode 0644 (${STASH_SEED}/cross-seed/Foo/foo.mkv, ${STASH_SEED}/movies/Foo/foo.mkv)`);
    expect(g.reasons.join('\n')).toContain(`owner 1001:1001, mode 0640 (${MOVIES_LIB}/Foo/foo.mkv)`);
  });

  it('a mode difference alone blocks the link, and unknown metadata is never linked', () => {
    const b = new SnapshotBuilder(dedupeOn());
    b.file(`${STASH_SEED}/a/x.bin`, 1000, 'x', undefined, { meta: { uid: 0, gid: 0, mode: 0o600 } });
    b.file(`${STASH_SEED}/b/x.bin`, 1000, 'x', undefined, { meta: { uid: 0, gid: 0, mode: 0o644 } });
    b.file(`${STASH_SEED}/c/y.bin`, 1000, 'y', undefined, { meta: null });
    b.file(`${STASH_SEED}/d/y.bin`, 1000, 'y');
    const p = plan(b);
    expect(p.groups.map((g) => g.action)).toEqual(['blocked', 'blocked']);
    expect(p.summary.dedupe).toBe(0);
    expect(p.groups[0]!.reasons.join('\n')).toContain('mode 0600');
    expect(p.groups[1]!.reasons.join('\n')).toContain(`the owner and mode of ${STASH_SEED}/c/y.bin are unknown`);
  });

  it("never changes the modification time a consumer sees: two library copies with different mtimes stay apart", () => {
    const b = new SnapshotBuilder(dedupeOn());
    b.file(`${MOVIES_LIB}/A/x.mkv`, 1000, 'x', undefined, { mtimeNs: '1700000000000000000' });
    b.file(`${MOVIES_LIB}/B/x.mkv`, 1000, 'x', undefined, { mtimeNs: '1700000000500000000' });
    const g = only(plan(b));
    expect(g.action).toBe('blocked');
    expect(g.reasons.join('\n')).toMatch(/lies outside every seeding root and its modification time .* differs from the keeper's/);
  });

  it('never links files of an unfinished download: two incomplete torrents with zero-filled placeholders', () => {
    const b = new SnapshotBuilder(dedupeOn());
    const one = `${STASH_SEED}/movies/One.2020`;
    const two = `${STASH_SEED}/movies/Two.2021`;
    b.payload(one, [{ rel: 'one.mkv', size: 5000, content: 'zeros' }]).torrent({ hash: '1'.repeat(40), content: one, phase: 'paused-incomplete', progress: 0 });
    b.payload(two, [{ rel: 'two.mkv', size: 5000, content: 'zeros' }]).torrent({ hash: '2'.repeat(40), content: two, phase: 'downloading', progress: 0.3 });
    const p = plan(b);
    const d = p.groups.find((g) => g.key.startsWith('dedupe:'))!;
    expect(d.action).toBe('blocked');
    expect(p.summary.dedupe).toBe(0);
    expect(d.reasons.join('\n')).toContain(`${one}/one.mkv belongs to an unfinished download: torrent "One.2020" is paused-incomplete`);
    expect(d.reasons.join('\n')).toContain(`${two}/two.mkv belongs to an unfinished download: torrent "Two.2021" is downloading`);
  });

  it('an unfinished download is left out while complete copies are still linked', () => {
    const b = new SnapshotBuilder(dedupeOn());
    const dl = `${STASH_SEED}/movies/Dl.2020`;
    b.payload(dl, [{ rel: 'x.mkv', size: 5000, content: 'x' }]).torrent({ hash: '1'.repeat(40), content: dl, phase: 'downloading', progress: 0.99 });
    b.file(`${STASH_SEED}/done/a/x.mkv`, 5000, 'x');
    b.file(`${STASH_SEED}/done/b/x.mkv`, 5000, 'x');
    const d = plan(b).groups.find((g) => g.key.startsWith('dedupe:'))!;
    expect(d.action).toBe('dedupe');
    expect(links(d).flatMap((s) => [s.keeper.path, s.duplicate.path])).not.toContain(`${dl}/x.mkv`);
    expect(d.reasons.join('\n')).toContain(`not linked: ${dl}/x.mkv belongs to an unfinished download`);
  });

  it('never links in-progress names, nor anything before the client was synced or when it was synced before the scan', () => {
    const names = new SnapshotBuilder(dedupeOn());
    names.file(`${STASH_SEED}/a/x.mkv.!qB`, 5000, 'x');
    names.file(`${STASH_SEED}/b/x.mkv.part`, 5000, 'x');
    expect(only(plan(names)).reasons.join('\n')).toContain('has a download-in-progress name (.!qB)');

    const never = new SnapshotBuilder(dedupeOn());
    never.lastSyncAt = null;
    never.file(`${STASH_SEED}/a/x.mkv`, 5000, 'x');
    never.file(`${STASH_SEED}/b/x.mkv`, 5000, 'x');
    expect(only(plan(never)).reasons.join('\n')).toContain('the torrent client has never been synced');

    const stale = new SnapshotBuilder(dedupeOn());
    stale.lastSyncAt = NOW - 2 * HOUR;
    stale.file(`${STASH_SEED}/a/x.mkv`, 5000, 'x');
    stale.file(`${STASH_SEED}/b/x.mkv`, 5000, 'x');
    const g = only(plan(stale));
    expect(g.action).toBe('blocked');
    expect(g.reasons.join('\n')).toContain(`the torrent client was last synced before ${STASH_SEED} was scanned`);
  });

  it('an unfinished torrent whose path has no host spelling blocks every candidate (it may be writing anywhere)', () => {
    const b = new SnapshotBuilder(dedupeOn());
    const dl = `${STASH_SEED}/movies/Dl.2020`;
    b.payload(dl, [{ rel: 'y.mkv', size: 10, content: 'y' }]).torrent({ hash: '1'.repeat(40), content: dl, phase: 'downloading', unmapped: 'no path map' });
    b.file(`${STASH_SEED}/a/x.mkv`, 5000, 'x');
    b.file(`${STASH_SEED}/b/x.mkv`, 5000, 'x');
    const snapshot = b.build();
    snapshot.torrents[0]!.clientContentPath = '/downloads/Dl.2020'; // no path map translates it
    const p = buildPlan({ config: b.config, snapshot, now: b.now, createdAt: new Date(b.now).toISOString() });
    const d = p.groups.find((g) => g.key.startsWith('dedupe:'))!;
    expect(d.action).toBe('blocked');
    expect(d.reasons.join('\n')).toMatch(/torrent "Dl.2020" is downloading .* its path \/downloads\/Dl.2020 has no host spelling, so it may be writing/);
  });
});

describe('buildPlan: retire', () => {
  function relocated(observedHours: number, cfg = baseConfig({ placement: { default: 'pool', rules: [] } })) {
    const b = new SnapshotBuilder(cfg);
    const src = `${STASH_SEED}/movies/Foo`;
    const dst = `${POOL_SEED}/movies/Foo`;
    b.payload(src, movieFiles('foo'));
    b.payload(dst, movieFiles('foo'));
    b.torrent({ hash: 'a'.repeat(40), content: dst, category: 'movies' });
    const p0 = b.build();
    b.relocation({ id: 3, payloadHash: p0.payloads[dst]!.payloadHash!, sourceFsId: 1, sourceRoot: src, targetFsId: 2, targetRoot: dst, torrentHashes: ['a'.repeat(40)], repointedAt: NOW - observedHours * HOUR });
    return b;
  }

  it('retires the source after the observation window, with proof', () => {
    const p = plan(relocated(80));
    const g = p.groups.find((x) => x.key === 'retire:3')!;
    expect(g.action).toBe('retire');
    expect(g.steps).toEqual([{ kind: 'retire', fs: 'stash', root: `${STASH_SEED}/movies/Foo`, payloadHash: g.payloadHash, keptRoot: `${POOL_SEED}/movies/Foo`, keptFs: 'pool', relocationId: 3, bytes: 4 * GiB + 1200 }]);
    expect(g.bytesToFree).toBe(4 * GiB + 1200);
    expect(p.summary.bytesToFree).toEqual({ stash: 4 * GiB + 1200 });
    expect(p.groups.find((x) => x.key.startsWith('payload:'))!.action).toBe('keep');
  });

  it("an orphan tree that is a move's source waiting for its own retire is not retired as an orphan (it would skip the observation window); one holding such a source is blocked", () => {
    // Found on the real CLI: right after a move of old files (mtime past orphans.minAge) the same plan held "pending
    // Old.Movie.2009 (observing the new location before removing the old copy)" and "retire Old.Movie.2009 (orphan)":
    // the orphan retire staged the source at once and its purge after observeHours ignored whether the target seeded —
    // the source being the only good copy while the target was damaged (its integrity problem is on the target, not in
    // the orphan tree, so nothing blocked it).
    const src = `${STASH_SEED}/movies/Foo`;
    const tree = (path: string, bytes: number): OrphanTree => ({
      fs: 'stash', fsId: 1, path, kind: 'dir', seedingRoot: STASH_SEED, files: [], bytes, fileCount: 1, newestMtimeMs: NOW - 100 * 24 * HOUR,
      freedBytes: bytes, duplicatedBytes: bytes, uniqueBytes: 0, linkedBytes: 0, unhashedBytes: 0, why: 'no torrent uses any of its 1 file(s)',
    });
    const orphansOf = (...trees: OrphanTree[]): OrphanReport => ({
      proven: true, blockers: [], trees, totals: [], unknownSamples: [], clientFolders: [],
      counts: {} as OrphanReport['counts'], bytes: {} as OrphanReport['bytes'],
    });
    const cfg = baseConfig({ placement: { default: 'pool', rules: [] }, orphans: { action: 'retire', minAgeMs: 14 * 24 * HOUR, exclude: [] } });
    for (const observed of [60, 80]) {
      const b = relocated(observed, cfg);
      const snapshot = b.build();
      const other = `${STASH_SEED}/movies/Gone`;
      const p = buildPlan({ config: cfg, snapshot, now: NOW, createdAt: new Date(NOW).toISOString(), orphans: orphansOf(tree(src, 4 * GiB + 1200), tree(other, 10)) });
      expect(p.groups.find((g) => g.key === 'retire:3')!.action).toBe(observed === 60 ? 'pending' : 'retire');
      expect(p.groups.filter((g) => g.key.startsWith('orphan:')).map((g) => [g.key, g.action])).toEqual([[`orphan:${other}`, 'retire']]);
      // A tree above the source (a folder of old downloads holding it): blocked, the reason says why.
      const above = buildPlan({ config: cfg, snapshot, now: NOW, createdAt: new Date(NOW).toISOString(), orphans: orphansOf(tree(`${STASH_SEED}/movies`, 5 * GiB)) });
      const g = above.groups.find((x) => x.key === `orphan:${STASH_SEED}/movies`)!;
      expect(g.action).toBe('blocked');
      expect(g.reasons[0]).toBe(`it holds ${src}, the source of a move waiting for its own retire (after the target has seeded for the observation window): retired with it, never as an orphan`);
    }
  });

  it('is pending before the window ends, with the time left', () => {
    const g = plan(relocated(60)).groups.find((x) => x.key === 'retire:3')!;
    expect(g.action).toBe('pending');
    expect(g.reasons[0]).toBe(
      `observing the new location before removing the old copy: 12h left of 72h (until 2025-01-16T00:00:00.000Z); then an apply retires ${STASH_SEED}/movies/Foo on stash, freeing up to 4.0 GiB`,
    );
    expect(g.bytesToFree).toBe(0); // nothing is freed by this plan
  });

  it('counts the window from the last sync that saw the torrent unhealthy on the target, when later than the repoint', () => {
    const b = relocated(80);
    b.relocations[0]!.unhealthy = { at: NOW - 10 * HOUR, what: 'torrent "Foo" was missing-files (missingFiles)' };
    const g = plan(b).groups.find((x) => x.key === 'retire:3')!;
    expect(g.action).toBe('pending');
    expect(g.reasons[0]).toBe(
      `observing the new location before removing the old copy: 2d 14h left of 72h (until 2025-01-18T02:00:00.000Z; restarted by the sync at 2025-01-15T02:00:00.000Z: torrent "Foo" was missing-files (missingFiles) on pool); then an apply retires ${STASH_SEED}/movies/Foo on stash, freeing up to 4.0 GiB`,
    );
    b.relocations[0]!.unhealthy = { at: NOW - 73 * HOUR, what: 'torrent "Foo" was checking (checkingUP)' };
    const r = plan(b).groups.find((x) => x.key === 'retire:3')!;
    expect(r.action).toBe('retire');
    expect(r.reasons[0]).toMatch(/has seeded from .* for 3d 1h /);
  });

  it('blocks while the source filesystem keeps no permissions (ntfs-3g without -o permissions): the trash cannot live there; retires once it does', () => {
    const b = relocated(80);
    const snapshot = b.build();
    const stash = snapshot.filesystems.find((f) => f.name === 'stash')!;
    stash.permissionsKept = false;
    const g = buildPlan({ config: b.config, snapshot, now: NOW, createdAt: new Date(NOW).toISOString() }).groups.find((x) => x.key === 'retire:3')!;
    expect(g.action).toBe('blocked');
    expect(g.steps).toEqual([]);
    expect(g.reasons).toEqual([
      `stash is mounted without permission checks (every file shows mode 0777): hashall's private .hashall-trash cannot live there, so ${STASH_SEED}/movies/Foo is not retired; mount it with \`-o permissions\` (ntfs-3g), or set safety.retire.mode: never`,
    ]);
    // The target keeping none is no reason: nothing is removed there.
    stash.permissionsKept = true;
    snapshot.filesystems.find((f) => f.name === 'pool')!.permissionsKept = false;
    expect(buildPlan({ config: b.config, snapshot, now: NOW, createdAt: new Date(NOW).toISOString() }).groups.find((x) => x.key === 'retire:3')!.action).toBe('retire');
  });

  it('mode never retires nothing', () => {
    const cfg = baseConfig({ placement: { default: 'pool', rules: [] } });
    cfg.safety.retire.mode = 'never';
    expect(plan(relocated(500, cfg)).groups.find((x) => x.key === 'retire:3')).toBeUndefined();
  });

  it('blocks when a torrent still uses the source or the source changed', () => {
    const b = relocated(80);
    b.payload(`${STASH_SEED}/movies/Foo/extra`, [{ rel: 'x', size: 1, content: 'x' }]);
    const g = plan(b).groups.find((x) => x.key === 'retire:3')!;
    expect(g.action).toBe('blocked');
    expect(g.reasons[0]).toMatch(/changed since it was relocated/);
    const c = relocated(80);
    c.torrent({ hash: 'f'.repeat(40), content: `${STASH_SEED}/movies/Foo` });
    const g2 = plan(c).groups.find((x) => x.key === 'retire:3')!;
    expect(g2.action).toBe('blocked');
    expect(g2.reasons).toContain(`torrent "Foo" still uses ${STASH_SEED}/movies/Foo`);
  });

  it('is blocked while a symlink reaches the source by path (the reader marks the payload held; a library linking by symlink)', () => {
    const b = relocated(80);
    const snapshot = b.build();
    const src = snapshot.payloads[`${STASH_SEED}/movies/Foo`]!;
    src.consumers = { ...src.consumers, status: 'some', symlinks: ['/stash/library/Foo.mkv'] };
    const g = buildPlan({ config: b.config, snapshot, now: NOW, createdAt: new Date(NOW).toISOString() }).groups.find((x) => x.key === 'retire:3')!;
    expect(g.action).toBe('blocked');
    expect(g.reasons.join('\n')).toContain('a symlink still reaches the source by path (/stash/library/Foo.mkv)');
  });

  it('a torrent without a root folder (its save directory as content path) holds a source only through its own files', () => {
    const cfg = baseConfig({ placement: { default: 'pool', rules: [] } });
    const src = `${STASH_SEED}/movies/Foo.mkv`;
    const dst = `${POOL_SEED}/movies/Foo.mkv`;
    const retireOf = (packFiles: string[]) => {
      const b = new SnapshotBuilder(cfg);
      b.payload(src, [{ rel: 'Foo.mkv', size: 100, content: 'foo' }], { kind: 'file' });
      b.payload(dst, [{ rel: 'Foo.mkv', size: 100, content: 'foo' }], { kind: 'file' });
      b.payload(`${STASH_SEED}/movies/Bar.mkv`, [{ rel: 'Bar.mkv', size: 50, content: 'bar' }], { kind: 'file' });
      b.torrent({ hash: 'a'.repeat(40), content: dst });
      b.torrent({ hash: 'b'.repeat(40), name: 'Pack', content: `${STASH_SEED}/movies`, files: packFiles.map((name) => ({ name, size: 100 })) });
      b.relocation({ id: 5, payloadHash: b.build().payloads[dst]!.payloadHash!, sourceFsId: 1, sourceRoot: src, targetFsId: 2, targetRoot: dst, torrentHashes: ['a'.repeat(40)], repointedAt: NOW - 100 * HOUR });
      const snapshot = b.build();
      const pack = snapshot.torrents.find((t) => t.name === 'Pack')!;
      pack.clientSavePath = pack.clientContentPath; // qBittorrent's "don't create subfolder": content_path = save_path
      pack.listingDigest = null;
      return buildPlan({ config: cfg, snapshot, now: NOW, createdAt: new Date(NOW).toISOString() }).groups.find((g) => g.key === 'retire:5')!;
    };
    const uses = retireOf(['Foo.mkv', 'Bar.mkv']);
    expect(uses.action).toBe('blocked');
    expect(uses.reasons).toContain(`torrent "Pack" still uses ${src}`);
    const beside = retireOf(['Baz.mkv', 'Bar.mkv']);
    expect(beside.action, beside.reasons.join('; ')).toBe('retire');
  });

  it('blocks when a relocated torrent no longer points at the target but at a path inside one of the copies (a third path apart from both: see below)', () => {
    const cfg = baseConfig({ placement: { default: 'pool', rules: [] } });
    const b = new SnapshotBuilder(cfg);
    const src = `${STASH_SEED}/movies/Foo`;
    const elsewhere = `${STASH_SEED}/movies/Foo/Foo`;
    b.payload(src, movieFiles('foo')).payload(elsewhere, movieFiles('foo').map((f, i) => ({ ...f, ino: 900 + i }))).torrent({ hash: 'a'.repeat(40), content: elsewhere });
    b.relocation({ id: 4, payloadHash: b.build().payloads[src]!.payloadHash!, sourceFsId: 1, sourceRoot: src, targetFsId: 2, targetRoot: `${POOL_SEED}/movies/Foo`, torrentHashes: ['a'.repeat(40)], repointedAt: NOW - 100 * HOUR });
    const g = plan(b).groups.find((x) => x.key === 'retire:4')!;
    expect(g.action).toBe('blocked');
    expect(g.reasons[0]).toMatch(/does not point at the relocated content on pool/);
  });

  it('every torrent of the move seeding from its source again (moved back by hand, or removed and re-added there): no retire group, never blocked for good; one left on the target still blocks', () => {
    const cfg = baseConfig({ placement: { default: 'keep', rules: [] } });
    const src = `${STASH_SEED}/movies/Foo`;
    const dst = `${POOL_SEED}/movies/Foo`;
    const retireOf = (at: string[]) => {
      const b = new SnapshotBuilder(cfg);
      b.payload(src, movieFiles('foo')).payload(dst, movieFiles('foo').map((f, i) => ({ ...f, ino: 900 + i })));
      at.forEach((content, i) => b.torrent({ hash: 'ab'[i]!.repeat(40), content }));
      b.relocation({ id: 4, payloadHash: b.build().payloads[src]!.payloadHash!, sourceFsId: 1, sourceRoot: src, targetFsId: 2, targetRoot: dst, torrentHashes: ['a'.repeat(40), 'b'.repeat(40)], repointedAt: NOW - 100 * HOUR });
      return plan(b).groups.find((x) => x.key === 'retire:4');
    };
    expect(retireOf([src, src])).toBeUndefined();
    const mixed = retireOf([src, dst])!;
    expect(mixed.action).toBe('blocked');
    expect(mixed.reasons.join('\n')).toMatch(/does not point at the relocated content on pool/);
  });

  it('a torrent of the move re-added (or moved by hand) at a third path has left it: it neither proves nor blocks; with none left on the target no group, one left there proves it alone; an overlapping or unknown path still blocks', () => {
    const cfg = baseConfig({ placement: { default: 'keep', rules: [] } });
    const src = `${STASH_SEED}/movies/Foo`;
    const dst = `${POOL_SEED}/movies/Foo`;
    const third = `${STASH_SEED}/other/Foo`;
    const retireOf = (at: (string | null)[]) => {
      const b = new SnapshotBuilder(cfg);
      b.payload(src, movieFiles('foo')).payload(dst, movieFiles('foo').map((f, i) => ({ ...f, ino: 900 + i }))).payload(third, movieFiles('foo').map((f, i) => ({ ...f, ino: 950 + i })));
      at.forEach((content, i) => b.torrent({ hash: 'ab'[i]!.repeat(40), content: content ?? third }));
      const snapshot = b.build();
      at.forEach((content, i) => {
        if (content === null) Object.assign(snapshot.torrents[i]!, { hostContentPath: null, unmappedReason: 'no path map covers it' });
      });
      b.relocation({ id: 4, payloadHash: snapshot.payloads[src]!.payloadHash!, sourceFsId: 1, sourceRoot: src, targetFsId: 2, targetRoot: dst, torrentHashes: ['a'.repeat(40), 'b'.repeat(40)].slice(0, at.length), repointedAt: NOW - 100 * HOUR });
      snapshot.relocations = b.build().relocations;
      return buildPlan({ config: cfg, snapshot, now: NOW, createdAt: new Date(NOW).toISOString() }).groups.find((x) => x.key === 'retire:4');
    };
    expect(retireOf([third])).toBeUndefined();
    expect(retireOf([third, src])).toBeUndefined();
    expect(retireOf([dst, third])!.action).toBe('retire');
    expect(retireOf([dst, `${src}/Sub`])!.action).toBe('blocked');
    const unknown = retireOf([dst, null])!;
    expect(unknown.action).toBe('blocked');
    expect(unknown.reasons.join('\n')).toMatch(/does not point at the relocated content on pool/);
  });
});

describe('buildPlan: retire of a relocation whose torrents were removed', () => {
  const src = `${STASH_SEED}/movies/Foo`;
  const dst = `${POOL_SEED}/movies/Foo`;
  /** Foo moved stash → pool by relocation 6 with torrents a and b; `present` of them still in the client. */
  function world(present: ('a' | 'b')[], client: { syncedAt: number | null; failedAt: number | null } = { syncedAt: NOW - HOUR, failedAt: null }) {
    const b = new SnapshotBuilder(baseConfig({ placement: { default: 'pool', rules: [] } }));
    b.payload(src, movieFiles('foo'));
    b.payload(dst, movieFiles('foo'));
    for (const h of present) b.torrent({ hash: h.repeat(40), content: dst, category: 'movies' });
    b.relocation({ id: 6, payloadHash: b.build().payloads[dst]!.payloadHash!, sourceFsId: 1, sourceRoot: src, targetFsId: 2, targetRoot: dst, torrentHashes: ['a'.repeat(40), 'b'.repeat(40)], repointedAt: NOW - 100 * HOUR });
    const snapshot = b.build();
    snapshot.clients = { default: { ...client, failure: client.failedAt === null ? null : 'connect ECONNREFUSED', ownFolders: [] } };
    return buildPlan({ config: b.config, snapshot, now: NOW, createdAt: new Date(NOW).toISOString() }).groups.find((g) => g.key === 'retire:6');
  }

  it('every torrent removed from a client that answered: no group (the copies are left to the orphan rules), never blocked forever', () => {
    expect(world([])).toBeUndefined();
  });

  it('one of two removed: the other proves the target in use, and the source is retired', () => {
    const g = world(['b'])!;
    expect(g.action, g.reasons.join('; ')).toBe('retire');
  });

  it('a client that did not answer its last sync, or never synced: still blocked (removed is not known)', () => {
    expect(world([], { syncedAt: NOW - HOUR, failedAt: NOW - 60_000 })!.action).toBe('blocked');
    const never = world(['b'], { syncedAt: null, failedAt: null })!;
    expect(never.action).toBe('blocked');
    expect(never.reasons.join('\n')).toMatch(/is no longer in its client/);
  });
});

describe('buildPlan: determinism', () => {
  it('same inputs give byte-identical plans regardless of torrent order', () => {
    const make = (rev: boolean) => {
      const b = new SnapshotBuilder(toPool());
      const names = ['C', 'A', 'B'];
      for (const n of rev ? [...names].reverse() : names) {
        const ino = n.charCodeAt(0) * 10;
        b.payload(`${STASH_SEED}/movies/${n}`, movieFiles(n).map((f, i) => ({ ...f, ino: ino + i })));
        b.torrent({ hash: n.toLowerCase().repeat(40), content: `${STASH_SEED}/movies/${n}`, category: 'movies' });
      }
      return JSON.stringify(plan(b));
    };
    expect(make(true)).toBe(make(false));
    const p = JSON.parse(make(false)) as Plan;
    expect(p.groups.map((g) => [g.id, g.title])).toEqual([
      ['g1', 'A'],
      ['g2', 'B'],
      ['g3', 'C'],
    ]);
  });
});
