// The batched file-list reads of a real transmission-daemon and a real rTorrent (SCGI) under a lowered answer bound: a batch too large is read as halves and lists what an uncapped read does; one torrent alone past the bound fails, named.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRtorrentClient } from '../../../src/clients/rtorrent/client.js';
import { createTransmissionClient } from '../../../src/clients/transmission/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import { ClientError } from '../../../src/errors.js';
import { rtorrentSandboxes, type RtorrentSandbox } from '../../../src/sandbox/rtorrent-sandbox.js';
import { makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { transmissionSandboxes, type TransmissionSandbox } from '../../../src/sandbox/transmission-sandbox.js';

const SMALL = 8;
const FILES = 60;
const TRACKER = 'http://127.0.0.1:1/announce';
const longName = (t: string, i: number) => `Some.Show.S01E${String(i).padStart(3, '0')}.A.Rather.Long.Episode.Title.1080p.WEB-DL.DDP5.1.H.264-GROUP.${t}.mkv`;
const made = (seed: string, name: string, files: number) =>
  makeTorrent({ saveDir: seed, name, files: Array.from({ length: files }, (_, i) => ({ path: longName(name, i), content: `${name}.${i}` })), trackers: [TRACKER] });

interface Daemon {
  seed: string;
  add(t: MadeTorrent): Promise<void>;
  remove(t: MadeTorrent): Promise<void>;
  /** An uncapped client whose requests' answer sizes are recorded (bytes, in order). */
  measuring(): { client: TorrentClient; sizes: number[] };
  capped(cap: number): TorrentClient;
}

const recording = (sizes: number[]): typeof fetch => async (input, init) => {
  const res = await fetch(input, init);
  sizes.push((await res.clone().arrayBuffer()).byteLength);
  return res;
};

const transmissions = transmissionSandboxes();
const rtorrents = rtorrentSandboxes();
let tr: TransmissionSandbox;
let rt: RtorrentSandbox;
let relay: { url: string; close(): Promise<void> };
afterAll(async () => {
  await relay?.close();
  await transmissions.stopAll();
  await rtorrents.stopAll();
});

const daemons: Record<string, () => Daemon> = {
  Transmission: () => ({
    seed: path.join(tr.dir, 'data'),
    add: (t) => tr.add(t, { downloadDir: path.join(tr.dir, 'data') }),
    remove: async (t) => void (await tr.rpc('torrent-remove', { ids: [t.infoHash], 'delete-local-data': false })),
    measuring() {
      const sizes: number[] = [];
      return { client: createTransmissionClient({ url: tr.url, timeoutMs: 10_000, fetch: recording(sizes) }), sizes };
    },
    capped: (cap) => createTransmissionClient({ url: tr.url, timeoutMs: 10_000, maxAnswerBytes: cap }),
  }),
  'rTorrent (SCGI)': () => ({
    seed: path.join(rt.dir, 'data'),
    add: (t) => rt.add(t, { dir: path.join(rt.dir, 'data') }),
    remove: async (t) => void (await rt.call('d.erase', [t.infoHash.toUpperCase()])),
    // Measured through a loopback HTTP relay to the same daemon (the same XML-RPC answers); the client under test speaks SCGI.
    measuring() {
      const sizes: number[] = [];
      return { client: createRtorrentClient({ url: relay.url, timeoutMs: 10_000, fetch: recording(sizes) }), sizes };
    },
    capped: (cap) => createRtorrentClient({ url: rt.url, timeoutMs: 10_000, maxAnswerBytes: cap }),
  }),
};

beforeAll(async () => {
  [tr, rt] = await Promise.all([transmissions.start(), rtorrents.start()]);
  relay = await rt.httpRelay();
}, 60_000);

describe.each(Object.keys(daemons))('%s: file lists asked together, under a lowered answer bound', (name) => {
  let d: Daemon;
  let small: MadeTorrent[];
  let one = 0;
  let whole = 0;
  let want: unknown[];

  beforeAll(async () => {
    d = daemons[name]!();
    small = Array.from({ length: SMALL }, (_, i) => made(d.seed, `Pack.${i}`, FILES));
    for (const t of small) await d.add(t);
    const m = d.measuring();
    try {
      await m.client.version();
      // One request per list asked alone, one for the lists asked together.
      for (const t of small) {
        const from = m.sizes.length;
        await m.client.listFiles(t.infoHash);
        one = Math.max(one, ...m.sizes.slice(from));
      }
      const from = m.sizes.length;
      want = await Promise.all(small.map((t) => m.client.listFiles(t.infoHash)));
      whole = Math.max(...m.sizes.slice(from));
    } finally {
      await m.client.close();
    }
  }, 120_000);

  test(`${SMALL} torrents of ${FILES} long-named files asked together with a bound a third of their one answer: the same lists as uncapped`, async () => {
    const cap = Math.floor(whole / 3);
    // The bound fits two torrents' lists (a batch is halved until it fits) but not the one answer of all of them.
    expect(cap).toBeGreaterThan(2 * one);
    const c = d.capped(cap);
    try {
      const got = await Promise.all(small.map((t) => c.listFiles(t.infoHash)));
      process.stderr.write(`${name} capped at ${cap} of ${whole} bytes (one torrent ${one}): ${SMALL} lists read\n`);
      expect(got).toEqual(want);
      expect((want as unknown[][]).every((l) => l.length === FILES)).toBe(true);
    } finally {
      await c.close();
    }
  }, 60_000);

  test('one torrent whose own list passes the bound fails alone, named by its hash and name; a torrent asked with it is answered', async () => {
    const big = made(d.seed, 'Huge.Pack', FILES * 8);
    await d.add(big);
    const c = d.capped(3 * one);
    try {
      const [a, b] = await Promise.allSettled([c.listFiles(small[0]!.infoHash), c.listFiles(big.infoHash), c.listFiles(small[1]!.infoHash)]);
      expect(a.status === 'fulfilled' && a.value).toEqual(want[0]);
      expect(b.status).toBe('rejected');
      const err = (b as PromiseRejectedResult).reason as ClientError;
      expect(err).toBeInstanceOf(ClientError);
      expect(err.kind).toBe('protocol');
      expect(err.message).toContain(big.infoHash);
      expect(err.message).toContain('Huge.Pack');
      expect(err.message).toMatch(/alone/);
      expect(err.hint).toBeTruthy();
    } finally {
      await c.close();
      await d.remove(big);
    }
  }, 60_000);
});
