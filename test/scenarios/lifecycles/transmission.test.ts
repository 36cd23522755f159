// The self-hoster's lifecycles (move, pause and restart in the window, placement back, retire, removed, re-added, emptied, dedupe then move) on a REAL transmission-daemon.
import { createTransmissionClient } from '../../../src/clients/transmission/client.js';
import { transmissionSandboxes } from '../../../src/sandbox/transmission-sandbox.js';
import { lifecycleScenario } from '../../support/lifecycle-scenario.js';

const sandboxes = transmissionSandboxes();
lifecycleScenario('transmission-daemon', async (dir) => {
  const sb = await sandboxes.start({ dir });
  // A restart may give the daemon other ports: hashall's client and hashall.yaml follow it.
  const connect = () => createTransmissionClient({ url: sb.url, username: sb.username, password: () => sb.password, timeoutMs: 10_000 });
  let client = connect();
  return {
    get instance() {
      return { type: 'transmission' as const, url: sb.url, username: sb.username, password: '${TR_PW}' };
    },
    env: { TR_PW: sb.password },
    get client() {
      return client;
    },
    add: (t, saveDir, running) => sb.add(t, { downloadDir: saveDir, paused: !running }),
    stop: async (h) => void (await sb.rpc('torrent-stop', { ids: [h] })),
    start: async (h) => void (await sb.rpc('torrent-start', { ids: [h] })),
    remove: async (h) => void (await sb.rpc('torrent-remove', { ids: [h], 'delete-local-data': false })),
    // Transmission queues a torrent when it starts: the user stops and starts them all once the queue is on.
    limitQueue: async (n) => {
      await sb.rpc('session-set', { 'seed-queue-enabled': true, 'seed-queue-size': n, 'download-queue-enabled': true, 'download-queue-size': n, 'queue-stalled-enabled': false });
      const ids = ((await sb.rpc('torrent-get', { fields: ['hashString'] })).torrents as { hashString: string }[]).map((x) => x.hashString);
      await sb.rpc('torrent-stop', { ids });
      for (let i = 0; i < 100; i++) {
        const got = (await sb.rpc('torrent-get', { ids, fields: ['status'] })).torrents as { status: number }[];
        if (got.every((x) => x.status === 0)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const id of ids) await sb.rpc('torrent-start', { ids: [id] });
    },
    restart: async () => {
      await client.close();
      await sb.restart();
      client = connect();
    },
    close: async () => {
      await client.close();
      await sandboxes.stopAll();
    },
  };
});
