// The self-hoster's lifecycles (move, pause and restart in the window, placement back, retire, removed, re-added, emptied, dedupe then move) on a REAL rtorrent.
import { createRtorrentClient } from '../../../src/clients/rtorrent/client.js';
import { rtorrentSandboxes } from '../../../src/sandbox/rtorrent-sandbox.js';
import { lifecycleScenario } from '../../support/lifecycle-scenario.js';

const sandboxes = rtorrentSandboxes();
lifecycleScenario('rtorrent', async (dir) => {
  const sb = await sandboxes.start({ dir });
  // A restart may give the daemon other ports: hashall's client and hashall.yaml follow it.
  const connect = () => createRtorrentClient({ url: sb.url, timeoutMs: 10_000 });
  let client = connect();
  const H = (h: string) => h.toUpperCase();
  return {
    get instance() {
      return { type: 'rtorrent' as const, url: sb.url };
    },
    env: {},
    get client() {
      return client;
    },
    add: (t, saveDir, running) => sb.add(t, { dir: saveDir, start: running }),
    // ruTorrent's Stop and Start buttons.
    stop: async (h) => {
      await sb.call('d.stop', [H(h)]);
      await sb.call('d.close', [H(h)]);
    },
    start: async (h) => {
      await sb.call('d.open', [H(h)]);
      await sb.call('d.start', [H(h)]);
    },
    remove: async (h) => void (await sb.call('d.erase', [H(h)])),
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
