// Test support: a wire-level fake qBittorrent and a real client talking to it, started before and closed after a test file.
import { afterAll, beforeAll } from 'vitest';
import { createQbittorrentClient, type QbittorrentClient } from '../../src/clients/qbittorrent/client.js';
import { startFakeQbt, type FakeQbt } from './fake-qbt.js';

export interface FakeClientFixture {
  /** Available from the file's beforeAll on. */
  readonly fake: FakeQbt;
  readonly client: QbittorrentClient;
}

/** Registers beforeAll/afterAll for the calling test file; read `fake` and `client` inside tests and hooks only. */
export function useFakeClient(timeoutMs = 2_000): FakeClientFixture {
  let fake: FakeQbt | undefined;
  let client: QbittorrentClient | undefined;
  beforeAll(async () => {
    fake = await startFakeQbt();
    client = createQbittorrentClient({ url: fake.url, timeoutMs });
  });
  afterAll(async () => {
    await client?.close();
    await fake?.close();
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('useFakeClient: used outside a test (the fake server starts in beforeAll)');
    return v;
  };
  return {
    get fake() {
      return started(fake);
    },
    get client() {
      return started(client);
    },
  };
}
