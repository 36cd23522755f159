// Maps a torrent's client file list onto its payload's relative paths; anything ambiguous is a problem (pure).
import type { SnapshotPayload, SnapshotTorrent } from '../domain/snapshot.js';
import { segments } from '../domain/path-string.js';
import { clientListing, contentRelOf } from '../domain/listing.js';

export type TorrentMapping =
  | { ok: true; /** Segments of content_path below save_path (0 = content is the save path). */ contentDepth: number }
  | { ok: false; problem: string };

function sample(list: string[]): string {
  const shown = list.slice(0, 3).join(', ');
  return list.length > 3 ? `${shown}, … (${list.length} in all)` : shown;
}

/**
 * The torrent's files, relative to its content root (see clientListing), must be exactly the payload's files with
 * the same sizes. When the sync's digest of the client list equals the payload's listing digest that is proven
 * without either list; otherwise both lists are compared to say what differs.
 */
export function mapTorrentFiles(t: SnapshotTorrent, payload: SnapshotPayload): TorrentMapping {
  const name = `"${t.name}"`;
  const contentRel = contentRelOf(t);
  if (contentRel === null) {
    return { ok: false, problem: `content path ${t.clientContentPath} of ${name} is not inside its save path ${t.clientSavePath}` };
  }
  const depth = segments(contentRel).length;
  if (t.listingDigest !== null && t.listingDigest === payload.listingDigest) return { ok: true, contentDepth: depth };
  if (t.files === null || payload.files === null) {
    return { ok: false, problem: `the file lists of ${name} and of ${payload.rootPath} were not loaded, so they cannot be compared (plan again)` };
  }
  const listing = clientListing({ clientSavePath: t.clientSavePath, clientContentPath: t.clientContentPath, files: t.files });
  if (!listing.ok) {
    if (listing.kind === 'empty') return { ok: false, problem: `the client reported no file list for ${name}` };
    if (listing.kind === 'outside') return { ok: false, problem: `files of ${name} lie outside its content path: ${sample(listing.names)}` };
    if (listing.kind === 'duplicate') return { ok: false, problem: `the file list of ${name} is ambiguous: ${sample(listing.names)} appear twice` };
    return { ok: false, problem: `content path ${t.clientContentPath} of ${name} is not inside its save path ${t.clientSavePath}` };
  }
  const rels = listing.files;
  // Fast path: every payload file is in the list with its size, and the counts agree.
  let matched = 0;
  for (const f of payload.files) if (rels.get(f.relpath) === f.size) matched += 1;
  if (matched === rels.size && matched === payload.files.length) return { ok: true, contentDepth: depth };
  const inPayload = new Map(payload.files.map((f) => [f.relpath, f.size]));
  const missing: string[] = [];
  const sizes: string[] = [];
  for (const [rel, size] of rels) {
    const s = inPayload.get(rel);
    if (s === undefined) missing.push(rel);
    else if (s !== size) sizes.push(`${rel} (client ${size} B, disk ${s} B)`);
  }
  const extra = payload.files.filter((f) => !rels.has(f.relpath)).map((f) => f.relpath);
  if (missing.length > 0) return { ok: false, problem: `files of ${name} are missing from the catalog payload ${payload.rootPath}: ${sample(missing)}` };
  if (sizes.length > 0) return { ok: false, problem: `file sizes of ${name} differ from the disk: ${sample(sizes)}` };
  if (extra.length > 0) return { ok: false, problem: `payload ${payload.rootPath} holds files that are not part of ${name}: ${sample(extra)}` };
  if (payload.files.length !== rels.size) return { ok: false, problem: `payload ${payload.rootPath} lists a file twice; the catalog is inconsistent` };
  return { ok: true, contentDepth: depth };
}
