// recordSymlinks: a complete walk replaces a root's links, an incomplete one only adds; rows outside the root's exact path range are never touched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openCatalog, type CatalogDb } from '../../../src/catalog/db.js';
import { readSymlinkTargets, recordSymlinks } from '../../../src/catalog/symlinks.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function catalog(): CatalogDb {
  const dir = mkdtempSync(path.join(tmpdir(), 'hashall-symlinks-'));
  dirs.push(dir);
  const c = openCatalog(path.join(dir, 'c.db'));
  c.db.prepare(`INSERT INTO filesystems (id, uuid, dev, fs_type, source, mount_point, preferred_mount, first_seen, last_seen) VALUES (1, 'u1', '0:1', 'tmpfs', 's', '/stash', '/stash', 1, 1)`).run();
  return c;
}

const link = (rel: string, resolved: string) => ({ rel, target: resolved, resolved });
const listed = (c: CatalogDb) => readSymlinkTargets(c).map((t) => `${t.link}>${t.resolved}`).sort();

describe('recordSymlinks', () => {
  it('complete walk: links not seen again under the root go; a root whose name shares a prefix keeps its own', () => {
    const c = catalog();
    expect(recordSymlinks(c, 1, 'lib', [link('lib/a', '/stash/seed/A'), link('lib/b', '/stash/seed/B')], true, 1)).toBe(true);
    expect(recordSymlinks(c, 1, 'lib2', [link('lib2/c', '/stash/seed/C')], true, 1)).toBe(true);
    // Unchanged: nothing written, nothing reported changed.
    expect(recordSymlinks(c, 1, 'lib', [link('lib/a', '/stash/seed/A'), link('lib/b', '/stash/seed/B')], true, 2)).toBe(false);
    expect(recordSymlinks(c, 1, 'lib', [link('lib/a', '/stash/seed/A2')], true, 3)).toBe(true);
    expect(listed(c)).toEqual(['/stash/lib/a>/stash/seed/A2', '/stash/lib2/c>/stash/seed/C']);
  });

  it('an incomplete or interrupted walk never drops a link it did not see', () => {
    const c = catalog();
    recordSymlinks(c, 1, 'lib', [link('lib/a', '/stash/seed/A'), link('lib/b', '/stash/seed/B')], true, 1);
    expect(recordSymlinks(c, 1, 'lib', [link('lib/c', '/stash/seed/C')], false, 2)).toBe(true);
    expect(listed(c)).toEqual(['/stash/lib/a>/stash/seed/A', '/stash/lib/b>/stash/seed/B', '/stash/lib/c>/stash/seed/C']);
  });

  it('links inside hashall trash hold nothing', () => {
    const c = catalog();
    recordSymlinks(c, 1, '', [link('.hashall-trash/r1/lib/a', '/stash/seed/A'), link('lib/b', '/stash/seed/B')], true, 1);
    expect(listed(c)).toEqual(['/stash/lib/b>/stash/seed/B']);
  });
});

describe('resolveSymlink', () => {
  it('resolves a target\'s folders on the host, but never on a network or FUSE mount that is no configured filesystem (a dead server would stall the scan)', async () => {
    const { mkdirSync, symlinkSync, writeFileSync, realpathSync } = await import('node:fs');
    const { resolveSymlink } = await import('../../../src/catalog/symlinks.js');
    const { hostPathContext } = await import('../../../src/catalog/host-paths.js');
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'hashall-resolve-')));
    dirs.push(dir);
    mkdirSync(path.join(dir, 'real'));
    writeFileSync(path.join(dir, 'real', 'file'), 'x');
    symlinkSync(path.join(dir, 'real'), path.join(dir, 'via'));
    const local = hostPathContext({ filesystems: {} });
    expect(resolveSymlink(local, path.join(dir, 'lib', 'link'), '../via/file')).toBe(path.join(dir, 'real', 'file'));
    const nfs = { ...local, mounts: [...local.mounts, { ...local.mounts[0]!, mountPoint: dir, fsType: 'nfs4' }] };
    expect(resolveSymlink(nfs, path.join(dir, 'lib', 'link'), '../via/file')).toBe(path.join(dir, 'via', 'file'));
    // A configured filesystem on that mount is walked by the scan anyway: resolved there.
    expect(resolveSymlink({ ...nfs, preferredPaths: [dir] }, path.join(dir, 'lib', 'link'), '../via/file')).toBe(path.join(dir, 'real', 'file'));
  });
});
