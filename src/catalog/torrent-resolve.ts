// Maps one client torrent onto the host: content_path → host spelling → canonical path → payload from catalog rows.
import { lstatSync } from 'node:fs';
import type { ClientTorrent, ClientTorrentFile } from '../clients/types.js';
import type { PathMap } from '../config/types.js';
import { clientToHost, normalizeAbsolute } from '../domain/path-map.js';
import { payloadHash } from '../domain/payload-hash.js';
import { relativeTo, segments } from '../domain/path-string.js';
import type { CatalogDb } from './db.js';
import { filesystemRowFor, locateHostPath, relToMount, type HostPathContext } from './host-paths.js';
import type { payloadReader, ResolvedPayload } from './payload-rows.js';
import { isUnder } from '../fs/canonical-path.js';

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

function trimSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function sample(list: string[]): string {
  return list.length > 3 ? `${list.slice(0, 3).join(', ')}, … (${list.length} in all)` : list.join(', ');
}

/**
 * The client's file names relative to the payload root (the content root stripped), or null when a name lies
 * outside content_path (then the file list cannot be checked against the payload).
 */
export function clientRelpaths(t: Pick<ClientTorrent, 'savePath' | 'contentPath'>, files: readonly Pick<ClientTorrentFile, 'name'>[]): string[] | null {
  const contentRel = relativeTo(trimSlash(t.contentPath), trimSlash(t.savePath));
  if (contentRel === null) return null;
  const out: string[] = [];
  for (const f of files) {
    if (contentRel === '') out.push(f.name);
    else if (f.name === contentRel) out.push(segments(f.name).pop() ?? '');
    else if (f.name.startsWith(contentRel + '/')) out.push(f.name.slice(contentRel.length + 1));
    else return null;
  }
  return out;
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
  let host = clientToHost(maps, t.contentPath);
  if (host === null) {
    const direct = normalizeAbsolute(t.contentPath);
    if (direct === null || !exists(direct)) {
      return none('unmapped', `no path map in hashall.yaml translates ${t.contentPath}, and it does not exist on the host`);
    }
    host = direct;
  }
  let where = locateHostPath(ctx, host);
  if (where.ok && !exists(where.loc.realPath)) where = { ok: false, code: 'ENOENT', spelled: where.loc.path };
  if (!where.ok) {
    const why = where.code === 'ENOENT' || where.code === 'ENOTDIR' ? 'does not exist on the host (data missing, or its filesystem is not mounted)' : `cannot be resolved (${where.code})`;
    return none('missing', `${where.spelled} (client ${t.contentPath}) ${why}`);
  }
  const loc = where.loc;
  const fs = filesystemRowFor(catalog, loc);
  const base = { hostContentPath: loc.path, unmappedReason: null, payload: null, payloadHash: null };
  if (!fs) return { ...base, fsId: null, dataStatus: 'not-in-catalog', detail: `the filesystem of ${loc.path} has never been scanned` };
  if (!isUnder(loc.path, fs.preferred_mount)) {
    return { ...base, fsId: fs.id, dataStatus: 'not-in-catalog', detail: `${loc.path} is not visible through ${fs.preferred_mount}, where the catalog keeps that filesystem` };
  }
  const payload = reader.resolve(fs.id, fs.preferred_mount, relToMount(loc.path, fs.preferred_mount));
  if (!payload) return { ...base, fsId: fs.id, dataStatus: 'not-in-catalog', detail: `${loc.path} has no files in the catalog (scan the seeding root that holds it)` };
  const hash = payloadHash(payload.files);
  const res: TorrentResolution = { ...base, fsId: fs.id, dataStatus: 'ok', detail: null, payload, payloadHash: hash };
  const rels = clientRelpaths(t, files);
  if (rels === null) return { ...res, detail: `files of the torrent lie outside its content path ${t.contentPath}` };
  const have = new Map(payload.files.map((f) => [f.relpath, f.size]));
  const missing = rels.filter((r) => !have.has(r));
  const sizeOf = new Map(files.map((f, i) => [rels[i] as string, f.size]));
  const wrong = rels.filter((r) => have.has(r) && have.get(r) !== sizeOf.get(r));
  if (missing.length > 0) return { ...res, dataStatus: 'incomplete', detail: `${missing.length} of ${rels.length} files are not in the catalog payload: ${sample(missing)}` };
  if (t.progress < 1 || t.amountLeft > 0) return { ...res, dataStatus: 'incomplete', detail: `the client has ${(t.progress * 100).toFixed(1)}% of the data` };
  if (wrong.length > 0) return { ...res, dataStatus: 'incomplete', detail: `file sizes differ from the torrent: ${sample(wrong)}` };
  const extra = payload.files.filter((f) => !sizeOf.has(f.relpath)).map((f) => f.relpath);
  if (extra.length > 0) return { ...res, detail: `the payload also holds ${extra.length} file(s) that are not part of the torrent: ${sample(extra)}` };
  return res;
}
