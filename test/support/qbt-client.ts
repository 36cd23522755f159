// A test file's real qBittorrent and its client: a sandbox started before the file's tests and a client of it, the client closed and every sandbox stopped after.
import { afterAll, beforeAll } from 'vitest';
import { createQbittorrentClient, type QbittorrentClient } from '../../src/clients/qbittorrent/client.js';
import type { QbtSandbox, qbtSandboxes } from '../../src/sandbox/qbt-sandbox.js';

/** Registers the file's beforeAll/afterAll: `set` receives the started sandbox and its client (10 s per request). */
export function qbtClientPerFile(qbts: ReturnType<typeof qbtSandboxes>, set: (sb: QbtSandbox, qb: QbittorrentClient) => void): void {
  let qb: QbittorrentClient | undefined;
  beforeAll(async () => {
    const sb = await qbts.start();
    qb = createQbittorrentClient({ url: sb.url, timeoutMs: 10_000 });
    set(sb, qb);
  });
  afterAll(async () => {
    await qb?.close();
    await qbts.stopAll();
  });
}
