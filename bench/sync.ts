// Benchmark of `sync` against wire-level fakes of each client type (qBittorrent, Transmission, rTorrent over HTTP, Deluge): 10k torrents, time per 1k.
//
// The fake answers instantly from memory, so the figure is hashall's own cost per torrent: the list call, the file
// lists (qBittorrent: one request per torrent, 4 at a time; the others: 50 torrents per request), parsing, path mapping and the catalog transaction (a real SQLite file). The torrents'
// paths are not in the catalog (status not-in-catalog): payload resolution is the plan benchmark's business.
// HASHALL_BENCH_TORRENTS overrides the count (default 10000).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCatalog } from '../src/catalog/db.js';
import { syncTorrents } from '../src/catalog/sync.js';
import { clientFromSettings } from '../src/clients/from-config.js';
import type { ClientType, HashallConfig } from '../src/config/types.js';
import { fakeTorrent, startFakeQbt } from '../test/support/fake-qbt.js';
import { makeSecret } from '../src/config/normalize.js';
import { startFakeDeluge, startFakeRtorrent, startFakeTransmission } from '../test/support/fake-rpc-clients.js';

function hashOf(i: number): string {
  return createHash('sha1').update(`bench-${i}`).digest('hex');
}

async function fakeFor(type: ClientType, N: number): Promise<{ url: string; close(): Promise<void>; count(method: string): number }> {
  if (type === 'qbittorrent') {
    // A default qBittorrent's own folders: no .torrent copies, no watched folders, no incomplete folder.
    const f = await startFakeQbt({ preferences: { export_dir: '', export_dir_fin: '', scan_dirs: {}, temp_path_enabled: false, temp_path: '/data/incomplete' } });
    for (let i = 0; i < N; i++) {
      const h = hashOf(i);
      f.torrents.set(h, fakeTorrent(h, { name: `T${i}`, save_path: `/data/seed/c${i % 50}`, content_path: `/data/seed/c${i % 50}/T${i}`, state: 'stalledUP' }));
    }
    return f;
  }
  const f = type === 'transmission' ? await startFakeTransmission() : type === 'deluge' ? await startFakeDeluge({ password: 'bench' }) : await startFakeRtorrent();
  for (let i = 0; i < N; i++) {
    const h = hashOf(i);
    f.torrents.set(h, { hash: h, name: `T${i}`, dir: `/data/seed/c${i % 50}`, files: [{ path: 'a.mkv', size: 1000 }, { path: 'b.nfo', size: 10 }], running: true });
  }
  return f;
}

/**
 * One sync of `N` torrents from a fresh fake of `type` into a fresh catalog: its time, how many torrents it recorded,
 * and the fake's request counter (by RPC method, or by API path for qBittorrent).
 */
export async function syncFromFake(type: ClientType, N: number): Promise<{ ms: number; torrents: number; requests: (method: string) => number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hashall-bench-sync-'));
  const fake = await fakeFor(type, N);
  try {
    const config: HashallConfig = {
      version: 1,
      configPath: path.join(dir, 'hashall.yaml'),
      configHash: 'bench',
      catalog: path.join(dir, 'catalog.db'),
      filesystems: { disk: { name: 'disk', path: dir, aliases: [] } },
      seeding: { disk: [path.join(dir, 'seed')] },
      libraries: [],
      clients: { default: { name: 'default', at: ['client'], type, url: fake.url, username: null, password: type === 'deluge' ? makeSecret('bench', {}) : null, pathMaps: [{ client: '/data', host: dir }], timeoutMs: 30_000 } },
      categories: {},
      placement: { default: 'keep', rules: [] },
      dedupe: { filesystems: [], minSize: 0 },
      verify: { everyMs: 30 * 86_400_000, budgetBytes: 0 },
      safety: { verify: 'full', retire: { mode: 'staged', observeHours: 0 }, minFree: 0, maxScanAgeHours: 24 },
    };
    const catalog = openCatalog(config.catalog);
    try {
      const instance = config.clients.default!;
      const client = clientFromSettings(instance, { now: Date.now });
      const t0 = performance.now();
      const s = await syncTorrents({ catalog, config, instance, client, now: Date.now });
      return { ms: performance.now() - t0, torrents: s.torrents, requests: (m) => fake.count(m) };
    } finally {
      catalog.close();
    }
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `N` torrents per client type (a test runs it small, so the bench keeps working as the clients learn new calls). */
export async function run(N = Number(process.env.HASHALL_BENCH_TORRENTS ?? '10000')): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const type of ['qbittorrent', 'transmission', 'rtorrent', 'deluge'] as const) {
    const { ms, torrents } = await syncFromFake(type, N);
    if (torrents !== N) throw new Error(`bench sync ${type}: synced ${torrents} of ${N}`);
    out[`${type}.msPer1k`] = Math.round((ms / N) * 1000);
    process.stderr.write(`sync ${type}: ${N} torrents in ${Math.round(ms)} ms = ${out[`${type}.msPer1k`]} ms per 1k\n`);
  }
  return out;
}
