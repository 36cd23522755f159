// A real deluged + deluge-web read under a lowered answer bound: every torrent with its file list is read in pages of ids (halved while too large) and lists exactly what one uncapped read does; one torrent alone past the bound fails, named; torrents removed or added while the pages are read.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDelugeClient, LIST_ROUNDS, STATUS_PAGE } from '../../../src/clients/deluge/client.js';
import type { TorrentClient, TorrentWithFiles } from '../../../src/clients/types.js';
import { ClientError } from '../../../src/errors.js';
import { delugeSandboxes, type DelugeSandbox } from '../../../src/sandbox/deluge-sandbox.js';
import { makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';

const SMALL = 8;
const FILES = 60;
const TRACKER = 'http://127.0.0.1:1/announce';
/** A long file name, as a season pack's: the bulk of a status answer is its file list. */
const longName = (t: string, i: number) => `Some.Show.S01E${String(i).padStart(3, '0')}.A.Rather.Long.Episode.Title.1080p.WEB-DL.DDP5.1.H.264-GROUP.${t}.mkv`;
const sandboxes = delugeSandboxes();
let sb: DelugeSandbox;
let seed: string;
let small: MadeTorrent[];

const made = (name: string, files: number) => makeTorrent({ saveDir: seed, name, files: Array.from({ length: files }, (_, i) => ({ path: longName(name, i), content: `${name}.${i}` })), trackers: [TRACKER] });

beforeAll(async () => {
  sb = await sandboxes.start();
  seed = path.join(sb.dir, 'data', 'seed');
  small = Array.from({ length: SMALL }, (_, i) => made(`Pack.${i}`, FILES));
  for (const t of small) await sb.add(t, { dir: seed });
}, 180_000);
afterAll(() => sandboxes.stopAll());

interface Sent {
  method: string;
  /** The ids a core.get_torrents_status named, null for every torrent. */
  ids: string[] | null;
  bytes: number;
}

/** A Deluge client whose every request is recorded (method, ids asked, the answer's size); `before` runs ahead of a request and may change the daemon first. */
function client(o: { cap?: number; before?: (s: Sent) => Promise<void> } = {}): { client: TorrentClient; sent: Sent[] } {
  const sent: Sent[] = [];
  const c = createDelugeClient({
    url: sb.url,
    password: () => sb.password,
    timeoutMs: 10_000,
    ...(o.cap ? { maxAnswerBytes: o.cap } : {}),
    fetch: async (input, init) => {
      const body = JSON.parse(String(init?.body ?? '{}')) as { method?: string; params?: unknown[] };
      const first = body.params?.[0];
      const ids = body.method === 'core.get_torrents_status' && typeof first === 'object' && first !== null && Array.isArray((first as { id?: unknown }).id) ? ((first as { id: string[] }).id) : null;
      const s: Sent = { method: body.method ?? '', ids, bytes: 0 };
      await o.before?.(s);
      const res = await fetch(input, init);
      s.bytes = (await res.clone().arrayBuffer()).byteLength;
      sent.push(s);
      return res;
    },
  });
  return { client: c, sent };
}

const byHash = (list: TorrentWithFiles[]) => [...list].sort((a, b) => a.torrent.hash.localeCompare(b.torrent.hash));
const statusReads = (sent: Sent[]) => sent.filter((s) => s.method === 'core.get_torrents_status');

/** The biggest core.get_torrents_status answer of an uncapped read of every torrent with its files, and the biggest of one torrent alone. */
async function sizes(): Promise<{ whole: number; one: number }> {
  const { client: c, sent } = client();
  try {
    await c.listTorrentsWithFiles!();
    const whole = Math.max(...statusReads(sent).map((s) => s.bytes));
    sent.splice(0);
    for (const t of small) await c.listTorrents({ hashes: [t.infoHash] });
    return { whole, one: Math.max(...statusReads(sent).map((s) => s.bytes)) };
  } finally {
    await c.close();
  }
}

describe('Deluge: every torrent with its files, under a lowered answer bound', () => {
  test(`${SMALL} torrents of ${FILES} long-named files, read with a bound a third of the one-call answer: the same torrents and files as an uncapped read`, async () => {
    const { whole, one } = await sizes();
    const cap = Math.floor(whole / 3);
    // The bound fits two torrents' answers (a page is halved until it fits) but not the read of them all at once.
    expect(cap).toBeGreaterThan(2 * one);
    const plain = client();
    const capped = client({ cap });
    try {
      const want = byHash(await plain.client.listTorrentsWithFiles!());
      expect(want.map((w) => w.torrent.hash).sort()).toEqual(small.map((t) => t.infoHash).sort());
      expect(want.every((w) => w.files.length === FILES)).toBe(true);
      expect(byHash(await capped.client.listTorrentsWithFiles!())).toEqual(want);
      const got = statusReads(capped.sent);
      process.stderr.write(`deluge capped at ${cap} of ${whole} bytes: ${got.length} status reads, ids per read ${JSON.stringify(got.map((s) => s.ids?.length ?? 'all'))}, largest answer ${Math.max(...got.map((s) => s.bytes))}\n`);
      // The pages whose answers fit the bound name every torrent once; those past it were asked again as halves.
      expect(got.filter((s) => s.ids !== null && s.bytes <= cap).flatMap((s) => s.ids!).sort()).toEqual(small.map((t) => t.infoHash).sort());
      expect(got.filter((s) => s.ids !== null && s.bytes > cap).every((s) => s.ids!.length > 2)).toBe(true);
      // listTorrents (without file progress) and the file lists asked together (a sync's listFiles) the same way.
      capped.sent.splice(0);
      const sortT = <T extends { hash: string }>(l: T[]) => [...l].sort((a, b) => a.hash.localeCompare(b.hash));
      expect(sortT(await capped.client.listTorrents())).toEqual(sortT(await plain.client.listTorrents()));
      const lists = await Promise.all(small.map((t) => capped.client.listFiles(t.infoHash)));
      expect(lists).toEqual(small.map((t) => want.find((w) => w.torrent.hash === t.infoHash)!.files));
    } finally {
      await plain.client.close();
      await capped.client.close();
    }
  }, 60_000);

  test(`uncapped, a read of every torrent with its files is one hash read and one page of ids (up to ${STATUS_PAGE} torrents a page)`, async () => {
    const { client: c, sent } = client();
    try {
      await c.version();
      sent.splice(0);
      expect(await c.listTorrentsWithFiles!()).toHaveLength(SMALL);
      expect(statusReads(sent).map((s) => s.ids?.length ?? 'all')).toEqual(['all', SMALL]);
    } finally {
      await c.close();
    }
  });

  test('one torrent whose own answer passes the bound fails alone, named by its hash and name, with what to do; the others are still read', async () => {
    const { one } = await sizes();
    const big = made('Huge.Pack', FILES * 8);
    await sb.add(big, { dir: seed });
    const capped = client({ cap: 3 * one });
    try {
      const err = (await capped.client.listTorrentsWithFiles!().then(
        () => null,
        (e: unknown) => e,
      )) as ClientError;
      expect(err).toBeInstanceOf(ClientError);
      expect(err.kind).toBe('protocol');
      expect(err.message).toContain(big.infoHash);
      expect(err.message).toContain('Huge.Pack');
      expect(err.message).toMatch(/alone/);
      expect(err.hint).toBeTruthy();
      const fileErr = await capped.client.listFiles(big.infoHash).then(
        () => null,
        (e: unknown) => e,
      );
      expect((fileErr as Error).message).toContain(big.infoHash);
      // A small torrent asked together with it is answered.
      const [a, b] = await Promise.allSettled([capped.client.listFiles(small[0]!.infoHash), capped.client.listFiles(big.infoHash)]);
      expect(a.status === 'fulfilled' && a.value.length).toBe(FILES);
      expect(b.status).toBe('rejected');
    } finally {
      await capped.client.close();
      await sb.call('core.remove_torrent', [big.infoHash, false]);
    }
  }, 60_000);

  test('a torrent removed between the hash read and its page is not listed (as if removed before the read); every torrent there after the pages is', async () => {
    const gone = made('Gone.Pack', 3);
    await sb.add(gone, { dir: seed, settle: false });
    let removed = false;
    const { client: c, sent } = client({
      before: async (s) => {
        if (removed || s.ids === null) return;
        removed = true;
        await sb.call('core.remove_torrent', [gone.infoHash, false]);
      },
    });
    try {
      const list = await c.listTorrentsWithFiles!();
      expect(removed).toBe(true);
      expect(list.map((w) => w.torrent.hash).sort()).toEqual(small.map((t) => t.infoHash).sort());
      // The hash list is read again after the pages: it must hold no torrent the pages did not list.
      expect(statusReads(sent).map((s) => (s.ids === null ? 'all' : 'page'))).toEqual(['all', 'page', 'all']);
    } finally {
      await c.close();
    }
  }, 60_000);

  test('a torrent removed and another added while the pages are read: the read starts over and lists the one added', async () => {
    const gone = made('Gone.Again', 3);
    const added = made('Added.Meanwhile', 3);
    await sb.add(gone, { dir: seed, settle: false });
    let changed = false;
    const { client: c, sent } = client({
      before: async (s) => {
        if (changed || s.ids === null) return;
        changed = true;
        await sb.call('core.remove_torrent', [gone.infoHash, false]);
        await sb.add(added, { dir: seed, settle: false });
      },
    });
    try {
      const list = await c.listTorrentsWithFiles!();
      expect(list.map((w) => w.torrent.hash).sort()).toEqual([...small.map((t) => t.infoHash), added.infoHash].sort());
      expect(list.find((w) => w.torrent.hash === added.infoHash)!.files).toHaveLength(3);
      expect(statusReads(sent).map((s) => (s.ids === null ? 'all' : 'page'))).toEqual(['all', 'page', 'all', 'all', 'page']);
    } finally {
      await c.close();
      // Not there when the read never paged (nothing added it).
      await sb.call('core.remove_torrent', [added.infoHash, false]).catch(() => undefined);
    }
  }, 60_000);

  test(`torrents removed and added at every page: after ${LIST_ROUNDS} rounds the read fails, naming why (never a list that never was)`, async () => {
    const churn = Array.from({ length: LIST_ROUNDS + 1 }, (_, i) => made(`Churn.${i}`, 2));
    await sb.add(churn[0]!, { dir: seed, settle: false });
    let round = 0;
    const { client: c, sent } = client({
      before: async (s) => {
        if (s.ids === null || round >= LIST_ROUNDS) return;
        await sb.call('core.remove_torrent', [churn[round]!.infoHash, false]);
        await sb.add(churn[++round]!, { dir: seed, settle: false });
      },
    });
    try {
      const err = (await c.listTorrentsWithFiles!().then(
        () => null,
        (e: unknown) => e,
      )) as ClientError;
      expect(err).toBeInstanceOf(ClientError);
      expect(err.kind).toBe('unconfirmed');
      expect(err.message).toMatch(/kept changing/);
      expect(statusReads(sent).filter((s) => s.ids !== null)).toHaveLength(LIST_ROUNDS);
    } finally {
      await c.close();
      await sb.call('core.remove_torrent', [churn[LIST_ROUNDS]!.infoHash, false]).catch(() => undefined);
    }
  }, 60_000);
});
