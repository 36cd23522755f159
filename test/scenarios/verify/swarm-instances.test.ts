// `hashall verify --repair` through the swarm with two client instances seeding the same info-hash from the same files
// (two real qbittorrent-nox, loopback): the torrent is identified by (instance, info-hash), the report lists both, and
// exactly one — the running one — is asked to recheck, through its own instance; the other is left complete.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../../support/cli.js';
import { rot } from '../../support/bit-rot.js';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { addTorrent, makeTorrent, waitSettled, type MadeTorrent } from '../../../src/sandbox/torrent-file.js';
import { makeSyncFixture, writeConfig, type SyncFixture } from '../../unit/sync/sync-fixture.js';
import type { RepairOutcome } from '../../../src/reconcile/repair.js';

const qbts = qbtSandboxes();

describe('verify --repair through the swarm with two instances holding one info-hash', () => {
  let w: SyncFixture;
  let one: QbtSandbox;
  let two: QbtSandbox;
  let t: MadeTorrent;
  const cli = (...args: string[]) => runCli([...args, '--config', w.configFile], { cwd: w.tmp.path });

  beforeAll(async () => {
    w = makeSyncFixture('hashall-swarm2-');
    one = await qbts.start({ dir: path.join(w.tmp.path, 'qbt1') });
    two = await qbts.start({ dir: path.join(w.tmp.path, 'qbt2') });
    writeConfig(w, { url: one.url });
    // The single `client:` section becomes two instances: `one` holds the torrent paused, `two` seeds it.
    const text = readFileSync(w.configFile, 'utf8').replace(/^client:\n {2}type: qbittorrent\n {2}url: .*\n/m, `clients:\n  one: { type: qbittorrent, url: "${one.url}" }\n  two: { type: qbittorrent, url: "${two.url}" }\n`);
    expect(text).toContain('clients:');
    writeFileSync(w.configFile, text);
    t = makeTorrent({ saveDir: path.join(w.seedS, 'music'), name: 'Shared', files: [{ path: 's.flac', size: 120_000 }] });
    await addTorrent(one, t, { savepath: path.join(w.seedS, 'music'), skipChecking: true, paused: true });
    await addTorrent(two, t, { savepath: path.join(w.seedS, 'music'), skipChecking: true, paused: false });
    expect((await cli('scan', '--hash-all')).code).toBe(0);
    const s = await cli('sync');
    expect(s.code, s.stderr).toBe(0);
    expect((await waitSettled(two, t.infoHash)).state).toMatch(/^(stalledUP|uploading)$/);
  }, 120_000);

  afterAll(async () => {
    await qbts.stopAll();
    w?.tmp.cleanup();
  });

  it('lists both (instance, info-hash) torrents and rechecks only the running one, through its own instance', async () => {
    const damaged = t.paths[0]!;
    rot(damaged, 77_777);
    const r = await cli('verify', '--repair', '--json', damaged);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const repairs = (JSON.parse(r.stdout) as { repairs: RepairOutcome[] }).repairs;
    expect(repairs).toHaveLength(1);
    expect(repairs[0]!.torrents).toEqual([
      { client: 'one', name: 'Shared', hash: t.infoHash },
      { client: 'two', name: 'Shared', hash: t.infoHash },
    ]);
    expect(repairs[0]).toMatchObject({ status: 'needs-redownload', recheck: { client: 'two', hash: t.infoHash, running: true } });
    expect((await waitSettled(two, t.infoHash)).progress).toBeLessThan(1);
    const other = await waitSettled(one, t.infoHash);
    expect([other.progress, other.state]).toEqual([1, expect.stringMatching(/^(pausedUP|stoppedUP)$/)]);
    const text = await cli('verify', '--repair', damaged);
    expect(text.stdout).toContain(`NEEDS RE-DOWNLOAD ${damaged}: no good copy; torrent Shared (two/${t.infoHash.slice(0, 8)}) is rechecked in client "two"`);
  });
});
