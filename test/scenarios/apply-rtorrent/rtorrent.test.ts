// apply against a REAL rtorrent (SCGI socket): move with a sibling, reuse, failed recheck rolled back, kill -9 at every boundary.
import { afterAll, beforeAll } from 'vitest';
import { createRtorrentClient } from '../../../src/clients/rtorrent/client.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import { rtorrentSandboxes, type RtorrentSandbox } from '../../../src/sandbox/rtorrent-sandbox.js';
import { applyScenario } from '../../support/apply-client-scenario.js';

const sandboxes = rtorrentSandboxes();
let sb: RtorrentSandbox;
let client: TorrentClient;
beforeAll(async () => {
  sb = await sandboxes.start();
  client = createRtorrentClient({ url: sb.url, timeoutMs: 10_000 });
});
afterAll(() => sandboxes.stopAll());

applyScenario('rtorrent', () => ({
  type: 'rtorrent',
  url: sb.url,
  client,
  add: (t, saveDir, o) => sb.add(t, { dir: saveDir, start: o.running }),
}));
