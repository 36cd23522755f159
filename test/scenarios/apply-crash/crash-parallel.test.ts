// kill -9 while several move groups are in flight on a real qBittorrent (one copying, others between copy and repoint or
// mid-recheck); then `recover` (or the next apply) converges: every group rolled back or finished, every byte re-hashed,
// nothing lost, every torrent complete, seeding (or paused as before) from a complete location.
import { describe, expect, it } from 'vitest';
import type { QbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { crashParallelOnce } from '../../support/parallel-crash.js';
import { qbtClientPerFile } from '../../support/qbt-client.js';

const qbts = qbtSandboxes();
let sb: QbtSandbox;
let qb: QbittorrentClient;
qbtClientPerFile(qbts, (s, c) => ([sb, qb] = [s, c]));

const TORRENTS = 3;

describe('kill -9 with several groups in flight (real qBittorrent)', () => {
  it('at every other boundary: recover or the next apply rolls back or finishes each group; all torrents end complete at the target', async () => {
    let finished = false;
    let crashes = 0;
    let severalOpen = false; // ≥ 2 groups open in the journal at the kill
    let severalPastCopy = false; // ≥ 2 open groups whose copy was done (between copy and repoint, or repointing)
    let severalRepointing = false; // ≥ 2 repoints under way at once (torrents paused and pointed at the copy, rechecking)
    for (let n = 1; n <= 70 && !finished; n += 2) {
      const env = { HASHALL_TEST_CRASH_AT: String(n) };
      const out = await crashParallelOnce(sb, qb, { prefix: `Par${n}`, torrents: TORRENTS, width: TORRENTS, env, recoverFirst: (n >> 1) % 2 === 0 });
      finished = out.finished;
      if (finished) break;
      crashes++;
      if (out.open.length >= 2) severalOpen = true;
      if (out.open.filter((g) => g.steps[0]!.status === 'done' || g.steps[0]!.status === 'noop').length >= 2) severalPastCopy = true;
      if (out.open.filter((g) => g.steps[1]!.status === 'running' && g.steps[1]!.undo.prevSavePath !== undefined).length >= 2) severalRepointing = true;
    }
    expect(finished).toBe(true);
    expect(crashes).toBeGreaterThan(8);
    expect(severalOpen).toBe(true);
    expect(severalPastCopy).toBe(true);
    expect(severalRepointing).toBe(true);
  }, 1_200_000); // one child process per boundary; bounded by the loop count and this limit
});
