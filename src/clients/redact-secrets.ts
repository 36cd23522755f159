// Cuts a client's secrets (its password, a session id) out of text that came from the wire before it goes into a message: every client transport's one scrubber.
import { withoutTrackerSecrets } from '../domain/tracker.js';

/** What stands in a message where a secret was. */
export const REDACTED = '<redacted>';

/**
 * The secrets a transport has sent, each in every spelling an answer can echo it back in: as is, URL-encoded (a login
 * form: `password=S3cr3t%20pw`, or `+` for a space), and inside the `Authorization: Basic` value a proxy's error page
 * may quote. An answer of a compromised Web UI, a proxy or a buggy client can repeat any of them in an error body, and
 * that body is shown, logged and stored (a sync failure is recorded in the catalog).
 */
export class SecretScrubber {
  readonly #spellings = new Set<string>();

  /** Remember `secret` (empty: nothing). */
  add(secret: string): void {
    if (secret === '') return;
    this.#spellings.add(secret);
    this.#spellings.add(encodeURIComponent(secret));
    this.#spellings.add(new URLSearchParams({ s: secret }).toString().slice(2));
  }

  /** Remember the password of an HTTP basic login, and the header value it travels in. */
  addBasic(username: string, password: string): string {
    this.add(password);
    const token = Buffer.from(`${username}:${password}`).toString('base64');
    if (password !== '') this.add(token);
    return `Basic ${token}`;
  }

  /** `text` with every remembered spelling replaced, longest first (a spelling inside another is cut with it). */
  scrub(text: string): string {
    let out = text;
    for (const s of [...this.#spellings].sort((a, b) => b.length - a.length)) out = out.split(s).join(REDACTED);
    return out;
  }
}

/**
 * A torrent's error text as a client reports it (Deluge's `message`, Transmission's `errorString`), fit to be shown,
 * stored in the catalog, put in a plan or a notice: the client's own secrets cut by its transport's scrubber (`scrub`),
 * then the torrent's tracker secrets (its announce URLs' passkeys, src/domain/tracker.ts) — a tracker's error quotes them.
 */
export function torrentErrorText(text: string, announceUrls: readonly string[], scrub: (text: string) => string): string {
  return withoutTrackerSecrets(scrub(text), announceUrls, REDACTED);
}
