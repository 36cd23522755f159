// libtorrent's part file: `.<info-hash>.parts` in a torrent's save path, holding the pieces its unwanted files share with wanted ones (one owner of its name; pure).

/** The name of the part file of the torrent with info-hash `hash` (as its client reports it). */
export function partFileName(hash: string): string {
  return `.${hash}.parts`;
}

/** The info-hash a part file's name carries, or null when `name` is no part file's. */
export function partFileHash(name: string): string | null {
  return /^\.([0-9a-f]+)\.parts$/.exec(name)?.[1] ?? null;
}
