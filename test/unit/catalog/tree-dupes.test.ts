// `hashall dupes --trees` on two real tmpfs: duplicate folder trees within and across filesystems by the payload-hash formula, hardlinked views told apart, subfolders of duplicates not repeated, unhashed folders not compared.
import { afterEach, describe, expect, it } from 'vitest';
import { linkSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { bytesFor, hashTreeSync, makeApplyFixture, payloadHashOf, writeTree, writeFixtureConfig, type ApplyFixture } from '../../support/apply-fixture.js';
import { runCli } from '../../support/cli.js';

let w: ApplyFixture;
afterEach(() => w?.cleanup());

interface TreesJson {
  trees: { treeHash: string; files: number; bytes: number; filesystems: string[]; reclaimableBytes: number; copies: { fsName: string; path: string; sameInodesAs: string | null }[] }[];
  reclaimableBytes: number;
  unhashedDirs: number;
  donors: { proven: boolean; blockers: string[]; donors: unknown[] };
}

const A = { 'a.mkv': bytesFor('tree-a', 50_000), 'sub/b.srt': bytesFor('tree-b', 700), 'sub/deep/c.nfo': bytesFor('tree-c', 90) };

function config(): string {
  return writeFixtureConfig(w, [`libraries: [${path.join(w.stash, 'library')}]`]);
}

describe('dupes --trees', () => {
  it('finds a tree copied within stash and across to pool, tells a hardlinked view apart, and reports only the top-most folders', async () => {
    w = makeApplyFixture();
    const orig = path.join(w.stash, 'seeding', 'movies', 'Movie.2020');
    writeTree(orig, A);
    writeTree(path.join(w.stash, 'seeding', 'cross-seed', 'Movie 2020 [copy]'), A); // same content, new inodes, same fs
    writeTree(path.join(w.pool, 'seeding', 'movies', 'Movie.2020'), A); // the same on the other filesystem
    const view = path.join(w.stash, 'library', 'Movie (2020)');
    for (const rel of Object.keys(A)) {
      mkdirSync(path.dirname(path.join(view, rel)), { recursive: true });
      linkSync(path.join(orig, rel), path.join(view, rel)); // a hardlinked view: the same inodes
    }
    writeTree(path.join(w.stash, 'seeding', 'movies', 'Other'), { 'a.mkv': bytesFor('tree-a', 50_000), 'x.bin': bytesFor('x', 10) }); // not the same tree
    writeTree(path.join(w.stash, 'seeding', 'movies', 'Alone'), { 'z.bin': bytesFor('alone', 100) });
    const cfg = config();
    const scan = await runCli(['scan', '--config', cfg]);
    expect(scan.code, scan.stderr).toBe(0);
    const r = await runCli(['dupes', '--trees', '--json', '--config', cfg]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as TreesJson;
    expect(out.trees).toHaveLength(1); // the subfolders (sub, sub/deep) of the duplicates are not repeated
    const g = out.trees[0]!;
    // The tree hash is the payload hash of the folder (the same formula over its files).
    expect(g.treeHash).toBe(payloadHashOf(orig));
    expect(g).toMatchObject({ files: 3, bytes: 50_790, filesystems: ['stash', 'pool'] });
    expect(g.copies.map((c) => [c.fsName, path.relative(w.root, c.path), c.sameInodesAs && path.relative(w.root, c.sameInodesAs)]).sort()).toEqual(
      [
        ['pool', 'pool/seeding/movies/Movie.2020', null],
        ['stash', 'stash/library/Movie (2020)', null],
        ['stash', 'stash/seeding/cross-seed/Movie 2020 [copy]', null],
        ['stash', 'stash/seeding/movies/Movie.2020', 'stash/library/Movie (2020)'],
      ].sort(),
    );
    // Within stash two distinct copies (the view shares its inodes with the original): one is reclaimable.
    expect(g.reclaimableBytes).toBe(50_790);
    // x.bin and z.bin have sizes no other file has: the default scan (scan.hash: shared-sizes) leaves them unhashed, so
    // their folders (Other, Alone) and movies/ above them are not compared — unknown, never taken for unique trees.
    expect(out.unhashedDirs).toBe(3);
    // Without a client no orphan is proven, so no donor is reported, and the output says why.
    expect(out.donors).toMatchObject({ proven: false, donors: [] });
    const text = await runCli(['dupes', '--trees', '--config', cfg]);
    expect(text.stdout).toMatch(/^tree 49\.6 KiB in 3 file\(s\) × 4 on stash, pool, reclaimable 49\.6 KiB tree:[0-9a-f]{16}\n/);
    expect(text.stdout).toMatch(/\(the same inodes as .*library\/Movie \(2020\)\)/);
    expect(text.stdout).toMatch(/donors: none reported — no orphan is proven while: /);
    expect(hashTreeSync(orig)).toEqual(hashTreeSync(path.join(w.pool, 'seeding', 'movies', 'Movie.2020'))); // read-only: nothing changed
  });

  it('a folder whose files lack a full SHA-256 is not compared (counted, and said how to hash it)', async () => {
    w = makeApplyFixture();
    writeTree(path.join(w.stash, 'seeding', 'movies', 'M1'), A);
    writeTree(path.join(w.pool, 'seeding', 'movies', 'M1'), A);
    writeTree(path.join(w.stash, 'library'), { 'l.bin': bytesFor('lib', 10) });
    const cfg = config();
    const scan = await runCli(['scan', '--quick-only', '--config', cfg]);
    expect(scan.code, scan.stderr).toBe(0);
    const out = JSON.parse((await runCli(['dupes', '--trees', '--json', '--config', cfg])).stdout) as TreesJson;
    expect(out.trees).toEqual([]);
    expect(out.unhashedDirs).toBeGreaterThanOrEqual(6);
    const text = await runCli(['dupes', '--trees', '--config', cfg]);
    expect(text.stdout).toMatch(/folder\(s\) not compared \(files not hashed yet: `hashall scan --hash-all`\)/);
  });
});
