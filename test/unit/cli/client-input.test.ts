// A client URL a real user gets wrong — a web page of something else, the API path written into it — is exit 1 saying what answered and what client.url should be; nothing changes on disk.
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qbtSandboxes, type QbtSandbox } from '../../../src/sandbox/qbt-sandbox.js';
import { runCli } from '../../support/cli.js';
import { inodeTreeSnapshot } from '../../support/tree-snapshot.js';

const qbts = qbtSandboxes();
let qbt: QbtSandbox;
let page: Server;
let pageUrl = '';
let dir = '';
beforeAll(async () => {
  qbt = await qbts.start();
  // What answers at a wrong port or host: a router's or a reverse proxy's login page, 200 with HTML for any path.
  page = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><body>Sign in to your router</body></html>'));
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  dir = mkdtempSync(path.join(tmpdir(), 'hashall-client-input-'));
  mkdirSync(path.join(dir, 'seeding'));
  writeFileSync(path.join(dir, 'seeding', 'a.bin'), 'payload');
});
afterAll(async () => {
  await new Promise((resolve) => page?.close(resolve));
  await qbts.stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const configWith = (url: string): string =>
  `version: 1\ncatalog: ${dir}/state/catalog.db\nfilesystems:\n  disk: { path: ${dir} }\nseeding:\n  disk: [${dir}/seeding]\nclient:\n  type: qbittorrent\n  url: ${url}\n  timeout: 10s\n`;

interface Case {
  name: string;
  url: () => string;
  stderr: RegExp;
}

const cases: Case[] = [
  {
    name: 'another web server answers (HTML): said as a web page, not an "unreadable version", with what client.url should be',
    url: () => pageUrl,
    stderr: /hashall: .*127\.0\.0\.1:\d+\/ answered with a web page, not qBittorrent's Web API\n {2}hint: check client\.url: the address of qBittorrent's Web UI/,
  },
  {
    name: "client.url ending in /api/v2 (copied from the API docs) on the real qBittorrent: the 404 says to drop it",
    url: () => `${qbt.url}/api/v2`,
    stderr: /qBittorrent answered 404 .*\n {2}hint: .*remove \/api\/v2 from the end of client\.url: hashall adds it/,
  },
  {
    name: 'a path no Web UI is under (a reverse proxy base path mistyped) on the real qBittorrent: the 404 says what client.url should be',
    url: () => `${qbt.url}/qbitorrent`,
    stderr: /qBittorrent answered 404 .*\n {2}hint: check client\.url: the address of qBittorrent's Web UI/,
  },
];

describe('a wrong client URL: exit 1, what answered, what to write', () => {
  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      const cfg = path.join(dir, `case-${i}.yaml`);
      writeFileSync(cfg, configWith(c.url()));
      const before = inodeTreeSnapshot(path.join(dir, 'seeding'));
      const r = await runCli(['sync', '--config', cfg], { cwd: dir, env: { NO_COLOR: '1' } });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(c.stderr);
      expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
      expect(inodeTreeSnapshot(path.join(dir, 'seeding'))).toEqual(before);
    });
  }
});
