// Torrent identity across client instances: (instance, info-hash), its key and its label in every view (pure).
/** The instance name a single `client:` section gets (and the catalog rows of catalogs older than `clients:`). */
export const DEFAULT_INSTANCE = 'default';

/** The instance of a torrent reference; plans, journals and relocations written before `clients:` name none: `default`. */
export function instanceOf(ref: { client?: string | undefined }): string {
  return ref.client ?? DEFAULT_INSTANCE;
}

/** One string per torrent, unique across instances (the same info-hash may be seeded by two instances). */
export function torrentKey(ref: { client?: string | undefined; hash: string }): string {
  return `${instanceOf(ref)}\u0000${ref.hash.toLowerCase()}`;
}

/** How views name a torrent: `instance/abcd1234` (short hash), e.g. `qbt/5e1c0a77`. */
export function torrentLabel(ref: { client?: string | undefined; hash: string }): string {
  return `${instanceOf(ref)}/${ref.hash.slice(0, 8)}`;
}
