// apply against a REAL transmission-daemon: move with a sibling, reuse, failed recheck rolled back, kill -9 at every boundary.
import { afterAll, beforeAll } from 'vitest';
import { createTransmissionClient } from '../../../src/clients/transmission/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import { transmissionSandboxes, type TransmissionSandbox } from '../../../src/sandbox/transmission-sandbox.js';
import { applyScenario } from '../../support/apply-client-scenario.js';

const sandboxes = transmissionSandboxes();
let sb: TransmissionSandbox;
let client: TorrentClient;
beforeAll(async () => {
  sb = await sandboxes.start();
  client = createTransmissionClient({ url: sb.url, timeoutMs: 10_000 });
});
afterAll(() => sandboxes.stopAll());

applyScenario('transmission-daemon', () => ({
  type: 'transmission',
  url: sb.url,
  client,
  add: (t, saveDir, o) => sb.add(t, { downloadDir: saveDir, paused: !o.running }),
}));
