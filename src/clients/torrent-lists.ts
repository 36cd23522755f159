// Every torrent of one client instance with the file lists a caller needs, each list read once: one read of all where the client sends both together (Deluge), else the torrents first and then the lists asked, together.
import { mapLimit } from '../domain/map-limit.js';
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
