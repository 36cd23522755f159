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
    expect(gate.claim(100, 1, 20n, 'a')).toEqual({ read: false, letGo: [] });
    expect(gate.claim(100, 1, 20n, 'a-link')).toEqual({ read: false, letGo: [] }); // a second link of the same inode
    expect(gate.claim(100, 1, 21n, 'b')).toEqual({ read: true, release: ['a', 'a-link'] });
    expect(gate.claim(700, 1, 30n, 'c')).toEqual({ read: true, release: [] });
    // The catalog row of size 500 is the same inode as this file (renamed): held, never shared with itself.
    expect(gate.claim(500, 1, 10n, 'renamed')).toEqual({ read: false, letGo: [] });
    expect(gate.claim(900, 1, 31n, 'alone')).toEqual({ read: false, letGo: [] });
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
    expect(gate.claim(4096, 3, big, 'same')).toEqual({ read: false, letGo: [] });
    expect(gate.claim(4096, 3, big + 1n, 'other')).toEqual({ read: true, release: ['same'] });
    const small = new SizeGate<string>(() => [[1, 4095, 2 ** 40 - 1]]);
    expect(small.claim(1, 4095, 2n ** 40n - 1n, 'x')).toEqual({ read: false, letGo: [] });
  });

  it("after the walk it names each row's standing and lists the shared sizes in order", () => {
    const gate = new SizeGate<string>(() => [
      [300, 1, 1],
      [300, 1, 2],
      [100, 1, 3],
    ]);
    expect(gate.sharedSizes()).toEqual([]); // nothing loaded before the first question
    expect(gate.claim(200, 1, 4n, 'a')).toEqual({ read: false, letGo: [] });
    expect(gate.claim(50, 1, 5n, 'b')).toEqual({ read: false, letGo: [] });
    expect(gate.claim(50, 1, 6n, 'c')).toEqual({ read: true, release: ['b'] });
    expect(gate.sharedSizes()).toEqual([50, 300]);
    expect([gate.standing(300, 1, 9), gate.standing(200, 1, 4), gate.standing(200, 1, 7), gate.standing(999, 1, 4)]).toEqual(['shared', 'owner', 'other', 'unknown']);
    expect([gate.shares(200, 1, 4), gate.shares(200, 1, 7), gate.shares(50, 1, 5)]).toEqual([false, true, true]);
  });

  it('keeps at most maxHeld files held: the oldest are let go (named once), a size shared later releases only what is still held', () => {
    const gate = new SizeGate<string>(() => [], 2);
    expect(gate.claim(10, 1, 1n, 'a')).toEqual({ read: false, letGo: [] });
    expect(gate.claim(20, 1, 2n, 'b')).toEqual({ read: false, letGo: [] });
    expect(gate.claim(20, 1, 2n, 'b-link')).toEqual({ read: false, letGo: ['a'] });
    expect(gate.claim(30, 1, 3n, 'c')).toEqual({ read: false, letGo: ['b', 'b-link'] });
    // a's size is shared now: a was let go (recorded unhashed: read after the walk), nothing to release.
    expect(gate.claim(10, 1, 4n, 'a2')).toEqual({ read: true, release: [] });
    expect(gate.shares(10, 1, 1)).toBe(true);
    // c is still held and is released with its twin; what is held stays bounded through releases.
    expect(gate.claim(30, 1, 5n, 'c2')).toEqual({ read: true, release: ['c'] });
    expect(gate.claim(40, 1, 6n, 'd')).toEqual({ read: false, letGo: [] });
    expect(gate.claim(50, 1, 7n, 'e')).toEqual({ read: false, letGo: [] });
    expect(gate.claim(60, 1, 8n, 'f')).toEqual({ read: false, letGo: ['d'] });
    // A let-go inode seen again by another link is held anew.
    expect(gate.claim(40, 1, 6n, 'd-link')).toEqual({ read: false, letGo: ['e'] });
    expect(gate.endRoot().sort()).toEqual(['d-link', 'f']);
    expect(gate.sharedSizes()).toEqual([10, 30]);
  });

  it('holds thousands past the bound without losing count: every file is either let go, released or handed back once', () => {
    const gate = new SizeGate<number>(() => [], 100);
    const seen: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      // every 7th file shares the size of the file 3 before it (near: still held) or 5,000 before it (let go by then)
      const size = i % 7 === 6 ? (i % 2 === 0 ? i - 3 : i - 5_000) : i;
      const c = gate.claim(size, 1, BigInt(i), i);
      if (c.read) seen.push(...c.release, i);
      else seen.push(...c.letGo);
    }
    seen.push(...gate.endRoot());
    expect(seen.length).toBe(20_000);
    expect(new Set(seen).size).toBe(20_000);
  });

  it('hash-all: nothing is held; sizes this scan read make unhashed rows of the same size readable', () => {
    const gate = new SizeGate<string>(null);
    gate.note(100, 1, 5n);
    expect(gate.shares(100, 1, 6)).toBe(true);
    expect(gate.shares(100, 1, 5)).toBe(false);
    expect(gate.shares(200, 1, 6)).toBe(false);
  });
});
