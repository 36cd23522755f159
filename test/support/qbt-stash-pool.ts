// A stash/pool world with a real qBittorrent seeding torrents made on the stash, and the checks of where each seeds from (test support for the move scenarios).
import path from 'node:path';
import { expect } from 'vitest';
import { contentHashes, inodeUsage } from './inode-usage.js';
import { stashPoolWorld, type StashPoolWorld } from './stash-pool-world.js';
import { qbtSandboxes, type QbtSandbox } from '../../src/sandbox/qbt-sandbox.js';
import { addTorrent, type MadeTorrent } from '../../src/sandbox/torrent-file.js';
import { createQbittorrentClient } from '../../src/clients/qbittorrent/client.js';
import type { TorrentClient } from '../../src/clients/types.js';

export interface QbtSeeded {
  qbt: QbtSandbox;
  qc: TorrentClient;
  /** Each torrent's content as made (its files' SHA-256 by relpath), by info-hash. */
  before: Record<string, Record<string, string>>;
}

/**
 * Per-test-file owner (`const qs = qbtStashPool(); afterAll(() => qs.stop())`): `world` makes the stash/pool world,
 * `seed` starts qBittorrent in it seeding the torrents made there; `stop` closes, stops and removes all of it.
 */
export function qbtStashPool() {
  const qbts = qbtSandboxes();
  let w: StashPoolWorld | null = null;
  let seeded: QbtSeeded | null = null;
  const world = (): StashPoolWorld => {
    if (!w) throw new Error('qbtStashPool: world() first');
    return w;
  };
  const got = (): QbtSeeded => {
    if (!seeded) throw new Error('qbtStashPool: seed() first');
    return seeded;
  };
  return {
    world(name: string, opts: Parameters<typeof stashPoolWorld>[1]): StashPoolWorld {
      w = stashPoolWorld(name, opts);
      return w;
    },
    /** Record each torrent's content, start qBittorrent in the world's temp dir and add each (running) at its save path. */
    async seed(torrents: readonly (readonly [MadeTorrent, string])[]): Promise<QbtSeeded> {
      const before = Object.fromEntries(torrents.map(([t]) => [t.infoHash, contentHashes(t.contentPath)]));
      const qbt = await qbts.start({ dir: path.join(world().tmp.path, 'qbt') });
      const qc = createQbittorrentClient({ url: qbt.url, timeoutMs: 10_000 });
      seeded = { qbt, qc, before };
      for (const [t, savepath] of torrents) await addTorrent(qbt, t, { savepath, paused: false });
      return seeded;
    },
    /** hashall.yaml of the world with this qBittorrent as its one client, and `extra` lines. */
    writeConfig(extra: readonly string[]): void {
      world().writeConfig({ qbt: { type: 'qbittorrent', url: got().qbt.url } }, extra);
    },
    /** The torrent, done checking, seeds complete from `<fs>/seeding/<category>`, whose copy holds its content as made. */
    async seedsFrom(t: MadeTorrent, fs: 'stash' | 'pool', category: string): Promise<void> {
      const saveDir = world().seeding(fs, category);
      const x = await got().qc.waitFor(t.infoHash, (y) => y.phase !== 'checking', { timeoutMs: 30_000, intervalMs: 100, what: 'finish checking' });
      expect(x).toMatchObject({ savePath: saveDir, progress: 1 });
      expect(contentHashes(path.join(saveDir, path.basename(t.contentPath)))).toEqual(got().before[t.infoHash]);
    },
    /** Distinct inodes and their bytes under the pool's seeding root. */
    poolUsage(): { inodes: number; bytes: number } {
      return inodeUsage(world().seeding('pool'));
    },
    async stop(): Promise<void> {
      await seeded?.qc.close();
      await qbts.stopAll();
      w?.cleanup();
    },
  };
}
