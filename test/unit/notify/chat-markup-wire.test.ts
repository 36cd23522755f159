// A name with markup in it, sent to a real receiver on 127.0.0.1 in the Slack and Mattermost formats, arrives inert: Slack
// is told not to read markup (`mrkdwn: false`, `& < >` as entities), Mattermost (markdown always on) gets it escaped.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeSecret } from '../../../src/config/normalize.js';
import type { NotifyFormat, NotifyTarget } from '../../../src/config/types.js';
import type { Notice } from '../../../src/notify/notice.js';
import { sendNotice } from '../../../src/notify/send.js';
import { startReceiver, type Receiver } from '../../support/notify-receiver.js';
import { readMarkdown } from '../../support/markdown-read.js';

let recv: Receiver;
beforeAll(async () => {
  recv = await startReceiver();
});
afterAll(async () => {
  await recv.close();
});
afterEach(() => {
  recv.received.length = 0;
});

const NAME = '*bold* _it_ ~strike~ ~~gone~~ `code` <!channel> <https://evil.example|click> [x](https://evil.example) @here & Tom';
const MESSAGE = `1 group(s) blocked:\n/seeding/movies/${NAME}: payload hash unknown\n- not a list\n# not a heading`;
const WJ = '\u2060';

function notice(): Notice {
  return { event: 'blocked', severity: 'warning', title: 'hashall on nas: 1 newly blocked group(s)', message: MESSAGE, host: 'nas', at: Date.UTC(2024, 0, 1), runId: null };
}

function target(format: NotifyFormat): NotifyTarget {
  return { name: format, format, url: makeSecret(`${recv.url}/hook/${format}`, {}), headers: {}, events: ['blocked'], timeoutMs: 10_000, retries: 0 };
}

/** CommonMark read literally: the markup characters left unescaped (live), and the text a reader sees. */
function markdownRead(text: string): { live: string[]; shown: string } {
  const { live, shown } = readMarkdown(text, /[*_~`[\]<>()&|#!$\\]/, /^\s*([-+=]|\d+[.)])/);
  return { live, shown: shown.replaceAll(WJ, '') };
}

describe('markup in a name reaches Slack and Mattermost inert (real HTTP receiver)', () => {
  it('slack: mrkdwn off, & < > as entities, the text reads back exactly', async () => {
    const [out] = await sendNotice([target('slack')], notice());
    expect(out).toMatchObject({ status: 'sent' });
    const body = JSON.parse(recv.to('slack')[0]!.body) as { text: string; mrkdwn?: unknown };
    expect(body.mrkdwn).toBe(false);
    expect(body.text).not.toMatch(/[<>]/);
    expect(body.text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    const shown = body.text.replaceAll(WJ, '').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
    expect(shown).toBe(`hashall on nas: 1 newly blocked group(s)\n${MESSAGE}`);
  });

  it('mattermost: every markdown character escaped, no bare @mention, the text reads back exactly', async () => {
    const [out] = await sendNotice([target('mattermost')], notice());
    expect(out).toMatchObject({ status: 'sent' });
    const body = JSON.parse(recv.to('mattermost')[0]!.body) as { text: string };
    const [title, ...rest] = body.text.split('\n');
    expect(title).toBe('**hashall on nas: 1 newly blocked group\\(s\\)**');
    const { live, shown } = markdownRead(rest.join('\n'));
    expect(live).toEqual([]);
    expect(shown).toBe(MESSAGE);
    expect(body.text).not.toMatch(/@[^\u2060]/);
  });
});
