// How a client's URL is shown in messages: scheme, host and path — never credentials, a query or a fragment.

/** `http://host:port/path` of `raw` (`?…` marks a query left out); `<invalid URL>` when it does not parse. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '<invalid URL>';
  }
}
