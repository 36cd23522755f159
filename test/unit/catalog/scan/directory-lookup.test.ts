// The scanner's per-directory catalog lookup and deletion pass on real tmpfs trees: pages, '/'-adjacent names, raw bytes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openCatalog, type CatalogDb } from '../../../../src/catalog/db.js';
import { scanRoots } from '../../../../src/catalog/scan/scan-roots.js';
import type { ScanOptions } from '../../../../src/catalog/scan/types.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../../support/mounts.js';

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

let tmp: TempDir;
let stash: string;
let catalog: CatalogDb;
let clock: number;

function opts(extra: Partial<ScanOptions> = {}): ScanOptions {
  return { drift: 'metadata', filesystems: {}, now: () => ++clock, hashWorkers: 2, ...extra };
}
function active(): Map<string, string | null> {
  const r = catalog.db.prepare(`SELECT path, sha256 FROM files WHERE status = 'active' ORDER BY path`).all() as { path: string; sha256: string | null }[];
  return new Map(r.map((x) => [x.path, x.sha256]));
}
function deleted(): string[] {
  return (catalog.db.prepare(`SELECT path FROM files WHERE status = 'deleted' ORDER BY path`).pluck().all() as string[]).sort();
}

beforeEach(() => {
  tmp = makeTempDir('hashall-lookup-');
  stash = path.join(tmp.path, 'stash');
  mountTmpfs(stash, 64 * 1024 * 1024, 'lookup-test');
  catalog = openCatalog(path.join(tmp.path, 'catalog.db'));
  clock = 1_000;
});
afterEach(() => {
  catalog.close();
  tmp.cleanup();
});

describe('scanRoots incremental lookup', () => {
  it('a directory of more than one page of rows, beside subdirectories named around "/", rescans unchanged and sees each change', async () => {
    const big = path.join(stash, 'big');
    mkdirSync(big);
    const N = 2_345;
    for (let i = 0; i < N; i++) writeFileSync(path.join(big, `f${String(i).padStart(4, '0')}`), `content ${i}`);
    // Names that sort just before and after 'a/' in byte order, as files and as directories.
    for (const d of ['a', 'a b', 'a-', 'a.b', 'a0', 'a/deep', 'z']) {
      mkdirSync(path.join(big, d), { recursive: true });
      writeFileSync(path.join(big, d, 'x'), `in ${d}`);
    }
    writeFileSync(path.join(big, 'a-file'), 'a-file');
    writeFileSync(path.join(big, 'a0file'), 'a0file');
    const total = N + 7 + 2;

    const first = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    expect(first).toMatchObject({ added: total, changed: 0, deleted: 0 });
    const serial = catalog.serial();
    const again = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    expect(again).toMatchObject({ added: 0, changed: 0, deleted: 0, unchanged: total, filesHashed: 0 });
    expect(catalog.serial()).toBe(serial);

    // Changes on the second and third page of the big directory, inside subdirectories, and a whole subtree removed.
    writeFileSync(path.join(big, 'f1500'), 'changed, longer content');
    writeFileSync(path.join(big, 'a', 'x'), 'changed a/x');
    rmSync(path.join(big, 'f2222'));
    rmSync(path.join(big, 'a0'), { recursive: true });
    writeFileSync(path.join(big, 'a', 'deep', 'new'), 'new');
    const third = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    expect(third).toMatchObject({ added: 1, changed: 2, deleted: 2, unchanged: total - 4 });
    expect(deleted()).toEqual(['big/a0/x', 'big/f2222']);
    const rows = active();
    expect(rows.size).toBe(total - 1);
    expect(rows.get('big/f1500')).toBe(sha('changed, longer content'));
    expect(rows.get('big/a/x')).toBe(sha('changed a/x'));
    expect(rows.get('big/a/deep/new')).toBe(sha('new'));
    expect(rows.get('big/a-file')).toBe(sha('a-file'));
    expect(rows.get('big/a0file')).toBe(sha('a0file'));
    expect(rows.get('big/f2344')).toBe(sha('content 2344'));
  });

  it('a path that comes back after being deleted is reactivated in place, and later rescans neither add nor delete it', async () => {
    const f = path.join(stash, 'back');
    writeFileSync(f, 'one');
    writeFileSync(path.join(stash, 'stay'), 'stay');
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    const id = catalog.db.prepare(`SELECT id FROM files WHERE path = 'back'`).pluck().get();
    rmSync(f);
    expect(await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts())).toMatchObject({ deleted: 1 });
    writeFileSync(f, 'two');
    expect(await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts())).toMatchObject({ added: 1, deleted: 0 });
    expect(catalog.db.prepare(`SELECT id, status, sha256 FROM files WHERE path = 'back'`).all()).toEqual([{ id, status: 'active', sha256: sha('two') }]);
    expect(await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts())).toMatchObject({ added: 0, deleted: 0, unchanged: 2 });
  });

  it('names that are not plain UTF-8 (a raw-byte directory, a literal U+FFFD) are stored escaped, found again, and deleted exactly', async () => {
    const rawDir = Buffer.concat([Buffer.from(stash + '/dir-'), Buffer.from([0xfe]), Buffer.from('-x')]);
    mkdirSync(rawDir);
    writeFileSync(Buffer.concat([rawDir, Buffer.from('/inner')]), 'inner');
    writeFileSync(Buffer.concat([rawDir, Buffer.from('/gone')]), 'gone');
    writeFileSync(path.join(stash, 'lit-\uFFFD-name'), 'literal');
    writeFileSync(path.join(stash, 'plain'), 'plain');
    expect(await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts())).toMatchObject({ added: 4, problems: [] });
    const rows = active();
    expect([...rows.keys()]).toEqual(['dir-\uFFFDfe-x/gone', 'dir-\uFFFDfe-x/inner', 'lit-\uFFFDef\uFFFDbf\uFFFDbd-name', 'plain']);
    expect(rows.get('dir-\uFFFDfe-x/inner')).toBe(sha('inner'));
    expect(rows.get('lit-\uFFFDef\uFFFDbf\uFFFDbd-name')).toBe(sha('literal'));
    expect(await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts())).toMatchObject({ added: 0, changed: 0, deleted: 0, unchanged: 4 });
    rmSync(Buffer.concat([rawDir, Buffer.from('/gone')]));
    expect(await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts())).toMatchObject({ deleted: 1, unchanged: 3 });
    expect(deleted()).toEqual(['dir-\uFFFDfe-x/gone']);
  });

  it('a literal U+FFFD name spelling, byte for byte, the escaped text of a hardlinked raw-byte name is told apart from it', async () => {
    // `raw` is a\xff (catalog text a\uFFFDff); `lit` is the UTF-8 name a\uFFFDff, whose bytes are that text's bytes.
    const raw = Buffer.concat([Buffer.from(stash + '/a'), Buffer.from([0xff])]);
    const lit = path.join(stash, 'a\uFFFDff');
    writeFileSync(raw, 'shared inode');
    linkSync(raw, lit);
    expect(await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts())).toMatchObject({ added: 2, problems: [] });
    expect([...active().keys()]).toEqual(['a\uFFFDef\uFFFDbf\uFFFDbdff', 'a\uFFFDff']);
    // The raw name goes, another link keeps the link count: lit's record now has the inode, size, mtime and link count
    // recorded for the raw name's row, under a name whose bytes are that row's text.
    rmSync(raw);
    linkSync(lit, path.join(stash, 'b'));
    expect(await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts())).toMatchObject({ added: 1, deleted: 1, unchanged: 1 });
    expect(deleted()).toEqual(['a\uFFFDff']);
    expect([...active().keys()]).toEqual(['a\uFFFDef\uFFFDbf\uFFFDbdff', 'b']);
  });

  it('a file moved between two mtimes before 1970 whose find texts read alike is seen as changed', async () => {
    // find prints -2.5 s as "-3.5000000000" (seconds floored, nanoseconds added) and -1.5 s as "-2.5000000000".
    const f = path.join(stash, 'old');
    writeFileSync(f, 'first');
    utimesSync(f, new Date(0), new Date(-2500));
    expect(statSync(f, { bigint: true }).mtimeNs).toBe(-2_500_000_000n);
    expect(await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts())).toMatchObject({ added: 1 });
    writeFileSync(f, 'other');
    utimesSync(f, new Date(0), new Date(-1500));
    expect(await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts())).toMatchObject({ changed: 1, unchanged: 0 });
    expect(active().get('old')).toBe(sha('other'));
    expect(await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts())).toMatchObject({ changed: 0, unchanged: 1 });
  });
});
