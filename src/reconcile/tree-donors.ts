// Donors: orphan trees (src/reconcile/orphans.ts) whose tree hash equals an active torrent's payload hash elsewhere — typically a cross-seed whose torrent was removed — found from the catalog.
import path from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import type { TreeIndex } from '../catalog/tree-dupes.js';
import type { HashallConfig } from '../config/types.js';
import { payloadHash } from '../domain/payload-hash.js';
import { classifyOrphans } from './orphans.js';

export interface Donor {
  fs: string;
  /** The orphan tree: a directory, or one file. */
  path: string;
  files: number;
  bytes: number;
  treeHash: string;
  /** The torrents whose payload has this content, and where it is. */
  torrents: { hash: string; name: string; contentPath: string | null; fs: string | null }[];
}

export interface DonorReport {
  /** False when the orphan classification is blocked (then no tree is proven an orphan and no donor is reported). */
  proven: boolean;
  blockers: string[];
  donors: Donor[];
}

/** Orphan trees that hold exactly the payload of a torrent elsewhere. */
export function findDonors(catalog: CatalogDb, config: HashallConfig, index: TreeIndex, now: number): DonorReport {
  const report = classifyOrphans(catalog, config, now);
  if (!report.proven) return { proven: false, blockers: report.blockers, donors: [] };
  const names = new Map((catalog.db.prepare(`SELECT id, name FROM filesystems`).all() as { id: number; name: string | null }[]).map((r) => [r.id, r.name]));
  const torrentsOf = catalog.db.prepare(`SELECT hash, name, host_content_path AS contentPath, fs_id AS fsId FROM torrents WHERE status = 'active' AND payload_hash = ? ORDER BY name, hash`);
  const shaOf = catalog.db.prepare(`SELECT sha256 FROM files INDEXED BY files_fs_ino WHERE fs_id = ? AND ino = ? AND status = 'active' AND sha256 IS NOT NULL LIMIT 1`).pluck();
  const donors: Donor[] = [];
  for (const t of report.trees) {
    let hash: string | null;
    if (t.kind === 'dir') hash = index.hashOf(t.fsId, t.path);
    else {
      const f = t.files[0];
      const sha = f ? (shaOf.get(f.fsId, f.ino) as string | undefined) : undefined;
      hash = f && sha ? payloadHash([{ relpath: path.basename(t.path), size: f.size, sha256: sha }]) : null;
    }
    if (!hash) continue;
    const torrents = torrentsOf.all(hash) as { hash: string; name: string; contentPath: string | null; fsId: number | null }[];
    if (!torrents.length) continue;
    donors.push({
      fs: t.fs,
      path: t.path,
      files: t.fileCount,
      bytes: t.bytes,
      treeHash: hash,
      torrents: torrents.map((x) => ({ hash: x.hash, name: x.name, contentPath: x.contentPath, fs: x.fsId === null ? null : (names.get(x.fsId) ?? `fs#${x.fsId}`) })),
    });
  }
  return { proven: true, blockers: [], donors };
}
