// insideRootsTest (the reader's question of where a donor may lie) answers exactly as insideRoots does, path for path.
import { describe, expect, it } from 'vitest';
import type { SnapshotRoot } from '../../../src/domain/snapshot.js';
import { insideRootsOf, insideRootsTest } from '../../../src/plan/snapshot-index.js';

const root = (path: string, kind: SnapshotRoot['kind'] = 'seeding'): SnapshotRoot => ({ path, kind, fsName: null, fsId: 1, lastScanAt: 1 });

const paths = [
  '/',
  '/srv',
  '/srv/stash',
  '/srv/stash/seeding',
  '/srv/stash/seeding/a',
  '/srv/stash/seeding/a/b.mkv',
  '/srv/stash/seeding/a/b.mkv/',
  '/srv/stash/seeding/./a',
  '/srv/stash/seeding/../x/a',
  '/srv/stash/seeding//a',
  '/srv/stash/seeding/.hidden/a',
  '/srv/stash/seedingX/a',
  '/srv/stash/movies',
  '/srv/stash/movies/Film (2020)/film.mkv',
  '/srv/stash/movies/nested/seeding/a',
  '/srv/pool/archive/a/b.mkv',
  '/srv/pool/seeding/a/b.mkv',
  '/srv/pool/seeding',
  'relative/a',
  '',
];

describe('insideRootsTest', () => {
  const sets: SnapshotRoot[][] = [
    [],
    [root('/srv/stash/seeding'), root('/srv/pool/seeding'), root('/srv/stash/movies', 'library')],
    [root('/srv/stash'), root('/srv/stash/seeding'), root('/srv/stash/movies/nested/seeding')],
    [root('/')],
    [root('/srv/stash/seeding/'), root('/srv/pool/./seeding')],
  ];
  for (const [i, roots] of sets.entries()) {
    it(`answers as insideRootsOf for root set ${i}, asked twice (answers kept per folder)`, () => {
      const test = insideRootsTest(roots);
      for (let round = 0; round < 2; round++) for (const p of paths) expect([p, test(p)]).toEqual([p, insideRootsOf(roots, p)]);
    });
  }
});
