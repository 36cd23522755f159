// kill -9 while a copy batch is in flight — several move groups copying at once on a real qBittorrent — at every journal boundary of the copies and right after each disk change; recover or rerun converges, every byte re-hashed.
import { describe, expect, it } from 'vitest';
import type { QbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import type { GroupRecord } from '../../../src/apply/run-store.js';
import { crashParallelOnce } from '../../support/parallel-crash.js';
import { qbtClientPerFile } from '../../support/qbt-client.js';

const qbts = qbtSandboxes();
let sb: QbtSandbox;
let qb: QbittorrentClient;
qbtClientPerFile(qbts, (s, c) => ([sb, qb] = [s, c]));

const TORRENTS = 4;

/** Open groups whose copy step was running at the kill with journaled temp names: copies of one batch in flight together. */
const copying = (open: GroupRecord[]) => open.filter((g) => g.steps[0]!.status === 'running' && Array.isArray(g.steps[0]!.undo.files) && g.steps[0]!.undo.files.length > 0).length;

describe('kill -9 during a copy batch (several groups copying at once, real qBittorrent)', () => {
  it('at every journal boundary of the copies and after every disk change: each group rolled back or finished alone; nothing lost', async () => {
    let severalCopying = 0; // kills with ≥ 2 groups copying at once
    let kills = 0;
    // Journal boundaries: the copies of the first batch lie in the first ~40 (planned, running, temp names, inodes).
    for (let n = 2; n <= 40; n += 2) {
      const out = await crashParallelOnce(sb, qb, { prefix: `Cb${n}`, torrents: TORRENTS, width: TORRENTS, size: 40_000, env: { HASHALL_TEST_CRASH_AT: String(n) }, recoverFirst: (n >> 1) % 2 === 0 });
      if (out.finished) break;
      kills++;
      if (copying(out.open) >= 2) severalCopying++;
    }
    // Right after a disk change: a directory made, a temp file written, a link into place, a temp name removed, an fsync.
    for (let m = 1; m <= 30; m += 3) {
      const out = await crashParallelOnce(sb, qb, { prefix: `Cf${m}`, torrents: TORRENTS, width: TORRENTS, size: 40_000, env: { HASHALL_TEST_CRASH_FS_AT: String(m) }, recoverFirst: m % 2 === 0 });
      if (out.finished) break;
      kills++;
      if (copying(out.open) >= 2) severalCopying++;
    }
    expect(kills).toBeGreaterThan(10);
    expect(severalCopying).toBeGreaterThan(3);
  }, 1_500_000); // one child process per crash point; bounded by the loop counts and this limit
});
