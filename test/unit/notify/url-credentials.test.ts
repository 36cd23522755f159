// A notification URL with a user and password in it (`https://user:pass@ntfy.example/topic`, as curl and Apprise take
// them) is sent with those as HTTP Basic auth; fetch refuses such a URL outright, so every notification to it failed
// ("Request cannot be constructed from a URL that includes credentials"). A header the target sets itself wins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSecret } from '../../../src/config/normalize.js';
import type { NotifyTarget } from '../../../src/config/types.js';
import { failureNotice } from '../../../src/notify/notice.js';
import { sendNotice } from '../../../src/notify/send.js';
import { startReceiver, type Receiver } from '../../support/notify-receiver.js';

let recv: Receiver;
beforeAll(async () => {
  recv = await startReceiver();
});
afterAll(async () => {
  await recv.close();
});

function target(url: string, headers: Record<string, string> = {}): NotifyTarget {
  const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, makeSecret(v, {})]));
  return { name: 'phone', format: 'ntfy', url: makeSecret(url, {}), headers: h, events: ['failed'], timeoutMs: 5000, retries: 0 };
}

const notice = () => failureNotice('apply', 'a test failure', { host: 'nas', at: Date.now() });

describe('a notification URL carrying user:password', () => {
  it('is sent to the URL without them, as HTTP Basic auth (percent-escapes decoded)', async () => {
    recv.received.length = 0;
    const url = recv.url.replace('http://', 'http://alice:pa%3Ass%40w0rd@') + '/topic?x=1';
    const [out] = await sendNotice([target(url)], notice());
    expect(out?.error ?? null).toBeNull();
    expect(out?.status).toBe('sent');
    expect(recv.received).toHaveLength(1);
    expect(recv.received[0]!.path).toBe('/topic?x=1');
    expect(recv.received[0]!.headers.authorization).toBe(`Basic ${Buffer.from('alice:pa:ss@w0rd').toString('base64')}`);
  });

  it("an Authorization header of the target's own is kept", async () => {
    recv.received.length = 0;
    const url = recv.url.replace('http://', 'http://alice:secret@') + '/topic';
    const [out] = await sendNotice([target(url, { Authorization: 'Bearer tk_123456' })], notice());
    expect(out?.status).toBe('sent');
    expect(recv.received[0]!.headers.authorization).toBe('Bearer tk_123456');
  });

  it('a secret the 200-character cut of an error body would split is still scrubbed (scrubbed first, then cut)', async () => {
    recv.received.length = 0;
    // The receiver echoes the path: "internal error at POST /<158 a>/fail?token=…" puts the token at character 194.
    const url = `${recv.url}/${'a'.repeat(158)}/fail?token=Tk7Qw9Zr2Lm`;
    const [out] = await sendNotice([target(url)], notice());
    expect(out?.status).toBe('failed');
    expect(out?.error).toMatch(/^HTTP 500/);
    expect(out?.error).not.toMatch(/Tk7Qw9/);
  });

  it('a failure says nothing of the user or password', async () => {
    recv.received.length = 0;
    const url = recv.url.replace('http://', 'http://alice:Zq81xPw@') + '/fail';
    const [out] = await sendNotice([target(url)], notice());
    expect(out?.status).toBe('failed');
    expect(out?.error).toMatch(/^HTTP 500/);
    expect(out?.error).not.toContain('Zq81xPw');
    expect(out?.error).not.toContain(Buffer.from('alice:Zq81xPw').toString('base64'));
  });
});
