// Scenario: Ctrl-C / SIGTERM during `hashall scan` (a real child process): it stops after the files in flight, keeps what it scanned, says so once, and exits 130 / 143.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { openCatalog } from '../../../src/catalog/db.js';

const repo = path.resolve(import.meta.dirname, '../../..');
let tmp: TempDir;
let config: string;
let stash: string;

beforeAll(() => {
  tmp = makeTempDir('hashall-scan-sig-');
  stash = path.join(tmp.path, 'stash');
  mountTmpfs(stash, 128 * 1024 * 1024, 'stash');
  // Enough files that the walk hands them over in several batches of 512, and the hashing makes it wait for its threads.
  const body = Buffer.alloc(16 * 1024, 7);
  for (let d = 0; d < 40; d++) {
    mkdirSync(`${stash}/torrents/d${d}`, { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(`${stash}/torrents/d${d}/f${f}.bin`, Buffer.concat([Buffer.from(`file ${d}/${f}`), body]));
  }
  config = path.join(tmp.path, 'hashall.yaml');
  writeFileSync(config, ['version: 1', 'catalog: ./state/catalog.db', 'filesystems:', `  stash: { path: ${stash} }`, 'seeding:', `  stash: [${stash}/torrents]`, ''].join('\n'));
});
afterAll(() => tmp.cleanup());

function scanChild(sig: string) {
  return spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'src/cli/bin.ts', 'scan', '--hash-all', '--config', config], {
    cwd: repo,
    env: { ...process.env, HASHALL_TEST_SIGNAL_ON_SCAN: sig },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

function activeRows(): number {
  const c = openCatalog(path.join(tmp.path, 'state', 'catalog.db'), { readonly: true });
  try {
    return c.db.prepare(`SELECT count(*) FROM files WHERE status = 'active'`).pluck().get() as number;
  } finally {
    c.close();
  }
}

describe('scan stopped by a signal', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s: exit %i, one message, the catalog consistent, the next scan finishes', (sig, code) => {
    const r = scanChild(sig);
    expect(r.signal, r.stderr).toBeNull(); // handled, not killed by it
    expect(r.status, r.stderr).toBe(code);
    expect(r.stdout).toContain('scan interrupted');
    expect(r.stderr).toContain(`${sig} received`);
    expect(r.stderr.match(/scan interrupted/g) ?? []).toHaveLength(1);
    expect(r.stderr).not.toContain('unexpected error');
    expect(activeRows()).toBeLessThanOrEqual(4000);

    const again = spawnSync(process.execPath, ['--import', './test/support/ts-register.mjs', 'src/cli/bin.ts', 'scan', '--config', config], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
    expect(again.status, again.stderr).toBe(0);
    expect(activeRows()).toBe(4000);
    // Start over for the next signal.
    spawnSync('rm', ['-rf', path.join(tmp.path, 'state')]);
  });
});
