// Payload summaries: what the planner needs of each payload without its file list — computed from file rows, stored by the sync.
//
// Validity: summaries are stored together with the catalog serial they were computed at (meta `summaries_serial`).
// Every change of catalog content bumps the serial (scanner, hash-missing, sync, apply bookkeeping), so a stored
// summary is used only while nothing changed since; otherwise the reader recomputes it from the rows.
import type { HashallConfig } from '../config/types.js';
import type { CatalogFile, DupeGroup } from '../domain/snapshot.js';
import { isAtOrUnder } from '../domain/path-string.js';
import { listingDigest } from '../domain/listing.js';
import { payloadHash } from '../domain/payload-hash.js';
import { tableExists, type CatalogDb } from './db.js';
import type { FilesystemRow } from './filesystems.js';
import { filesystemByMount, relToMount } from './host-paths.js';
import { readRelocations } from './relocations.js';
import { payloadBulkReader, toCatalogFile, type BulkPayload } from './payload-rows.js';
import { consumerVerdict, type Consumers, type LibraryScanState } from './consumers.js';

/** A payload file whose inode has other active catalog rows or more than one link: all an external-consumer verdict needs of it. */
export interface LinkedFile {
  path: string;
  ino: number;
  nlink: number;
  /** The other active catalog paths of its inode (canonical). */
  links: string[];
}

export interface PayloadSummary {
  rootPath: string;
  fsId: number;
  kind: 'file' | 'dir';
  fileCount: number;
  bytes: number;
  missingHashes: number;
  payloadHash: string | null;
  listingDigest: string;
  linked: LinkedFile[];
  /** Files whose content some other active row also holds; 0 = its files are their content's only copies; null = not counted. */
  copied: number | null;
}

/** The summary of a payload read by payloadBulkReader.resolve. */
export function summarize(rootPath: string, fsId: number, bulk: BulkPayload, copied: number | null = null): PayloadSummary {
  let bytes = 0;
  let missing = 0;
  const linked: LinkedFile[] = [];
  for (const f of bulk.files) {
    bytes += f.size;
    if (f.sha256 === null) missing += 1;
    const others = bulk.otherLinks.get(f.path);
    if (others !== undefined || f.nlink > 1) linked.push({ path: f.path, ino: f.ino, nlink: f.nlink, links: others ?? [] });
  }
  return {
    rootPath,
    fsId,
    kind: bulk.kind,
    fileCount: bulk.files.length,
    bytes,
    missingHashes: missing,
    payloadHash: payloadHash(bulk.files),
    listingDigest: listingDigest(bulk.files),
    linked,
    copied,
  };
}

const noLinks = (): readonly string[] => [];

/**
 * The external-consumer verdict from a summary — the same answer consumerVerdict gives on the whole file list without
 * a live check, since a file with one link and no other catalog row can neither be a consumer nor an unknown.
 */
export function summaryConsumers(s: PayloadSummary, seedingRoots: readonly string[], libraries: readonly LibraryScanState[], trashNames?: (ino: number) => number): Consumers {
  // Most payloads link nothing: no file to list, no lookup to build (the plan reads 10k of these before it checks anything).
  if (s.linked.length === 0) return consumerVerdict({ fsId: s.fsId, fileCount: s.fileCount, files: [], linksOf: noLinks, seedingRoots, libraries });
  const files: CatalogFile[] = s.linked.map((l) => ({ fsId: s.fsId, path: l.path, ino: l.ino, size: 0, mtimeNs: '', nlink: l.nlink, sha256: null }));
  const byPath = new Map(s.linked.map((l) => [l.path, l.links]));
  return consumerVerdict({ fsId: s.fsId, fileCount: s.fileCount, files, linksOf: (f) => [f.path, ...(byPath.get(f.path) ?? [])], seedingRoots, libraries, ...(trashNames ? { trashNames } : {}) });
}

/**
 * Every payload root the snapshot covers — each active torrent's content path, each unretired relocation's source and
 * target — with the filesystem holding it: the one its torrent row names while that still holds it, else the longest
 * mount (config-named filesystems first). Sorted by root path.
 */
export function payloadRoots(
  fsRows: readonly FilesystemRow[],
  config: HashallConfig,
  torrents: readonly { host_content_path: string | null; fs_id: number | null }[],
  relocations: readonly { sourceRoot: string; targetRoot: string; retiredAt: number | null }[],
): [string, FilesystemRow][] {
  const fsById = new Map(fsRows.map((r) => [r.id, r]));
  const named = fsRows.filter((r) => r.name !== null && config.filesystems[r.name] !== undefined);
  const fsFor = (path: string): FilesystemRow | null => filesystemByMount(named, path) ?? filesystemByMount(fsRows, path);
  const wanted = new Map<string, FilesystemRow | null>();
  for (const t of torrents) if (t.host_content_path !== null) wanted.set(t.host_content_path, t.fs_id !== null ? (fsById.get(t.fs_id) ?? null) : null);
  for (const r of relocations) {
    if (r.retiredAt !== null) continue;
    for (const p of [r.sourceRoot, r.targetRoot]) if (!wanted.has(p)) wanted.set(p, fsFor(p));
  }
  const roots: [string, FilesystemRow][] = [];
  for (const [rootPath, fs0] of [...wanted].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const fs = fs0 && isAtOrUnder(rootPath, fs0.preferred_mount) ? fs0 : fsFor(rootPath);
    if (!fs || !isAtOrUnder(rootPath, fs.preferred_mount)) continue;
    roots.push([rootPath, fs]);
  }
  return roots;
}

function metaNumber(catalog: CatalogDb, key: string): number {
  const row = catalog.db.prepare(`SELECT value FROM meta WHERE key = ?`).get(key) as { value: string } | undefined;
  return row ? Number(row.value) : -1;
}

/** The payload summaries `plan` reads: how many are stored, and whether they describe the catalog as it is. */
export interface SummaryStats {
  payloads: number;
  /** Serial they were stored for (null: never stored); current when it equals the catalog's serial. */
  serial: number | null;
  current: boolean;
}

export function summaryState(catalog: CatalogDb): SummaryStats {
  if (!tableExists(catalog.db, 'payload_summaries')) return { payloads: 0, serial: null, current: false };
  const stored = metaNumber(catalog, 'summaries_serial');
  const serial = stored >= 0 ? stored : null;
  const payloads = (catalog.db.prepare(`SELECT count(*) AS n FROM payload_summaries`).get() as { n: number }).n;
  return { payloads, serial, current: serial !== null && serial === catalog.serial() };
}

/** The stored summaries, keyed by root path, when they were computed at the current serial; null when stale or absent. */
export function storedSummaries(catalog: CatalogDb): Map<string, PayloadSummary> | null {
  if (!tableExists(catalog.db, 'payload_summaries') || metaNumber(catalog, 'summaries_serial') !== catalog.serial()) return null;
  const rows = catalog.db.prepare(`SELECT fs_id, root, kind, files, bytes, missing, payload_hash, listing_digest, linked, copied FROM payload_summaries`).raw(true).all() as [
    number,
    string,
    'file' | 'dir',
    number,
    number,
    number,
    string | null,
    string,
    string,
    number | null,
  ][];
  const out = new Map<string, PayloadSummary>();
  for (const r of rows) {
    out.set(r[1], {
      fsId: r[0],
      rootPath: r[1],
      kind: r[2],
      fileCount: r[3],
      bytes: r[4],
      missingHashes: r[5],
      payloadHash: r[6],
      listingDigest: r[7],
      linked: r[8] === '[]' ? [] : (JSON.parse(r[8]) as LinkedFile[]),
      copied: r[9],
    });
  }
  return out;
}

/**
 * The rows of every duplicate group of one filesystem (parameters: its id, the smallest size, its id again), in group order (size, sha256) and within a group by
 * inode and path: the candidates from the sha256 index alone (content stored more than once anywhere), those with two
 * or more inodes on the filesystem, then their rows through the same index — one statement, not one per group (1,912
 * groups: one statement execution each was most of computeDupes' time).
 */
export const DUPE_MEMBERS_SQL = `SELECT g.size AS size, g.sha256 AS sha256, m.ino AS ino, m.nlink AS nlink, m.mtime_ns AS mtime_ns, m.path AS path
   FROM (SELECT f.size AS size, f.sha256 AS sha256
           FROM (SELECT sha256 FROM files INDEXED BY files_sha WHERE sha256 IS NOT NULL GROUP BY sha256 HAVING count(*) > 1) d
           CROSS JOIN files f INDEXED BY files_sha ON f.sha256 = d.sha256
          WHERE f.fs_id = ? AND f.status = 'active' AND f.size > 0 AND f.size >= ?
          GROUP BY f.size, f.sha256 HAVING count(DISTINCT f.ino) > 1) g
   CROSS JOIN files m INDEXED BY files_sha ON m.sha256 = g.sha256 AND m.size = g.size
  WHERE m.fs_id = ? AND m.status = 'active'
  ORDER BY g.size, g.sha256, m.ino, m.path`;

/** Same-filesystem duplicates (equal size and full SHA-256, different inodes) on the dedupe filesystems, size ≥ minSize. */
export function computeDupes(catalog: CatalogDb, config: HashallConfig, named: readonly FilesystemRow[]): DupeGroup[] {
  const out: DupeGroup[] = [];
  const members = catalog.db.prepare(DUPE_MEMBERS_SQL).raw(true);
  for (const name of config.dedupe.filesystems) {
    const fs = named.find((r) => r.name === name);
    if (!fs) continue;
    let group: DupeGroup | null = null;
    let inodes = new Map<number, DupeGroup['inodes'][number]>();
    const close = (): void => {
      if (group === null) return;
      group.inodes = [...inodes.values()];
      out.push(group);
    };
    for (const [size, sha256, ino, nlink, mtimeNs, path] of members.iterate(fs.id, config.dedupe.minSize, fs.id) as Iterable<[number, string, number, number, string, string]>) {
      if (group === null || group.size !== size || group.sha256 !== sha256) {
        close();
        group = { fsId: fs.id, size, sha256, inodes: [] };
        inodes = new Map();
      }
      let e = inodes.get(ino);
      if (e === undefined) inodes.set(ino, (e = { ino, nlink, mtimeNs, paths: [] }));
      e.paths.push(toCatalogFile({ id: 0, fs_id: fs.id, path, ino, size, mtime_ns: mtimeNs, nlink, sha256 }, fs.preferred_mount).path);
    }
    close();
  }
  return out;
}

/** Identifies the dedupe settings the stored duplicate groups were computed for. */
export function dupesKey(config: HashallConfig, named: readonly FilesystemRow[]): string {
  const ids = config.dedupe.filesystems.map((n) => named.find((r) => r.name === n)?.id ?? null);
  return JSON.stringify({ ids, minSize: config.dedupe.minSize });
}

/** The stored duplicate groups when computed at the current serial for these dedupe settings; null otherwise. */
export function storedDupes(catalog: CatalogDb, key: string): DupeGroup[] | null {
  if (!tableExists(catalog.db, 'dupe_summaries') || metaNumber(catalog, 'dupes_serial') !== catalog.serial()) return null;
  const row = catalog.db.prepare(`SELECT value FROM meta WHERE key = 'dupes_key'`).get() as { value: string } | undefined;
  if (row?.value !== key) return null;
  const rows = catalog.db.prepare(`SELECT fs_id, size, sha256, inodes FROM dupe_summaries ORDER BY rowid`).raw(true).all() as [number, number, string, string][];
  return rows.map((r) => ({ fsId: r[0], size: r[1], sha256: r[2], inodes: JSON.parse(r[3]) as DupeGroup['inodes'] }));
}

/**
 * Compute every payload summary and the duplicate groups in one read transaction (a consistent snapshot, no write
 * lock held while reading a large catalog), then store them in a short write transaction — only if the serial is
 * still the one they were computed at. Called by the sync after its own transaction commits. `stored: false` when
 * the catalog changed in between (the next sync stores them; until then plan recomputes, which is always correct).
 */
export function storeSummaries(catalog: CatalogDb, config: HashallConfig): { payloads: number; stored: boolean } {
  if (!tableExists(catalog.db, 'payload_summaries')) return { payloads: 0, stored: false };
  const db = catalog.db;
  const computed = db.transaction(() => {
    const fsRows = db.prepare(`SELECT * FROM filesystems ORDER BY id`).all() as FilesystemRow[];
    const named = fsRows.filter((r) => r.name !== null && config.filesystems[r.name] !== undefined);
    const torrents = db.prepare(`SELECT host_content_path, fs_id FROM torrents WHERE status = 'active'`).all() as { host_content_path: string | null; fs_id: number | null }[];
    const relocations = readRelocations(catalog, named);
    const reader = payloadBulkReader(catalog);
    const summaries: PayloadSummary[] = [];
    for (const [rootPath, fs] of payloadRoots(fsRows, config, torrents, relocations)) {
      const rel = relToMount(rootPath, fs.preferred_mount);
      const bulk = reader.resolve(fs.id, fs.preferred_mount, rel);
      if (bulk) summaries.push(summarize(rootPath, fs.id, bulk, reader.copiedCount(fs.id, rel, bulk)));
    }
    return { serial: catalog.serial(), summaries, dupes: computeDupes(catalog, config, named), key: dupesKey(config, named) };
  })();
  const store = db.transaction((): boolean => {
    if (catalog.serial() !== computed.serial) return false;
    db.prepare(`DELETE FROM payload_summaries`).run();
    const ins = db.prepare(
      `INSERT INTO payload_summaries (fs_id, root, kind, files, bytes, missing, payload_hash, listing_digest, linked, copied) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const s of computed.summaries) {
      ins.run(s.fsId, s.rootPath, s.kind, s.fileCount, s.bytes, s.missingHashes, s.payloadHash, s.listingDigest, JSON.stringify(s.linked), s.copied);
    }
    db.prepare(`DELETE FROM dupe_summaries`).run();
    const insDupe = db.prepare(`INSERT INTO dupe_summaries (fs_id, size, sha256, inodes) VALUES (?, ?, ?, ?)`);
    for (const g of computed.dupes) insDupe.run(g.fsId, g.size, g.sha256, JSON.stringify(g.inodes));
    const setMeta = db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
    setMeta.run('summaries_serial', String(computed.serial));
    setMeta.run('dupes_serial', String(computed.serial));
    setMeta.run('dupes_key', computed.key);
    return true;
  });
  // IMMEDIATE: take the write lock before re-reading the serial, so no writer can slip in between check and write.
  const stored = store.immediate();
  return { payloads: stored ? computed.summaries.length : 0, stored };
}
