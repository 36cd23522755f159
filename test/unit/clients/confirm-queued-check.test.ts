// Scripted reads after a recheck: a check the client only queued (Transmission's check-wait at progress 0, behind other checks) is waited for, never taken for qBittorrent 4.5's stuck check (no pause, no second recheck; a qBittorrent checkingUP at progress 0 still is); a paused torrent read running after its check (Deluge) is not settled until it reads paused again.
import { describe, expect, it } from 'vitest';
import { checkOver, recheckConfirmed, stallWatch } from '../../../src/clients/confirm.js';
import type { ClientTorrent, TorrentClient, TorrentPhase } from '../../../src/clients/types.js';

const HASH = 'a'.repeat(40);

function torrent(rawState: string, phase: TorrentPhase, progress: number, running = false): ClientTorrent {
  return { hash: HASH, name: 'Queued', savePath: '/pool/seeding', contentPath: '/pool/seeding/Queued', downloadPath: '', category: '', tags: [], rawState, phase, running, progress, amountLeft: 0, size: 1, autoTmm: false, addedOn: null, completionOn: null, seedingTimeSec: 0, tracker: null };
}

/**
 * A scripted client on a fake clock (one second per poll): after a recheck the torrent waits `queuedPolls` polls in
 * Transmission's check-wait at progress 0 (its turn in the verify queue), then checks, then is stopped and complete.
 */
function queuedClient(queuedPolls: number) {
  return scriptedClient(torrent('stopped', 'paused-complete', 1), () => [
    ...Array.from({ length: queuedPolls }, () => torrent('check-wait', 'checking', 0)),
    torrent('check', 'checking', 0.4),
    torrent('stopped', 'paused-complete', 1),
  ]);
}

/** A client on a fake clock (one second per poll) that reads `initial` until a recheck, then each read of `afterRecheck` in turn from the second (the last stays). */
function scriptedClient(initial: ClientTorrent, afterRecheck: () => ClientTorrent[]) {
  let clock = 0;
  const calls: string[] = [];
  let script: ClientTorrent[] = [initial];
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
      script = afterRecheck();
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

describe('a recheck never changes the running state', () => {
  it('a paused torrent that reads running and complete after its check (Deluge, before it pauses it again) is settled only once it reads paused', async () => {
    const d = scriptedClient(torrent('Paused', 'paused-complete', 1), () => [
      torrent('Checking', 'checking', 0.3),
      torrent('Checking', 'checking', 0.3),
      torrent('Seeding', 'seeding', 1, true),
      torrent('Seeding', 'seeding', 1, true),
      torrent('Paused', 'paused-complete', 1),
    ]);
    const t = await recheckConfirmed(d.client, HASH, { timeoutMs: 20_000, now: d.now });
    expect(t).toMatchObject({ phase: 'paused-complete', running: false, progress: 1 });
    expect(d.calls).toEqual(['recheck']);
  });

  it('a running torrent is settled as soon as it reads running and complete again', async () => {
    const d = scriptedClient(torrent('Seeding', 'seeding', 1, true), () => [torrent('Checking', 'checking', 0.3, true), torrent('Checking', 'checking', 0.3, true), torrent('Seeding', 'seeding', 1, true), torrent('Paused', 'paused-complete', 1)]);
    const t = await recheckConfirmed(d.client, HASH, { timeoutMs: 20_000, now: d.now });
    expect(t).toMatchObject({ phase: 'seeding', running: true, progress: 1 });
  });
});

