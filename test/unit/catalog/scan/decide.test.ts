// The scanner's per-file decisions without a filesystem: new, unchanged, metadata changed, content changed,
// corruption never absorbed (issue 16), troubled inodes kept, and which unseen rows are gone.
import { describe, expect, it } from 'vitest';
import {
  decideFile,
  decisionPolicy,
  emptyRootSuspect,
  isShielded,
  isVanished,
  judgeReread,
  linkHashesSuffice,
  waitsForSizeGate,
  type DecisionPolicy,
  type RecordedHashes,
  type RowMeta,
  type SeenFile,
} from '../../../../src/catalog/scan/decide.js';

const file: SeenFile = { ino: 42n, size: 1000, mtimeNs: 1_600_000_000_000_000_000n, nlink: 1 };
const row = (extra: Partial<RowMeta> = {}): RowMeta => ({ id: 7, ino: 42, size: 1000, mtime_ns: '1600000000000000000', nlink: 1, status: 'active', hasQuick: true, hasSha: true, ...extra });
const recorded: RecordedHashes = { quick_hash: 'q-old', sha256: 's-old', hashed_at: 5 };
const meta: DecisionPolicy = { drift: 'metadata', fullOnNew: true };
const quick: DecisionPolicy = { drift: 'quick', fullOnNew: true };
const full: DecisionPolicy = { drift: 'full', fullOnNew: true };
const none = (): boolean => false;

describe('decideFile', () => {
  it('a path never catalogued, or catalogued as deleted, is new (hashed in full unless --quick-only)', () => {
    expect(decideFile(undefined, file, meta, none)).toEqual({ kind: 'new', full: true, mayShareLink: false });
    expect(decideFile(row({ status: 'deleted' }), file, meta, none)).toEqual({ kind: 'new', full: true, mayShareLink: false });
    expect(decideFile(undefined, file, { drift: 'metadata', fullOnNew: false }, none)).toEqual({ kind: 'new', full: false, mayShareLink: false });
  });

  it('same inode, size, mtime and links with hashes known is unchanged under drift metadata; another link count rewrites the row', () => {
    expect(decideFile(row(), file, meta, none)).toEqual({ kind: 'unchanged' });
    expect(decideFile(row({ nlink: 2 }), file, meta, none)).toEqual({ kind: 'metadata-changed' });
  });

  it('unchanged metadata is read again when a hash is missing or the drift policy asks', () => {
    expect(decideFile(row({ hasSha: false }), file, meta, none)).toEqual({ kind: 'reread', full: true });
    expect(decideFile(row({ hasSha: false }), file, { drift: 'metadata', fullOnNew: false }, none)).toEqual({ kind: 'unchanged' });
    expect(decideFile(row({ hasQuick: false, hasSha: false }), file, { drift: 'metadata', fullOnNew: false }, none)).toEqual({ kind: 'reread', full: false });
    expect(decideFile(row(), file, quick, none)).toEqual({ kind: 'reread', full: false });
    expect(decideFile(row(), file, full, none)).toEqual({ kind: 'reread', full: true });
  });

  it('size-first: only where full hashes are wanted and not everything is re-read; a new file waits for the size gate, an unchanged unhashed row stays as it is', () => {
    const sf = decisionPolicy('metadata', false, 'shared-sizes');
    expect(sf.sizeFirst).toBe(true);
    expect(decisionPolicy('full', false, 'shared-sizes').sizeFirst).toBe(false);
    expect(decisionPolicy('metadata', true, 'shared-sizes').sizeFirst).toBe(false);
    expect(decisionPolicy('metadata', false, 'all').sizeFirst).toBe(false);
    expect(waitsForSizeGate(decideFile(undefined, file, sf, none), sf)).toBe(true);
    expect(waitsForSizeGate(decideFile(row({ ino: 43 }), file, sf, none), sf)).toBe(true);
    const unhashed = row({ hasQuick: false, hasSha: false });
    expect(decideFile(unhashed, file, sf, none)).toEqual({ kind: 'unchanged' });
    expect(decideFile(row({ ...unhashed, nlink: 2 }), file, sf, none)).toEqual({ kind: 'metadata-changed' });
    expect(decideFile(row({ hasSha: false }), file, decisionPolicy('quick', false, 'shared-sizes'), none)).toEqual({ kind: 'reread', full: false });
    // Hashed rows, --quick-only and hash-all policies are decided as before.
    expect(decideFile(row(), file, sf, none)).toEqual({ kind: 'unchanged' });
    expect(decideFile(unhashed, file, decisionPolicy('metadata', false, 'all'), none)).toEqual({ kind: 'reread', full: true });
    expect(decideFile(unhashed, file, decisionPolicy('full', false, 'shared-sizes'), none)).toEqual({ kind: 'reread', full: true });
    expect(waitsForSizeGate(decideFile(undefined, file, meta, none), meta)).toBe(false);
    expect(waitsForSizeGate(decideFile(undefined, file, decisionPolicy('metadata', true, 'shared-sizes'), none), decisionPolicy('metadata', true, 'shared-sizes'))).toBe(false);
  });

  it('another inode, size or mtime is a content change that ends the open problem of the old inode only', () => {
    expect(decideFile(row({ size: 999 }), file, meta, none)).toEqual({ kind: 'content-changed', full: true, mayShareLink: false, endsProblemOf: null });
    expect(decideFile(row({ mtime_ns: '1' }), file, meta, (ino) => ino === 42)).toEqual({ kind: 'content-changed', full: true, mayShareLink: false, endsProblemOf: 42 });
    expect(decideFile(row({ ino: 41 }), file, meta, (ino) => ino === 42)).toMatchObject({ kind: 'content-changed', endsProblemOf: null });
  });

  it('a hardlink may share a known link hashes, never under drift full, and only with a full hash when one is wanted', () => {
    const linked = { ...file, nlink: 3 };
    expect(decideFile(undefined, linked, meta, none)).toMatchObject({ kind: 'new', mayShareLink: true });
    expect(decideFile(undefined, linked, full, none)).toMatchObject({ kind: 'new', mayShareLink: false });
    expect(linkHashesSuffice({ quick_hash: 'q', sha256: null, hashed_at: null }, meta)).toBe(false);
    expect(linkHashesSuffice({ quick_hash: 'q', sha256: null, hashed_at: null }, { drift: 'metadata', fullOnNew: false })).toBe(true);
    expect(linkHashesSuffice(recorded, meta)).toBe(true);
  });
});

describe('judgeReread', () => {
  it('same size and mtime but another quick hash is corruption: escalated to a full read, then recorded, never absorbed', () => {
    expect(judgeReread(recorded, { quickHash: 'q-new', sha256: null }, quick, false, 9)).toEqual({ kind: 'escalate' });
    expect(judgeReread(recorded, { quickHash: 'q-new', sha256: 's-new' }, quick, false, 9, true)).toEqual({ kind: 'corrupted', found: 's-new' });
    // Quick hashes only (--quick-only): no escalation, still corruption.
    expect(judgeReread(recorded, { quickHash: 'q-new', sha256: null }, { drift: 'quick', fullOnNew: false }, false, 9)).toEqual({ kind: 'corrupted', found: null });
  });

  it('drift full compares the full hash: another SHA-256 is corruption even with the same quick hash', () => {
    expect(judgeReread(recorded, { quickHash: 'q-old', sha256: 's-new' }, full, false, 9)).toEqual({ kind: 'corrupted', found: 's-new' });
    expect(judgeReread(recorded, { quickHash: 'q-old', sha256: 's-old' }, full, false, 9)).toEqual({ kind: 'confirmed', quick: 'q-old', sha: 's-old', hashedAt: 9 });
  });

  it('content as recorded is confirmed; a missing full hash is filled in, and a quick-only read keeps the recorded one', () => {
    expect(judgeReread({ quick_hash: 'q-old', sha256: null, hashed_at: null }, { quickHash: 'q-old', sha256: 's' }, meta, false, 9)).toEqual({ kind: 'confirmed', quick: 'q-old', sha: 's', hashedAt: 9 });
    expect(judgeReread(recorded, { quickHash: 'q-old', sha256: null }, quick, false, 9)).toEqual({ kind: 'confirmed', quick: 'q-old', sha: 's-old', hashedAt: 5 });
  });

  it('an inode with an open problem keeps its recorded hashes whatever the read says', () => {
    expect(judgeReread(recorded, { quickHash: 'q-old', sha256: 's-other' }, meta, true, 9)).toEqual({ kind: 'kept' });
    expect(judgeReread(recorded, { quickHash: 'q-old', sha256: 's-new' }, full, true, 9)).toEqual({ kind: 'corrupted', found: 's-new' });
  });

  it('a failed read or a file that changed while read yields no hashes', () => {
    expect(judgeReread(recorded, { error: { code: 'EIO', message: 'x' } }, full, false, 9)).toEqual({ kind: 'unreadable' });
    expect(judgeReread(recorded, { changed: true }, quick, false, 9)).toEqual({ kind: 'unreadable' });
  });
});

describe('vanished rows', () => {
  it('only rows older than the scan and not seen are gone, and none inside an unread directory or another mount', () => {
    const seen = new Set([1, 3]);
    expect([1, 2, 3, 4, 11].filter((id) => isVanished(id, seen, 10))).toEqual([2, 4]);
    expect(isShielded('a/locked/f', ['a/locked'])).toBe(true);
    expect(isShielded('a/locked2/f', ['a/locked'])).toBe(false);
    expect(isShielded('a/f', [])).toBe(false);
  });

  it('an empty root the catalog knows files under is suspect (unmounted), an empty root it knows nothing under is not', () => {
    expect(emptyRootSuspect(0, 3)).toBe(true);
    expect(emptyRootSuspect(0, 0)).toBe(false);
    expect(emptyRootSuspect(1, 3)).toBe(false);
  });
});
