// The demo seedbox built on two private 128 MiB tmpfs filesystems, `stash` and `pool`, under a test's temp dir.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { buildDemoSeedbox, type DemoSeedbox } from '../../src/demo/seedbox.js';
import { mountTmpfs } from './mounts.js';

/** Makes `base`/stash and `base`/pool, mounts a tmpfs on each (in the test's mount namespace) and builds the demo there. */
export async function demoSeedboxOnTmpfs(base: string): Promise<DemoSeedbox> {
  const stash = path.join(base, 'stash');
  const pool = path.join(base, 'pool');
  mkdirSync(stash);
  mkdirSync(pool);
  mountTmpfs(stash, 128 << 20, 'stash');
  mountTmpfs(pool, 128 << 20, 'pool');
  return buildDemoSeedbox(base, stash, pool);
}
