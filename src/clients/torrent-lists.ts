// Every torrent of one client instance as a caller needs it: with the file lists it needs, each list read once (read with the torrents where the client sends both together, Deluge), or only the hashes, read as cheaply as the client allows.
import { mapLimit } from '../domain/map-limit.js';
import { ClientError } from '../errors.js';
import { HASH_RE } from './poll.js';
import { FILE_LISTS_IN_FLIGHT, type ClientTorrent, type ClientTorrentFile, type TorrentClient } from './types.js';

/** A listed torrent and its file list: null where the caller did not need it and the client did not send it anyway. */
export interface ListedTorrent {
  torrent: ClientTorrent;
  files: ClientTorrentFile[] | null;
}

/**
 * The torrents of `client` and the file list of every torrent `needsFiles` names. A client that sends each torrent's
 * list with its status (listTorrentsWithFiles: Deluge, whose status read carries the lists anyway) is read once for
 * both; any other is asked its torrents, then the lists needed all at once (up to listFilesInFlight in flight, so an
 * adapter that answers several with one request — Transmission, rTorrent — does). Nothing is turned into an empty
 * answer: a client that cannot answer throws, and a list that cannot be read fails the whole read.
 */
export async function listTorrentsAndFiles(client: TorrentClient, needsFiles: (t: ClientTorrent) => boolean): Promise<ListedTorrent[]> {
  if (client.listTorrentsWithFiles) return (await client.listTorrentsWithFiles()).map((w) => ({ torrent: w.torrent, files: w.files }));
  const torrents = await client.listTorrents();
  const asked = torrents.filter(needsFiles);
  const lists = await mapLimit(asked, client.listFilesInFlight ?? FILE_LISTS_IN_FLIGHT, (t) => client.listFiles(t.hash));
  const byTorrent = new Map(asked.map((t, i) => [t, lists[i]!]));
  return torrents.map((torrent) => ({ torrent, files: byTorrent.get(torrent) ?? null }));
}

/**
 * The lower-case info-hash of every torrent of `client` (the identity of its torrent list: torrentListDigest), from its
 * hash-only read where it has one (listHashes), else from listTorrents. A client that cannot answer throws; a hash that
 * is not one throws (never dropped, which would change the list it identifies).
 */
export async function listTorrentHashes(client: TorrentClient): Promise<string[]> {
  if (!client.listHashes) return (await client.listTorrents()).map((t) => t.hash.toLowerCase());
  return (await client.listHashes()).map((h) => {
    if (typeof h !== 'string' || !HASH_RE.test(h)) throw new ClientError('protocol', `the client listed a torrent whose hash is not 40 or 64 hex digits: ${JSON.stringify(h).slice(0, 80)}`, { hint: 'a client answer that cannot be true is never guessed at: update or repair the client' });
    return h.toLowerCase();
  });
}
