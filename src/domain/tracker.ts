// A tracker as hashall keeps it: the host name of the torrent's first tracker only — announce URLs carry passkeys, which are secrets, cut from any text a client reports too (pure).

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

/** Path segments of an announce URL that are its endpoint, not a key. */
const ENDPOINT = /^(announce|scrape)(\.php)?$/i;

/** A URL in free text: a scheme, `://`, and everything up to a space, a quote or a bracket. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()[\]{}]+/gi;

/**
 * `text` — an error a client reports for a torrent (Deluge's `message`, Transmission's `errorString`), which can quote
 * a tracker — with every tracker secret replaced by `stand`: each URL in it cut to its scheme and host (and port), as
 * trackerHost keeps only the host (the path and query are where passkeys live; a user and password before the host are
 * a login); and each path segment, query value and login of the torrent's own `announceUrls` (as is and URL-encoded)
 * wherever it still appears (a tracker's "unregistered passkey 0123…" quotes the key without its URL), whole or cut
 * short. Parts shorter than 8 characters (a `tracker` folder, `uid=7`) and the `announce`/`scrape` endpoints are not
 * keys and stay readable.
 */
export function withoutTrackerSecrets(text: string, announceUrls: readonly string[], stand: string): string {
  const keys = new Set<string>();
  for (const u of announceUrls) {
    let url: URL;
    try {
      url = new URL(u.trim());
    } catch {
      continue;
    }
    const parts = [...url.pathname.split('/'), ...url.searchParams.values(), url.username, url.password];
    for (const raw of parts) {
      let part = raw;
      try {
        part = decodeURIComponent(raw);
      } catch {
        /* kept as sent */
      }
      if (part.length < 8 || ENDPOINT.test(part)) continue;
      keys.add(part);
      keys.add(encodeURIComponent(part));
      keys.add(raw);
    }
  }
  const cutUrls = text.replace(URL_IN_TEXT, (match) => {
    // Punctuation that ends a sentence is the text's, not the URL's.
    const found = match.replace(/[.,;:!?]+$/, '');
    const after = match.slice(found.length);
    try {
      const url = new URL(found);
      const rest = found.slice(found.indexOf('://') + 3).replace(/^[^/?#]*/, '');
      return `${url.protocol}//${url.host}${rest === '' || rest === '/' ? rest : `/${stand}`}${after}`;
    } catch {
      return `${stand}${after}`;
    }
  });
  let out = cutUrls;
  for (const k of [...keys].sort((a, b) => b.length - a.length)) out = out.split(k).join(stand);
  // A key the client cut short (Transmission keeps 128 bytes of a tracker's error): any word of 8 or more characters
  // that is part of one.
  return keys.size === 0 ? out : out.replace(/[A-Za-z0-9._~%+=-]{8,}/g, (word) => ([...keys].some((k) => k.includes(word)) ? stand : word));
}
