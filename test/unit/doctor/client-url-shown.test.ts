// doctor names each client by its URL as the clients' own messages do: scheme, host and path — never a query
// (`?token=…` is how some proxies in front of a Web UI take a key), so a secret in it stays out of output and logs.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../../support/cli.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync('/tmp/hashall-doctor-client-url-');
  mkdirSync(path.join(dir, 'seeding'));
  writeFileSync(
    path.join(dir, 'hashall.yaml'),
    `version: 1\ncatalog: ${dir}/state/catalog.db\nfilesystems:\n  disk: { path: ${dir} }\nseeding:\n  disk: [${dir}/seeding]\nclient:\n  url: http://127.0.0.1:1/qbt/?token=k3y-in-query\n  timeout: 2s\n`,
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('an unreachable client is named without the query of its URL, in text and JSON', async () => {
  const config = path.join(dir, 'hashall.yaml');
  const text = await runCli(['doctor', '--no-notify', '--config', config]);
  expect(text.stdout).toContain('qbittorrent "default" at http://127.0.0.1:1/qbt/?…');
  const json = await runCli(['doctor', '--json', '--no-notify', '--config', config]);
  expect(json.stdout).toContain('http://127.0.0.1:1/qbt/');
  for (const r of [text, json]) {
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toContain('k3y-in-query');
  }
});
