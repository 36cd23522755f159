// A tracker as hashall keeps it: its host name only — announce URLs carry passkeys, which are secrets (pure).

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
