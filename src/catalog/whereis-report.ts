// The shape of the `hashall whereis` report: data only, so the renderer (pure) can name it without reaching SQLite.

export interface WhereisCopy {
  fs: string | null;
  fsId: number;
  ino: number;
  nlink: number;
  /** Every active catalog path of this inode (its hardlinks). */
  paths: string[];
  /** Torrents whose content path holds one of these paths. */
  torrents: { client: string; hash: string; name: string }[];
  /** Paths of this inode outside every seeding root. */
  external: string[];
  /** Recorded symlinks that reach one of these paths (a link to it or to a folder above it); absent when none. */
  symlinks?: string[];
}

export interface WhereisFile {
  relpath: string;
  size: number;
  sha256: string | null;
  copies: WhereisCopy[];
}

export interface WhereisResult {
  query: string;
  matched: 'torrent' | 'payload-hash' | 'path';
  /** The payload roots the query resolved to (canonical). */
  roots: string[];
  /** The query was a symlink: the link, and the path it names (looked up instead; hashall never acts through a link). */
  via?: { link: string; target: string };
  payloadHash: string | null;
  files: WhereisFile[];
  /** Every active torrent whose payload is one of the roots, has the same payload hash, or holds one of the copies. */
  torrents: { client: string; hash: string; name: string; hostContentPath: string | null; payloadHash: string | null }[];
  /** Each configured client instance and when it last synced (null: never): `torrents` is what those syncs recorded. */
  syncs: { client: string; syncedAt: number | null }[];
}
