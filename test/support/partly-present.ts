// Test support: a move whose payload is partly on the pool already (an episode folder whose episode a pack moved earlier holds), as the planner makes it: copy the rest, link the present file from its donor (hashDonor).
import path from 'node:path';
import { bytesFor, fileList, fingerprint, payloadHashOf, writeTree, type ApplyFixture } from './apply-fixture.js';
import type { PlanGroup } from '../../src/plan/types.js';

export interface PartlyPresent {
  src: string;
  dst: string;
  /** The pack's copy of the episode on the pool. */
  donor: string;
  group: PlanGroup;
}

/** Writes the episode folder on the stash (episode + .nfo) and the pack's episode on the pool; `group` moves the folder. */
export function partlyPresentMove(w: ApplyFixture, id = 'g1'): PartlyPresent {
  const ep = bytesFor('episode', 300_000);
  const src = path.join(w.stash, 'seeding', 'tv', 'Show.S01E03');
  writeTree(src, { 'Show.S01E03.mkv': ep, 'Show.S01E03.nfo': bytesFor('nfo', 4000) });
  const pack = path.join(w.pool, 'seeding', 'tv', 'Show.S01');
  writeTree(pack, { 'Show.S01E03.mkv': ep, 'Show.S01E04.mkv': bytesFor('e4', 1000) });
  const donor = path.join(pack, 'Show.S01E03.mkv');
  const dst = path.join(w.pool, 'seeding', 'tv', 'Show.S01E03');
  const files = fileList(src);
  const [mkv, nfo] = files;
  return {
    src,
    dst,
    donor,
    group: {
      id,
      key: `key-${id}`,
      action: 'move',
      title: 'Show.S01E03',
      payloadHash: payloadHashOf(src),
      torrents: [],
      from: { fs: 'stash', path: src },
      to: { fs: 'pool', path: dst },
      reasons: ['test: demote to pool, the episode already there'],
      rule: null,
      bytesToCopy: nfo!.size,
      bytesToFree: 0,
      steps: [
        { kind: 'copy', fromFs: 'stash', toFs: 'pool', fromRoot: src, toRoot: dst, files: [nfo!], bytes: nfo!.size },
        { kind: 'link-view', fs: 'pool', torrentHash: 'b'.repeat(40), root: dst, links: [{ donor, path: path.join(dst, mkv!.relpath), size: mkv!.size, sha256: mkv!.sha256, hashDonor: true }], expected: files.map((f) => f.relpath) },
      ],
      fingerprint: { files: [...files.map((f) => fingerprint(path.join(src, f.relpath))), fingerprint(donor)].sort((a, b) => (a.path < b.path ? -1 : 1)), torrents: [] },
    },
  };
}
