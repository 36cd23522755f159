// Scenario: one tree under two spellings — the pool's own mount and a non-recursive bind alias of it — scanned by CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../../support/cli.js';
import { bindMount, makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';
import { openCatalog } from '../../../src/catalog/db.js';

let tmp: TempDir;
let pool: string;
let alias: string;

beforeAll(() => {
  tmp = makeTempDir('hashall-bind-alias-');
  pool = path.join(tmp.path, 'pool');
  alias = path.join(tmp.path, 'data', 'pool');
  mountTmpfs(pool, 16 * 1024 * 1024, 'pool');
  mkdirSync(path.join(pool, 'media', 'sub'), { recursive: true });
  writeFileSync(path.join(pool, 'media', 'a.mkv'), 'visible');
  // A file of the pool itself that a sub-mount (a child dataset, say) then hides at the pool's own spelling.
  writeFileSync(path.join(pool, 'media', 'sub', 'hidden.mkv'), 'hidden under the sub-mount');
  mountTmpfs(path.join(pool, 'media', 'sub'), 4 * 1024 * 1024, 'child');
  writeFileSync(path.join(pool, 'media', 'sub', 'child.mkv'), 'on the child filesystem');
  // `mount --bind` without --rbind: the alias shows the pool's own directory at sub/, hidden.mkv included.
  bindMount(pool, alias);
  expect(existsSync(path.join(alias, 'media', 'sub', 'hidden.mkv'))).toBe(true);
  expect(existsSync(path.join(pool, 'media', 'sub', 'hidden.mkv'))).toBe(false);
});
afterAll(() => tmp.cleanup());

/** A config (and a fresh catalog) of the pool with `libraries` as its roots. */
function configWith(name: string, libraries: string[]): { config: string; catalog: string } {
  const dir = path.join(tmp.path, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  const config = path.join(dir, 'hashall.yaml');
  writeFileSync(config, ['version: 1', 'catalog: ./catalog.db', 'filesystems:', `  pool: { path: ${pool} }`, 'libraries:', ...libraries.map((l) => `  - ${l}`), ''].join('\n'));
  return { config, catalog: path.join(dir, 'catalog.db') };
}

function activeRows(catalogFile: string): string[] {
  const catalog = openCatalog(catalogFile);
  try {
    return (catalog.db.prepare(`SELECT abs_path FROM file_paths WHERE status = 'active' ORDER BY abs_path`).pluck().all() as string[]);
  } finally {
    catalog.close();
  }
}

interface ScanJson {
  skippedMounts: string[];
  roots: { input: string; path: string; coveredBy: string | null }[];
}

async function scan(config: string): Promise<ScanJson> {
  const r = await runCli(['scan', '--json', '--config', config]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ScanJson;
}

describe('a root configured under the pool path and through a non-recursive bind alias', () => {
  const media = (): string => path.join(pool, 'media');

  it('alias listed first: the canonical spelling is walked — nothing hidden under the sub-mount is catalogued, the sub-mount is skipped as usual', async () => {
    const { config, catalog } = configWith('alias-first', [path.join(alias, 'media'), media()]);
    const s = await scan(config);
    expect(activeRows(catalog)).toEqual([path.join(media(), 'a.mkv')]);
    expect(s.skippedMounts).toEqual([path.join(media(), 'sub')]);
    // The root spelled through the pool's own mount is the one walked; the alias is reported as the same root.
    expect(s.roots.map((r) => [r.input, r.coveredBy])).toEqual([
      [path.join(alias, 'media'), media()],
      [media(), null],
    ]);
  });

  it('either order gives the same catalog', async () => {
    const first = configWith('canonical-first', [media(), path.join(alias, 'media')]);
    await scan(first.config);
    const second = configWith('alias-first-again', [path.join(alias, 'media'), media()]);
    await scan(second.config);
    expect(activeRows(first.catalog)).toEqual([path.join(media(), 'a.mkv')]);
    expect(activeRows(second.catalog)).toEqual(activeRows(first.catalog));
  });

  it('the alias alone: walked by its canonical spelling, so no row names a path the sub-mount hides', async () => {
    const { config, catalog } = configWith('alias-only', [path.join(alias, 'media')]);
    const s = await scan(config);
    expect(activeRows(catalog)).toEqual([path.join(media(), 'a.mkv')]);
    expect(s.skippedMounts).toEqual([path.join(media(), 'sub')]);
    expect(s.roots.map((r) => [r.input, r.path, r.coveredBy])).toEqual([[path.join(alias, 'media'), media(), null]]);
  });

  it('a root only the alias shows (hidden at its canonical spelling by the sub-mount) is refused; nothing recorded', async () => {
    const { config, catalog } = configWith('hidden-root', [path.join(alias, 'media', 'sub')]);
    const r = await runCli(['scan', '--config', config]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain(`scan root ${path.join(alias, 'media', 'sub')}`);
    expect(r.stderr).toMatch(/hidden/);
    expect(activeRows(catalog)).toEqual([]);
  });
});
