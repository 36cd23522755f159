// The qBittorrent client against a wire-level fake on 127.0.0.1: retries, re-login, timeouts, lying 200s, bad answers.
import { afterEach, describe, expect, test } from 'vitest';
import { ClientError } from '../../../src/errors.js';
import { createQbittorrentClient, type QbittorrentClientOptions } from '../../../src/clients/qbittorrent/client.js';
import { pauseConfirmed, recheckConfirmed, resumeConfirmed, setLocationConfirmed } from '../../../src/clients/confirm.js';
import { fakeTorrent, startFakeQbt, type FakeQbt, type FakeQbtOptions } from '../../support/fake-qbt.js';

const H = 'aa'.repeat(20);
const H2 = 'bb'.repeat(20);
const PASSWORD = 'S3cr3t pw&=%';

const fakes: FakeQbt[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
});

async function fake(o: FakeQbtOptions = {}): Promise<FakeQbt> {
  const f = await startFakeQbt(o);
  fakes.push(f);
  return f;
}

function client(f: FakeQbt, o: Partial<QbittorrentClientOptions> = {}) {
  const sleeps: number[] = [];
  const c = createQbittorrentClient({
    url: f.url,
    username: 'admin',
    password: () => PASSWORD,
    timeoutMs: 2_000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...o,
  });
  return { c, sleeps };
}

async function caught(p: Promise<unknown>): Promise<ClientError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ClientError);
  return err as ClientError;
}

/** Everything an error could show to a user or a log. */
function visibleText(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let i = 0; e && i < 5; i++) {
    parts.push(String(e), JSON.stringify(e), (e as { hint?: string }).hint ?? '', (e as Error).stack ?? '');
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

describe('retries', () => {
  test('5xx answers are retried with doubling backoff, then the answer is used', async () => {
    const f = await fake();
    f.torrents.set(H, fakeTorrent(H));
    f.script('/torrents/info', { status: 500, body: 'boom' }, { status: 502 });
    const { c, sleeps } = client(f, { backoffMs: 100 });
    const list = await c.listTorrents();
    expect(list.map((t) => t.hash)).toEqual([H]);
    expect(f.count('/torrents/info')).toBe(3);
    expect(sleeps).toEqual([100, 200]);
  });

  test('retries are bounded: persistent 503 fails after exactly `attempts` tries with the status', async () => {
    const f = await fake();
    f.script('/torrents/info', ...Array.from({ length: 10 }, () => ({ status: 503, body: '[]' })));
    const { c } = client(f, { attempts: 3 });
    const err = await caught(c.listTorrents());
    expect(err.kind).toBe('http');
    expect(err.status).toBe(503);
    expect(f.count('/torrents/info')).toBe(3);
  });

  test('a dropped connection is a network error that is retried', async () => {
    const f = await fake();
    f.torrents.set(H, fakeTorrent(H));
    f.script('/torrents/info', { destroy: true });
    const { c } = client(f);
    expect((await c.listTorrents()).length).toBe(1);
    expect(f.count('/torrents/info')).toBe(2);
  });

  test('nothing listening is a network error naming the redacted URL, after bounded tries', async () => {
    const f = await fake();
    const url = f.url;
    await f.close();
    fakes.splice(0);
    const { c, sleeps } = client({ url } as FakeQbt, { url: `http://admin:${encodeURIComponent(PASSWORD)}@${url.slice(7)}/?token=abc` });
    const err = await caught(c.listTorrents());
    expect(err.kind).toBe('network');
    expect(sleeps.length).toBe(2);
    expect(err.message).toContain(`${url}/api/v2/torrents/info`);
    expect(visibleText(err)).not.toContain('token=abc');
    expect(visibleText(err)).not.toContain('S3cr3t');
  });

  test('4xx answers are not retried', async () => {
    const f = await fake();
    f.torrents.set(H, fakeTorrent(H));
    f.script('/torrents/setLocation', { status: 409, body: 'Cannot make save path' });
    const { c } = client(f);
    const err = await caught(c.setLocation([H], '/proc/nope'));
    expect(err.kind).toBe('http');
    expect(err.status).toBe(409);
    expect(err.message).toContain('Cannot make save path');
    expect(f.count('/torrents/setLocation')).toBe(1);
  });
});

describe('authentication', () => {
  test('loopback bypass: no login is attempted while calls succeed', async () => {
    const f = await fake();
    const { c } = client(f);
    await c.listTorrents();
    expect(f.count('/auth/login')).toBe(0);
  });

  test('403 → login → retry; the session cookie is sent afterwards', async () => {
    const f = await fake({ auth: { username: 'admin', password: PASSWORD } });
    f.torrents.set(H, fakeTorrent(H));
    const { c } = client(f);
    expect((await c.listTorrents()).length).toBe(1);
    expect(f.count('/auth/login')).toBe(1);
    const login = f.requests.find((r) => r.path === '/auth/login');
    expect(login?.form.get('password')).toBe(PASSWORD);
    expect(f.requests.at(-1)?.cookie).toBe('SID=fake1');
  });

  test('403 mid-session forces exactly one re-login', async () => {
    const f = await fake({ auth: { username: 'admin', password: PASSWORD } });
    f.torrents.set(H, fakeTorrent(H));
    const { c } = client(f);
    await c.listTorrents();
    f.expireSessions();
    expect((await c.getTorrent(H))?.hash).toBe(H);
    expect(f.count('/auth/login')).toBe(2);
    expect(f.requests.at(-1)?.cookie).toBe('SID=fake2');
  });

  test('403 again right after a fresh login is an auth error, with no login loop', async () => {
    const f = await fake({ auth: { username: 'admin', password: PASSWORD } });
    f.script('/torrents/info', { status: 403 }, { status: 403 }, { status: 403 });
    const { c } = client(f);
    const err = await caught(c.listTorrents());
    expect(err.kind).toBe('auth');
    expect(f.count('/auth/login')).toBe(1);
  });

  test('a wrong password ("Fails.") is an auth error, tried once, and the password is nowhere in it', async () => {
    const f = await fake({ auth: { username: 'admin', password: 'the right one' } });
    const { c } = client(f);
    const err = await caught(c.listTorrents());
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/rejected the login for user "admin"/);
    expect(f.count('/auth/login')).toBe(1);
    expect(visibleText(err)).not.toContain('S3cr3t');
  });

  test('an answer echoing the login form, the password or the session cookie is shown without them (a Web UI or proxy may quote the request)', async () => {
    const f = await fake({ auth: { username: 'admin', password: PASSWORD } });
    const { c } = client(f);
    const form = new URLSearchParams({ username: 'admin', password: PASSWORD }).toString();
    const spellings = [PASSWORD, encodeURIComponent(PASSWORD), new URLSearchParams({ p: PASSWORD }).toString().slice(2)];
    // Refused login (403), a 4xx and a persistent 5xx of a call made with the session: each body quotes them.
    f.script('/auth/login', { status: 403, body: `banned: ${form} raw=${PASSWORD}` });
    const banned = await caught(c.listTorrents());
    await c.listTorrents();
    const sid = f.requests.at(-1)!.cookie.split('=')[1]!;
    expect(sid.length).toBeGreaterThan(3);
    f.script('/torrents/info', { status: 400, body: `bad request ${form} ${sid}` });
    const bad = await caught(c.listTorrents());
    f.script('/torrents/info', ...[1, 2, 3].map(() => ({ status: 500, body: `${encodeURIComponent(PASSWORD)} cookie SID=${sid}` })));
    const failing = await caught(c.listTorrents());
    for (const err of [banned, bad, failing]) {
      expect(err.message).toContain('<redacted>');
      for (const s of [...spellings, sid]) expect(visibleText(err)).not.toContain(s);
    }
  });

  test('a banned IP (403 on login) is an auth error that says so', async () => {
    const f = await fake({ auth: { username: 'admin', password: PASSWORD } });
    f.script('/auth/login', { status: 403, body: 'Your IP address has been banned after too many failed authentication attempts.' });
    const { c } = client(f);
    const err = await caught(c.listTorrents());
    expect(err.kind).toBe('auth');
    expect(err.message).toContain('banned');
    expect(f.count('/auth/login')).toBe(1);
  });

  test('login needed but no password configured: auth error with a hint, no login sent', async () => {
    const f = await fake({ auth: { username: 'admin', password: PASSWORD } });
    const { c } = client(f, { password: null });
    const err = await caught(c.listTorrents());
    expect(err.kind).toBe('auth');
    expect(err.hint).toMatch(/password/);
    expect(f.count('/auth/login')).toBe(0);
  });

  test('the password getter is called only when logging in', async () => {
    const f = await fake({ auth: { username: 'admin', password: PASSWORD } });
    let reads = 0;
    const { c } = client(f, { password: () => (reads++, PASSWORD) });
    await c.listTorrents();
    await c.listTorrents();
    expect(reads).toBe(1);
    await c.close();
    expect(f.count('/auth/logout')).toBe(1);
  });
});

describe('timeouts and bad answers', () => {
  test('a slow answer becomes ClientError("timeout")', async () => {
    const f = await fake();
    f.script('/torrents/info', { delayMs: 1_500, json: [] });
    const { c } = client(f, { timeoutMs: 200 });
    const err = await caught(c.listTorrents());
    expect(err.kind).toBe('timeout');
    expect(err.message).toContain('200 ms');
  });

  test('an answer cut off mid-body is a network error (retried), never a shorter body read as the answer', async () => {
    const f = await fake();
    f.torrents.set(H, fakeTorrent(H));
    const cut = { json: [fakeTorrent(H)], partial: { bytes: 10, then: 'drop' as const } };
    f.script('/torrents/info', cut);
    const { c } = client(f);
    expect((await c.listTorrents()).map((t) => t.hash)).toEqual([H]);
    expect(f.count('/torrents/info')).toBe(2);
    f.script('/torrents/info', cut, cut, cut);
    expect((await caught(c.listTorrents())).kind).toBe('network');
  });

  test('an answer that stops mid-body is a timeout: the bound covers the whole answer, not only its headers', async () => {
    const f = await fake();
    f.script('/torrents/info', { json: [fakeTorrent(H)], partial: { bytes: 10, then: 'stall' } });
    const { c } = client(f, { timeoutMs: 300 });
    const err = await caught(c.listTorrents());
    expect(err.kind).toBe('timeout');
    expect(err.message).toContain('300 ms');
  });

  test('malformed JSON is a protocol error, never an empty list', async () => {
    const f = await fake();
    f.script('/torrents/info', { body: '[{"hash": "aa", ' });
    const { c } = client(f);
    expect((await caught(c.listTorrents())).kind).toBe('protocol');
  });

  test('an empty 200 body is a protocol error, never an empty list', async () => {
    const f = await fake();
    f.script('/torrents/info', { body: '' });
    const { c } = client(f);
    expect((await caught(c.listTorrents())).kind).toBe('protocol');
  });

  test('`[]` carried by error answers is an error, not an empty torrent list', async () => {
    const f = await fake();
    f.script('/torrents/info', { status: 500, json: [] }, { status: 500, json: [] }, { status: 500, json: [] });
    const { c } = client(f);
    const err = await caught(c.listTorrents());
    expect(err.kind).toBe('http');
    expect(err.status).toBe(500);
  });

  test('entries missing required fields are a protocol error naming the field', async () => {
    const f = await fake();
    const { save_path: _omit, ...partial } = fakeTorrent(H);
    f.script('/torrents/info', { json: [partial] });
    const { c } = client(f);
    const err = await caught(c.listTorrents());
    expect(err.kind).toBe('protocol');
    expect(err.message).toMatch(/"save_path" is missing/);
  });

  test('an entry whose numbers cannot be true (progress past 1 or Infinity, negative bytes left or size) or whose hash is no info-hash is a protocol error, never complete', async () => {
    const f = await fake();
    const { c } = client(f);
    const seeding = { ...fakeTorrent(H), state: 'uploading' };
    const lies: [Record<string, unknown>, RegExp][] = [
      [{ progress: 2 }, /progress 2 \(not within 0\.\.1\)/],
      [{ amount_left: -5 }, /-5 bytes left/],
      [{ total_size: -1, size: -1 }, /size -1/],
      [{ hash: '../../etc/x' }, /not 40 or 64 hex digits/],
    ];
    for (const [over, why] of lies) {
      f.script('/torrents/info', { json: [{ ...seeding, ...over }] });
      const err = await caught(c.listTorrents());
      expect(err.kind).toBe('protocol');
      expect(err.message).toMatch(why);
    }
    // 1e400 is valid JSON and parses as Infinity: `progress >= 1` would read it as complete.
    f.script('/torrents/info', { body: JSON.stringify([seeding]).replace('"progress":1', '"progress":1e400') });
    expect((await caught(c.getTorrent(H))).message).toMatch(/progress Infinity/);
    // A sound entry still reads.
    f.script('/torrents/info', { json: [seeding] });
    expect(await c.getTorrent(H)).toMatchObject({ phase: 'seeding', progress: 1, amountLeft: 0 });
  });

  test('files of an unknown torrent (404) is an error, not an empty list', async () => {
    const f = await fake();
    const { c } = client(f);
    const err = await caught(c.listFiles(H));
    expect(err.status).toBe(404);
  });

  test('mutations refuse anything that is not an info-hash (never "all")', async () => {
    const f = await fake();
    const { c } = client(f);
    await expect(c.pause(['all'])).rejects.toThrow(/not an info-hash/);
    await expect(c.setLocation([''], '/x')).rejects.toThrow(/not an info-hash/);
    await expect(c.setLocation([H], 'relative/x')).rejects.toThrow(/absolute/);
    expect(f.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });
});

describe('version detection', () => {
  test('Web API 2.8.x (qBittorrent 4.x) uses pause/resume', async () => {
    const f = await fake({ webApiVersion: '2.8.19' });
    const { c } = client(f);
    expect(await c.version()).toEqual({ app: 'v4.5.2', webApi: '2.8.19' });
    await c.pause([H]);
    await c.resume([H]);
    expect(f.count('/torrents/pause') + f.count('/torrents/resume')).toBe(2);
    expect(f.count('/torrents/stop') + f.count('/torrents/start')).toBe(0);
  });

  test('Web API 2.11+ (qBittorrent 5.x) uses stop/start', async () => {
    const f = await fake({ webApiVersion: '2.11.2' });
    const { c } = client(f);
    await c.pause([H]);
    await c.resume([H]);
    expect(f.count('/torrents/stop') + f.count('/torrents/start')).toBe(2);
    expect(f.count('/torrents/pause') + f.count('/torrents/resume')).toBe(0);
  });

  test('setDownloadPath is a no-op on a Web API without the endpoint, and sent as id= otherwise', async () => {
    const old = await fake({ webApiVersion: '2.8.3' });
    await client(old).c.setDownloadPath([H], '');
    expect(old.count('/torrents/setDownloadPath')).toBe(0);
    const cur = await fake({ webApiVersion: '2.8.19' });
    await client(cur).c.setDownloadPath([H], '/tmp/x');
    const r = cur.requests.find((x) => x.path === '/torrents/setDownloadPath');
    expect([r?.form.get('id'), r?.form.get('path')]).toEqual([H, '/tmp/x']);
  });

  test('an unreadable version is a protocol error', async () => {
    const f = await fake({ webApiVersion: '<html>' });
    expect((await caught(client(f).c.version())).kind).toBe('protocol');
  });
});

describe('confirmation by reading back', () => {
  test('a truthful setLocation is confirmed', async () => {
    const f = await fake();
    f.torrents.set(H, fakeTorrent(H));
    const { c } = client(f);
    const t = await setLocationConfirmed(c, H, '/data/new/', { timeoutMs: 1_000, intervalMs: 10 });
    expect([t.savePath, t.contentPath]).toEqual(['/data/new', '/data/new/Payload']);
  });

  test('a lying 200 (setLocation accepted, nothing changes) is unconfirmed, bounded by the timeout', async () => {
    const f = await fake({ lying: true });
    f.torrents.set(H, fakeTorrent(H));
    let clock = 0;
    const { c } = client(f, { now: () => clock, sleep: async (ms) => void (clock += ms) });
    const err = await caught(setLocationConfirmed(c, H, '/data/new', { timeoutMs: 500, intervalMs: 50 }));
    expect(err.kind).toBe('unconfirmed');
    expect(err.message).toContain('move to /data/new');
    expect((err.cause as ClientError).kind).toBe('timeout');
    expect(f.count('/torrents/setLocation')).toBe(1);
    expect(f.count('/torrents/info')).toBeLessThanOrEqual(1 + 500 / 50 + 2);
    expect(f.torrents.get(H)?.save_path).toBe('/data/seed');
  });

  test('a mutation on an unknown hash is unconfirmed and not sent', async () => {
    const f = await fake();
    f.torrents.set(H, fakeTorrent(H));
    const { c } = client(f);
    for (const op of [
      () => setLocationConfirmed(c, H2, '/x', { timeoutMs: 200 }),
      () => pauseConfirmed(c, H2, { timeoutMs: 200 }),
      () => resumeConfirmed(c, H2, { timeoutMs: 200 }),
      () => recheckConfirmed(c, H2, { timeoutMs: 200 }),
    ]) {
      const err = await caught(op());
      expect(err.kind).toBe('unconfirmed');
      expect(err.message).toContain(H2);
    }
    expect(f.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  test('lying pause/resume/recheck are unconfirmed; truthful ones are confirmed', async () => {
    const f = await fake({ lying: true });
    f.torrents.set(H, fakeTorrent(H, { state: 'stalledUP' }));
    f.torrents.set(H2, fakeTorrent(H2, { state: 'pausedDL', progress: 0 }));
    let clock = 0;
    const { c } = client(f, { now: () => clock, sleep: async (ms) => void (clock += ms) });
    const o = { timeoutMs: 300, intervalMs: 50 };
    expect((await caught(pauseConfirmed(c, H, o))).kind).toBe('unconfirmed');
    expect((await caught(resumeConfirmed(c, H2, o))).kind).toBe('unconfirmed');
    expect((await caught(recheckConfirmed(c, H2, o))).kind).toBe('unconfirmed');
    f.setLying(false);
    expect((await pauseConfirmed(c, H, o)).phase).toBe('paused-complete');
    expect((await recheckConfirmed(c, H2, o)).progress).toBe(1);
    expect((await resumeConfirmed(c, H2, o)).running).toBe(true);
  });

  test('a recheck that ends incomplete throws', async () => {
    const f = await fake();
    f.torrents.set(H, fakeTorrent(H, { state: 'pausedDL', progress: 0 }));
    f.script('/torrents/info', { json: [fakeTorrent(H, { state: 'pausedDL', progress: 0 })] }, { json: [fakeTorrent(H, { state: 'checkingDL', progress: 0.2 })] });
    f.setLying(true);
    f.torrents.get(H)!.progress = 0.5;
    const { c } = client(f, { sleep: async () => undefined });
    const err = await caught(recheckConfirmed(c, H, { timeoutMs: 1_000, intervalMs: 10 }));
    expect(err.kind).toBe('unconfirmed');
    expect(err.message).toMatch(/ended incomplete: pausedDL, progress 0.5/);
  });
});
