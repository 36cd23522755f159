// A tracker as hashall keeps it: the host name of the torrent's first tracker only — announce URLs carry passkeys, which are secrets (pure).

/**
 * The host name of a tracker announce URL (lower case, no port, no user, path or query — where passkeys live), or
 * the string itself when it is a bare host name. Null when there is none or it is neither (never the raw string).
 */
export function trackerHost(tracker: string | null): string | null {
  if (tracker === null) return null;
  const t = tracker.trim();
  if (t === '') return null;
  if (t.includes('://')) {
    try {
      const host = new URL(t).hostname.toLowerCase();
      return host === '' ? null : host;
    } catch {
      return null;
    }
  }
  return /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(t) ? t.toLowerCase() : null;
}

/** One tracker as a client lists it: its announce URL and, where the client says, its tier (0 first). */
export interface TrackerEntry {
  url: string;
  tier?: number;
}

/**
 * A torrent's tracker identity, the one value every client adapter reports as ClientTorrent.tracker and `{tracker}`
 * names a folder by: the host name (trackerHost) of the torrent's FIRST real tracker in tier order. Not the tracker
 * that currently works (qBittorrent's `tracker`, Deluge's `tracker_host`): that is empty while the torrent is paused
 * or every tracker fails and moves to a backup tier when the first is down, so a folder named after it would change
 * with the announce status and differ between two clients seeding the same torrent. Not a base domain (Deluge's
 * `tracker_host` cuts `tracker.example.org` to `example.org`): the host is what every client can give. Entries that
 * name no host are skipped — qBittorrent's `** [DHT] **`, `** [PeX] **` and `** [LSD] **` pseudo-entries among them.
 * Null when the torrent has no tracker with a host (trackerless, magnet with DHT only).
 */
export function trackerIdentity(entries: readonly TrackerEntry[]): string | null {
  const ordered = entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.tier ?? 0) - (b.e.tier ?? 0) || a.i - b.i);
  for (const { e } of ordered) {
    if (e.url.startsWith('** [')) continue;
    const host = trackerHost(e.url);
    if (host !== null) return host;
  }
  return null;
}
