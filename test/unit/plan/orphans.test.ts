// The pure orphan classifier: unknown is never orphan, trees stop at category folders, reclaim figures count inodes once; the retire groups say what they free.
import { describe, expect, it } from 'vitest';
import type { SnapshotTorrent } from '../../../src/domain/snapshot.js';
import { orphanClassifier, orphanReport, type OrphanInput, type InodeLinks } from '../../../src/plan/orphans.js';
import { planOrphanGroups } from '../../../src/plan/orphan-groups.js';
import { baseConfig, category, HOUR, NOW, STASH_SEED, MOVIES_LIB } from './fixtures.js';

const OLD = `${BigInt(NOW - 100 * 24 * HOUR) * 1_000_000n}`;
const MOVIES = `${STASH_SEED}/movies`;

function torrent(over: Partial<SnapshotTorrent> & { hash: string; content: string }): SnapshotTorrent {
  const { content, ...rest } = over;
  const save = content.slice(0, content.lastIndexOf('/'));
  return {
    client: 'default',
    name: content.slice(content.lastIndexOf('/') + 1),
    category: 'movies',
    tags: [],
    tracker: null,
    phase: 'seeding',
    rawState: 'stalledUP',
    running: true,
    progress: 1,
    amountLeft: 0,
    size: 1,
    autoTmm: false,
    addedOn: null,
    completionOn: null,
    seedingTimeSec: 0,
    clientSavePath: save.replace('/stash', '/data/stash'),
    clientContentPath: content.replace('/stash', '/data/stash'),
    clientDownloadPath: '',
    hostContentPath: content,
    unmappedReason: null,
    files: null,
    listingDigest: null,
    syncedAt: NOW - HOUR,
    ...rest,
  };
}

interface F {
  path: string;
  size?: number;
  ino?: number;
  nlink?: number;
  links?: InodeLinks;
  mtimeNs?: string;
}

function classify(files: F[], torrents: SnapshotTorrent[], over: Partial<OrphanInput> = {}, lists: Record<string, { name: string; size: number }[]> = {}) {
  const input: OrphanInput = {
    config: baseConfig({ categories: { movies: category('movies'), xs: category('cross-seed/{tracker}') } }),
    now: NOW,
    roots: [
      { path: STASH_SEED, kind: 'seeding', fsName: 'stash', fsId: 1, lastScanAt: NOW - 2 * HOUR },
      { path: MOVIES_LIB, kind: 'library', fsName: null, fsId: 1, lastScanAt: NOW - 2 * HOUR },
    ],
    torrents,
    fileCount: (t) => lists[t.hash]?.length ?? 1,
    torrentFiles: (t) => lists[t.hash] ?? [],
    lastSyncAt: NOW - HOUR,
    fsName: () => 'stash',
    ...over,
  };
  const c = orphanClassifier(input);
  let ino = 100;
  const classes = files.map((f) => c.file({ fsId: 1, path: f.path, ino: f.ino ?? ino++, size: f.size ?? 10, mtimeNs: f.mtimeNs ?? OLD, nlink: f.nlink ?? 1 }, STASH_SEED, f.links ?? null));
  return { classes, result: c.finish() };
}

describe('orphan classifier (pure)', () => {
  it("the source of a move waiting for its own retire is in progress, never an orphan: no tree, nothing reclaimable; its old neighbours still are", () => {
    // Found on the real CLI: after a move of old files, `hashall orphans` listed the source (no torrent uses it any more,
    // its files as old as the download) as an orphan tree while the plan kept it for the move's retire.
    const source = `${MOVIES}/Old.Movie.2009`;
    const { classes, result } = classify(
      [{ path: `${source}/movie.mkv`, size: 4000 }, { path: `${source}/Subs/en.srt`, size: 40 }, { path: `${MOVIES}/Gone.2001/gone.mkv`, size: 7 }],
      [],
      { moveSources: [source] },
    );
    expect(classes).toEqual(['in-progress', 'in-progress', 'orphan']);
    expect(result.trees.map((t) => t.path)).toEqual([`${MOVIES}/Gone.2001`]);
    expect(result.bytes['in-progress']).toBe(4040);
    // A one-file source (a torrent without a root folder) is claimed as the file it is, its neighbours are not.
    const one = classify([{ path: `${MOVIES}/single.mkv` }, { path: `${MOVIES}/other.mkv` }], [], { moveSources: [`${MOVIES}/single.mkv`] });
    expect(one.classes).toEqual(['in-progress', 'orphan']);
  });

  it('payload by root folder, only listed files of a rootless torrent, orphans elsewhere; trees never the seeding root nor a category folder', () => {
    const rooted = torrent({ hash: 'a', content: `${MOVIES}/A.2020` });
    const rootless = torrent({ hash: 'b', content: `${MOVIES}/loose`, clientSavePath: '/data/stash/media/torrents/seeding/movies/loose', clientContentPath: '/data/stash/media/torrents/seeding/movies/loose' });
    const { classes, result } = classify(
      [
        { path: `${MOVIES}/A.2020/a.mkv` },
        { path: `${MOVIES}/A.2020/extra.nfo` },
        { path: `${MOVIES}/loose/l1.bin` },
        { path: `${MOVIES}/loose/stray.bin` },
        { path: `${MOVIES}/Gone/g.mkv` },
        { path: `${STASH_SEED}/cross-seed/t1/X/x.mkv` },
        { path: `${STASH_SEED}/cross-seed/t1/y.bin` },
      ],
      [rooted, rootless],
      {},
      { a: [{ name: 'A.2020/a.mkv', size: 10 }], b: [{ name: 'l1.bin', size: 10 }] },
    );
    expect(classes).toEqual(['payload', 'payload', 'payload', 'orphan', 'orphan', 'orphan', 'orphan']);
    expect(result.blockers).toEqual([]);
    // cross-seed/t1 is a category folder (cross-seed/{tracker}): its entries are reported, not the folder.
    expect(result.trees.map((t) => [t.path, t.kind])).toEqual([
      [`${STASH_SEED}/cross-seed/t1/X`, 'dir'],
      [`${STASH_SEED}/cross-seed/t1/y.bin`, 'file'],
      [`${MOVIES}/Gone`, 'dir'],
      [`${MOVIES}/loose/stray.bin`, 'file'],
    ]);
  });

  it('a torrent whose file list does not lie under its reported content path (a root folder renamed in Deluge) keeps the files it lists: never orphans', () => {
    // A content path that did not follow the renamed folder (Deluge's was save path + name before the adapter took it
    // from the file list) names a folder that does not exist (the sync found it missing); the list maps onto no root.
    const renamed = torrent({ hash: 'd', content: `${MOVIES}/Orig`, hostContentPath: null, unmappedReason: `${MOVIES}/Orig does not exist on the host` });
    const { classes, result } = classify(
      [{ path: `${MOVIES}/Renamed/a.mkv` }, { path: `${MOVIES}/Renamed/sub/b.srt` }, { path: `${MOVIES}/Gone/g.mkv` }],
      [renamed],
      {},
      { d: [{ name: 'Renamed/a.mkv', size: 10 }, { name: 'Renamed/sub/b.srt', size: 10 }] },
    );
    expect(classes).toEqual(['payload', 'payload', 'orphan']);
    expect(result.trees.map((t) => t.path)).toEqual([`${MOVIES}/Gone`]);
    // Its save path without a host spelling: it may use any file.
    const far = torrent({ hash: 'f', content: `${MOVIES}/Orig`, hostContentPath: null, clientSavePath: '/elsewhere/movies', clientContentPath: '/data/stash/media/torrents/seeding/movies/Orig' });
    const r2 = classify([{ path: `${MOVIES}/Renamed/a.mkv` }], [far], {}, { f: [{ name: 'Renamed/a.mkv', size: 10 }] });
    expect(r2.classes).toEqual(['unknown']);
    expect(r2.result.blockers.join('\n')).toMatch(/does not lie under its content path/);
  });

  it('libtorrent’s part file of a torrent (`.<hash>.parts` in its save path) is that torrent’s; one of a torrent no client has is not', () => {
    const h = 'ab'.repeat(20);
    const rooted = torrent({ hash: h, content: `${MOVIES}/A.2020` });
    const { classes } = classify([{ path: `${MOVIES}/A.2020/a.mkv` }, { path: `${MOVIES}/.${h}.parts` }, { path: `${MOVIES}/.${'cd'.repeat(20)}.parts` }, { path: `${STASH_SEED}/.${h}.parts` }], [rooted], {}, { [h]: [{ name: 'A.2020/a.mkv', size: 10 }] });
    expect(classes).toEqual(['payload', 'payload', 'orphan', 'orphan']);
  });

  it('unknown is never orphan: an unplaced torrent makes every file unknown; error, missing-files and list-less torrents block', () => {
    const unplaced = torrent({ hash: 'u', content: '/x', hostContentPath: null, clientContentPath: '/nowhere/mapped/x', unmappedReason: 'no path map' });
    const { classes, result } = classify([{ path: `${MOVIES}/Gone/g.mkv` }], [unplaced]);
    expect(classes).toEqual(['unknown']);
    expect(result.trees).toEqual([]);
    expect(result.blockers.join('\n')).toMatch(/has no host spelling/);
    const err = torrent({ hash: 'e', content: `${MOVIES}/E`, phase: 'error', rawState: 'error' });
    const miss = torrent({ hash: 'm', content: `${MOVIES}/M`, phase: 'missing-files', rawState: 'missingFiles' });
    const nolist = torrent({ hash: 'n', content: `${MOVIES}/N`, phase: 'downloading', rawState: 'metaDL', progress: 0 });
    const r2 = classify([{ path: `${MOVIES}/E/e.mkv` }, { path: `${MOVIES}/M/m.mkv` }, { path: `${MOVIES}/N/n.mkv` }, { path: `${MOVIES}/Gone/g.mkv` }], [err, miss, nolist], { fileCount: (t) => (t.hash === 'n' ? 0 : 1) });
    expect(r2.classes).toEqual(['in-progress', 'in-progress', 'unknown', 'orphan']);
    expect(r2.result.blockers.join('\n')).toMatch(/is error/);
    expect(r2.result.blockers.join('\n')).toMatch(/is missing-files/);
    expect(r2.result.blockers.join('\n')).toMatch(/has no file list/);
  });

  it("a second instance's torrents are payload through its own path maps (same info-hash in both, or its own); one that did not answer its last sync blocks", () => {
    const base = baseConfig({ categories: { movies: category('movies'), xs: category('cross-seed/{tracker}') } });
    const rt = { ...base.clients.default!, name: 'rt', at: ['clients', 'rt'], type: 'rtorrent' as const, url: 'scgi:///run/rt.sock', pathMaps: [{ client: '/downloads', host: '/stash/media/torrents/seeding' }] };
    const config = { ...base, clients: { ...base.clients, rt } };
    const inQbt = torrent({ hash: 'a', content: `${MOVIES}/A.2020` });
    // rTorrent spells its paths /downloads/…: only its own path map places its torrents on the host.
    const sameHash = torrent({ client: 'rt', hash: 'a', content: `${MOVIES}/A.2020`, clientSavePath: '/downloads/movies', clientContentPath: '/downloads/movies/A.2020', hostContentPath: null });
    const onlyRt = torrent({ client: 'rt', hash: 'r', content: `${MOVIES}/R.2019`, clientSavePath: '/downloads/movies', clientContentPath: '/downloads/movies/R.2019', hostContentPath: null });
    const files = [{ path: `${MOVIES}/A.2020/a.mkv` }, { path: `${MOVIES}/R.2019/r.mkv` }, { path: `${MOVIES}/Gone/g.mkv` }];
    const synced = { default: { syncedAt: NOW - HOUR, failedAt: null, failure: null, ownFolders: [] }, rt: { syncedAt: NOW - HOUR, failedAt: null, failure: null, ownFolders: [] } };
    const { classes, result } = classify(files, [inQbt, sameHash, onlyRt], { config, clients: synced });
    expect(classes).toEqual(['payload', 'payload', 'orphan']);
    expect(result.blockers).toEqual([]);
    expect(result.trees.map((t) => t.path)).toEqual([`${MOVIES}/Gone`]);
    // Without rTorrent's torrent list the R.2019 folder would look unused: the same files, rt silent at its last sync.
    const down = { ...synced, rt: { syncedAt: NOW - 2 * HOUR, failedAt: NOW - HOUR, failure: 'connection refused', ownFolders: [] } };
    const r2 = classify(files, [inQbt, sameHash, onlyRt], { config, clients: down });
    expect(r2.result.blockers.join('\n')).toMatch(/"rt" did not answer its last sync/);
  });

  it('no client, never synced, synced before the scan, a root never scanned: blocked', () => {
    expect(classify([], [], { config: { ...baseConfig(), clients: {} } }).result.blockers.join()).toMatch(/no torrent client is configured/);
    expect(classify([], [], { lastSyncAt: null }).result.blockers.join()).toMatch(/never been synced/);
    expect(classify([], [], { lastSyncAt: NOW - 3 * HOUR }).result.blockers.join()).toMatch(/not synced after the last scan/);
    const roots: OrphanInput['roots'] = [{ path: STASH_SEED, kind: 'seeding', fsName: 'stash', fsId: 1, lastScanAt: null }];
    expect(classify([], [], { roots }).result.blockers.join()).toMatch(/never been scanned/);
  });

  it("a client's own folders: every file in one is the client's (a payload deeper in it stays payload); one above a seeding root keeps all; unknown folders block", () => {
    const state = (ownFolders: { role: 'session' | 'watch' | 'incomplete' | 'config' | 'torrent-copies'; path: string }[] | null) => ({ default: { syncedAt: NOW - HOUR, failedAt: null, failure: null, ownFolders } });
    const inWatch = torrent({ hash: 'w', content: `${STASH_SEED}/watch/W.2020` });
    const files = [
      { path: `${STASH_SEED}/.session/abc.torrent` },
      { path: `${STASH_SEED}/.session/abc.torrent.libtorrent_resume` },
      { path: `${STASH_SEED}/watch/new.torrent` },
      { path: `${STASH_SEED}/watch/W.2020/w.mkv` },
      { path: `${MOVIES}/Gone/g.mkv` },
    ];
    const folders = [
      { role: 'session' as const, path: `${STASH_SEED}/.session` },
      { role: 'watch' as const, path: `${STASH_SEED}/watch` },
      { role: 'config' as const, path: '/etc/elsewhere' },
    ];
    const { classes, result } = classify(files, [inWatch], { clients: state(folders) }, { w: [{ name: 'W.2020/w.mkv', size: 10 }] });
    expect(classes).toEqual(['client', 'client', 'client', 'payload', 'orphan']);
    expect(result.blockers).toEqual([]);
    expect(result.trees.map((t) => t.path)).toEqual([`${MOVIES}/Gone`]);
    // Only the folders that meet a seeding root are reported.
    expect(result.clientFolders).toEqual([
      { client: 'default', role: 'session', path: `${STASH_SEED}/.session` },
      { client: 'default', role: 'watch', path: `${STASH_SEED}/watch` },
    ]);
    // A watched folder above the seeding root: nothing under it is an orphan (the careful reading), and it is named.
    const above = classify(files, [inWatch], { clients: state([{ role: 'watch', path: '/stash' }]) }, { w: [{ name: 'W.2020/w.mkv', size: 10 }] });
    expect(above.classes).toEqual(['client', 'client', 'client', 'payload', 'client']);
    expect(above.result.trees).toEqual([]);
    expect(above.result.clientFolders).toEqual([{ client: 'default', role: 'watch', path: '/stash' }]);
    // Synced by a version that never asked: unknown, so nothing is proven; never synced says only that.
    const older = classify(files, [inWatch], { clients: state(null) }, { w: [{ name: 'W.2020/w.mkv', size: 10 }] });
    expect(older.result.blockers.join('\n')).toMatch(/"default" was last synced by an older hashall/);
    const never = classify([], [], { lastSyncAt: null, clients: { default: { syncedAt: null, failedAt: null, failure: null, ownFolders: null } } });
    expect(never.result.blockers.join('\n')).not.toMatch(/older hashall/);
  });

  it('consumer, unknown links, hashall names, in-progress names, young files, excluded globs', () => {
    const config = { ...baseConfig(), orphans: { action: 'report' as const, minAgeMs: 14 * 24 * HOUR, exclude: ['keep/**'] } };
    const young = `${BigInt(NOW - HOUR) * 1_000_000n}`;
    const { classes } = classify(
      [
        { path: `${MOVIES}/Lib/l.mkv`, nlink: 2, links: { known: 2, outside: 1 } },
        { path: `${MOVIES}/Far/f.mkv`, nlink: 3, links: { known: 2, outside: 0 } },
        { path: `${STASH_SEED}/.hashall-trash/run/x.bin` },
        { path: `${MOVIES}/.hashall-run-g1-copy-0.part` },
        { path: `${MOVIES}/Dl/d.mkv.!qB` },
        { path: `${MOVIES}/New/n.mkv`, mtimeNs: young },
        { path: `${STASH_SEED}/keep/k.bin` },
      ],
      [],
      { config },
    );
    expect(classes).toEqual(['consumer', 'unknown', 'hashall', 'hashall', 'in-progress', 'in-progress', 'excluded']);
  });

  it('reclaim: a hardlinked pair inside the trees frees its bytes once; a link into a payload frees nothing', () => {
    const t = torrent({ hash: 'a', content: `${MOVIES}/A` });
    const { result } = classify(
      [
        { path: `${MOVIES}/A/a.mkv`, ino: 1, nlink: 2, size: 100, links: { known: 2, outside: 0 } },
        { path: `${MOVIES}/Old/p1.mkv`, ino: 2, nlink: 2, size: 50, links: { known: 2, outside: 0 } },
        { path: `${MOVIES}/Old/sub/p2.mkv`, ino: 2, nlink: 2, size: 50, links: { known: 2, outside: 0 } },
        { path: `${MOVIES}/Old/linked.mkv`, ino: 1, nlink: 2, size: 100, links: { known: 2, outside: 0 } },
        { path: `${MOVIES}/Old/u.bin`, ino: 3, size: 7 },
      ],
      [t],
    );
    const report = orphanReport(result, (f) => (f.ino === 2 ? 'duplicated' : 'unique'));
    expect(report.trees).toHaveLength(1);
    expect(report.trees[0]).toMatchObject({ path: `${MOVIES}/Old`, fileCount: 4, bytes: 207, freedBytes: 57, duplicatedBytes: 50, uniqueBytes: 7, linkedBytes: 100 });
    expect(report.totals).toEqual([expect.objectContaining({ fs: 'stash', freedBytes: 57, linkedBytes: 100 })]);
  });

  it('a retire group says how much of what it frees is the only copy, also elsewhere, or not hashed yet (unknown: never left unsaid)', () => {
    // A tree restored from the trash and rescanned had lost its hash: the plan said "frees 976.6 KiB once the trash is
    // purged" and nothing more, while `hashall orphans` said "976.6 KiB not hashed yet".
    const { result } = classify(
      [
        { path: `${MOVIES}/Old/u.bin`, ino: 3, size: 7 },
        { path: `${MOVIES}/Old/d.bin`, ino: 4, size: 50 },
        { path: `${MOVIES}/Old/n.bin`, ino: 5, size: 900 },
      ],
      [],
    );
    const report = orphanReport(result, (f) => (f.ino === 3 ? 'unique' : f.ino === 4 ? 'duplicated' : 'unhashed'));
    const config = { ...baseConfig(), orphans: { action: 'retire' as const, minAgeMs: 14 * 24 * HOUR, exclude: [] } };
    const [group] = planOrphanGroups(config, report, []);
    expect(group?.action).toBe('retire');
    expect(group?.reasons[1]).toMatch(/; frees 957 B once the trash is purged \(50 B of it also exists elsewhere\) — 7 B of it is the only copy; 900 B not hashed yet \(whether another copy exists is not known\)$/);
  });
});
