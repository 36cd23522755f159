// The HTTP request body and headers each notification format expects, rendered from a Notice (pure).
import type { NotifyFormat } from '../config/types.js';
import { genericPayload, type Notice, type NoticeSeverity } from './notice.js';

export interface NotifyRequest {
  headers: Record<string, string>;
  body: string;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** Cut to `max` characters (services reject longer fields), marking the cut. */
function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Discord embed colours (decimal RGB). */
const DISCORD_COLOR: Record<NoticeSeverity, number> = { info: 0x3498db, success: 0x2ecc71, warning: 0xf1c40f, error: 0xe74c3c };
/** ntfy priorities: 1 min … 3 default … 5 max. */
const NTFY_PRIORITY: Record<NoticeSeverity, number> = { info: 2, success: 3, warning: 4, error: 5 };
const NTFY_TAGS: Record<NoticeSeverity, string> = { info: 'information_source', success: 'white_check_mark', warning: 'warning', error: 'rotating_light' };
/** Gotify priorities: 0–10 (8 and above may alert loudly). */
const GOTIFY_PRIORITY: Record<NoticeSeverity, number> = { info: 2, success: 4, warning: 6, error: 8 };
/** Apprise notification types. */
const APPRISE_TYPE: Record<NoticeSeverity, string> = { info: 'info', success: 'success', warning: 'warning', error: 'failure' };

/** An HTTP header value must be Latin-1 without control characters; the title is ASCII-safe after this. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

export function renderRequest(format: NotifyFormat, n: Notice): NotifyRequest {
  switch (format) {
    case 'json':
      return { headers: JSON_HEADERS, body: JSON.stringify(genericPayload(n)) };
    case 'discord':
      // Execute Webhook: `content` or `embeds` required; embed title ≤ 256, description ≤ 4096 characters.
      return {
        headers: JSON_HEADERS,
        body: JSON.stringify({
          username: 'hashall',
          embeds: [{ title: cut(n.title, 256), description: cut(n.message, 4096), color: DISCORD_COLOR[n.severity], timestamp: new Date(n.at).toISOString() }],
          allowed_mentions: { parse: [] },
        }),
      };
    case 'slack':
      // Incoming webhook: `text` is what every Slack-compatible receiver (Mattermost, Rocket.Chat) shows.
      return { headers: JSON_HEADERS, body: JSON.stringify({ text: cut(`*${n.title}*\n${n.message}`, 3900) }) };
    case 'ntfy':
      // Publish by POST to the topic URL: the body is the message, title/priority/tags are headers.
      return {
        headers: { 'content-type': 'text/plain; charset=utf-8', Title: headerSafe(n.title), Priority: String(NTFY_PRIORITY[n.severity]), Tags: `hashall,${NTFY_TAGS[n.severity]}` },
        body: cut(n.message, 4000),
      };
    case 'gotify':
      // POST /message (token as ?token= or an X-Gotify-Key header).
      return {
        headers: JSON_HEADERS,
        body: JSON.stringify({ title: n.title, message: n.message, priority: GOTIFY_PRIORITY[n.severity], extras: { 'client::display': { contentType: 'text/plain' } } }),
      };
    case 'apprise':
      // Apprise API POST /notify/{KEY}: the services behind the key come from its saved configuration.
      return { headers: JSON_HEADERS, body: JSON.stringify({ title: n.title, body: n.message, type: APPRISE_TYPE[n.severity], format: 'text' }) };
  }
}
