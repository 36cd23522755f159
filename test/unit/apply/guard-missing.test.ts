// The guard names a torrent of the run that the client no longer lists (unknown is a problem, never a pass).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardTorrents } from '../../../src/apply/executor.js';
import { createQbittorrentClient, type QbittorrentClient } from '../../../src/clients/qbittorrent/client.js';
import { fakeTorrent, startFakeQbt, type FakeQbt } from '../../support/fake-qbt.js';

let fake: FakeQbt;
let client: QbittorrentClient;
beforeAll(async () => {
  fake = await startFakeQbt();
  client = createQbittorrentClient({ url: fake.url, timeoutMs: 2_000 });
});
afterAll(async () => {
  await client.close();
  await fake.close();
});

describe('guardTorrents with a vanished torrent', () => {
  it('reports a torrent of the run that is no longer in the client', async () => {
    const ok = '6'.repeat(40);
    const gone = '7'.repeat(40);
    fake.torrents.set(ok, fakeTorrent(ok, { name: 'Fine', state: 'stalledUP' }));
    const problems = await guardTorrents(client, [ok, gone], 1_000);
    expect(problems).toEqual([expect.stringMatching(new RegExp(`${gone}.*no longer in the client`))]);
  });
});
