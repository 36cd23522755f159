// A stash/pool world with one torrent seeding from the stash in a real qbittorrent-nox: the start of scenarios about one torrent's moves (flip-back, unhealthy-window), set up in beforeAll and torn down in afterAll.
import { afterAll, beforeAll } from 'vitest';
import path from 'node:path';
import { hashTreeSync } from './apply-fixture.js';
import { stashPoolWorld, type StashPoolWorld } from './stash-pool-world.js';
import { qbtSandboxes, type QbtSandbox } from '../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, type MadeTorrent } from '../../src/sandbox/torrent-file.js';
import { createQbittorrentClient } from '../../src/clients/qbittorrent/client.js';
import type { TorrentClient } from '../../src/clients/types.js';

export interface OneTorrentWorld {
  w: StashPoolWorld;
  qbt: QbtSandbox;
  qc: TorrentClient;
  /** The torrent (a 2 MiB `<x>.mkv` and a 100-byte `<x>.nfo`), seeding from `stash/seeding/movies/<name>`. */
  t: MadeTorrent;
  /** SHA-256 of each of its files as made. */
  before: Record<string, string>;
}

/** Registers the hooks; the returned object's fields are set once beforeAll ran. */
export function oneTorrentWorld(worldName: string, torrentName: string): OneTorrentWorld {
  const qbts = qbtSandboxes();
  const out = {} as OneTorrentWorld;
  beforeAll(async () => {
    out.w = stashPoolWorld(worldName, { folders: ['movies'] });
    const movies = out.w.seeding('stash', 'movies');
    const stem = torrentName.toLowerCase().slice(0, 1);
    out.t = makeTorrent({ saveDir: movies, name: torrentName, files: [{ path: `${stem}.mkv`, size: 2 << 20 }, { path: `${stem}.nfo`, size: 100 }], trackers: ['http://127.0.0.1:1/announce'] });
    out.before = hashTreeSync(out.t.contentPath);
    out.qbt = await qbts.start({ dir: path.join(out.w.tmp.path, 'qbt') });
    out.qc = createQbittorrentClient({ url: out.qbt.url, timeoutMs: 10_000 });
    await addTorrent(out.qbt, out.t, { savepath: movies, paused: false });
  }, 120_000);
  afterAll(async () => {
    await out.qc?.close();
    await qbts.stopAll();
    out.w?.cleanup();
  });
  return out;
}
