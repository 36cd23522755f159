// rTorrent's SCGI unix socket that cannot be reached is said in words with what to check: no socket at the path, or a socket file nobody listens on.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtorrentTransport } from '../../../src/clients/rtorrent/transport.js';
import { makeTempDir, type TempDir } from '../../support/mounts.js';

let tmp: TempDir;
beforeAll(() => {
  tmp = makeTempDir('hashall-rt-sock-');
});
afterAll(() => tmp?.cleanup());

const failure = async (socket: string): Promise<string> => {
  const t = new RtorrentTransport({ url: `scgi://${socket}`, timeoutMs: 5000, attempts: 1 });
  try {
    await t.call('system.client_version');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the call answered');
};

describe('rTorrent socket failures', () => {
  it('no socket at the path: says rTorrent is not running or open_local names another path', async () => {
    expect(await failure(path.join(tmp.path, 'missing.sock'))).toMatch(/: ENOENT \(no socket at that path: rTorrent is not running, or network\.scgi\.open_local names another path\)$/);
  });

  it('a file nobody listens on (a socket left by a crashed rTorrent): says so', async () => {
    const stale = path.join(tmp.path, 'stale.sock');
    writeFileSync(stale, '');
    expect(await failure(stale)).toMatch(/: ECONNREFUSED \(nothing listens on that socket: rTorrent stopped or crashed/);
  });
});
