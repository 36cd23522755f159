// Run ids (`20261126T014442Z-3f9a`: the second and 16 random bits) never repeat one the catalog holds: two runs in the
// same second (an apply after a killed one, a trash purge after an apply) drew the same suffix once in 65,536, and the
// second run failed with "UNIQUE constraint failed: runs.id" (seen in apply-interrupt under load).
import { describe, expect, it } from 'vitest';
import { newRunId } from '../../../src/apply/journal.js';

describe('newRunId', () => {
  it('draws again while the id is taken, and returns the first free one', () => {
    const asked: string[] = [];
    const id = newRunId(Date.UTC(2026, 10, 26, 1, 44, 42), (candidate) => {
      asked.push(candidate);
      return asked.length <= 3;
    });
    expect(asked).toHaveLength(4);
    expect(id).toBe(asked[3]);
    expect(id).toMatch(/^20261126T014442Z-[0-9a-f]{4}$/);
  });

  it('when every id of that second is taken, it says so instead of looping', () => {
    expect(() => newRunId(Date.now(), () => true)).toThrow(/no free run id/);
  });
});
