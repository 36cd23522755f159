// The relocations table's writes: one open relocation per move, a move back closes the move the other way, a repoint made again restarts the observation window, a move undone by hand is closed by the sync, and a torrent seen unhealthy on the target restarts the window.
import { describe, expect, it } from 'vitest';
import { closeUndoneRelocations, noteUnhealthyRelocations, openMoveSources, readRelocations, recordRelocation, relocationObservedSince, type NewRelocation } from '../../../src/catalog/relocations.js';
import { useQueryPlanner } from '../../support/query-plan.js';

const { catalog } = useQueryPlanner('hashall-reloc-');
const rows = () => catalog().db.prepare(`SELECT id, source_root, target_root, repointed_at, retired_at FROM relocations ORDER BY id`).all();
const move = (from: string, to: string, at: number): NewRelocation => ({
  payloadHash: 'p'.repeat(64),
  sourceFs: from.startsWith('/stash') ? 'stash' : 'pool',
  sourceRoot: from,
  targetFs: to.startsWith('/stash') ? 'stash' : 'pool',
  targetRoot: to,
  torrents: [{ client: 'qbt', hash: 'a'.repeat(40) }],
  runId: `run-${at}`,
  repointedAt: at,
});

describe('recordRelocation', () => {
  it('records a move once while it is open; recorded again (a no-op group), it changes nothing', () => {
    const db = catalog().db;
    expect(recordRelocation(db, move('/stash/A', '/pool/A', 100))).toBe(true);
    expect(recordRelocation(db, move('/stash/A', '/pool/A', 200))).toBe(false);
    expect(rows()).toEqual([{ id: 1, source_root: '/stash/A', target_root: '/pool/A', repointed_at: 100, retired_at: null }]);
  });

  it('a move back closes the open move the other way; moved out again, a new relocation is recorded', () => {
    const db = catalog().db;
    recordRelocation(db, move('/stash/B', '/pool/B', 100));
    expect(recordRelocation(db, move('/pool/B', '/stash/B', 300))).toBe(true);
    expect(recordRelocation(db, move('/stash/B', '/pool/B', 500))).toBe(true);
    expect(rows()).toEqual([
      { id: 1, source_root: '/stash/B', target_root: '/pool/B', repointed_at: 100, retired_at: 300 },
      { id: 2, source_root: '/pool/B', target_root: '/stash/B', repointed_at: 300, retired_at: 500 },
      { id: 3, source_root: '/stash/B', target_root: '/pool/B', repointed_at: 500, retired_at: null },
    ]);
  });

  it('the same move made again by a group that repointed (its torrent had been moved back by hand) restarts the observation window', () => {
    const db = catalog().db;
    recordRelocation(db, move('/stash/C', '/pool/C', 100));
    expect(recordRelocation(db, move('/stash/C', '/pool/C', 900), { repointed: true })).toBe(true);
    expect(rows()).toEqual([{ id: 1, source_root: '/stash/C', target_root: '/pool/C', repointed_at: 900, retired_at: null }]);
  });
});

describe('openMoveSources (the orphan report: a source waiting for its own retire is never an orphan)', () => {
  it('names the source of every open move once; a move retired or reverted no longer', () => {
    const db = catalog().db;
    recordRelocation(db, move('/stash/E', '/pool/E', 100));
    recordRelocation(db, move('/stash/D', '/pool/D', 100));
    expect(openMoveSources(db)).toEqual(['/stash/D', '/stash/E']);
    recordRelocation(db, move('/pool/D', '/stash/D', 300)); // moved back: D's move closed, /pool/D is now a source
    expect(openMoveSources(db)).toEqual(['/pool/D', '/stash/E']);
    db.prepare(`UPDATE relocations SET retired_at = 400 WHERE source_root = '/stash/E'`).run();
    expect(openMoveSources(db)).toEqual(['/pool/D']);
  });
});

describe('closeUndoneRelocations (the sync, after recording its torrents)', () => {
  const P = 'p'.repeat(64);
  const COLS = `client, hash, name, category, tags, raw_state, phase, running, progress, amount_left, size, auto_tmm, seeding_time, client_save_path,
    client_content_path, client_download_path, host_content_path, fs_id, data_status, payload_hash, status, first_seen, synced_at, removed_at`;
  function world(torrents: { hash: string; client?: string; at: string | null; fs?: 'stash' | 'pool'; payload?: string; status?: 'active' | 'removed'; syncedAt?: number }[], opts: { failed?: string[] } = {}) {
    const db = catalog().db;
    const fsId: Record<string, number> = {};
    for (const name of ['stash', 'pool']) {
      fsId[name] = Number(db.prepare(`INSERT INTO filesystems (uuid, dev, fs_type, source, mount_point, preferred_mount, first_seen, last_seen, name) VALUES (?, '0:1', 'tmpfs', 's', ?, ?, 1, 1, ?)`).run(`u-${name}`, `/${name}`, `/${name}`, name).lastInsertRowid);
    }
    const ins = db.prepare(`INSERT INTO torrents (${COLS}) VALUES (?, ?, 'T', '', '[]', 'stalledUP', 'seeding', 1, 1, 0, 1, 0, 0, '/d', '/d/T', '', ?, ?, 'ok', ?, ?, 1, ?, ?)`);
    // Synced (or found removed) after the move's repoint (100) unless said otherwise.
    for (const t of torrents) {
      const seen = t.syncedAt ?? 500;
      ins.run(t.client ?? 'qbt', t.hash, t.at, t.at === null ? null : fsId[t.fs ?? (t.at.startsWith('/stash') ? 'stash' : 'pool')], t.payload ?? P, t.status ?? 'active', seen, t.status === 'removed' ? seen : null);
    }
    for (const c of new Set(torrents.map((t) => t.client ?? 'qbt'))) {
      db.prepare(`INSERT INTO client_status (client, synced_at, failed_at) VALUES (?, 1, ?)`).run(c, opts.failed?.includes(c) ? 2 : null);
    }
    recordRelocation(db, { ...move('/stash/A', '/pool/A', 100), torrents: torrents.map((t) => ({ client: t.client ?? 'qbt', hash: t.hash })) });
    return { closed: closeUndoneRelocations(db, 700), rows: rows() };
  }
  const A = 'a'.repeat(40);
  const B = 'b'.repeat(40);

  it('closes the move when its torrent seeds from the source again (moved back or re-added there by hand)', () => {
    expect(world([{ hash: A, at: '/stash/A' }])).toEqual({ closed: 1, rows: [{ id: 1, source_root: '/stash/A', target_root: '/pool/A', repointed_at: 100, retired_at: 700 }] });
  });

  it('closes it when the others are known removed (their instance answered)', () => {
    expect(world([{ hash: A, at: '/stash/A' }, { hash: B, at: '/pool/A', status: 'removed' }]).closed).toBe(1);
  });

  it('closes it when the other was re-added at a third path apart from both copies', () => {
    expect(world([{ hash: A, at: '/stash/A' }, { hash: B, at: '/stash/other/A', payload: 'q'.repeat(64) }]).closed).toBe(1);
  });

  it.each([
    ['still on the target', [{ hash: A, at: '/pool/A' }]],
    ['only re-added at a third path (nothing undone: the retire planner has nothing to prove)', [{ hash: A, at: '/stash/other/A' }]],
    ['one back on the source, one on the target filesystem at another path with the moved content', [{ hash: A, at: '/stash/A' }, { hash: B, at: '/pool/other/A' }]],
    ['one back on the source, one at a path inside the target copy', [{ hash: A, at: '/stash/A' }, { hash: B, at: '/pool/A/sub', payload: 'q'.repeat(64) }]],
    ['one back on the source, one still on the target', [{ hash: A, at: '/stash/A' }, { hash: B, at: '/pool/A' }]],
    ['every torrent removed (nothing undone: the retire planner decides)', [{ hash: A, at: '/pool/A', status: 'removed' as const }]],
    ['at the source path, but the content there is not the moved payload', [{ hash: A, at: '/stash/A', payload: 'q'.repeat(64) }]],
    ['at the source path spelled on another filesystem', [{ hash: A, at: '/stash/A', fs: 'pool' as const }]],
    ['without a host path', [{ hash: A, at: null }]],
  ])('keeps it open: %s', (_what, torrents) => {
    expect(world(torrents)).toEqual({ closed: 0, rows: [{ id: 1, source_root: '/stash/A', target_root: '/pool/A', repointed_at: 100, retired_at: null }] });
  });

  it("keeps it open while a torrent's row was synced before the repoint: it says where the torrent was, not where it is", () => {
    // Seen with qBittorrent and Transmission configured: apply's re-read after a move synced qBittorrent first, whose
    // sync closed the move of the Transmission torrent because that torrent's row (not yet re-read) still named the
    // source: the move read as undone by hand, its source never to be retired and left to the orphan rules at once.
    expect(world([{ hash: A, client: 'tr', at: '/stash/A', syncedAt: 50 }]).closed).toBe(0);
  });

  it('keeps it open when a removal is not proven: the removed torrent\'s instance failed its last sync', () => {
    expect(world([{ hash: A, at: '/stash/A' }, { hash: B, client: 'tr', at: '/pool/A', status: 'removed' }], { failed: ['tr'] }).closed).toBe(0);
  });

  it('keeps it open when a torrent it moved has no row at all (unknown)', () => {
    const db = catalog().db;
    recordRelocation(db, { ...move('/stash/A', '/pool/A', 100), torrents: [{ client: 'qbt', hash: A }] });
    expect(closeUndoneRelocations(db, 700)).toBe(0);
  });
});

describe('noteUnhealthyRelocations (the sync, after recording its torrents)', () => {
  const COLS = `client, hash, name, category, tags, raw_state, phase, running, progress, amount_left, size, auto_tmm, seeding_time, client_save_path,
    client_content_path, client_download_path, host_content_path, data_status, status, first_seen, synced_at`;
  const A = 'a'.repeat(40);
  type Seen = { at: string | null; phase?: string; raw?: string; progress?: number; left?: number; client?: string; status?: 'active' | 'removed' };
  function world(t: Seen, opts: { retired?: boolean; syncOf?: string } = {}) {
    const db = catalog().db;
    db.prepare(`INSERT INTO torrents (${COLS}) VALUES (?, ?, 'Flip', '', '[]', ?, ?, 1, ?, ?, 1, 0, 0, '/d', '/d/T', '', ?, 'ok', ?, 1, 1)`).run(
      t.client ?? 'qbt', A, t.raw ?? 'stalledUP', t.phase ?? 'seeding', t.progress ?? 1, t.left ?? 0, t.at, t.status ?? 'active',
    );
    recordRelocation(db, move('/stash/A', '/pool/A', 100));
    if (opts.retired) db.prepare(`UPDATE relocations SET retired_at = 150`).run();
    const marked = noteUnhealthyRelocations(db, opts.syncOf ?? 'qbt', 700);
    return { marked, row: db.prepare(`SELECT unhealthy_at, unhealthy_what FROM relocations`).get(), since: relocationObservedSince(db, 1) };
  }

  it.each([
    ['checking', { at: '/pool/A', phase: 'checking', raw: 'checkingUP', progress: 0.4, left: 0 }, 'torrent "Flip" was checking (checkingUP)'],
    ['missing files', { at: '/pool/A', phase: 'missing-files', raw: 'missingFiles', progress: 1, left: 0 }, 'torrent "Flip" was missing-files (missingFiles)'],
    ['downloading what it lost', { at: '/pool/A', phase: 'downloading', raw: 'stalledDL', progress: 0.9, left: 500 }, 'torrent "Flip" was downloading (stalledDL, 500 bytes left)'],
    ['errored, at a path inside the target copy', { at: '/pool/A/sub', phase: 'error', raw: 'error', progress: 1, left: 0 }, 'torrent "Flip" was error (error)'],
  ])('restarts the window when the sync sees its torrent on the target %s', (_what, seen, what) => {
    expect(world(seen as Seen)).toEqual({ marked: 1, row: { unhealthy_at: 700, unhealthy_what: what }, since: 700 });
  });

  it.each([
    ['seeding there', { at: '/pool/A' }],
    ['paused complete there', { at: '/pool/A', phase: 'paused-complete', raw: 'pausedUP' }],
    ['checking somewhere else (the retire planner judges where it is)', { at: '/stash/other/A', phase: 'checking', raw: 'checkingUP', progress: 0.5 }],
    ['checking, but removed from the client', { at: '/pool/A', phase: 'checking', raw: 'checkingUP', progress: 0.5, status: 'removed' as const }],
    ['without a host path', { at: null, phase: 'checking', raw: 'checkingUP', progress: 0.5 }],
  ])('leaves the window alone: %s', (_what, seen) => {
    expect(world(seen as Seen)).toEqual({ marked: 0, row: { unhealthy_at: null, unhealthy_what: null }, since: 100 });
  });

  it('only the instance synced is looked at', () => {
    expect(world({ at: '/pool/A', phase: 'checking', raw: 'checkingUP', progress: 0.5 }, { syncOf: 'other' }).marked).toBe(0);
  });

  it('a closed move is never marked', () => {
    expect(world({ at: '/pool/A', phase: 'checking', raw: 'checkingUP', progress: 0.5 }, { retired: true }).marked).toBe(0);
  });

  it('the snapshot reads what the sync saw', () => {
    world({ at: '/pool/A', phase: 'checking', raw: 'checkingUP', progress: 0.5 });
    expect(readRelocations(catalog(), [])[0]!.unhealthy).toEqual({ at: 700, what: 'torrent "Flip" was checking (checkingUP)' });
  });
});
