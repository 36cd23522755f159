// A user who may not read the catalog's folder (root's 0700 state folder, hashall run as a media user) is told so with the
// fix — it was "unexpected error: EACCES: permission denied, stat …/catalog.db" with "report it" (exit 1 either way).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCatalog } from '../../../src/catalog/db.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
let dir: string;
let cfg: string;

beforeAll(() => {
  dir = mkdtempSync('/tmp/hashall-catalog-access-');
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, 'state'), { mode: 0o700 });
  openCatalog(path.join(dir, 'state', 'catalog.db')).close();
  cfg = path.join(dir, 'hashall.yaml');
  mkdirSync(path.join(dir, 'seeding'), { mode: 0o755 });
  writeFileSync(cfg, `version: 1\ncatalog: ./state/catalog.db\nfilesystems:\n  disk: { path: ${dir} }\nseeding:\n  disk: [${dir}/seeding]\n`);
  chmodSync(cfg, 0o644);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI from source as uid/gid 65534 (nobody), which may not enter root's 0700 state folder. */
function asNobody(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '--import', './test/support/ts-register.mjs', 'src/cli/bin.ts', ...args], {
    cwd: repo,
    env: { PATH: process.env.PATH, HOME: '/nonexistent', NO_COLOR: '1', HASHALL_NO_CODE_CACHE: '1' },
    encoding: 'utf8',
  });
  return { status: r.status, stderr: r.stderr };
}

describe('a catalog this user may not read', () => {
  it('is a catalog error naming the folder and the fix, for a reader and a writer (exit 1), not an unexpected error', () => {
    for (const cmd of [['catalog', 'stats'], ['scan']]) {
      const r = asNobody(...cmd, '--config', cfg);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).not.toMatch(/unexpected error/);
      expect(r.stderr).toMatch(/permission denied/);
      expect(r.stderr).toContain(path.join(dir, 'state'));
      expect(r.stderr).toMatch(/hint: .*run hashall as/);
    }
  });
});
