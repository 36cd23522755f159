// Test support: N torrents on a real qBittorrent, each its own move group (copy + repoint), for apply with several groups in flight.
import path from 'node:path';
import type { QbittorrentClient } from '../../src/clients/qbittorrent/client.js';
import type { PlanGroup } from '../../src/plan/types.js';
import type { QbtSandbox } from '../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, type MadeTorrent } from '../../src/sandbox/torrent-file.js';
import { hashTreeSync, moveGroup, type ApplyFixture } from './apply-fixture.js';

export interface ParallelTorrent {
  t: MadeTorrent;
  name: string;
  root: string;
  dst: string;
  fromSave: string;
  toSave: string;
  /** relpath → sha256 of the payload as seeded. */
  before: Record<string, string>;
  running: boolean;
}

/** `count` torrents (every other one running) under stash/seeding/movies, named `${prefix}.${i}`, added complete. */
export async function seedParallel(sb: QbtSandbox, w: ApplyFixture, prefix: string, count: number, size = 120_000): Promise<ParallelTorrent[]> {
  const fromSave = path.join(w.stash, 'seeding', 'movies');
  const toSave = path.join(w.pool, 'seeding', 'movies');
  const out: ParallelTorrent[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}.${i}`;
    const t = makeTorrent({ saveDir: fromSave, name, files: [{ path: 'a.mkv', size: size + i }, { path: 'b.nfo', content: `${name}\n` }], trackers: ['http://127.0.0.1:1/announce'] });
    const running = i % 2 === 0;
    await addTorrent(sb, t, { savepath: fromSave, skipChecking: true, paused: !running });
    const root = path.join(fromSave, name);
    out.push({ t, name, root, dst: path.join(toSave, name), fromSave, toSave, before: hashTreeSync(root), running });
  }
  return out;
}

/** One move group per torrent (ids g1…gN), fingerprinted from the client's live state as the planner would. */
export async function parallelGroups(qb: QbittorrentClient, w: ApplyFixture, ts: ParallelTorrent[]): Promise<PlanGroup[]> {
  const live = new Map((await qb.listTorrents({ hashes: ts.map((x) => x.t.infoHash) })).map((t) => [t.hash, t]));
  return ts.map((x, i) => {
    const g = moveGroup(`g${i + 1}`, w, x.root, x.dst);
    const l = live.get(x.t.infoHash)!;
    return {
      ...g,
      steps: [
        ...g.steps,
        { kind: 'repoint', torrentHash: x.t.infoHash, torrentName: x.name, fromSavePath: x.fromSave, toSavePath: x.toSave, expectedContentPath: x.dst, hostFrom: x.root, hostTo: x.dst, bytes: g.bytesToCopy },
      ],
      torrents: [{ hash: x.t.infoHash, name: x.name, category: '', tracker: null }],
      fingerprint: { ...g.fingerprint, torrents: [{ hash: l.hash, phase: l.phase, clientSavePath: l.savePath, clientContentPath: l.contentPath }] },
    };
  });
}
