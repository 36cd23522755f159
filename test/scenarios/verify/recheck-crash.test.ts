// kill -9 of a real `hashall verify --repair` child at every journal boundary of a recheck through a real qbittorrent-nox
// (no good copy): `hashall recover` ends the run — the recheck was asked or it was not, never half — no byte on disk
// changed, the torrent is settled (complete, or incomplete when the recheck ran) and its data where it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../support/cli.js';
import { rot } from '../../support/bit-rot.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent } from '../../../src/sandbox/torrent-file.js';
import { createQbittorrentClient, type QbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import { makeSyncFixture, writeConfig, type SyncFixture } from '../../unit/sync/sync-fixture.js';
import { inodeTreeSnapshot } from '../../support/tree-snapshot.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const qbts = qbtSandboxes();

describe('kill -9 during verify --repair through the swarm', () => {
  let w: SyncFixture;
  let sb: QbtSandbox;
  let qb: QbittorrentClient;
  const cli = (...args: string[]) => runCli([...args, '--config', w.configFile], { cwd: w.tmp.path });

  beforeAll(async () => {
    w = makeSyncFixture('hashall-recheck-crash-');
    sb = await qbts.start({ dir: path.join(w.tmp.path, 'qbt') });
    writeConfig(w, { url: sb.url });
    // Reads through hashall's own client: bounded retries on a connection the daemon closed (seen under load).
    qb = createQbittorrentClient({ url: sb.url, timeoutMs: 20_000 });
  }, 60_000);
  afterAll(async () => {
    await qb?.close();
    await qbts.stopAll();
    w?.tmp.cleanup();
  });

  it('at every boundary: recover leaves the run ended, the torrent settled in place, every byte as it was', async () => {
    let finished = false;
    let crashes = 0;
    let asked = 0;
    for (let n = 1; n <= 25 && !finished; n++) {
      // A fresh complete, seeding torrent each time (a recheck leaves the previous one incomplete).
      const saveDir = path.join(w.seedS, 'music');
      const t = makeTorrent({ saveDir, name: `Crash.${n}`, files: [{ path: 'a.flac', size: 100_000 }, { path: 'b.flac', size: 60_000 }] });
      await addTorrent(sb, t, { savepath: saveDir, skipChecking: true, paused: false });
      expect((await cli('scan', '--hash-all')).code).toBe(0);
      expect((await cli('sync')).code).toBe(0);
      const damaged = t.paths[0]!;
      rot(damaged, 50_001);
      const before = inodeTreeSnapshot(w.stash);
      const r = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'src/cli/bin.ts', 'verify', '--repair', damaged, '--config', w.configFile], {
        cwd: repo,
        env: { ...process.env, HASHALL_TEST_CRASH_AT: String(n) },
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (r.signal === 'SIGKILL') {
        crashes++;
        const rec = await cli('recover');
        expect(rec.code, rec.stdout + rec.stderr).toBe(0);
      } else {
        expect(r.status, r.stdout + r.stderr).toBe(1); // still corrupted: it needs re-download
        expect(r.stdout).toContain(`NEEDS RE-DOWNLOAD ${damaged}`);
        finished = true;
      }
      const runs = JSON.parse((await cli('runs', '--json')).stdout).runs as { status: string }[];
      for (const run of runs) expect(run.status).not.toMatch(/^(running|needs-attention)$/);
      expect(inodeTreeSnapshot(w.stash)).toEqual(before);
      const now = await qb.waitFor(t.infoHash, (x) => x.phase !== 'checking' && x.phase !== 'moving', { timeoutMs: 60_000, what: 'settle' });
      expect([now.contentPath, now.downloadPath]).toEqual([path.dirname(damaged), '']);
      if (now.progress < 1) {
        asked++;
        expect(now.phase).toBe('downloading');
      } else expect(now.phase).toBe('seeding');
    }
    expect(finished).toBe(true);
    expect(crashes).toBeGreaterThan(2);
    expect(asked).toBeGreaterThan(0);
  }, 900_000);
});
