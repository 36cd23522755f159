// The three-valued external-consumer rule (consumerVerdict) on in-memory inputs: each unknown cause, and "some" wins.
import { describe, expect, it } from 'vitest';
import { consumerVerdict, type ConsumerInput } from '../../../src/catalog/consumers.js';
import type { CatalogFile } from '../../../src/domain/snapshot.js';

const file = (path: string, ino: number, nlink = 1): CatalogFile => ({ fsId: 1, path, ino, size: 10, mtimeNs: '1', nlink, sha256: 'aa' });
const SEED = '/stash/seeding';

function input(files: CatalogFile[], links: Record<number, string[]>, over: Partial<ConsumerInput> = {}): ConsumerInput {
  return { fsId: 1, files, linksOf: (f) => links[f.ino] ?? [], seedingRoots: [SEED], libraries: [{ path: '/stash/movies', fsId: 1, scanned: true }], ...over };
}

describe('consumerVerdict', () => {
  it('none when every link is inside a seeding root and link counts match', () => {
    const f = file(`${SEED}/a/x.mkv`, 5, 2);
    expect(consumerVerdict(input([f], { 5: [f.path, `${SEED}/cross/a/x.mkv`] }))).toEqual({ status: 'none', paths: [], reasons: [] });
  });
  it('some, listing the outside paths (a seeding-root prefix that is not a whole segment does not count)', () => {
    const f = file(`${SEED}/a/x.mkv`, 5, 3);
    const v = consumerVerdict(input([f], { 5: [f.path, '/stash/movies/A/x.mkv', `${SEED}-old/x.mkv`] }));
    expect(v).toEqual({ status: 'some', paths: ['/stash/movies/A/x.mkv', `${SEED}-old/x.mkv`], reasons: [] });
  });
  it('unknown when nlink exceeds the known paths, even with every library scanned', () => {
    const f = file(`${SEED}/a/x.mkv`, 5, 2);
    expect(consumerVerdict(input([f], { 5: [f.path] }))).toEqual({
      status: 'unknown',
      paths: [],
      reasons: [`${SEED}/a/x.mkv has 2 links but the catalog knows 1: a link lives outside every scanned root`],
    });
  });
  it('unknown for an unscanned library on the same or an unknown filesystem, not on another filesystem', () => {
    const f = file(`${SEED}/a/x.mkv`, 5);
    const links = { 5: [f.path] };
    expect(consumerVerdict(input([f], links, { libraries: [{ path: '/stash/shows', fsId: 1, scanned: false }] })).status).toBe('unknown');
    expect(consumerVerdict(input([f], links, { libraries: [{ path: '/gone/shows', fsId: null, scanned: false }] })).status).toBe('unknown');
    expect(consumerVerdict(input([f], links, { libraries: [{ path: '/pool/shows', fsId: 2, scanned: false }] })).status).toBe('none');
  });
  it('unknown for an empty payload, an unreadable file, and an inode changed since the scan; live nlink counts', () => {
    expect(consumerVerdict(input([], {})).reasons).toEqual(['the payload has no files in the catalog']);
    const f = file(`${SEED}/a/x.mkv`, 5);
    const links = { 5: [f.path] };
    expect(consumerVerdict(input([f], links, { live: () => ({ code: 'EACCES' }) })).reasons).toEqual([`cannot read ${f.path} (EACCES)`]);
    expect(consumerVerdict(input([f], links, { live: () => ({ ino: 6, nlink: 1 }) })).status).toBe('unknown');
    expect(consumerVerdict(input([f], links, { live: () => ({ ino: 5, nlink: 2 }) })).status).toBe('unknown');
    expect(consumerVerdict(input([f], links, { live: () => ({ ino: 5, nlink: 1 }) })).status).toBe('none');
  });
  it('names in hashall’s trash explain links, once each, and are never consumers; a link beyond them stays unknown', () => {
    const f = file(`${SEED}/a/x.mkv`, 5, 2);
    const trashed = '/stash/.hashall-trash/run-1/seeding/b/x.mkv';
    expect(consumerVerdict(input([f], { 5: [f.path] }, { trashNames: (ino) => (ino === 5 ? 1 : 0) }))).toEqual({ status: 'none', paths: [], reasons: [] });
    // One trash name, but three links: the third is somewhere nobody scanned.
    const g = file(`${SEED}/a/x.mkv`, 5, 3);
    expect(consumerVerdict(input([g], { 5: [g.path] }, { trashNames: () => 1 })).reasons).toEqual([
      `${SEED}/a/x.mkv has 3 links but the catalog knows 1 and hashall's trash holds 1: a link lives outside every scanned root`,
    ]);
    // The trash name also catalogued (a scanned root holding the trash) is counted once, and is not a consumer.
    expect(consumerVerdict(input([g], { 5: [g.path, trashed] }, { trashNames: () => 1 })).status).toBe('unknown');
    expect(consumerVerdict(input([f], { 5: [f.path, trashed] }, { trashNames: () => 1 }))).toEqual({ status: 'none', paths: [], reasons: [] });
    // Nothing counted on disk: the catalog's word alone.
    expect(consumerVerdict(input([f], { 5: [f.path] }, { trashNames: () => 0 })).status).toBe('unknown');
  });
});
