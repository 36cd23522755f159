// Maps a torrent's client file list onto its payload's relative paths; anything ambiguous is a problem (pure).
import type { SnapshotPayload, SnapshotTorrent } from '../domain/snapshot.js';
import { relativeTo, segments } from '../domain/path-string.js';

export type TorrentMapping =
  | { ok: true; /** Segments of content_path below save_path (0 = content is the save path). */ contentDepth: number }
  | { ok: false; problem: string };

function trimSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

function sample(list: string[]): string {
  const shown = list.slice(0, 3).join(', ');
  return list.length > 3 ? `${shown}, … (${list.length} in all)` : shown;
}

/**
 * Client file names are relative to the save path and include the content root (the top folder of a
 * multi-file torrent, the file itself of a single-file one). Strip the content root (content_path relative to
 * save_path) to get paths relative to the payload root, then require that they are exactly the payload's
 * files with the same sizes. Cross-seed siblings with different top folders map onto the same relpaths.
 */
export function mapTorrentFiles(t: SnapshotTorrent, payload: SnapshotPayload): TorrentMapping {
  const name = `"${t.name}"`;
  if (t.files.length === 0) return { ok: false, problem: `the client reported no file list for ${name}` };
  const contentRel = relativeTo(trimSlash(t.clientContentPath), trimSlash(t.clientSavePath));
  if (contentRel === null) {
    return { ok: false, problem: `content path ${t.clientContentPath} of ${name} is not inside its save path ${t.clientSavePath}` };
  }
  const rels = new Map<string, number>();
  const outside: string[] = [];
  const dup: string[] = [];
  for (const f of t.files) {
    let rel: string | null;
    if (contentRel === '') rel = f.name;
    else if (f.name === contentRel) rel = segments(f.name).pop() ?? null;
    else rel = f.name.startsWith(contentRel + '/') ? f.name.slice(contentRel.length + 1) : null;
    if (rel === null || rel === '') {
      outside.push(f.name);
      continue;
    }
    if (rels.has(rel)) dup.push(rel);
    rels.set(rel, f.size);
  }
  if (outside.length > 0) return { ok: false, problem: `files of ${name} lie outside its content path: ${sample(outside)}` };
  if (dup.length > 0) return { ok: false, problem: `the file list of ${name} is ambiguous: ${sample(dup)} appear twice` };
  // Fast path: every payload file is in the list with its size, and the counts agree.
  let matched = 0;
  for (const f of payload.files) if (rels.get(f.relpath) === f.size) matched += 1;
  if (matched === rels.size && matched === payload.files.length) return { ok: true, contentDepth: segments(contentRel).length };
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
  return { ok: true, contentDepth: segments(contentRel).length };
}
