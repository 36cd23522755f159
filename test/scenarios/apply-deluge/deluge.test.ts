// apply against a REAL deluged + deluge-web: move with a sibling, reuse, failed recheck rolled back, kill -9 at every boundary.
import { afterAll, beforeAll } from 'vitest';
import { createDelugeClient } from '../../../src/clients/deluge/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import { delugeSandboxes, type DelugeSandbox } from '../../../src/sandbox/deluge-sandbox.js';
import { applyScenario } from '../../support/apply-client-scenario.js';

const sandboxes = delugeSandboxes();
let sb: DelugeSandbox;
let client: TorrentClient;
beforeAll(async () => {
  sb = await sandboxes.start();
  client = createDelugeClient({ url: sb.url, password: () => sb.password, timeoutMs: 10_000 });
}, 90_000);
afterAll(() => sandboxes.stopAll());

applyScenario('deluged + deluge-web', () => ({
  type: 'deluge',
  url: sb.url,
  password: sb.password,
  client,
  add: (t, saveDir, o) => sb.add(t, { dir: saveDir, running: o.running }),
}));
