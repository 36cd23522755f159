// The size gate alone: which files wait, which are released, what stays unhashed, and which unhashed rows must be read after the walk.
import { describe, expect, it } from 'vitest';
import { SizeGate } from '../../../../src/catalog/scan/size-gate.js';

describe('SizeGate', () => {
  it('holds a file until another inode has its size, then releases every held link of it; a size shared in the catalog is read at once', () => {
    const gate = new SizeGate<string>(() => [
      [500, 1, 10],
      [700, 1, 11],
      [700, 2, 11], // same inode number on another filesystem: another inode
    ]);
    expect(gate.used).toBe(false);
    expect(gate.claim(100, 1, 20n, 'a')).toEqual({ read: false });
    expect(gate.claim(100, 1, 20n, 'a-link')).toEqual({ read: false }); // a second link of the same inode
    expect(gate.claim(100, 1, 21n, 'b')).toEqual({ read: true, release: ['a', 'a-link'] });
    expect(gate.claim(700, 1, 30n, 'c')).toEqual({ read: true, release: [] });
    // The catalog row of size 500 is the same inode as this file (renamed): held, never shared with itself.
    expect(gate.claim(500, 1, 10n, 'renamed')).toEqual({ read: false });
    expect(gate.claim(900, 1, 31n, 'alone')).toEqual({ read: false });
    expect(gate.endRoot().sort()).toEqual(['alone', 'renamed']);
    // After the walk: unhashed rows of a shared size must be read; an inode alone with its size need not.
    expect(gate.shares(100, 1, 20)).toBe(true);
    expect(gate.shares(500, 1, 10)).toBe(false);
    expect(gate.shares(900, 1, 31)).toBe(false);
    // A later root's file of a size held by a finished root: read now, and the earlier (recorded unhashed) one after the walk.
    expect(gate.claim(900, 2, 31n, 'twin')).toEqual({ read: true, release: [] });
    expect(gate.shares(900, 1, 31)).toBe(true);
  });

  it('keys 64-bit inodes exactly (catalog numbers and walked bigints of one inode agree; neighbours do not)', () => {
    const big = 2n ** 62n + 5n;
    const gate = new SizeGate<string>(() => [[4096, 3, big]]);
    expect(gate.claim(4096, 3, big, 'same')).toEqual({ read: false });
    expect(gate.claim(4096, 3, big + 1n, 'other')).toEqual({ read: true, release: ['same'] });
    const small = new SizeGate<string>(() => [[1, 4095, 2 ** 40 - 1]]);
    expect(small.claim(1, 4095, 2n ** 40n - 1n, 'x')).toEqual({ read: false });
  });

  it("after the walk it names each row's standing and lists the shared sizes in order", () => {
    const gate = new SizeGate<string>(() => [
      [300, 1, 1],
      [300, 1, 2],
      [100, 1, 3],
    ]);
    expect(gate.sharedSizes()).toEqual([]); // nothing loaded before the first question
    expect(gate.claim(200, 1, 4n, 'a')).toEqual({ read: false });
    expect(gate.claim(50, 1, 5n, 'b')).toEqual({ read: false });
    expect(gate.claim(50, 1, 6n, 'c')).toEqual({ read: true, release: ['b'] });
    expect(gate.sharedSizes()).toEqual([50, 300]);
    expect([gate.standing(300, 1, 9), gate.standing(200, 1, 4), gate.standing(200, 1, 7), gate.standing(999, 1, 4)]).toEqual(['shared', 'owner', 'other', 'unknown']);
    expect([gate.shares(200, 1, 4), gate.shares(200, 1, 7), gate.shares(50, 1, 5)]).toEqual([false, true, true]);
  });

  it('hash-all: nothing is held; sizes this scan read make unhashed rows of the same size readable', () => {
    const gate = new SizeGate<string>(null);
    gate.note(100, 1, 5n);
    expect(gate.shares(100, 1, 6)).toBe(true);
    expect(gate.shares(100, 1, 5)).toBe(false);
    expect(gate.shares(200, 1, 6)).toBe(false);
  });
});
