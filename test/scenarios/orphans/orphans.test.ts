// `hashall orphans` on a real tmpfs and a real qBittorrent: every layout peers' orphan cleaners got wrong finds no orphan; real orphans are found, and nothing is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { openCatalog } from '../../../src/catalog/db.js';
import { qbtSandboxes } from '../../../src/sandbox/qbt-sandbox.js';
import { buildOrphanFixture, contentTree, type OrphanFixture } from './orphan-fixture.js';

interface TreeJson {
  fs: string;
  path: string;
  kind: string;
  fileCount: number;
  bytes: number;
  freedBytes: number;
  duplicatedBytes: number;
  uniqueBytes: number;
  linkedBytes: number;
  unhashedBytes: number;
}
interface OrphansJson {
  proven: boolean;
  blockers: string[];
  trees: TreeJson[];
  totals: { fs: string; freedBytes: number }[];
  classes: { files: Record<string, number> };
  unknownSamples: { path: string; why: string }[];
}

const qbts = qbtSandboxes();
let w: OrphanFixture;
let before: Map<string, string>;

beforeAll(async () => {
  w = await buildOrphanFixture(qbts, ['dedupe: { minSize: 1 }']);
  before = everything();
}, 120_000);
afterAll(async () => {
  await w?.stop();
  await qbts.stopAll();
});

async function orphans(): Promise<OrphansJson> {
  const r = await w.hashall('orphans', '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as OrphansJson;
}

/** Every content byte on both filesystems, re-read: relative path → sha256. */
function everything(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of contentTree(w.stash)) out.set(`stash/${k}`, v);
  for (const [k, v] of contentTree(w.pool)) out.set(`pool/${k}`, v);
  return out;
}

function nothingLost(): void {
  const now = everything();
  for (const [rel, sha] of before) expect(now.get(rel), `${rel} kept its bytes`).toBe(sha);
}

describe('hashall orphans on real layouts', () => {
  it('finds exactly the real orphans: renamed root, bare single file, paused, missing files, incomplete + temp folder, cross-seed link, category path, library links, odd names are not orphans', async () => {
    // The default scan (scan.hash: shared-sizes) does not read lonely.nfo — no other file has its size: its bytes are
    // "not hashed yet", never "the only copy"; the same orphans are found (an orphan is decided by use, not content).
    expect((await w.hashall('scan')).code).toBe(0);
    expect((await w.hashall('sync')).code).toBe(0);
    const sizeFirst = await orphans();
    expect(sizeFirst.trees.map((t) => t.path).sort()).toEqual([...w.expectedOrphans].sort());
    expect(sizeFirst.trees.find((t) => t.path.endsWith('lonely.nfo'))).toMatchObject({ uniqueBytes: 0, duplicatedBytes: 0, unhashedBytes: 300 });
    expect((await w.hashall('orphans')).stdout).toMatch(/lonely\.nfo .*300 B not hashed yet/);
    // From here on the catalog holds every file's hash, as the rest of this file expects.
    const scan = await w.hashall('scan', '--hash-all');
    expect(scan.code, scan.stderr).toBe(0);
    const sync = await w.hashall('sync');
    expect(sync.code, sync.stderr).toBe(0);
    const r = await orphans();
    const paths = r.trees.map((t) => t.path).sort();
    expect(paths, JSON.stringify(r, null, 1)).toEqual([...w.expectedOrphans].sort());
    // Every torrent's data, the library-held files, the in-progress ones and the young folder are classified as such.
    expect(r.classes.files.orphan).toBe(5);
    expect(r.classes.files.consumer).toBe(2);
    expect(r.classes.files['in-progress']).toBeGreaterThanOrEqual(4); // missing-files torrent (paused, incomplete), temp .!qB, stray .!qB, young
    expect(r.classes.files.unknown, JSON.stringify(r.unknownSamples)).toBe(0);
    // What reclaiming frees: the hardlinked pair counts once; the copy of a payload file exists elsewhere.
    const removed = r.trees.find((t) => t.path.endsWith('Removed.Torrent.2010'))!;
    expect(removed).toMatchObject({ kind: 'dir', fileCount: 3, bytes: 33_000 * 2 + 20_000, freedBytes: 53_000, duplicatedBytes: 53_000, uniqueBytes: 0, linkedBytes: 0 });
    expect(r.trees.find((t) => t.path.endsWith('lonely.nfo'))).toMatchObject({ kind: 'file', fileCount: 1, freedBytes: 300 });
    expect(r.totals).toEqual([expect.objectContaining({ fs: 'stash', freedBytes: 53_000 + 300 + 7_000 })]);
    // The torrent the recheck found incomplete is held as in progress; the proof holds (client synced after the scan).
    expect(r.blockers).toEqual([]);
    expect(r.proven).toBe(true);
    const text = await w.hashall('orphans');
    expect(text.stdout).toMatch(/Removed\.Torrent\.2010\/ {2}3 file\(s\)/);
    expect(text.stdout).toMatch(/lonely\.nfo .*is the only copy/);
    nothingLost();
  });

  it('hashall reclaim: dedupe (the planner\'s view, even with dedupe off), orphan retirement and cross-filesystem bytes per filesystem', async () => {
    const r = await w.hashall('reclaim', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { filesystems: unknown[]; total: unknown; orphanBlockers: string[] };
    // The orphan copy of e01 duplicates the payload's e01 on the same filesystem: one dedupe link frees 20 000 B.
    // r.mkv also lies on the pool: 33 000 B reclaimable on either filesystem by keeping the other copy.
    expect(doc.filesystems).toEqual([
      { fs: 'pool', dedupe: 0, dedupeGroups: 0, dedupeEnabled: false, orphans: 0, orphansOnlyCopy: 0, crossFilesystem: 33_000 },
      { fs: 'stash', dedupe: 20_000, dedupeGroups: 1, dedupeEnabled: false, orphans: 60_300, orphansOnlyCopy: 7_300, crossFilesystem: 33_000 },
    ]);
    expect(doc.total).toEqual({ dedupe: 20_000, orphans: 60_300, crossFilesystem: 66_000 });
    const text = await w.hashall('reclaim');
    expect(text.stdout).toMatch(/^stash: dedupe .*dedupe is off for it in hashall\.yaml/m);
    nothingLost();
  });

  it('orphans and reclaim answer the same from the payload summaries the sync stored as from the file rows alone', async () => {
    const current = [await orphans(), JSON.parse((await w.hashall('reclaim', '--json')).stdout) as unknown];
    expect((current[0] as OrphansJson).classes.files.payload).toBeGreaterThan(0);
    // Summaries from another catalog serial are never used: every payload folder is counted from its rows.
    const catalog = openCatalog(path.join(w.base, 'catalog.db'));
    try {
      expect(catalog.db.prepare(`UPDATE meta SET value = '-1' WHERE key = 'summaries_serial'`).run().changes).toBe(1);
    } finally {
      catalog.close();
    }
    const recounted = [await orphans(), JSON.parse((await w.hashall('reclaim', '--json')).stdout) as unknown];
    expect(recounted).toEqual(current);
    nothingLost();
  });

  it('the client unreachable during the refresh: nothing is proven an orphan (blocked, with the reason)', async () => {
    await w.qbt.stop();
    const plan = await w.hashall('plan', '--json');
    expect(plan.code).toBe(1);
    // The scan of that refresh completed; the sync did not.
    const r = await orphans();
    expect(r.proven).toBe(false);
    expect(r.blockers.join('\n')).toMatch(/not synced after the last scan/);
    const text = await w.hashall('orphans');
    expect(text.stdout).toMatch(/^NOT PROVEN/);
    const rec = JSON.parse((await w.hashall('reclaim', '--json')).stdout) as { total: { orphans: number | null }; orphanBlockers: string[] };
    expect(rec.total.orphans).toBeNull();
    expect(rec.orphanBlockers.join('\n')).toMatch(/not synced after the last scan/);
    nothingLost();
    expect(path.isAbsolute(w.seed)).toBe(true);
  });
});
