// Hostile torrent names in each notification format's body: Slack (and Mattermost/Rocket.Chat reading its webhooks) and
// Discord get them as literal text — no mention, no disguised link, no markup; ntfy, Gotify and Apprise are told the
// body is plain text. Each format's body is decoded the way its receiver reads it and must give the message back.
import { describe, expect, it } from 'vitest';
import { discordText, renderRequest, slackText } from '../../../src/notify/formats.js';
import type { Notice } from '../../../src/notify/notice.js';
import { readMarkdown } from '../../support/markdown-read.js';

const HOSTILE = [
  'Evil <!channel> [Click](https:evil.example) <https:evil.example|Open>',
  '@everyone @here <@123456789> <#42> <t:1700000000:R> ||spoiler|| `code` **bold** _it_ ~~gone~~ ![img](https://evil.example/p.png)',
  '# Heading',
  '-# subtext',
  '> quote',
  '- item',
  '1. first',
  'Tom & Jerry \\*not bold\\* [x] (y) [a]  (b)',
];

function notice(message: string): Notice {
  return { event: 'blocked', severity: 'warning', title: 'hashall on nas: 1 newly blocked group(s)', message, host: 'nas', at: Date.UTC(2024, 0, 1), runId: null };
}

const WJ = '\u2060';

/** What Slack and Mattermost show: the three entities decoded, word joiners invisible. */
function slackShown(text: string): string {
  return text.replaceAll(WJ, '').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

/** Discord markdown read literally: the characters that stay live markup when not escaped, and the text shown. */
function discordRead(text: string): { live: string[]; shown: string } {
  return readMarkdown(text, /[*_~`|[\]<>@#]/, /^\s*([-+]|\d+\.)/);
}

describe('hostile names in notification bodies', () => {
  const message = ['2 group(s) blocked:', ...HOSTILE.map((h) => `${h}: payload hash unknown`)].join('\n');

  it('Slack: & < > as entities (no <!channel>, no <url|label>), no @mention, no markdown link; the text reads back exactly', () => {
    const { text } = JSON.parse(renderRequest('slack', notice(message)).body) as { text: string };
    expect(text).not.toMatch(/[<>]/);
    expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).not.toMatch(/@[^\u2060]/); // Mattermost/Rocket.Chat ping on a bare @channel/@all/@here/@user
    expect(text).not.toMatch(/\]\s*\(/); // [label](url) and ![img](url) in Mattermost/Rocket.Chat markdown
    expect(slackShown(text)).toBe(`hashall on nas: 1 newly blocked group(s)\n${message}`);
  });

  it('Discord: every markdown and mention character escaped; the text reads back exactly; allowed_mentions parse nothing', () => {
    const body = JSON.parse(renderRequest('discord', notice(message)).body) as { embeds: { description: string }[]; allowed_mentions: unknown; content?: string };
    const { live, shown } = discordRead(body.embeds[0]!.description);
    expect(live).toEqual([]);
    expect(shown).toBe(message);
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body.content).toBeUndefined();
  });

  it('a cut never leaves half an escape at its end', () => {
    for (let pad = 0; pad < 8; pad++) {
      const long = `${'x'.repeat(4090 + pad)}<<<<&&&&@@@@`;
      const d = (JSON.parse(renderRequest('discord', notice(long)).body) as { embeds: { description: string }[] }).embeds[0]!.description;
      expect(d.length).toBeLessThanOrEqual(4096);
      expect(discordRead(d.slice(0, -1)).live).toEqual([]);
      const long2 = `${'x'.repeat(3850 + pad * 7)}${'<&'.repeat(40)}`;
      const s = (JSON.parse(renderRequest('slack', notice(long2)).body) as { text: string }).text;
      expect(s.length).toBeLessThanOrEqual(3900);
      expect(s).not.toMatch(/&[a-z]*…$/);
    }
  });

  it('ntfy, Gotify and Apprise are told the body is plain text (no markdown rendering)', () => {
    const ntfy = renderRequest('ntfy', notice(message));
    expect(Object.keys(ntfy.headers).map((k) => k.toLowerCase())).not.toContain('markdown');
    expect(Object.keys(ntfy.headers).map((k) => k.toLowerCase())).not.toContain('x-markdown');
    expect(ntfy.body).toBe(message);
    expect(JSON.parse(renderRequest('gotify', notice(message)).body)).toMatchObject({ message, extras: { 'client::display': { contentType: 'text/plain' } } });
    expect(JSON.parse(renderRequest('apprise', notice(message)).body)).toMatchObject({ body: message, format: 'text' });
  });

  it('the escapes alone: plain words are left as they are', () => {
    expect(slackText('1/1 group(s) done, 293 KiB moved (run r-1).')).toBe('1/1 group(s) done, 293 KiB moved (run r-1).');
    expect(discordText('1/1 group(s) done, 293 KiB moved (run r-1).')).toBe('1/1 group(s) done, 293 KiB moved (run r-1).');
  });
});
