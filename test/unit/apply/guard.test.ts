// The post-apply guard names every torrent of the run that is downloading, missing files, erroring, incomplete or gone (fake server states).
import { singleClient } from '../../../src/clients/client-set.js';
import { describe, expect, it } from 'vitest';
import { guardTorrents } from '../../../src/apply/executor.js';
import { fakeTorrent } from '../../support/fake-qbt.js';
import { useFakeClient } from '../../support/fake-client.js';

const fx = useFakeClient();

const refs = (...hashes: string[]) => hashes.map((hash) => ({ hash }));

describe('guardTorrents', () => {
  it('passes healthy torrents and names the unhealthy ones with their state', async () => {
    const ok = '1'.repeat(40);
    const dl = '2'.repeat(40);
    const missing = '3'.repeat(40);
    const partial = '4'.repeat(40);
    fx.fake.torrents.set(ok, fakeTorrent(ok, { name: 'Fine', state: 'stalledUP' }));
    fx.fake.torrents.set(dl, fakeTorrent(dl, { name: 'Downloading', state: 'stalledDL', progress: 0.4, amount_left: 600 }));
    fx.fake.torrents.set(missing, fakeTorrent(missing, { name: 'Missing', state: 'missingFiles' }));
    fx.fake.torrents.set(partial, fakeTorrent(partial, { name: 'Partial', state: 'pausedDL', progress: 0.9, amount_left: 100 }));
    expect(await guardTorrents(singleClient(fx.client), refs(ok), 1_000)).toEqual([]);
    const problems = await guardTorrents(singleClient(fx.client), refs(ok, dl, missing, partial), 1_000);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/Downloading .* stalledDL at progress 0.4/);
    expect(problems[1]).toMatch(/Missing .* missingFiles/);
    expect(problems[2]).toMatch(/Partial .* pausedDL/);
  });

  it('a torrent stuck checking past the bound is reported, not waited on forever', async () => {
    const h = '5'.repeat(40);
    fx.fake.torrents.set(h, fakeTorrent(h, { name: 'Checking', state: 'checkingUP', progress: 0.5 }));
    const problems = await guardTorrents(singleClient(fx.client), refs(h), 300);
    expect(problems).toEqual([expect.stringMatching(/Checking .* still checkingUP/)]);
  });

  it('reports a torrent of the run that is no longer in the client (unknown is a problem, never a pass)', async () => {
    const ok = '6'.repeat(40);
    const gone = '7'.repeat(40);
    fx.fake.torrents.set(ok, fakeTorrent(ok, { name: 'Fine', state: 'stalledUP' }));
    const problems = await guardTorrents(singleClient(fx.client), refs(ok, gone), 1_000);
    expect(problems).toEqual([expect.stringMatching(new RegExp(`${gone}.*no longer in the client`))]);
  });
});
