// The self-hoster's lifecycles (move, pause and restart in the window, placement back, retire, removed, re-added, emptied, dedupe then move) on a REAL deluged + deluge-web.
import { createDelugeClient } from '../../../src/clients/deluge/client.js';
import { delugeSandboxes } from '../../../src/sandbox/deluge-sandbox.js';
import { lifecycleScenario } from '../../support/lifecycle-scenario.js';

const sandboxes = delugeSandboxes();
lifecycleScenario('deluged + deluge-web', async (dir) => {
  const sb = await sandboxes.start({ dir });
  // A restart may give the daemon other ports: hashall's client and hashall.yaml follow it.
  const connect = () => createDelugeClient({ url: sb.url, password: () => sb.password, timeoutMs: 10_000 });
  let client = connect();
  return {
    get instance() {
      return { type: 'deluge' as const, url: sb.url, password: '${DELUGE_WEB_PASSWORD}' };
    },
    env: { DELUGE_WEB_PASSWORD: sb.password },
    get client() {
      return client;
    },
    add: (t, saveDir, running) => sb.add(t, { dir: saveDir, running }),
    stop: async (h) => void (await sb.call('core.pause_torrent', [[h]])),
    start: async (h) => void (await sb.call('core.resume_torrent', [[h]])),
    remove: async (h) => void (await sb.call('core.remove_torrent', [h, false])),
    limitQueue: async (n) => void (await sb.call('core.set_config', [{ max_active_seeding: n, max_active_limit: n, max_active_downloading: n }])),
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
