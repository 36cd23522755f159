// Maps one client torrent onto the host: content_path → host spelling → canonical path → payload from catalog rows.
import type { ClientTorrent, ClientTorrentFile } from '../clients/types.js';
import type { PathMap } from '../config/types.js';
import { clientAbsolute, clientToHost } from '../domain/path-map.js';
import { payloadHash } from '../domain/payload-hash.js';
import { isAtOrUnder, joinPath, trimSlash } from '../domain/path-string.js';
import { clientListing, isPadFile } from '../domain/listing.js';
import type { CatalogDb } from './db.js';
import { entryExists, filesystemRowFor, locateEntry, relToMount, type HostPathContext } from './host-paths.js';
import type { payloadReader, ResolvedPayload } from './payload-rows.js';

export type DataStatus = 'ok' | 'unmapped' | 'missing' | 'not-in-catalog' | 'incomplete';

export interface TorrentResolution {
  /** Canonical host path of content_path; null when it cannot be trusted (see unmappedReason). */
  hostContentPath: string | null;
  fsId: number | null;
  /** Why hostContentPath is null. */
  unmappedReason: string | null;
  dataStatus: DataStatus;
  /** Human detail for any status but ok. */
  detail: string | null;
  payload: ResolvedPayload | null;
  payloadHash: string | null;
}


function sample(list: string[]): string {
  return list.length > 3 ? `${list.slice(0, 3).join(', ')}, … (${list.length} in all)` : list.join(', ');
}

export function resolveTorrent(
  catalog: CatalogDb,
  ctx: HostPathContext,
  reader: ReturnType<typeof payloadReader>,
  maps: readonly PathMap[],
  t: ClientTorrent,
  files: readonly ClientTorrentFile[],
): TorrentResolution {
  const none = (dataStatus: DataStatus, reason: string): TorrentResolution => ({
    hostContentPath: null,
    fsId: null,
    unmappedReason: reason,
    dataStatus,
    detail: reason,
    payload: null,
    payloadHash: null,
  });
  if (t.contentPath.trim() === '') return none('unmapped', 'the client reports no content path (no metadata yet?)');
  // The payload root comes from the file list: save path + the torrent's root (its folder, or its only file).
  // content_path names the FILE of a one-file torrent even inside a folder, so it is not the root; it only has to
  // agree with the list (clientListing). A list that does not map falls back to content_path, and says why below.
  const listing = clientListing({ clientSavePath: t.savePath, clientContentPath: t.contentPath, files });
  const clientRoot = listing.ok ? joinPath(trimSlash(t.savePath), listing.rootRel) : t.contentPath;
  if (clientRoot.split('/').includes('..')) return none('unmapped', `the client reports ${clientRoot}, with a ".." segment: where it leads depends on the links along it on the client's side, so it is not taken`);
  let host = clientToHost(maps, clientRoot);
  if (host === null) {
    const direct = clientAbsolute(clientRoot);
    if (direct === null || !entryExists(direct)) {
      return none('unmapped', `no path map in hashall.yaml translates ${clientRoot}, and it does not exist on the host`);
    }
    host = direct;
  }
  const where = locateEntry(ctx, host);
  if (!where.ok) {
    const why = where.code === 'ENOENT' || where.code === 'ENOTDIR' ? 'does not exist on the host (data missing, or its filesystem is not mounted)' : `cannot be resolved (${where.code})`;
    return none('missing', `${where.spelled} (client ${clientRoot}) ${why}`);
  }
  const loc = where.loc;
  const fs = filesystemRowFor(catalog, loc);
  const base = { hostContentPath: loc.path, unmappedReason: null, payload: null, payloadHash: null };
  if (!fs) return { ...base, fsId: null, dataStatus: 'not-in-catalog', detail: `the filesystem of ${loc.path} has never been scanned` };
  if (!isAtOrUnder(loc.path, fs.preferred_mount)) {
    return { ...base, fsId: fs.id, dataStatus: 'not-in-catalog', detail: `${loc.path} is not visible through ${fs.preferred_mount}, where the catalog keeps that filesystem` };
  }
  const payload = reader.resolve(fs.id, fs.preferred_mount, relToMount(loc.path, fs.preferred_mount));
  if (!payload) return { ...base, fsId: fs.id, dataStatus: 'not-in-catalog', detail: `${loc.path} has no files in the catalog (scan the seeding root that holds it)` };
  const hash = payloadHash(payload.files);
  const res: TorrentResolution = { ...base, fsId: fs.id, dataStatus: 'ok', detail: null, payload, payloadHash: hash };
  if (!listing.ok) {
    const why: Record<typeof listing.kind, string> = {
      empty: 'the client reports no file list (no metadata yet?)',
      'not-inside': `its content path ${t.contentPath} is not inside its save path ${t.savePath}`,
      outside: `its content path ${t.contentPath} does not match its file list`,
      duplicate: `its file list names ${sample(listing.names)} twice`,
      'no-root': `it has no root folder: its ${files.length} files lie directly in its save path ${t.savePath}, beside other content`,
    };
    return { ...res, dataStatus: t.progress < 1 || t.amountLeft > 0 ? 'incomplete' : 'ok', detail: why[listing.kind] };
  }
  const have = new Map(payload.files.map((f) => [f.relpath, f.size]));
  // The content files must all be there; pad files (listing.pads) may be absent (libtorrent's clients never write them),
  // and so may the files the client will not download (listing.unwanted).
  const sizeOf = listing.files;
  const rels = [...sizeOf.keys()];
  const missing = rels.filter((r) => !have.has(r));
  const wrong = rels.filter((r) => have.has(r) && have.get(r) !== sizeOf.get(r));
  for (const [r, size] of listing.unwanted) if (have.has(r) && have.get(r)! > size) wrong.push(r);
  if (missing.length > 0) return { ...res, dataStatus: 'incomplete', detail: `${missing.length} of ${rels.length} files are not in the catalog payload: ${sample(missing)}` };
  if (t.progress < 1 || t.amountLeft > 0) return { ...res, dataStatus: 'incomplete', detail: `the client has ${(t.progress * 100).toFixed(1)}% of the data` };
  if (wrong.length > 0) return { ...res, dataStatus: 'incomplete', detail: `file sizes differ from the torrent: ${sample(wrong)}` };
  // Pad files (BEP 47) on disk belong to the payload whether or not the client lists them (qBittorrent does not).
  const extra = payload.files.filter((f) => !sizeOf.has(f.relpath) && !listing.unwanted.has(f.relpath) && !isPadFile(f.relpath, f.size)).map((f) => f.relpath);
  if (extra.length > 0) return { ...res, detail: `the payload also holds ${extra.length} file(s) that are not part of the torrent: ${sample(extra)}` };
  return res;
}
