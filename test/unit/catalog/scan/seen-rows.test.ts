// The deletion pass's record of the rows a walk saw: exact at every bit boundary, for bitmap and set alike.
import { describe, expect, it } from 'vitest';
import { isVanished } from '../../../../src/catalog/scan/decide.js';
import { SeenRows } from '../../../../src/catalog/scan/deletions.js';

describe('SeenRows', () => {
  it.each([
    ['bitmap', 1_000],
    ['set (past 2^30 ids)', 2 ** 31 + 5],
  ])('%s: holds exactly the ids added, never one above the mark', (_kind, maxId) => {
    const seen = new SeenRows(maxId);
    const added = [1, 7, 8, 9, 15, 16, 255, 256, maxId - 1, maxId];
    for (const id of added) seen.add(id);
    seen.add(maxId + 1);
    seen.add(0);
    for (const id of [...added, 2, 6, 10, 14, 17, 254, 257, maxId - 2, maxId + 1, 0]) expect([id, seen.has(id)]).toEqual([id, added.includes(id)]);
    // A row older than the scan and not seen is vanished; one seen, or inserted by the scan, is not.
    expect(isVanished(10, seen, maxId)).toBe(true);
    expect(isVanished(9, seen, maxId)).toBe(false);
    expect(isVanished(maxId + 1, seen, maxId)).toBe(false);
  });
});
