// doctor with no torrent client in hashall.yaml says so (a check of its own, "skipped" with what it means for plans),
// instead of listing nothing about clients at all: the line was written but never reached.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../../support/cli.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync('/tmp/hashall-doctor-no-client-');
  mkdirSync(path.join(dir, 'seeding'));
  writeFileSync(path.join(dir, 'hashall.yaml'), `version: 1\ncatalog: ${dir}/state/catalog.db\nfilesystems:\n  disk: { path: ${dir} }\nseeding:\n  disk: [${dir}/seeding]\n`);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('a config without a client: the client check is skipped, saying plans cover dedupe only', async () => {
  const r = await runCli(['doctor', '--json', '--no-notify', '--config', path.join(dir, 'hashall.yaml')]);
  const checks = (JSON.parse(r.stdout) as { checks: { id: string; status: string; detail: string }[] }).checks;
  const client = checks.find((c) => c.id === 'client');
  expect(client?.status).toBe('skipped');
  expect(client?.detail).toContain('no `client` section: plans cover dedupe only');
  const text = await runCli(['doctor', '--no-notify', '--config', path.join(dir, 'hashall.yaml')]);
  expect(text.stdout).toMatch(/skipped\s+torrent client: hashall\.yaml has no `client` section/);
});
