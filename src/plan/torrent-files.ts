// Maps a torrent's client file list onto its payload's relative paths; anything ambiguous is a problem (pure).
import type { SnapshotPayload, SnapshotTorrent } from '../domain/snapshot.js';
import { clientListing, contentRelOf, isPadFile } from '../domain/listing.js';
import { baseName } from '../domain/path-string.js';

export type TorrentMapping =
  | { ok: true; /** content_path below save_path, as the client reports it (it starts with the payload root's name). */ contentRel: string }
  | { ok: false; problem: string };

/**
 * A torrent whose files lie directly in its save path (no root folder) shares that directory with whatever else is
 * there: moving it would put two torrents' trees in one directory, and retiring its source would mean picking its
 * files out of a shared folder. It is never moved (a single-file torrent has its file as its root and is fine).
 */
function noRootProblem(t: SnapshotTorrent): string {
  return `torrent "${t.name}" has no root folder: its files lie directly in its save path ${t.clientSavePath}, beside other content; hashall moves only a torrent with its own folder or a single file (in the client, move it into a subfolder of its own, then plan again)`;
}

function sample(list: string[]): string {
  const shown = list.slice(0, 3).join(', ');
  return list.length > 3 ? `${shown}, … (${list.length} in all)` : shown;
}

/**
 * The torrent's files, relative to its payload root (see clientListing: the root comes from the file list), must be
 * exactly the payload's files with the same sizes. When the sync's digest of the client list equals the payload's
 * listing digest that is proven without either list (a digest exists only for a list that maps: one root below the
 * save path, content_path agreeing with it); otherwise both lists are compared to say what differs.
 */
export function mapTorrentFiles(t: SnapshotTorrent, payload: SnapshotPayload): TorrentMapping {
  const name = `"${t.name}"`;
  const contentRel = contentRelOf(t);
  // content_path = save_path is how qBittorrent reports a multi-file torrent without a root folder.
  if (contentRel === '') return { ok: false, problem: noRootProblem(t) };
  if (contentRel === null) {
    return { ok: false, problem: `content path ${t.clientContentPath} of ${name} is not inside its save path ${t.clientSavePath}` };
  }
  // The payload root is the torrent's root one level below the save path (the sync derives it from the file list):
  // the root folder, or the file of a one-file torrent without one. A catalog synced before that rule may hold the
  // file inside a folder instead; the new place would then be computed from the wrong root.
  const rootName = contentRel.split('/')[0]!;
  if (baseName(payload.rootPath) !== rootName) {
    return { ok: false, problem: `the catalog records ${payload.rootPath} as the payload of ${name}, but its root below the save path is "${rootName}" (refresh, or run \`hashall sync\`)` };
  }
  if (t.listingDigest !== null && t.listingDigest === payload.listingDigest) return { ok: true, contentRel };
  if (t.files === null || payload.files === null) {
    return { ok: false, problem: `the file lists of ${name} and of ${payload.rootPath} were not loaded, so they cannot be compared (plan again)` };
  }
  const listing = clientListing({ clientSavePath: t.clientSavePath, clientContentPath: t.clientContentPath, files: t.files });
  if (!listing.ok) {
    if (listing.kind === 'empty') return { ok: false, problem: `the client reported no file list for ${name}` };
    if (listing.kind === 'outside') return { ok: false, problem: `the content path ${t.clientContentPath} of ${name} does not match its file list (${sample(listing.names)})` };
    if (listing.kind === 'duplicate') return { ok: false, problem: `the file list of ${name} is ambiguous: ${sample(listing.names)} appear twice` };
    if (listing.kind === 'no-root') return { ok: false, problem: noRootProblem(t) };
    return { ok: false, problem: `content path ${t.clientContentPath} of ${name} is not inside its save path ${t.clientSavePath}` };
  }
  // Pad files (BEP 47) are no content: the client may list them or not, and they may lie on disk or not (listing.ts).
  const rels = listing.files;
  const content = payload.files.filter((f) => !isPadFile(f.relpath, f.size));
  // Fast path: every payload file is in the list with its size, and the counts agree.
  let matched = 0;
  for (const f of content) if (rels.get(f.relpath) === f.size) matched += 1;
  if (matched === rels.size && matched === content.length) return { ok: true, contentRel };
  const inPayload = new Map(content.map((f) => [f.relpath, f.size]));
  const missing: string[] = [];
  const sizes: string[] = [];
  for (const [rel, size] of rels) {
    const s = inPayload.get(rel);
    if (s === undefined) missing.push(rel);
    else if (s !== size) sizes.push(`${rel} (client ${size} B, disk ${s} B)`);
  }
  // A file the client will not download may lie on disk — downloaded before, or in part: the bytes of a piece it shares
  // with a wanted file (Transmission writes them there) — and is then the payload's like any file, moved as it is, at
  // most its listed size; absent, it is not missing.
  let unwantedPresent = 0;
  for (const f of content) {
    const size = listing.unwanted.get(f.relpath);
    if (size === undefined) continue;
    unwantedPresent += 1;
    if (f.size > size) sizes.push(`${f.relpath} (not downloaded by the client: client ${size} B, disk ${f.size} B)`);
  }
  const extra = content.filter((f) => !rels.has(f.relpath) && !listing.unwanted.has(f.relpath)).map((f) => f.relpath);
  if (missing.length > 0) return { ok: false, problem: `files of ${name} are missing from the catalog payload ${payload.rootPath}: ${sample(missing)}` };
  if (sizes.length > 0) return { ok: false, problem: `file sizes of ${name} differ from the disk: ${sample(sizes)}` };
  if (extra.length > 0) return { ok: false, problem: `payload ${payload.rootPath} holds files that are not part of ${name}: ${sample(extra)}` };
  if (content.length - unwantedPresent !== rels.size) return { ok: false, problem: `payload ${payload.rootPath} lists a file twice; the catalog is inconsistent` };
  return { ok: true, contentRel };
}
