// Pure planner: files in a client's own folders (session, .torrent copies, watched, incomplete) are never linked by dedupe nor taken as donors — the client writes them.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/plan/build.js';
import type { Plan, PlanGroup } from '../../../src/plan/types.js';
import type { CatalogSnapshot, SnapshotClientState } from '../../../src/domain/snapshot.js';
import { SnapshotBuilder, baseConfig, rule, movieFiles, NOW, HOUR, STASH_SEED, POOL_SEED } from './fixtures.js';

const dedupeOn = () => baseConfig({ dedupe: { filesystems: ['stash'], minSize: 0 } });
const links = (g: PlanGroup) => g.steps.flatMap((s) => (s.kind === 'dedupe-link' ? [s.keeper.path, s.duplicate.path] : []));
const SESSION = `${STASH_SEED}/.rtorrent-session`;

function planWith(b: SnapshotBuilder, clients: Record<string, SnapshotClientState>): Plan {
  const snapshot: CatalogSnapshot = { ...b.build(), clients };
  return buildPlan({ config: b.config, snapshot, now: b.now, createdAt: new Date(b.now).toISOString() });
}

const synced = (ownFolders: SnapshotClientState['ownFolders']): Record<string, SnapshotClientState> => ({
  default: { syncedAt: NOW - HOUR, failedAt: null, failure: null, ownFolders },
});

describe('client folders in content decisions', () => {
  it('dedupe never links a file in a client folder (rTorrent rewrites its session files): the rest of the group still links', () => {
    const b = new SnapshotBuilder(dedupeOn());
    b.file(`${SESSION}/abc.torrent`, 5000, 't');
    b.file(`${STASH_SEED}/a/abc.torrent`, 5000, 't');
    b.file(`${STASH_SEED}/b/abc.torrent`, 5000, 't');
    const d = planWith(b, synced([{ role: 'session', path: SESSION }])).groups.find((g) => g.key.startsWith('dedupe:'))!;
    expect(d.action).toBe('dedupe');
    expect(links(d)).toEqual([`${STASH_SEED}/a/abc.torrent`, `${STASH_SEED}/b/abc.torrent`]);
    expect(d.reasons.join('\n')).toContain(`not linked: ${SESSION}/abc.torrent lies in the session folder of client "default", which the client writes itself`);
  });

  it('a pair whose one side lies in a client folder is blocked', () => {
    const b = new SnapshotBuilder(dedupeOn());
    b.file(`${SESSION}/abc.torrent`, 5000, 't');
    b.file(`${STASH_SEED}/a/abc.torrent`, 5000, 't');
    const p = planWith(b, synced([{ role: 'session', path: SESSION }]));
    expect(p.summary.dedupe).toBe(0);
    expect(p.groups.find((g) => g.key.startsWith('dedupe:'))!.action).toBe('blocked');
  });

  it("a complete torrent's payload inside a client folder is still payload: linked as before", () => {
    const b = new SnapshotBuilder(dedupeOn());
    const folder = `${STASH_SEED}/movies`; // e.g. qBittorrent told to copy .torrent files into the save folder itself
    b.payload(`${folder}/One.2020`, [{ rel: 'x.mkv', size: 5000, content: 'x' }]).torrent({ hash: '1'.repeat(40), content: `${folder}/One.2020` });
    b.file(`${STASH_SEED}/other/x.mkv`, 5000, 'x');
    const d = planWith(b, synced([{ role: 'torrent-copies', path: folder }])).groups.find((g) => g.key.startsWith('dedupe:'))!;
    expect(d.action).toBe('dedupe');
    expect(links(d).sort()).toEqual([`${STASH_SEED}/movies/One.2020/x.mkv`, `${STASH_SEED}/other/x.mkv`]);
  });

  it('a client synced by a hashall that did not ask for its folders proves nothing: blocked until the next sync', () => {
    const b = new SnapshotBuilder(dedupeOn());
    b.file(`${STASH_SEED}/a/x.mkv`, 5000, 'x');
    b.file(`${STASH_SEED}/b/x.mkv`, 5000, 'x');
    const d = planWith(b, synced(null)).groups.find((g) => g.key.startsWith('dedupe:'))!;
    expect(d.action).toBe('blocked');
    expect(d.reasons.join('\n')).toMatch(/client "default" was last synced by a hashall that did not ask which folders it writes its own files to/);
    expect(planWith(b, synced([])).groups.find((g) => g.key.startsWith('dedupe:'))!.action).toBe('dedupe');
  });

  it('a copy in a client folder on the target is never a donor: the payload is copied', () => {
    const b = new SnapshotBuilder(baseConfig({ placement: { default: 'stash', rules: [rule('old-movies', 'pool', { categories: ['movies'] })] } }));
    b.payload(`${STASH_SEED}/movies/Foo.2020`, movieFiles('Foo.2020')).torrent({ hash: 'a'.repeat(40), content: `${STASH_SEED}/movies/Foo.2020`, category: 'movies' });
    const incomplete = `${POOL_SEED}/.incomplete`;
    b.payload(`${incomplete}/Foo.2020`, movieFiles('Foo.2020'));
    const reuse = planWith(b, synced([])).groups.find((g) => g.title === 'Foo.2020')!;
    expect(reuse.action).toBe('reuse');
    const g = planWith(b, synced([{ role: 'incomplete', path: incomplete }])).groups.find((x) => x.title === 'Foo.2020')!;
    expect(g.action).toBe('move');
    expect(g.steps.map((s) => s.kind)).toEqual(['copy', 'repoint']);
  });
});
