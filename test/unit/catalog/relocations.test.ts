// The relocations table's writes: one open relocation per move, a move back closes the move the other way, and a repoint made again restarts the observation window.
import { describe, expect, it } from 'vitest';
import { recordRelocation, type NewRelocation } from '../../../src/catalog/relocations.js';
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
