// `hashall scan /proc` (or /sys, /dev): a kernel pseudo filesystem holds no torrent or library data. It was walked and
// catalogued (39k entries of /proc as an "(unnamed)" filesystem, thousands of "changed while read" lines); now refused.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../../../support/cli.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync('/tmp/hashall-pseudo-fs-');
  mkdirSync(path.join(dir, 'seeding'));
  writeFileSync(path.join(dir, 'seeding', 'f.bin'), 'x');
  writeFileSync(path.join(dir, 'hashall.yaml'), `version: 1\ncatalog: ${dir}/state/catalog.db\nfilesystems:\n  disk: { path: ${dir} }\nseeding:\n  disk: [${dir}/seeding]\n`);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it.each([
  ['/proc/self', 'proc'],
  ['/sys/kernel', 'sysfs'],
  ['/dev', 'devtmpfs'],
])('scan %s is refused before anything is read or recorded (%s)', async (root, type) => {
  const config = path.join(dir, 'hashall.yaml');
  expect((await runCli(['scan', '--config', config])).code).toBe(0);
  const r = await runCli(['scan', root, '--config', config]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`scan root ${root} is on ${type}, a kernel pseudo filesystem`);
  const stats = await runCli(['catalog', 'stats', '--json', '--config', config]);
  expect(stats.stdout).not.toContain(type);
  expect(JSON.parse(stats.stdout).filesystems).toHaveLength(1);
});
