// Which reads of a real deluged + deluge-web carry the torrents' file lists: a sync and retire's proofs read each list once, a repoint's polls only where they check the content path.
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openCatalog } from '../../../src/catalog/db.js';
import { syncTorrents } from '../../../src/catalog/sync.js';
import { hasContentPath, pauseConfirmed, recheckConfirmed, resumeConfirmed, setLocationConfirmed } from '../../../src/clients/confirm.js';
import { createDelugeClient, STATUS_PAGE } from '../../../src/clients/deluge/client.js';
import type { HashallConfig } from '../../../src/config/types.js';
import { delugeSandboxes, type DelugeSandbox } from '../../../src/sandbox/deluge-sandbox.js';
import { makeTorrent, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { applyPlan } from '../../../src/apply/executor.js';
import { preflight } from '../../../src/apply/preflight.js';
import { singleClient } from '../../../src/clients/client-set.js';
import { listTorrentHashes } from '../../../src/clients/torrent-lists.js';
import { ClientError } from '../../../src/errors.js';
import { torrentListDigest } from '../../../src/plan/orphan-groups.js';
import type { PlanGroup } from '../../../src/plan/types.js';
import { testDeps } from '../../support/apply-deps.js';
import { bytesFor, fingerprint, makeApplyFixture, makePlan, moveGroup, payloadHashOf, writeTree, type ApplyFixture } from '../../support/apply-fixture.js';

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

/** A plan group retiring orphan file `stray` (18 bytes) of `w`'s stash, planned while the client listed `hashes`. */
function orphanGroup(w: ApplyFixture, stray: string, hashes: string[]): PlanGroup {
  return {
    id: 'o1',
    key: 'orphan-1',
    action: 'retire',
    title: 'stray.nfo',
    payloadHash: null,
    torrents: [],
    from: { fs: 'stash', path: stray },
    to: null,
    reasons: ['test orphan'],
    rule: null,
    bytesToCopy: 0,
    bytesToFree: 18,
    steps: [{ kind: 'retire-orphan', fs: 'stash', seedingRoot: path.join(w.stash, 'seeding'), path: stray, treeKind: 'file', files: 1, bytes: 18 }],
    fingerprint: { files: [fingerprint(stray)], torrents: [], clientTorrents: torrentListDigest(hashes.map((h) => `default/${h}`)) },
  };
}

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

describe("Deluge: retire's proofs that no torrent uses what they stage", () => {
  const LOOSE = 6;
  /** Deluge renames asynchronously: wait until its file list says `done`. */
  async function renamed(h: string, done: (paths: string[]) => boolean): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const st = (await sb.call('core.get_torrent_status', [h, ['files']])) as { files: { path: string }[] };
      if (done(st.files.map((f) => f.path))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`Deluge never renamed the files of ${h}`);
  }

  test(`a retire and an orphan retire beside ${LOOSE} torrents without a root folder (whose own files say what they use) read every file list once, in pages of ids`, async () => {
    const w = makeApplyFixture();
    try {
      const movies = path.join(w.stash, 'seeding', 'movies');
      const src = path.join(movies, 'R');
      writeTree(src, { 'a.bin': bytesFor('ra', 30_000), 'sub/b.bin': bytesFor('rb', 2000) });
      const dst = path.join(w.pool, 'seeding', 'movies', 'R');
      const hash = payloadHashOf(src);
      expect((await applyPlan(testDeps(w), makePlan(w, [moveGroup('g1', w, src, dst)]))).status).toBe('succeeded');
      const relId = (w.catalog.db.prepare(`SELECT id FROM relocations`).get() as { id: number }).id;
      // Torrents whose files lie directly in movies/ (renamed out of their folder): their content path is movies/ itself.
      for (let i = 0; i < LOOSE; i++) {
        const t = makeTorrent({ saveDir: movies, name: `Loose.${i}`, files: [{ path: 'a.bin', size: 10_000 }, { path: 'b.nfo', content: `${i}\n` }], trackers: [TRACKER] });
        await sb.add(t, { dir: movies, running: false });
        await sb.call('core.rename_files', [t.infoHash, [[0, `Loose.${i}.a.bin`], [1, `Loose.${i}.b.nfo`]]]);
        await renamed(t.infoHash, (ps) => ps.every((p) => !p.includes('/')));
      }
      const stray = path.join(movies, 'stray.nfo');
      writeFileSync(stray, 'nobody seeds this\n');
      const { client, sent } = countingClient();
      try {
        const retire: PlanGroup = {
          id: 'r1',
          key: 'retire-1',
          action: 'retire',
          title: 'R',
          payloadHash: hash,
          torrents: [],
          from: { fs: 'stash', path: src },
          to: null,
          reasons: ['test retire'],
          rule: null,
          bytesToCopy: 0,
          bytesToFree: 32_000,
          steps: [{ kind: 'retire', fs: 'stash', root: src, payloadHash: hash, keptRoot: dst, keptFs: 'pool', relocationId: relId, bytes: 32_000 }],
          fingerprint: { files: [], torrents: [] },
        };
        const res = await applyPlan(testDeps(w, { client }), makePlan(w, [retire]));
        expect(res.status, JSON.stringify(res.groups[0]?.error)).toBe('succeeded');
        expect(existsSync(src)).toBe(false);
        const retireReads = sent.splice(0);
        process.stderr.write(`deluge retire beside ${LOOSE} rootless torrents: ${JSON.stringify(summary(retireReads))}\n`);
        // Retire proves before staging and again after: each proof read every torrent's list, the rootless ones'
        // included, with the status reads of them all (no list asked again, one by one): ⌈(N + LOOSE) / STATUS_PAGE⌉ pages each.
        const pages = Math.ceil((N + LOOSE) / STATUS_PAGE);
        expect(retireReads.filter((x) => x.files).map((x) => x.method)).toEqual(Array(2 * pages).fill('core.get_torrents_status'));

        const hashes = Object.keys((await sb.call('core.get_torrents_status', [{}, ['hash']])) as Record<string, unknown>);
        const orphan = orphanGroup(w, stray, hashes);
        const orphanRes = await applyPlan(testDeps(w, { client, config: { ...w.config, orphans: { action: 'retire', minAgeMs: 0, exclude: [] } } }), makePlan(w, [orphan]));
        expect(orphanRes.status, JSON.stringify(orphanRes.groups[0]?.error)).toBe('succeeded');
        expect(existsSync(stray)).toBe(false);
        const orphanReads = sent.splice(0);
        process.stderr.write(`deluge orphan retire beside ${LOOSE} rootless torrents: ${JSON.stringify(summary(orphanReads))}\n`);
        // The preflight reads only the hashes (the identity of the torrent list); the step's proof reads every list once.
        expect(orphanReads.filter((x) => x.files).map((x) => x.method)).toEqual(Array(pages).fill('core.get_torrents_status'));
      } finally {
        await client.close();
      }
    } finally {
      w.cleanup();
    }
  }, 180_000);
});

describe("Deluge: a saved orphan plan's preflight reads the hashes alone", () => {
  test(`the torrent list's identity from ${N}+ torrents without their file lists: the digest the planner made from listTorrents, far fewer bytes`, async () => {
    const { client, sent } = countingClient();
    try {
      await client.version();
      sent.splice(0);
      const full = await client.listTorrents();
      const fullRead = summary(sent.splice(0));
      const hashes = await listTorrentHashes(client);
      const hashRead = summary(sent.splice(0));
      process.stderr.write(`deluge torrent list of ${full.length}: listTorrents ${JSON.stringify(fullRead)} vs hashes ${JSON.stringify(hashRead)}\n`);
      expect(full.length).toBeGreaterThanOrEqual(N);
      // The same keys (instance/hash), so a plan made before still matches.
      expect(torrentListDigest(hashes.map((h) => `default/${h}`))).toEqual(torrentListDigest(full.map((t) => `default/${t.hash}`)));
      expect(hashRead).toMatchObject({ calls: 1, withFiles: 0 });
      expect(hashRead.bytes * 5).toBeLessThan(fullRead.bytes);
    } finally {
      await client.close();
    }
  }, 60_000);

  test('preflight of an orphan retirement: one hash-only read; a client that cannot answer refuses the plan', async () => {
    const w = makeApplyFixture();
    try {
      const stray = path.join(w.stash, 'seeding', 'stray.nfo');
      mkdirSync(path.dirname(stray), { recursive: true });
      writeFileSync(stray, 'nobody seeds this\n');
      const hashes = Object.keys((await sb.call('core.get_torrents_status', [{}, ['hash']])) as Record<string, unknown>);
      const orphan = orphanGroup(w, stray, hashes);
      const plan = makePlan(w, [orphan]);
      const { client, sent } = countingClient();
      try {
        await client.version();
        sent.splice(0);
        await preflight(plan, { catalog: w.catalog, config: w.config, clients: singleClient(client), fs: testDeps(w).fs });
        process.stderr.write(`deluge orphan preflight: ${JSON.stringify(summary(sent))}\n`);
        expect(sent.map((x) => x.method)).toEqual(['core.get_torrents_status']);
        expect(sent.filter((x) => x.files)).toEqual([]);
      } finally {
        await client.close();
      }
      // Nothing listening: no answer is never an empty list (which would not match the plan's digest either way).
      const down = createDelugeClient({ url: 'http://127.0.0.1:9/', password: () => 'x', timeoutMs: 2_000, attempts: 1 });
      try {
        await expect(preflight(plan, { catalog: w.catalog, config: w.config, clients: singleClient(down), fs: testDeps(w).fs })).rejects.toBeInstanceOf(ClientError);
      } finally {
        await down.close();
      }
    } finally {
      w.cleanup();
    }
  }, 120_000);
});
