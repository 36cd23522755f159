// A check the client only queued (Transmission's check-wait at progress 0, behind other checks) is waited for, never taken for qBittorrent 4.5's stuck check: no pause, no second recheck; a qBittorrent checkingUP at progress 0 still is.
import { describe, expect, it } from 'vitest';
import { checkOver, recheckConfirmed, stallWatch } from '../../../src/clients/confirm.js';
import type { ClientTorrent, TorrentClient, TorrentPhase } from '../../../src/clients/types.js';

const HASH = 'a'.repeat(40);

function torrent(rawState: string, phase: TorrentPhase, progress: number): ClientTorrent {
  return { hash: HASH, name: 'Queued', savePath: '/pool/seeding', contentPath: '/pool/seeding/Queued', downloadPath: '', category: '', tags: [], rawState, phase, running: false, progress, amountLeft: 0, size: 1, autoTmm: false, addedOn: null, completionOn: null, seedingTimeSec: 0, tracker: null };
}

/**
 * A scripted client on a fake clock (one second per poll): after a recheck the torrent waits `queuedPolls` polls in
 * Transmission's check-wait at progress 0 (its turn in the verify queue), then checks, then is stopped and complete.
 */
function queuedClient(queuedPolls: number) {
  let clock = 0;
  const calls: string[] = [];
  let script: ClientTorrent[] = [torrent('stopped', 'paused-complete', 1)];
  const current = () => script[0]!;
  const poll = () => {
    clock += 1_000;
    if (script.length > 1) script = script.slice(1);
    return current();
  };
  const client = {
    getTorrent: async () => current(),
    recheck: async () => {
      calls.push('recheck');
      script = [...Array.from({ length: queuedPolls }, () => torrent('check-wait', 'checking', 0)), torrent('check', 'checking', 0.4), torrent('stopped', 'paused-complete', 1)];
    },
    pause: async () => {
      calls.push('pause');
      script = [torrent('stopped', 'paused-incomplete', 0)];
    },
    waitFor: async (_h: string, p: (t: ClientTorrent) => boolean, o: { timeoutMs: number; what: string }) => {
      const end = clock + o.timeoutMs;
      for (let i = 0; i < 1_000 && clock <= end; i++) {
        const t = poll();
        if (p(t)) return t;
      }
      throw new Error(`gave up waiting to ${o.what}; last seen ${current().rawState}, progress ${current().progress}`);
    },
  } as unknown as TorrentClient;
  return { client, calls, now: () => clock, start: () => void client.recheck([HASH]) };
}

describe("a check queued in the client is not qBittorrent 4.5's stuck check", () => {
  it('recheckConfirmed waits out 10 s of check-wait at progress 0 (the stuck window is 2.5 s): no pause, one recheck, complete', async () => {
    const q = queuedClient(10);
    const t = await recheckConfirmed(q.client, HASH, { timeoutMs: 20_000, now: q.now });
    expect(t).toMatchObject({ phase: 'paused-complete', progress: 1 });
    expect(q.calls).toEqual(['recheck']);
  });

  it('checkOver waits out a queued check under way without pausing it', async () => {
    const q = queuedClient(10);
    q.start();
    q.calls.length = 0;
    const t = await checkOver(q.client, HASH, 'finish the check under way', { timeoutMs: 20_000, now: q.now });
    expect(t).toMatchObject({ phase: 'paused-complete', progress: 1 });
    expect(q.calls).toEqual([]);
  });

  it("stallWatch takes qBittorrent's checkingUP / checkingDL at progress 0 for stuck once the window has passed, never a queued state", () => {
    let clock = 0;
    const now = () => clock;
    for (const raw of ['checkingUP', 'checkingDL']) {
      const w = stallWatch(2_000, now);
      expect(w(torrent(raw, 'checking', 0))).toBe(false);
      clock += 2_000;
      expect(w(torrent(raw, 'checking', 0))).toBe(true);
    }
    for (const raw of ['check-wait', 'queuedForChecking', 'Checking']) {
      const w = stallWatch(2_000, now);
      w(torrent(raw, 'checking', 0));
      clock += 60_000;
      expect(w(torrent(raw, 'checking', 0))).toBe(false);
    }
  });
});
