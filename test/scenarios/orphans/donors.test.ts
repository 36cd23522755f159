// `hashall dupes --trees` donors on a real tmpfs and a real qBittorrent: an orphan tree holding exactly a torrent's payload (a cross-seed whose torrent was removed) is reported as a donor; other orphans are not; nothing changes on disk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { qbtSandboxes } from '../../../src/sandbox/qbt-sandbox.js';
import { payloadHashOf } from '../../support/apply-fixture.js';
import { buildOrphanFixture, contentTree, type OrphanFixture } from './orphan-fixture.js';

const qbts = qbtSandboxes();
let w: OrphanFixture;

beforeAll(async () => {
  w = await buildOrphanFixture(qbts);
}, 120_000);
afterAll(async () => {
  await w?.stop();
  await qbts.stopAll();
});

interface DonorJson {
  trees: { treeHash: string; copies: { path: string; sameInodesAs: string | null }[] }[];
  donors: { proven: boolean; blockers: string[]; donors: { fs: string; path: string; files: number; bytes: number; treeHash: string; torrents: { client: string; hash: string; name: string; contentPath: string; fs: string }[] }[] };
}

describe('dupes --trees donors', () => {
  it('an orphan copy of a seeding payload is a donor naming the torrents; the other orphans are not; nothing is changed', async () => {
    // What a removed cross-seed torrent leaves: its own copy (new inodes) of a payload another torrent still seeds.
    const seeded = path.join(w.movies, 'Cross.Movie.2021');
    const donor = path.join(w.movies, 'Cross.Movie.2021.REMOVED-XS');
    mkdirSync(donor);
    for (const f of ['cm.mkv', 'cm.nfo']) writeFileSync(path.join(donor, f), readFileSync(path.join(seeded, f)));
    const before = contentTree(w.stash);
    expect((await w.hashall('scan')).code).toBe(0);
    const sync = await w.hashall('sync');
    expect(sync.code, sync.stderr).toBe(0);
    const r = await w.hashall('dupes', '--trees', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as DonorJson;
    expect(out.donors.proven, out.donors.blockers.join('; ')).toBe(true);
    expect(out.donors.donors.map((d) => d.path)).toEqual([donor]);
    const d = out.donors.donors[0]!;
    expect(d).toMatchObject({ fs: 'stash', files: 2, bytes: 22_500, treeHash: payloadHashOf(seeded) });
    // Both torrents seeding that content (the original and its hardlinked cross-seed) are named, with where they are.
    expect(d.torrents.map((t) => t.name).sort()).toEqual(['Cross Movie 2021 [linked]', 'Cross.Movie.2021']);
    expect(d.torrents.find((t) => t.name === 'Cross.Movie.2021')).toMatchObject({ contentPath: seeded, fs: 'stash' });
    // A torrent is (instance, info-hash): each names its client instance, in JSON and in the text.
    expect(d.torrents.map((t) => t.client)).toEqual(['default', 'default']);
    // The tree group has the seeded folder, its hardlinked cross-seed view and the donor copy.
    const g = out.trees.find((t) => t.treeHash === d.treeHash)!;
    expect(g.copies.map((c) => path.basename(c.path)).sort()).toEqual(['Cross Movie 2021 [linked]', 'Cross.Movie.2021', 'Cross.Movie.2021.REMOVED-XS']);
    const text = await w.hashall('dupes', '--trees');
    expect(text.stdout).toMatch(/donor stash: .*Cross\.Movie\.2021\.REMOVED-XS \(22\.0 KiB, 2 file\(s\), no torrent uses it\) holds the payload of\n/);
    expect(text.stdout).toMatch(/1 donor\(s\)/);
    const seededHash = d.torrents.find((t) => t.name === 'Cross.Movie.2021')!.hash;
    expect(text.stdout).toContain(`  Cross.Movie.2021 (default/${seededHash.slice(0, 8)}) at ${seeded} on stash\n`);
    expect(contentTree(w.stash)).toEqual(before);
  });
});
