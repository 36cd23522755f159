// Directories apply creates take the owner, group and mode of their source counterparts (new category folders: of the target seeding root), so a client running as uid 1000 can work there.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../../src/apply/executor.js';
import type { LinkViewStep } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, hashTreeSync, makeApplyFixture, makePlan, moveGroup, sha256, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

function own(p: string, uid: number, gid: number, mode: number): void {
  chownSync(p, uid, gid);
  chmodSync(p, mode);
}

function meta(p: string): { uid: number; gid: number; mode: string } {
  const st = lstatSync(p);
  return { uid: st.uid, gid: st.gid, mode: (st.mode & 0o7777).toString(8) };
}

/** Run `script` (CommonJS) as uid/gid 1000, like a torrent client in a container; returns its exit status and stderr. */
function asClient(script: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['-e', script], { uid: 1000, gid: 1000, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('ownership of directories apply creates', () => {
  it('copy and link-view mirror the source directories; new category folders take the target seeding root; uid 1000 can rename, add and delete there', async () => {
    w = makeApplyFixture();
    chmodSync(w.root, 0o755); // the temp dir is 0700: let uid 1000 reach the tmpfs mounts below it
    const src = path.join(w.stash, 'seeding', 'movies', 'Movie.A');
    const files = { 'a.mkv': bytesFor('a', 70_000), 'sub/b.srt': bytesFor('b', 900) };
    writeTree(src, files);
    own(path.join(w.stash, 'seeding'), 1000, 1000, 0o775);
    own(path.join(w.stash, 'seeding', 'movies'), 1000, 1000, 0o2775);
    own(src, 1000, 1001, 0o750);
    own(path.join(src, 'sub'), 1000, 1002, 0o2770);
    for (const f of Object.keys(files)) chownSync(path.join(src, f), 1000, 1000);
    const seedRoot = path.join(w.pool, 'seeding');
    mkdirSync(seedRoot);
    own(seedRoot, 1000, 1003, 0o775); // the target seeding root: `movies` and `cross-seed/trk` are new below it
    const before = hashTreeSync(src);

    const dst = path.join(seedRoot, 'movies', 'Movie.A');
    const view = path.join(seedRoot, 'cross-seed', 'trk', 'Movie.A');
    const links: LinkViewStep['links'] = Object.entries(files).map(([rel, data]) => ({ donor: path.join(dst, rel), path: path.join(view, rel), size: data.length, sha256: sha256(data) }));
    const group = moveGroup('g1', w, src, dst, [{ kind: 'link-view', fs: 'pool', torrentHash: 'b'.repeat(40), root: view, links, expected: Object.keys(files) }]);
    const res = await applyPlan(testDeps(w), makePlan(w, [group]));
    expect(res.status, JSON.stringify(res.groups)).toBe('succeeded');
    expect(hashTreeSync(dst)).toEqual(before);
    expect(hashTreeSync(view)).toEqual(before);

    const seeding = { uid: 1000, gid: 1003, mode: '775' };
    expect(meta(path.join(seedRoot, 'movies'))).toEqual(seeding);
    expect(meta(path.join(seedRoot, 'cross-seed'))).toEqual(seeding);
    expect(meta(path.join(seedRoot, 'cross-seed', 'trk'))).toEqual(seeding);
    expect(meta(dst)).toEqual({ uid: 1000, gid: 1001, mode: '750' });
    expect(meta(path.join(dst, 'sub'))).toEqual({ uid: 1000, gid: 1002, mode: '2770' });
    expect(meta(view)).toEqual({ uid: 1000, gid: 1001, mode: '750' }); // mirrors its donor directory
    expect(meta(path.join(view, 'sub'))).toEqual({ uid: 1000, gid: 1002, mode: '2770' });

    // What a client running as uid 1000 does in its directories: rename, add, delete a whole tree.
    const script = [
      `const fs = require('node:fs');`,
      `fs.renameSync(${JSON.stringify(path.join(dst, 'a.mkv'))}, ${JSON.stringify(path.join(dst, 'a.renamed.mkv'))});`,
      `fs.writeFileSync(${JSON.stringify(path.join(dst, 'sub', 'c.srt'))}, 'new');`,
      `fs.rmSync(${JSON.stringify(path.join(seedRoot, 'cross-seed', 'trk'))}, { recursive: true });`,
      `fs.mkdirSync(${JSON.stringify(path.join(seedRoot, 'movies', 'Movie.B'))});`,
    ].join('\n');
    const r = asClient(script);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(hashTreeSync(src)).toEqual(before); // the source was never touched
  });
});
