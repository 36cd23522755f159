// The nearest claim wins (src/plan/nearest-claim.ts): precedence by nearness, ties by rank; the orphan classifier and the write guard answer alike.
import { describe, expect, it } from 'vitest';
import { NearestClaims, type Claim } from '../../../src/plan/nearest-claim.js';
import { clientWriteGuard } from '../../../src/plan/in-progress.js';
import { orphanClassifier } from '../../../src/plan/orphans.js';
import type { ClientFolder } from '../../../src/domain/client-folder.js';
import type { SnapshotTorrent } from '../../../src/domain/snapshot.js';
import { SnapshotBuilder, baseConfig, HOUR, NOW, STASH_SEED } from './fixtures.js';

const payload = (why = 'used by t'): Claim => ({ cls: 'payload', why });
const client = (why = 'in the watched folder'): Claim => ({ cls: 'client', why });
const inProgress = (why = 'downloading'): Claim => ({ cls: 'in-progress', why });
const unknown = (why = 'file list unknown'): Claim => ({ cls: 'unknown', why });

describe.each([false, true])('nearest claim (memo %s)', (memo) => {
  const claims = (entries: [string, Claim][]): NearestClaims => {
    const c = new NearestClaims({ memo });
    for (const [p, claim] of entries) c.set(p, claim);
    return c;
  };

  it('nothing claimed: null, up to the filesystem root', () => {
    const c = claims([]);
    expect(c.above('/a/b')).toBeNull();
    expect(c.of('/a/b/f')).toBeNull();
    expect(c.of('/')).toBeNull();
    expect(c.size).toBe(0);
  });

  it('a payload inside a client folder is payload; a client folder inside a payload is the client’s', () => {
    const c = claims([
      ['/s/watch', client()],
      ['/s/watch/Movie', payload()],
      ['/s/Show', payload()],
      ['/s/Show/.session', client('in the session folder')],
    ]);
    expect(c.of('/s/watch/new.torrent')?.cls).toBe('client');
    expect(c.of('/s/watch/Movie/m.mkv')?.cls).toBe('payload');
    expect(c.of('/s/watch/Movie/sub/deep/m.srt')?.cls).toBe('payload');
    expect(c.of('/s/Show/e1.mkv')?.cls).toBe('payload');
    expect(c.of('/s/Show/.session/x.torrent')).toEqual(client('in the session folder'));
    expect(c.of('/s/other/x')).toBeNull();
    // A name that only starts like a claimed folder is not under it.
    expect(c.of('/s/watcher/x')).toBeNull();
    expect(c.above('/s/watch')?.cls).toBe('client');
    expect(c.above('/s')).toBeNull();
  });

  it('nested claims: the nearest one at or above wins, however many lie higher', () => {
    const c = claims([
      ['/', client('in a folder above everything')],
      ['/a', payload()],
      ['/a/b', inProgress()],
      ['/a/b/c', client()],
      ['/a/b/c/d', unknown()],
      ['/a/b/c/d/e', payload('used by e')],
    ]);
    expect(c.of('/x')?.cls).toBe('client');
    expect(c.of('/a/x')?.cls).toBe('payload');
    expect(c.of('/a/b/x')?.cls).toBe('in-progress');
    expect(c.of('/a/b/c/x')?.cls).toBe('client');
    expect(c.of('/a/b/c/d/x')?.cls).toBe('unknown');
    expect(c.of('/a/b/c/d/e/x/y')).toEqual(payload('used by e'));
    // The claim on a path itself (a one-file payload, an exact file) comes before any above it.
    expect(c.of('/a/b/c/d/e')).toEqual(payload('used by e'));
  });

  it('ties on one path: the more careful word wins whatever the order; equal ones keep the first', () => {
    const orders: Claim[][] = [
      [payload(), client(), inProgress(), unknown()],
      [unknown(), inProgress(), client(), payload()],
      [client(), payload(), unknown(), inProgress()],
    ];
    for (const order of orders) {
      const c = new NearestClaims({ memo });
      for (const [i, claim] of order.entries()) {
        c.set('/s/x', claim);
        const best = order.slice(0, i + 1).reduce((a, b) => (['payload', 'client', 'in-progress', 'unknown'].indexOf(b.cls) > ['payload', 'client', 'in-progress', 'unknown'].indexOf(a.cls) ? b : a));
        expect(c.of('/s/x/f')).toBe(best);
      }
    }
    const c = claims([['/s/x', client('first')], ['/s/x', client('second')], ['/s/x', payload()]]);
    expect(c.at('/s/x')).toEqual(client('first'));
    // A torrent's content path that IS a client folder: the client's (it writes there).
    expect(claims([['/s/w', payload()], ['/s/w', client()]]).of('/s/w/f')?.cls).toBe('client');
    expect(claims([['/s/w', client()], ['/s/w', payload()]]).of('/s/w/f')?.cls).toBe('client');
    expect(c.paths()).toEqual(['/s/x']);
  });

  it('a claim set after a lookup is seen by the next lookup', () => {
    const c = claims([['/s', client()]]);
    expect(c.of('/s/a/b/f')?.cls).toBe('client');
    c.set('/s/a', payload());
    expect(c.of('/s/a/b/f')?.cls).toBe('payload');
    c.set('/s/a/b', unknown());
    expect(c.above('/s/a/b')?.cls).toBe('unknown');
    expect(c.above('/s/a')?.cls).toBe('payload');
  });
});

// The write guard and the orphan classifier walk the same claims: where a client's own folder is nearest, the guard
// keeps the file from content decisions and the classifier calls it the client's; where a torrent's content path is
// nearest, neither does.
describe('the write guard and the orphan classifier agree on client folders', () => {
  const config = baseConfig();
  const OLD = `${BigInt(NOW - 100 * 24 * HOUR) * 1_000_000n}`;
  const toClient = (host: string) => host.replace('/stash', '/data/stash');
  function torrent(hash: string, content: string, rootless = false): SnapshotTorrent {
    const save = rootless ? content : content.slice(0, content.lastIndexOf('/'));
    return {
      client: 'default', hash, name: content.slice(content.lastIndexOf('/') + 1), category: '', tags: [], tracker: null,
      phase: 'seeding', rawState: 'stalledUP', running: true, progress: 1, amountLeft: 0, size: 1, autoTmm: false,
      addedOn: null, completionOn: null, seedingTimeSec: 0, clientSavePath: toClient(save), clientContentPath: toClient(content),
      clientDownloadPath: '', hostContentPath: content, unmappedReason: null, files: null, listingDigest: 'd', syncedAt: NOW - HOUR,
    };
  }
  function verdicts(folders: ClientFolder[], torrents: SnapshotTorrent[], lists: Record<string, { name: string; size: number }[]>, paths: string[]) {
    const clients = { default: { syncedAt: NOW - HOUR, failedAt: null, failure: null, ownFolders: folders } };
    const snapshot = { ...new SnapshotBuilder(config).build(), torrents, clients };
    const guard = clientWriteGuard(config, snapshot);
    const c = orphanClassifier({
      config, now: NOW, roots: snapshot.roots, torrents, clients, lastSyncAt: NOW - HOUR, fsName: () => 'stash',
      fileCount: (t) => lists[t.hash]?.length ?? 1, torrentFiles: (t) => lists[t.hash] ?? [],
    });
    return paths.map((p, i) => ({ path: p, guard: guard(p), cls: c.file({ fsId: 1, path: p, ino: 100 + i, size: 10, mtimeNs: OLD, nlink: 1 }, STASH_SEED, null) }));
  }

  it('a payload in a client folder, a client folder in a payload', () => {
    const watch = `${STASH_SEED}/watch`;
    const show = `${STASH_SEED}/Show`;
    const v = verdicts(
      [{ role: 'watch', path: watch }, { role: 'session', path: `${show}/.session` }],
      [torrent('a', `${watch}/Movie`), torrent('b', show)],
      {},
      [`${watch}/new.torrent`, `${watch}/Movie/m.mkv`, `${show}/e1.mkv`, `${show}/.session/x.torrent`],
    );
    expect(v.map((x) => x.cls)).toEqual(['client', 'payload', 'payload', 'client']);
    expect(v.map((x) => x.guard === null)).toEqual([false, true, true, false]);
    expect(v[0]!.guard).toBe(`${watch}/new.torrent lies in the watched folder of client "default", which the client writes itself`);
  });

  it("a torrent whose content path is a client folder itself: the client's (the guard let such files be linked)", () => {
    // e.g. qBittorrent told to copy its .torrent files into a torrent's own folder.
    const folder = `${STASH_SEED}/movies/One.2020`;
    const v = verdicts([{ role: 'torrent-copies', path: folder }], [torrent('a', folder)], {}, [`${folder}/one.mkv`, `${folder}/abc.torrent`]);
    expect(v.map((x) => x.cls)).toEqual(['client', 'client']);
    expect(v.map((x) => x.guard)).toEqual([
      `${folder}/one.mkv lies in the folder of .torrent copies of client "default", which the client writes itself`,
      `${folder}/abc.torrent lies in the folder of .torrent copies of client "default", which the client writes itself`,
    ]);
  });

  it("a torrent without a root folder claims only its own files: a stray file beside them in a client folder is the client's (the guard let it be linked)", () => {
    const incomplete = `${STASH_SEED}/incomplete`;
    const save = `${incomplete}/loose`;
    const v = verdicts([{ role: 'incomplete', path: incomplete }], [torrent('r', save, true)], { r: [{ name: 'l1.bin', size: 10 }] }, [`${save}/stray.bin`, `${save}/l1.bin`]);
    expect(v.map((x) => x.cls)).toEqual(['client', 'payload']);
    expect(v[0]!.guard).toBe(`${save}/stray.bin lies in the incomplete-downloads folder of client "default", which the client writes itself`);
    // Its own files: payload to the classifier, which reads its file list; the guard has none at hand and keeps them
    // out of content decisions too (the careful reading).
    expect(v[1]!.guard).toBe(`${save}/l1.bin lies in the incomplete-downloads folder of client "default", which the client writes itself`);
  });
});
