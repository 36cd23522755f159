// The commands about torrents, run with a hashall.yaml that configures no client, say so (exit 3, the file named with
// what to add), as the README's exit codes promise — `torrents` said "the client has never been synced (run `hashall
// sync`)", and that sync then failed with exit 3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../support/cli.js';

let dir: string;
let file: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hashall-no-client-'));
  mkdirSync(path.join(dir, 'state'), { mode: 0o700 });
  mkdirSync(path.join(dir, 'seeding'));
  file = path.join(dir, 'hashall.yaml');
  writeFileSync(file, ['version: 1', 'catalog: ./state/catalog.db', 'filesystems:', `  disk: { path: ${dir} }`, 'seeding:', `  disk: [${dir}/seeding]`, ''].join('\n'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('no client configured', () => {
  for (const argv of [['sync'], ['torrents'], ['torrents', '--json']]) {
    it(`hashall ${argv.join(' ')}: exit 3, the file named, with what to add`, async () => {
      const r = await runCli([...argv, '--config', file]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`hashall: ${file} has no \`client\` or \`clients\` section, so there is no torrent client to talk to`);
      expect(r.stderr).toContain('hint: add a `client:` section');
    });
  }
});
