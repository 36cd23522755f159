// kill -9 at every journal boundary of a move group with a real qBittorrent repoint, then `recover` + rerun converge:
// the torrent is back where it was (complete, running as before) or fully moved; the source is never lost.
import { singleClient } from '../../../src/clients/client-set.js';
import { testInstance } from '../../support/instance.js';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runApply, runRecover } from '../../../src/reconcile/apply.js';
import { listRuns } from '../../../src/apply/run-store.js';
import type { QbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import type { PlanGroup } from '../../../src/plan/types.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent } from '../../../src/sandbox/torrent-file.js';
import { hashTreeSync, makeApplyFixture, makePlan, moveGroup } from '../../support/apply-fixture.js';
import { qbtClientPerFile } from '../../support/qbt-client.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const qbts = qbtSandboxes();
let sb: QbtSandbox;
let qb: QbittorrentClient;
qbtClientPerFile(qbts, (s, c) => ([sb, qb] = [s, c]));

describe('kill -9 during a group that repoints a real torrent', () => {
  it('every boundary: recover restores or finishes, the rerun converges, the torrent ends complete and running', async () => {
    let finished = false;
    let crashes = 0;
    for (let n = 1; n <= 30 && !finished; n++) {
      const w = makeApplyFixture();
      try {
        w.config.clients = { default: testInstance('qbittorrent', sb.url, { timeoutMs: 10_000 }) };
        const name = `Crash.${n}`;
        const saveDir = path.join(w.stash, 'seeding', 'movies');
        const t = makeTorrent({ saveDir, name, files: [{ path: 'a.mkv', size: 200_000 }, { path: 'b.nfo', content: `n=${n}\n` }], trackers: ['http://127.0.0.1:1/announce'] });
        await addTorrent(sb, t, { savepath: saveDir, skipChecking: true, paused: false });
        const root = path.join(saveDir, name);
        const before = hashTreeSync(root);
        const toSave = path.join(w.pool, 'seeding', 'movies');
        const dst = path.join(toSave, name);
        const makeGroup = async (): Promise<PlanGroup> => {
          const g = moveGroup('g1', w, root, dst, [
            { kind: 'repoint', torrentHash: t.infoHash, torrentName: name, fromSavePath: saveDir, toSavePath: toSave, expectedContentPath: dst, hostFrom: root, hostTo: dst, bytes: 200_000 },
          ]);
          const live = await qb.listTorrents({ hashes: [t.infoHash] });
          return {
            ...g,
            torrents: [{ hash: t.infoHash, name, category: '', tracker: null }],
            fingerprint: { ...g.fingerprint, torrents: live.map((x) => ({ hash: x.hash, phase: x.phase, clientSavePath: x.savePath, clientContentPath: x.contentPath })) },
          };
        };
        const cfgFile = path.join(w.root, 'config.json');
        const planFile = path.join(w.root, 'plan.json');
        writeFileSync(cfgFile, JSON.stringify(w.config));
        writeFileSync(planFile, JSON.stringify(makePlan(w, [await makeGroup()])));
        const child = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/apply-child.ts', cfgFile, planFile, sb.url], {
          cwd: repo,
          env: { ...process.env, HASHALL_TEST_CRASH_AT: String(n) },
          encoding: 'utf8',
          timeout: 90_000,
        });
        const common = { config: w.config, clients: singleClient(qb), now: () => Date.now(), emit: () => undefined, catalog: w.catalog, clientTimeoutMs: () => 30_000 };
        if (child.signal !== 'SIGKILL') {
          expect(child.status, child.stderr).toBe(0);
          expect(JSON.parse(child.stdout).status).toBe('succeeded');
          finished = true;
        } else {
          crashes++;
          expect(hashTreeSync(root)).toEqual(before);
          const killed = listRuns(w.catalog.db)[0]!;
          const rec = await runRecover({ ...common, command: 'test recover' });
          // Killed after its final journal write (run marked done) → nothing left to recover.
          expect(rec.map((r) => r.status)).toEqual(killed.status === 'running' ? ['recovered'] : []);
          const tt = await qb.waitFor(t.infoHash, (x) => x.phase !== 'checking' && x.phase !== 'moving', { timeoutMs: 30_000 });
          expect(tt.progress).toBe(1);
          expect(tt.running).toBe(true);
          const groupFinished = killed.status === 'succeeded' || rec[0]!.groups[0]?.action === 'finished';
          expect(tt.savePath).toBe(groupFinished ? toSave : saveDir);
          const out = await runApply({ ...common, plan: makePlan(w, [await makeGroup()]), planFile: null, planHash: null, command: 'rerun' });
          expect(out.result.status).toBe('succeeded');
        }
        const final = await qb.getTorrent(t.infoHash);
        expect(final).toMatchObject({ savePath: toSave, contentPath: dst, progress: 1, running: true });
        expect(hashTreeSync(dst)).toEqual(before);
        expect(hashTreeSync(root)).toEqual(before);
      } finally {
        w.cleanup();
      }
    }
    expect(finished).toBe(true);
    expect(crashes).toBeGreaterThan(8);
  }, 600_000); // one child process per boundary; bounded by the loop count and this limit
});
