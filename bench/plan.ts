// Benchmark: buildPlan over a synthetic catalog of 1M files and 10k torrents; reports time and memory.
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { buildPlan } from '../src/plan/build.js';
import { targetCandidates } from '../src/plan/target-path.js';
import { payloadHash } from '../src/domain/payload-hash.js';
import type { HashallConfig } from '../src/config/types.js';
import type { CatalogFile, CatalogSnapshot, PayloadFile, SnapshotPayload, SnapshotTorrent } from '../src/domain/snapshot.js';

const TORRENTS = 10_000;
const FILES_PER_TORRENT = 100;
const NOW = Date.UTC(2025, 0, 15);

function config(): HashallConfig {
  return {
    version: 1,
    configPath: '/etc/hashall.yaml',
    configHash: 'bench',
    catalog: '/var/lib/hashall/catalog.db',
    filesystems: { stash: { name: 'stash', path: '/stash', aliases: [] }, pool: { name: 'pool', path: '/pool', aliases: [] } },
    seeding: { stash: ['/stash/seeding'], pool: ['/pool/seeding'] },
    libraries: ['/stash/movies'],
    client: { type: 'qbittorrent', url: 'http://127.0.0.1:8080', username: null, password: null, pathMaps: [{ client: '/data', host: '/stash' }, { client: '/pdata', host: '/pool' }], timeoutMs: 5000 },
    categories: { 'cross-seed': { path: 'cross-seed/{tracker}', place: null } },
    placement: { default: 'stash', rules: [{ name: 'old', place: 'pool', match: { minSeedingDays: 60 } }] },
    dedupe: { filesystems: ['stash'], minSize: 0 },
    safety: { verify: 'full', retire: { mode: 'staged', observeHours: 72 }, minFree: 0, maxScanAgeHours: 24 },
  };
}

/** A synthetic snapshot: half the torrents qualify for the pool, every tenth of those already has a copy there. */
export function syntheticSnapshot(cfg: HashallConfig): CatalogSnapshot {
  const torrents: SnapshotTorrent[] = [];
  const payloads: Record<string, SnapshotPayload> = {};
  const copies: Record<string, CatalogFile[]> = {};
  let ino = 1;
  const mtime = '1700000000000000000';
  for (let t = 0; t < TORRENTS; t++) {
    const hash = createHash('sha1').update(`t${t}`).digest('hex');
    const name = `Release.${t}.2020.1080p`;
    const cat = t % 3 === 0 ? 'tv' : 'movies';
    const root = `/stash/seeding/${cat}/${name}`;
    const files: PayloadFile[] = [];
    const clientFiles: { name: string; size: number }[] = [];
    for (let f = 0; f < FILES_PER_TORRENT; f++) {
      const relpath = `disc${f % 4}/part${f}.mkv`;
      const sha = (t * FILES_PER_TORRENT + f).toString(16).padStart(64, '0');
      const file: PayloadFile = { fsId: 1, path: `${root}/${relpath}`, ino: ino++, size: 1_000_000 + f, mtimeNs: mtime, nlink: 1, sha256: sha, relpath };
      files.push(file);
      clientFiles.push({ name: `${name}/${relpath}`, size: file.size });
      const list: CatalogFile[] = [file];
      if (t % 20 === 2) list.push({ fsId: 2, path: `/pool/archive/${name}/${relpath}`, ino: ino++, size: file.size, mtimeNs: mtime, nlink: 1, sha256: sha });
      copies[sha] = list;
    }
    payloads[root] = { rootPath: root, fsId: 1, kind: 'dir', payloadHash: payloadHash(files), files, seedingRoot: '/stash/seeding', consumers: { status: t % 7 === 0 ? 'some' : 'none', paths: t % 7 === 0 ? [`/stash/movies/${name}.mkv`] : [], reasons: [] } };
    torrents.push({
      hash, name, category: cat, tags: [], tracker: 'https://tracker.example.org/a', phase: 'seeding', rawState: 'stalledUP', running: true, progress: 1, amountLeft: 0,
      size: files.reduce((s, f) => s + f.size, 0), autoTmm: false, addedOn: 1, completionOn: 2, seedingTimeSec: (t % 2 === 0 ? 90 : 10) * 86_400,
      clientSavePath: `/data/seeding/${cat}`, clientContentPath: `/data/seeding/${cat}/${name}`, clientDownloadPath: '', hostContentPath: root, unmappedReason: null, files: clientFiles, syncedAt: NOW - 1000,
    });
  }
  const snap: CatalogSnapshot = {
    lineage: 'bench', serial: 1,
    filesystems: [
      { id: 1, name: 'stash', uuid: 'u1', mountPoint: '/stash', fsType: 'zfs', freeBytes: 1e15 },
      { id: 2, name: 'pool', uuid: 'u2', mountPoint: '/pool', fsType: 'zfs', freeBytes: 1e15 },
    ],
    roots: [
      { path: '/stash/seeding', kind: 'seeding', fsName: 'stash', fsId: 1, lastScanAt: NOW - 1000 },
      { path: '/pool/seeding', kind: 'seeding', fsName: 'pool', fsId: 2, lastScanAt: NOW - 1000 },
      { path: '/stash/movies', kind: 'library', fsName: null, fsId: 1, lastScanAt: NOW - 1000 },
    ],
    torrents, payloads, copiesBySha256: copies, relocations: [], dupes: [], lastSyncAt: NOW - 1000,
  };
  const occ: Record<string, CatalogFile[]> = {};
  for (const c of targetCandidates(cfg, snap)) occ[c] = [];
  snap.occupiedPaths = occ;
  return snap;
}

const mb = (n: number) => Math.round(n / 1024 / 1024);

export async function run(): Promise<Record<string, number>> {
  const cfg = config();
  const t0 = performance.now();
  const snapshot = syntheticSnapshot(cfg);
  const t1 = performance.now();
  const rssBefore = process.memoryUsage().rss;
  const plan = buildPlan({ config: cfg, snapshot, now: NOW, createdAt: new Date(NOW).toISOString() });
  const t2 = performance.now();
  const mem = process.memoryUsage();
  return {
    files: TORRENTS * FILES_PER_TORRENT,
    torrents: TORRENTS,
    snapshotBuildMs: Math.round(t1 - t0),
    buildPlanMs: Math.round(t2 - t1),
    rssBeforePlanMB: mb(rssBefore),
    rssAfterPlanMB: mb(mem.rss),
    heapUsedMB: mb(mem.heapUsed),
    groups: plan.groups.length,
    move: plan.summary.move,
    reuse: plan.summary.reuse,
    stay: plan.summary.stay,
    keep: plan.summary.keep,
    blocked: plan.summary.blocked,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)));
}
