// Donors: orphan trees (src/reconcile/orphans.ts) whose tree hash equals an active torrent's payload hash elsewhere — typically a cross-seed whose torrent was removed — found from the catalog.
import path from 'node:path';
import type { CatalogDb } from '../catalog/db.js';
import { inodeShaReader } from '../catalog/files-table.js';
import { filesystemLabels } from '../catalog/filesystems.js';
import { activeTorrentsWithPayloadReader } from '../catalog/torrent-row.js';
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
  /** The torrents whose payload has this content (client instance and info-hash), and where it is. */
  torrents: { client: string; hash: string; name: string; contentPath: string | null; fs: string | null }[];
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
  const names = filesystemLabels(catalog.db);
  const torrentsOf = activeTorrentsWithPayloadReader(catalog.db, Object.keys(config.clients));
  const shaOf = inodeShaReader(catalog.db);
  const donors: Donor[] = [];
  for (const t of report.trees) {
    let hash: string | null;
    if (t.kind === 'dir') hash = index.hashOf(t.fsId, t.path);
    else {
      const f = t.files[0];
      const sha = f ? shaOf(f.fsId, f.ino) : undefined;
      hash = f && sha ? payloadHash([{ relpath: path.basename(t.path), size: f.size, sha256: sha }]) : null;
    }
    if (!hash) continue;
    const torrents = torrentsOf(hash);
    if (!torrents.length) continue;
    donors.push({
      fs: t.fs,
      path: t.path,
      files: t.fileCount,
      bytes: t.bytes,
      treeHash: hash,
      torrents: torrents.map((x) => ({ client: x.client, hash: x.hash, name: x.name, contentPath: x.contentPath, fs: x.fsId === null ? null : (names.get(x.fsId) ?? `fs#${x.fsId}`) })),
    });
  }
  return { proven: true, blockers: [], donors };
}
