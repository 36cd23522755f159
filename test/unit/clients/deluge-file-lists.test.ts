// Which reads of a real deluged + deluge-web carry the torrents' file lists: a sync reads each list once, a repoint's polls only where they check the content path.
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openCatalog } from '../../../src/catalog/db.js';
import { syncTorrents } from '../../../src/catalog/sync.js';
import { hasContentPath, pauseConfirmed, recheckConfirmed, resumeConfirmed, setLocationConfirmed } from '../../../src/clients/confirm.js';
import { createDelugeClient } from '../../../src/clients/deluge/client.js';
import type { HashallConfig } from '../../../src/config/types.js';
import { delugeSandboxes, type DelugeSandbox } from '../../../src/sandbox/deluge-sandbox.js';
import { makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';

const N = 50;
const TRACKER = 'http://127.0.0.1:1/announce';
const sandboxes = delugeSandboxes();
let sb: DelugeSandbox;
let seed: string;
let torrents: MadeTorrent[];

beforeAll(async () => {
  sb = await sandboxes.start();
  seed = path.join(sb.dir, 'data', 'seed');
  torrents = Array.from({ length: N }, (_, i) =>
    makeTorrent({ saveDir: seed, name: `Lists.${i}`, files: [{ path: 'a.bin', size: 20_000 }, { path: `sub/${i}.nfo`, content: `${i}\n` }, { path: 'c.txt', content: 'c\n' }], trackers: [TRACKER] }),
  );
  // One settled and seeding (the repoint's), the others only added: what a sync reads does not depend on their state.
  for (const [i, t] of torrents.entries()) await sb.add(t, { dir: seed, running: i === 0, settle: i === 0 });
}, 180_000);
afterAll(() => sandboxes.stopAll());

interface Sent {
  method: string;
  files: boolean;
  bytes: number;
}

/** A Deluge client whose every JSON-RPC request is recorded: its method, whether it asks a 'files' status key, and the answer's size. */
function countingClient(): { client: ReturnType<typeof createDelugeClient>; sent: Sent[] } {
  const sent: Sent[] = [];
  const client = createDelugeClient({
    url: sb.url,
    password: () => sb.password,
    timeoutMs: 10_000,
    fetch: async (input, init) => {
      const body = JSON.parse(String(init?.body ?? '{}')) as { method?: string; params?: unknown[] };
      const keys = (body.params ?? []).find((p): p is unknown[] => Array.isArray(p) && p.every((k) => typeof k === 'string') && p.length > 0 && !/^[0-9a-f]{40}$/.test(String(p[0])));
      const res = await fetch(input, init);
      const text = await res.clone().text();
      sent.push({ method: body.method ?? '', files: keys?.includes('files') === true, bytes: text.length });
      return res;
    },
  });
  return { client, sent };
}

const summary = (sent: Sent[]) => ({
  calls: sent.length,
  withFiles: sent.filter((s) => s.files).length,
  bytes: sent.reduce((n, s) => n + s.bytes, 0),
  methods: sent.reduce<Record<string, number>>((m, s) => ({ ...m, [`${s.method}${s.files ? '+files' : ''}`]: (m[`${s.method}${s.files ? '+files' : ''}`] ?? 0) + 1 }), {}),
});

describe('Deluge: the reads that carry file lists', () => {
  test(`a sync of ${N} torrents reads their file lists in one request, and records every list complete`, async () => {
    const dir = path.join(sb.dir, 'sync');
    mkdirSync(dir, { recursive: true });
    const config: HashallConfig = {
      version: 1,
      configPath: path.join(dir, 'hashall.yaml'),
      configHash: 'test',
      catalog: path.join(dir, 'catalog.db'),
      filesystems: { disk: { name: 'disk', path: sb.dir, aliases: [] } },
      seeding: { disk: [path.join(sb.dir, 'data')] },
      libraries: [],
      clients: {},
      categories: {},
      placement: { default: 'keep', rules: [] },
      dedupe: { filesystems: [], minSize: 0 },
      verify: { everyMs: 30 * 86_400_000, budgetBytes: 0 },
      safety: { verify: 'full', retire: { mode: 'staged', observeHours: 0 }, minFree: 0, maxScanAgeHours: 24 },
    };
    const { client, sent } = countingClient();
    const catalog = openCatalog(config.catalog);
    try {
      const instance = { name: 'default', at: ['client'], type: 'deluge' as const, url: sb.url, username: null, password: null, pathMaps: [], timeoutMs: 10_000 };
      const s = await syncTorrents({ catalog, config, instance, client, now: Date.now });
      process.stderr.write(`deluge sync of ${N}: ${JSON.stringify(summary(sent))}\n`);
      expect(s.torrents).toBeGreaterThanOrEqual(N);
      // Each torrent's list read once: the status read of every torrent carries them all.
      expect(sent.filter((x) => x.files)).toHaveLength(1);
      const rows = catalog.db.prepare(`SELECT torrent_hash, name, size FROM torrent_files WHERE client = 'default' ORDER BY torrent_hash, idx`).all() as { torrent_hash: string; name: string; size: number }[];
      for (const t of torrents) {
        expect(rows.filter((r) => r.torrent_hash === t.infoHash).map((r) => [r.name, r.size])).toEqual([
          [`Lists.${torrents.indexOf(t)}/a.bin`, 20_000],
          [`Lists.${torrents.indexOf(t)}/sub/${torrents.indexOf(t)}.nfo`, `${torrents.indexOf(t)}\n`.length],
          [`Lists.${torrents.indexOf(t)}/c.txt`, 2],
        ]);
      }
    } finally {
      catalog.close();
      await client.close();
    }
  }, 60_000);

  test('a repoint (pause, set location, recheck, resume, as apply confirms them): only the set location is polled with the file lists, and one read after says where the content is', async () => {
    const t = torrents[0]!;
    const to = path.join(sb.dir, 'data', 'moved');
    mkdirSync(to, { recursive: true });
    cpSync(path.join(seed, 'Lists.0'), path.join(to, 'Lists.0'), { recursive: true });
    const { client, sent } = countingClient();
    try {
      const o = { timeoutMs: 30_000 };
      const phases: Record<string, Sent[]> = {};
      const phase = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
        const from = sent.length;
        const out = await run();
        phases[name] = sent.slice(from);
        return out;
      };
      const start = await phase('read', () => client.getTorrent(t.infoHash));
      expect(start).toMatchObject({ savePath: seed, contentPath: path.join(seed, 'Lists.0'), running: true });
      const paused = await phase('pause', () => pauseConfirmed(client, t.infoHash, { ...o, known: start! }));
      expect(paused).toMatchObject({ running: false, savePath: seed });
      const moved = await phase('setLocation', () => setLocationConfirmed(client, t.infoHash, to, { ...o, known: paused }));
      expect(moved.contentPath).toBe(path.join(to, 'Lists.0'));
      const checked = await phase('recheck', () => recheckConfirmed(client, t.infoHash, o));
      const resumed = await phase('resume', () => resumeConfirmed(client, t.infoHash, { ...o, known: checked }));
      expect(resumed).toMatchObject({ savePath: to, progress: 1, running: true });
      const final = await phase('verify', () => client.getTorrent(t.infoHash));
      expect(final).toMatchObject({ savePath: to, contentPath: path.join(to, 'Lists.0'), progress: 1, running: true });
      process.stderr.write(`deluge repoint: ${JSON.stringify(Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, summary(v)])))}\n`);
      for (const name of ['pause', 'recheck', 'resume']) expect(phases[name]!.filter((x) => x.files), name).toEqual([]);
      // A read of the state alone says nothing of where the content is (never a guess): the repoint's verify reads it.
      expect(hasContentPath(resumed)).toBe(false);
      expect(phases.setLocation!.filter((x) => x.files).length).toBeGreaterThan(0);
      expect(phases.verify!.filter((x) => x.files)).toHaveLength(1);
    } finally {
      await client.close();
    }
  }, 120_000);
});
