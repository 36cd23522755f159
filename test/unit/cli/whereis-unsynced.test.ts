// `hashall whereis` never says "no torrent uses this" when it cannot know: with no client configured, or a client never
// synced, the torrents are unknown (it printed "torrents using this content: none"); after a sync it says as of when.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCatalog } from '../../../src/catalog/db.js';
import type { WhereisResult } from '../../../src/catalog/whereis.js';
import { runCli } from '../../support/cli.js';

let dir: string;
const config = (client: boolean): string => {
  const file = path.join(dir, client ? 'with-client.yaml' : 'no-client.yaml');
  writeFileSync(
    file,
    ['version: 1', 'catalog: ./state/catalog.db', 'filesystems:', `  disk: { path: ${dir} }`, 'seeding:', `  disk: [${dir}/seeding]`, ...(client ? ['client:', '  url: http://127.0.0.1:9'] : []), ''].join('\n'),
  );
  return file;
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'hashall-whereis-'));
  mkdirSync(path.join(dir, 'state'), { mode: 0o700 });
  mkdirSync(path.join(dir, 'seeding', 'Movie.2020'), { recursive: true });
  writeFileSync(path.join(dir, 'seeding', 'Movie.2020', 'movie.mkv'), 'frames');
  expect((await runCli(['scan', '--config', config(false)])).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('whereis without knowing the torrents', () => {
  const target = () => path.join(dir, 'seeding', 'Movie.2020', 'movie.mkv');

  it('no client configured: the torrents are unknown, not none', async () => {
    const r = await runCli(['whereis', target(), '--config', config(false)]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/using this content: none/);
    expect(r.stdout).toMatch(/torrents using this content: unknown \(no client configured\)/);
  });

  it('a client never synced: unknown, with what to run; --json says which instance and when it synced (never)', async () => {
    const file = config(true);
    const r = await runCli(['whereis', target(), '--config', file]);
    expect(r.stdout).toMatch(/torrents using this content: unknown — never synced: default \(run `hashall sync`\)/);
    const j = JSON.parse((await runCli(['whereis', target(), '--json', '--config', file])).stdout) as WhereisResult;
    expect(j.syncs).toEqual([{ client: 'default', syncedAt: null }]);
  });

  it('after a sync that found no torrent using it: none, as of that sync', async () => {
    const file = config(true);
    const catalog = openCatalog(path.join(dir, 'state', 'catalog.db'));
    const at = Date.UTC(2026, 10, 30, 12, 0, 0);
    catalog.db.prepare(`INSERT INTO client_status (client, synced_at) VALUES ('default', ?) ON CONFLICT (client) DO UPDATE SET synced_at = excluded.synced_at`).run(at);
    catalog.close();
    const r = await runCli(['whereis', target(), '--config', file]);
    expect(r.stdout).toMatch(/torrents using this content: none \(as of the last sync: default 2026-11-30T12:00Z\)/);
  });
});
