// Layout matrix with a category mapped under `categories:` (movies → films): plan → apply → retire on real tmpfs and a real qBittorrent, every byte re-hashed.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { qbtSandboxes } from '../../../src/sandbox/qbt-sandbox.js';
import { buildLayoutFixture, runLayoutMatrix, type LayoutFixture } from './layout-fixture.js';

const qbts = qbtSandboxes();
let w: LayoutFixture;

beforeAll(async () => {
  w = await buildLayoutFixture(qbts, { mapped: true });
});
afterAll(async () => {
  await w?.stop();
  await qbts.stopAll();
});

describe('every layout qBittorrent produces, a category mapped under `categories:` (movies → films)', () => {
  it('single file (bare, in a folder, deeper), renamed root, nested, odd names move and retire; a rootless torrent is blocked', async () => {
    await runLayoutMatrix(w);
  });
});
