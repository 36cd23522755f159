// Test builder: concise in-memory configs and catalog snapshots for the pure planner (test support).
import type { HashallConfig, PlacementRule, CategoryConfig } from '../../../src/config/types.js';
import type { CatalogFile, CatalogSnapshot, ConsumerStatus, DupeGroup, InodeMeta, PayloadFile, SnapshotPayload, SnapshotRelocation, SnapshotRoot, SnapshotTorrent } from '../../../src/domain/snapshot.js';
import type { TorrentPhase } from '../../../src/clients/types.js';
import { compareBytes, payloadHash } from '../../../src/domain/payload-hash.js';
import { clientListingDigest, listingDigest } from '../../../src/domain/listing.js';
import { baseName, dirName, isAtOrUnder, relativeTo } from '../../../src/domain/path-string.js';
import { hostToClient } from '../../../src/plan/client-spelling.js';
import { targetCandidates } from '../../../src/plan/target-path.js';
import { detailNeeds } from '../../../src/plan/needs.js';
import { buildPlan } from '../../../src/plan/build.js';
import type { Plan } from '../../../src/plan/types.js';
import { expect } from 'vitest';

export const HOUR = 3_600_000;
export const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;

export const STASH_SEED = '/stash/media/torrents/seeding';
export const POOL_SEED = '/pool/media/torrents/seeding';
export const MOVIES_LIB = '/stash/media/movies';

/** A readable fake SHA-256: the word padded to 64 hex-ish chars (only equality matters to the planner). */
export function sha(word: string): string {
  const hex = Buffer.from(word, 'utf8').toString('hex');
  return (hex + '0'.repeat(64)).slice(0, 64);
}

export function baseConfig(over: Partial<HashallConfig> = {}): HashallConfig {
  return {
    version: 1,
    configPath: '/etc/hashall/hashall.yaml',
    configHash: 'c0ffee',
    catalog: '/var/lib/hashall/catalog.db',
    filesystems: {
      stash: { name: 'stash', path: '/stash', aliases: [] },
      pool: { name: 'pool', path: '/pool', aliases: [] },
    },
    seeding: { stash: [STASH_SEED], pool: [POOL_SEED] },
    libraries: [MOVIES_LIB],
    clients: {
      default: {
      name: 'default',
      at: ['client'],
      type: 'qbittorrent',
      url: 'http://127.0.0.1:8080',
      username: null,
      password: null,
      pathMaps: [
        { client: '/data/stash', host: '/stash' },
        { client: '/data/pool', host: '/pool' },
      ],
      timeoutMs: 5000,
      },
    },
    categories: {},
    placement: { default: 'stash', rules: [] },
    dedupe: { filesystems: [], minSize: 0 },
    verify: { everyMs: 30 * 86_400_000, budgetBytes: 200 * 2 ** 30 },
    safety: { verify: 'full', retire: { mode: 'staged', observeHours: 72 }, minFree: 0, maxScanAgeHours: 24 },
    ...over,
  };
}

export function rule(name: string, place: string, match: PlacementRule['match'] = {}): PlacementRule {
  return { name, place, match };
}

export function category(path: string, place: string | null = null): CategoryConfig {
  return { path, place };
}

interface FsSpec {
  id: number;
  mount: string;
  free: number | null;
}

export interface FileSpec {
  rel: string;
  size: number;
  /** Content word (→ fake sha256) or null for "not hashed yet". */
  content: string | null;
  ino?: number;
  /** Owner, group and mode of its inode as the reader would find them (default root:root 0644; null = unknown). */
  meta?: InodeMeta | null;
}

export interface TorrentSpec {
  hash: string;
  /** Client instance (default: `default`). */
  client?: string;
  name?: string;
  category?: string;
  tags?: string[];
  tracker?: string | null;
  phase?: TorrentPhase;
  progress?: number;
  seedingDays?: number;
  /** Host content path (the payload root). */
  content: string;
  /** Override the client's file list (defaults to the payload's files under the content root name). */
  files?: { name: string; size: number; wanted?: false }[];
  unmapped?: string;
  /** libtorrent's part file in its save path, as the catalog reader found it. */
  partFile?: string;
  /** A torrent without a root folder: its files lie directly in `content`, which is its save path too. */
  rootless?: true;
}

/** Builds a CatalogSnapshot the way the catalog reader would, from files, payloads and torrents. */
export class SnapshotBuilder {
  config: HashallConfig;
  now = NOW;
  private fss = new Map<string, FsSpec>([
    ['stash', { id: 1, mount: '/stash', free: 1000 * GiB }],
    ['pool', { id: 2, mount: '/pool', free: 1000 * GiB }],
  ]);
  private files: CatalogFile[] = [];
  private nextIno = 1000;
  private payloadSpecs = new Map<string, { kind: 'file' | 'dir'; consumers?: ConsumerStatus; consumerReasons?: string[] }>();
  private torrentList: SnapshotTorrent[] = [];
  private scanAt = new Map<string, number | null>();
  relocations: SnapshotRelocation[] = [];
  dupes: DupeGroup[] | null = null;
  lastSyncAt: number | null = NOW - HOUR;
  withOccupancy = true;

  constructor(config: HashallConfig = baseConfig()) {
    this.config = config;
  }

  setFree(fs: string, free: number | null): this {
    this.fss.get(fs)!.free = free;
    return this;
  }

  /** Record the last scan of a root (default: one hour ago). */
  scanned(root: string, at: number | null): this {
    this.scanAt.set(root, at);
    return this;
  }

  fsIdOf(path: string): number {
    for (const f of this.fss.values()) if (isAtOrUnder(path, f.mount)) return f.id;
    throw new Error(`no fixture filesystem holds ${path}`);
  }

  /** Owner, group and mode of each inode as the reader would find them on disk (default root:root 0644; null = unknown). */
  private metas = new Map<number, InodeMeta | null>();

  private metaOf(ino: number): InodeMeta | null {
    return this.metas.has(ino) ? this.metas.get(ino)! : { uid: 0, gid: 0, mode: 0o644 };
  }

  /** Add one catalog file; returns its inode. `mtimeNs` defaults to one derived from the inode; `meta` to root:root 0644. */
  file(path: string, size: number, content: string | null, ino?: number, opts: { mtimeNs?: string; meta?: InodeMeta | null } = {}): number {
    const i = ino ?? this.nextIno++;
    this.files.push({ fsId: this.fsIdOf(path), path, ino: i, size, mtimeNs: opts.mtimeNs ?? `${1_700_000_000_000_000_000n + BigInt(i)}`, nlink: 1, sha256: content === null ? null : sha(content) });
    if (opts.meta !== undefined) this.metas.set(i, opts.meta);
    return i;
  }

  /** Add a payload tree: a directory (several files) or a single file (kind 'file', one file, rel = basename). */
  payload(root: string, files: FileSpec[], opts: { kind?: 'file' | 'dir'; consumers?: ConsumerStatus; consumerReasons?: string[] } = {}): this {
    const kind = opts.kind ?? 'dir';
    for (const f of files) this.file(kind === 'file' ? root : `${root}/${f.rel}`, f.size, f.content, f.ino, f.meta === undefined ? {} : { meta: f.meta });
    this.payloadSpecs.set(root, { kind, consumers: opts.consumers, consumerReasons: opts.consumerReasons });
    return this;
  }

  /** Hardlink an existing catalog file at another path (same inode). */
  link(existing: string, path: string): this {
    const f = this.files.find((x) => x.path === existing);
    if (!f) throw new Error(`no fixture file ${existing}`);
    this.files.push({ ...f, path });
    return this;
  }

  torrent(spec: TorrentSpec): this {
    const maps = this.config.clients[spec.client ?? 'default']?.pathMaps ?? [];
    const payloadFiles = this.files.filter((f) => isAtOrUnder(f.path, spec.content));
    const kind = this.payloadSpecs.get(spec.content)?.kind ?? 'dir';
    const top = baseName(spec.content);
    const files =
      spec.files ??
      payloadFiles
        .map((f) => ({ name: kind === 'file' ? top : `${top}/${relativeTo(f.path, spec.content)}`, size: f.size }))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
    const size = files.reduce((s, f) => s + f.size, 0);
    const phase = spec.phase ?? 'seeding';
    this.torrentList.push({
      client: spec.client ?? 'default',
      hash: spec.hash,
      name: spec.name ?? top,
      category: spec.category ?? '',
      tags: spec.tags ?? [],
      tracker: spec.tracker === undefined ? 'https://tracker.example.org/announce' : spec.tracker,
      phase,
      rawState: phase === 'seeding' ? 'stalledUP' : phase,
      running: phase === 'seeding',
      progress: spec.progress ?? (phase === 'downloading' ? 0.5 : 1),
      amountLeft: 0,
      size,
      autoTmm: false,
      addedOn: 1_700_000_000,
      completionOn: 1_700_000_100,
      seedingTimeSec: Math.round((spec.seedingDays ?? 30) * 86_400),
      clientSavePath: spec.rootless ? (hostToClient(maps, spec.content) ?? `/unmapped${spec.content}`) : (hostToClient(maps, dirName(spec.content)) ?? `/unmapped${dirName(spec.content)}`),
      // qBittorrent reports the FILE as content_path of a one-file torrent, even inside its folder.
      clientContentPath: (() => {
        const only = files.length === 1 && files[0]!.name.includes('/') ? `${dirName(spec.content)}/${files[0]!.name}` : spec.content;
        return hostToClient(maps, only) ?? `/unmapped${only}`;
      })(),
      clientDownloadPath: '',
      hostContentPath: spec.unmapped ? null : spec.content,
      unmappedReason: spec.unmapped ?? null,
      ...(spec.partFile === undefined ? {} : { partFile: spec.partFile }),
      files,
      listingDigest: null,
      syncedAt: this.now - HOUR,
    });
    const t = this.torrentList[this.torrentList.length - 1]!;
    t.listingDigest = clientListingDigest({ clientSavePath: t.clientSavePath, clientContentPath: t.clientContentPath, files });
    return this;
  }

  relocation(r: Omit<SnapshotRelocation, 'retiredAt'> & { retiredAt?: number | null }): this {
    this.relocations.push({ retiredAt: null, ...r });
    return this;
  }

  private seedingRoots(): string[] {
    return Object.values(this.config.seeding).flat();
  }

  build(): CatalogSnapshot {
    const seeding = this.seedingRoots();
    const nlinks = new Map<string, number>();
    for (const f of this.files) nlinks.set(`${f.fsId}:${f.ino}`, (nlinks.get(`${f.fsId}:${f.ino}`) ?? 0) + 1);
    const files = this.files.map((f) => ({ ...f, nlink: nlinks.get(`${f.fsId}:${f.ino}`)! }));
    const fsList = [...this.fss.entries()].map(([name, f]) => ({ id: f.id, name, uuid: `uuid-${name}`, mountPoint: f.mount, fsType: 'zfs', freeBytes: f.free }));
    const roots: SnapshotRoot[] = [
      ...Object.entries(this.config.seeding).flatMap(([fs, rs]) => rs.map((path) => ({ path, kind: 'seeding' as const, fsName: fs, fsId: this.fss.get(fs)?.id ?? null, lastScanAt: this.scanAt.has(path) ? this.scanAt.get(path)! : this.now - HOUR }))),
      ...this.config.libraries.map((path) => ({ path, kind: 'library' as const, fsName: null, fsId: this.fsIdOf(path), lastScanAt: this.scanAt.has(path) ? this.scanAt.get(path)! : this.now - HOUR })),
    ];
    const payloads: Record<string, SnapshotPayload> = {};
    const roots4payload = new Set([...this.payloadSpecs.keys(), ...this.relocations.map((r) => r.sourceRoot)]);
    for (const root of roots4payload) {
      const spec = this.payloadSpecs.get(root) ?? { kind: 'dir' as const };
      // Every file with the owner, group and mode of its inode (the reader reads them only where a move may link equal
      // content from another inode's copy: the planner consults them nowhere else).
      const pf: PayloadFile[] = files
        .filter((f) => isAtOrUnder(f.path, root))
        .map((f) => {
          const meta = this.metaOf(f.ino);
          return { ...f, relpath: spec.kind === 'file' ? baseName(root) : relativeTo(f.path, root)!, ...(meta ? { meta } : {}) };
        })
        .sort((a, b) => compareBytes(a.relpath, b.relpath)); // as the contract says the reader gives them
      if (pf.length === 0) continue;
      const consumerPaths = new Set<string>();
      for (const f of pf) for (const o of files) if (o.fsId === f.fsId && o.ino === f.ino && !seeding.some((s) => isAtOrUnder(o.path, s))) consumerPaths.add(o.path);
      const status: ConsumerStatus = spec.consumers ?? (consumerPaths.size > 0 ? 'some' : 'none');
      payloads[root] = {
        rootPath: root,
        fsId: pf[0]!.fsId,
        kind: spec.kind,
        payloadHash: payloadHash(pf),
        fileCount: pf.length,
        bytes: pf.reduce((n, f) => n + f.size, 0),
        missingHashes: pf.filter((f) => f.sha256 === null).length,
        listingDigest: listingDigest(pf),
        files: pf,
        seedingRoot: seeding.filter((s) => isAtOrUnder(root, s) && root !== s).sort((a, b) => b.length - a.length)[0] ?? null,
        consumers: { status, paths: [...consumerPaths].sort(), reasons: spec.consumerReasons ?? [] },
      };
    }
    const shas = new Set(Object.values(payloads).flatMap((p) => (p.files ?? []).map((f) => f.sha256).filter((s): s is string => s !== null)));
    const copiesBySha256 = new Map<string, CatalogFile[]>();
    // Each copy with the owner, group and mode of its inode, as the reader gives those a move may link across inodes.
    for (const f of files) {
      if (!f.sha256 || !shas.has(f.sha256)) continue;
      const meta = this.metaOf(f.ino);
      copiesBySha256.set(f.sha256, [...(copiesBySha256.get(f.sha256) ?? []), { ...f, ...(meta ? { meta } : {}) }]);
    }
    const snap: CatalogSnapshot = {
      lineage: 'lineage-1',
      serial: 7,
      filesystems: fsList,
      roots,
      torrents: this.torrentList,
      payloads,
      copiesBySha256,
      relocations: this.relocations,
      dupes: this.dupes ?? computeDupes(files, (ino) => this.metaOf(ino)),
      lastSyncAt: this.lastSyncAt,
    };
    if (this.withOccupancy) {
      const occ: Record<string, CatalogFile[]> = {};
      for (const c of targetCandidates(this.config, snap)) occ[c] = files.filter((f) => isAtOrUnder(f.path, c));
      snap.occupiedPaths = occ;
    }
    return snap;
  }
}

function computeDupes(files: CatalogFile[], metaOf: (ino: number) => InodeMeta | null): DupeGroup[] {
  const by = new Map<string, DupeGroup>();
  for (const f of files) {
    if (f.sha256 === null) continue;
    const k = `${f.fsId}:${f.size}:${f.sha256}`;
    let g = by.get(k);
    if (!g) by.set(k, (g = { fsId: f.fsId, size: f.size, sha256: f.sha256, inodes: [] }));
    let i = g.inodes.find((x) => x.ino === f.ino);
    if (!i) {
      const meta = metaOf(f.ino);
      g.inodes.push((i = { ino: f.ino, nlink: f.nlink, mtimeNs: f.mtimeNs, paths: [], ...(meta ? { meta } : {}) }));
    }
    i.paths.push(f.path);
  }
  return [...by.values()].filter((g) => g.inodes.length > 1);
}

/** Two files of a typical movie payload (sizes in bytes). */
export function movieFiles(word: string, size = 4 * GiB): FileSpec[] {
  return [
    { rel: `${word}.mkv`, size, content: `${word}-video` },
    { rel: `${word}.nfo`, size: 1200, content: `${word}-nfo` },
  ];
}

/** What readSnapshot hands the planner: payload file lists (and donor copies) only for relocations, listing mismatches and detailNeeds (left to the catalog where the reader leaves them); client lists only for mismatches. */
export function trimmedLikeReader(config: HashallConfig, full: CatalogSnapshot, now: number): CatalogSnapshot {
  const snap: CatalogSnapshot = structuredClone(full);
  const load = new Set<string>();
  for (const r of snap.relocations) if (r.retiredAt === null) for (const p of [r.sourceRoot, r.targetRoot]) if (snap.payloads[p]) load.add(p);
  for (const t of snap.torrents) {
    const p = t.hostContentPath === null ? undefined : snap.payloads[t.hostContentPath];
    if (p && t.listingDigest !== p.listingDigest) load.add(p.rootPath);
  }
  for (const p of Object.values(snap.payloads)) if (!load.has(p.rootPath)) p.files = null;
  for (const t of snap.torrents) if (t.hostContentPath === null || !load.has(t.hostContentPath)) t.files = null;
  const keepLists = new Set(load);
  for (const p of detailNeeds(config, snap, now, load)) load.add(p);
  // As the reader does: a payload the planner acts on whose every file's content no other row holds, and whose
  // content only one torrent holds, has its files left to the catalog (filesInCatalog) instead of loaded.
  const holders = new Map<string, number>();
  for (const t of snap.torrents) {
    const h = t.hostContentPath === null ? null : (snap.payloads[t.hostContentPath]?.payloadHash ?? null);
    if (h !== null) holders.set(h, (holders.get(h) ?? 0) + 1);
  }
  for (const p of Object.values(snap.payloads)) {
    if (!load.has(p.rootPath)) continue;
    const files = full.payloads[p.rootPath]!.files!;
    const uncopied = files.every((f) => f.sha256 !== null && (full.copiesBySha256.get(f.sha256) ?? [f]).every((c) => c.fsId === f.fsId && c.path === f.path));
    if (!keepLists.has(p.rootPath) && uncopied && p.payloadHash !== null && holders.get(p.payloadHash) === 1) p.filesInCatalog = true;
    else p.files = files;
  }
  return snap;
}

/** The plan of the builder's snapshot — which must equal the plan of that snapshot trimmed as readSnapshot trims it (trimmedLikeReader). */
export function planTrimmedAlike(b: SnapshotBuilder): Plan {
  const snapshot = b.build();
  const full = buildPlan({ config: b.config, snapshot, now: b.now, createdAt: new Date(b.now).toISOString() });
  expect(buildPlan({ config: b.config, snapshot: trimmedLikeReader(b.config, snapshot, b.now), now: b.now, createdAt: new Date(b.now).toISOString() })).toEqual(full);
  return full;
}
