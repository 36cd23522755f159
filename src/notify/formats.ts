// The HTTP request body and headers each notification format expects, rendered from a Notice (pure).
import type { NotifyFormat } from '../config/types.js';
import { mdLiteral } from '../render/markdown-escape.js';
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

/**
 * cut() for escaped markup: a cut never splits an escape (a lone trailing `\`, or half of `&amp;`), which would
 * make the cut text's last character live markup again.
 */
function cutEscaped(text: string, max: number): string {
  if (text.length <= max) return text;
  let t = text.slice(0, max - 1);
  t = t.replace(/&[a-z]*$/, '');
  const slashes = /\\+$/.exec(t)?.[0].length ?? 0;
  if (slashes % 2 === 1) t = t.slice(0, -1);
  return `${t}…`;
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

/**
 * A notice's message is plain text (torrent, file and run names in it are anyone's choice); each chat format turns it
 * into its own markup literally, so a name never becomes a mention, a link with a disguised target, or formatting.
 * U+2060 WORD JOINER is invisible and breaks a syntax where the markup has no escape that every receiver honours.
 */
const WJ = '\u2060';

/**
 * Slack's `text`, sent with `mrkdwn: false` (so `*`, `_`, `~`, backticks are plain characters): `& < >` as Slack asks
 * even then (`<!channel>`, `<@U1>`, `<url|label>` need a raw `<`). The receivers that also take Slack's webhooks and
 * read markdown whatever the payload says (Rocket.Chat, Mattermost — which has its own `mattermost` format) ping on a
 * bare `@channel`/`@all`/`@here`/`@user`: the `@` and the `](` of a link or image are split by a word joiner.
 */
export function slackText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(?=\S)/g, `@${WJ}`)
    .replace(/\]\s*\(/g, (m) => `]${WJ}${m.slice(1)}`);
}

/**
 * Mattermost's `text` (markdown, always on): every markdown character backslash-escaped (mdLiteral), and a word joiner
 * after each `@` so a name never pings (`@channel`, `@all`, `@here`, `@user` are found in the raw text).
 */
export function mattermostText(text: string): string {
  return mdLiteral(text).replace(/@(?=\S)/g, `@${WJ}`);
}

/**
 * Discord's markdown characters, escaped everywhere (`\` before punctuation shows it literally): emphasis, code,
 * spoilers, masked links (`[`), mentions/channels/timestamps (`<`), `@everyone`, headings, quotes.
 */
const DISCORD_INLINE = /[\\*_~`|[\]<>@#]/g;
/** Markup that only counts at a line's start: lists and subtext (`-`, `-#`, `+`, `1.`). */
const DISCORD_LIST = /^(\s*)([-+]|\d+\.)/gm;

/**
 * Discord markdown, literal: every markdown character backslash-escaped — no masked link (`[x](url)`), no mention
 * markup (`<@id>`, `<#id>`, `@everyone` shown, never highlighted), no spoiler, code, heading, list or quote. The
 * webhook body also says `allowed_mentions: { parse: [] }`, so nothing pings whatever the text.
 */
export function discordText(text: string): string {
  return text.replace(DISCORD_INLINE, '\\$&').replace(DISCORD_LIST, (_m, space: string, mark: string) => `${space}${mark.replace(/[-+.]$/, '\\$&')}`);
}

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
          // The title is ours (host name and our words); the message holds names.
          embeds: [{ title: cut(n.title, 256), description: cutEscaped(discordText(n.message), 4096), color: DISCORD_COLOR[n.severity], timestamp: new Date(n.at).toISOString() }],
          allowed_mentions: { parse: [] },
        }),
      };
    case 'slack':
      // Incoming webhook: plain text (`mrkdwn: false`: no bold title either); `text` is also what Slack-compatible
      // receivers (Rocket.Chat) show.
      return { headers: JSON_HEADERS, body: JSON.stringify({ text: cutEscaped(`${slackText(n.title)}\n${slackText(n.message)}`, 3900), mrkdwn: false }) };
    case 'mattermost':
      // Incoming webhook `{ text }`: Mattermost renders it as markdown (no switch), so the text is escaped for it.
      return { headers: JSON_HEADERS, body: JSON.stringify({ text: cutEscaped(`**${mattermostText(n.title)}**\n${mattermostText(n.message)}`, 3900) }) };
    case 'ntfy':
      // Publish by POST to the topic URL: the body is the message, title/priority/tags are headers. No `Markdown: yes`
      // header: ntfy shows the body as plain text, so a name in it stays text.
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
      // Apprise API POST /notify/{KEY}: the services behind the key come from its saved configuration. `format: text`
      // says the body is plain text: Apprise converts it for each service it notifies.
      return { headers: JSON_HEADERS, body: JSON.stringify({ title: n.title, body: n.message, type: APPRISE_TYPE[n.severity], format: 'text' }) };
  }
}
