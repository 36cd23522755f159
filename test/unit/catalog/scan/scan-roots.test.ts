// The scanner on real trees in real tmpfs/bind mounts: hardlinks, symlinks, drift, deletion ranges, guards, interrupts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { openIntegrityProblems } from '../../../../src/catalog/integrity.js';
import { openCatalog, type CatalogDb } from '../../../../src/catalog/db.js';
import { scanRoots } from '../../../../src/catalog/scan/scan-roots.js';
import type { ScanOptions } from '../../../../src/catalog/scan/types.js';
import { CatalogError } from '../../../../src/errors.js';
import type { FilesystemConfig } from '../../../../src/config/types.js';
import { bindMount, makeTempDir, mountTmpfs, unmount, type TempDir } from '../../../support/mounts.js';

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

let tmp: TempDir;
let stash: string;
let catalog: CatalogDb;
let clock: number;

function opts(extra: Partial<ScanOptions> = {}): ScanOptions {
  return { drift: 'metadata', filesystems: {}, now: () => ++clock, hashWorkers: 2, ...extra };
}

interface Row {
  path: string;
  ino: number;
  size: number;
  sha256: string | null;
  quick_hash: string | null;
  status: string;
  fs_id: number;
}
function rows(status = 'active'): Row[] {
  return catalog.db.prepare(`SELECT path, ino, size, sha256, quick_hash, status, fs_id FROM files WHERE status = ? ORDER BY path`).all(status) as Row[];
}
function paths(status = 'active'): string[] {
  return rows(status).map((r) => r.path);
}

/** `n` payload folders of one file each under the stash, scanned as the stash root: the folders an apply refreshes. */
async function scannedPayloadFolders(n: number): Promise<string[]> {
  const dirs = Array.from({ length: n }, (_, i) => path.join(stash, 'movies', `Payload.${i}`));
  for (const [i, d] of dirs.entries()) {
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, 'video.mkv'), `bytes ${i}`);
  }
  await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts());
  return dirs;
}

/** A file's text, or '' when it cannot be read (a process that ended while /proc was listed). */
function readFileSyncOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

beforeEach(() => {
  tmp = makeTempDir('hashall-scan-');
  stash = path.join(tmp.path, 'stash');
  mountTmpfs(stash, 64 * 1024 * 1024, 'stash-test');
  catalog = openCatalog(path.join(tmp.path, 'catalog.db'));
  clock = 1_000;
});
afterEach(() => {
  catalog.close();
  tmp.cleanup();
});

describe('scanRoots', () => {
  it('catalogs a real tree: hardlinks share one hash, symlinks (loop, dangling) are counted not stored, odd names round-trip', async () => {
    const media = path.join(stash, 'media');
    mkdirSync(path.join(media, 'movies'), { recursive: true });
    writeFileSync(path.join(media, 'movies', 'a.mkv'), 'alpha');
    linkSync(path.join(media, 'movies', 'a.mkv'), path.join(media, 'a-link.mkv'));
    writeFileSync(path.join(media, 'empty'), '');
    writeFileSync(path.join(media, 'with space %_'), 'x');
    writeFileSync(path.join(media, 'new\nline'), 'y');
    writeFileSync(Buffer.from(path.join(media, 'bad-\xff-name'), 'latin1'), 'z');
    symlinkSync('nowhere', path.join(media, 'dangling'));
    symlinkSync('.', path.join(media, 'loop'));
    const s = await scanRoots(catalog, [{ path: media, kind: 'seeding' }], opts());
    expect(s.status).toBe('completed');
    expect(s.symlinks).toBe(2);
    expect(s.added).toBe(6);
    // Both paths of the hardlinked inode were hashed once.
    expect(s.filesHashed).toBe(5);
    const r = rows();
    expect(r.map((x) => x.path)).toEqual(['media/a-link.mkv', 'media/bad-\uFFFDff-name', 'media/empty', 'media/movies/a.mkv', 'media/new\nline', 'media/with space %_']);
    const a = r.filter((x) => x.path.endsWith('.mkv'));
    expect(a[0]?.ino).toBe(a[1]?.ino);
    expect(a.every((x) => x.sha256 === sha('alpha'))).toBe(true);
    expect(r.find((x) => x.path === 'media/empty')?.sha256).toBe(sha(''));
    expect(r.find((x) => x.path === 'media/bad-\uFFFDff-name')?.sha256).toBe(sha('z'));
    const fs = catalog.db.prepare(`SELECT * FROM filesystems`).all() as { preferred_mount: string; fs_type: string; uuid: string }[];
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({ preferred_mount: stash, fs_type: 'tmpfs', uuid: `fallback:tmpfs:stash-test:${stash}` });
    expect(catalog.serial()).toBeGreaterThan(0);
  });

  it('the same rows whether GNU find walks, the Node walk does (find: null), or find is missing', async () => {
    const media = path.join(stash, 'media');
    mkdirSync(path.join(media, 'movies', 'deeper'), { recursive: true });
    writeFileSync(path.join(media, 'movies', 'a.mkv'), 'alpha');
    writeFileSync(path.join(media, 'movies', 'deeper', 'b.mkv'), 'beta');
    utimesSync(path.join(media, 'movies', 'deeper', 'b.mkv'), 1_600_000_000, 1_600_000_000);
    linkSync(path.join(media, 'movies', 'a.mkv'), path.join(media, 'a-link.mkv'));
    writeFileSync(path.join(media, 'new\nline'), 'y');
    writeFileSync(Buffer.from(path.join(media, 'bad-\xff-name'), 'latin1'), 'z');
    symlinkSync('movies', path.join(media, 'dir-link'));
    // b.mkv is removed and written again between walkers: its inode may differ.
    const dump = (): string =>
      JSON.stringify(catalog.db.prepare(`SELECT path, CASE WHEN path LIKE '%/b.mkv' THEN 0 ELSE ino END, size, mtime_ns, nlink, quick_hash, sha256, status FROM files ORDER BY path`).all());
    const walkers: (string | null)[] = ['find', null, path.join(tmp.path, 'no-such-find')];
    const seen: string[] = [];
    for (const findProgram of walkers) {
      catalog.db.exec(`DELETE FROM files`);
      const s = await scanRoots(catalog, [{ path: media, kind: 'seeding' }], opts({ findProgram }));
      expect(s).toMatchObject({ added: 5, symlinks: 1, problems: [] });
      seen.push(dump());
      // A rescan with each walker changes nothing; a removed file is gone with each.
      rmSync(path.join(media, 'movies', 'deeper', 'b.mkv'));
      expect(await scanRoots(catalog, [{ path: media, kind: 'seeding' }], opts({ findProgram }))).toMatchObject({ unchanged: 4, deleted: 1, problems: [] });
      writeFileSync(path.join(media, 'movies', 'deeper', 'b.mkv'), 'beta');
      utimesSync(path.join(media, 'movies', 'deeper', 'b.mkv'), 1_600_000_000, 1_600_000_000);
    }
    expect(seen[1]).toBe(seen[0]);
    expect(seen[2]).toBe(seen[0]);
  });

  it('a directory find cannot read keeps its rows (unknown, never gone) and is reported; the rest is rescanned', async () => {
    for (const d of ['open', 'closed/sub', 'names-only']) mkdirSync(path.join(stash, d), { recursive: true });
    for (const f of ['open/a', 'open/gone', 'closed/x', 'closed/sub/y', 'names-only/z']) writeFileSync(path.join(stash, f), f);
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    expect(paths()).toEqual(['closed/sub/y', 'closed/x', 'names-only/z', 'open/a', 'open/gone']);
    rmSync(path.join(stash, 'open', 'gone'));
    chmodSync(path.join(stash, 'closed'), 0o000);
    chmodSync(path.join(stash, 'names-only'), 0o644);
    chmodSync(tmp.path, 0o755);
    // As root every directory is readable: find runs as nobody, so it meets real permission errors.
    const asNobody = path.join(tmp.path, 'find-as-nobody');
    writeFileSync(asNobody, '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups find "$@"\n', { mode: 0o755 });
    const s = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ findProgram: asNobody }));
    expect(s).toMatchObject({ status: 'completed', unchanged: 1, deleted: 1 });
    expect(s.problems.map((p) => `${path.relative(stash, p.path)} ${p.code}`).sort()).toEqual([' EWALK', 'closed EWALK', 'names-only EWALK']);
    expect(s.problems.find((p) => p.path === stash)?.message).toMatch(/Permission denied/);
    expect(paths()).toEqual(['closed/sub/y', 'closed/x', 'names-only/z', 'open/a']);
  });

  it('an entry the walk did not report while find failed is kept unless it is gone from disk', async () => {
    mkdirSync(path.join(stash, 'd'));
    for (const f of ['a', 'hidden', 'gone']) writeFileSync(path.join(stash, 'd', f), f);
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    rmSync(path.join(stash, 'd', 'gone'));
    // A find that failed to stat one entry (as it would on an I/O error): its record is missing, the exit status 1.
    const failing = path.join(tmp.path, 'find-failing');
    writeFileSync(failing, `#!/bin/sh\nfind "$@" | grep -zv '/hidden$'\necho "find: '${stash}/d/hidden': Input/output error" >&2\nexit 1\n`, { mode: 0o755 });
    const s = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ findProgram: failing }));
    expect(s).toMatchObject({ unchanged: 1, deleted: 1 });
    expect(s.problems.map((p) => `${path.relative(stash, p.path)} ${p.code}`).sort()).toEqual([' EWALK', 'd/hidden EWALK']);
    expect(paths()).toEqual(['d/a', 'd/hidden']);
  });

  it('a file whose inode number is past 2^53 (mergerfs use_ino, overlayfs xino, some network shares) stops the scan of its root with a clear error; its rows are kept', async () => {
    mkdirSync(path.join(stash, 'd'));
    for (const f of ['a', 'b']) writeFileSync(path.join(stash, 'd', f), f);
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    const before = JSON.stringify(catalog.db.prepare(`SELECT path, ino, status FROM files ORDER BY path`).all());
    // A find on such a filesystem: the same records, file b with a 64-bit hashed inode number (2^64 - 59 and 2^53 + 1 are both refused).
    for (const big of ['18446744073709551557', '9007199254740993']) {
      const hashedInodes = path.join(tmp.path, `find-big-${big}`);
      writeFileSync(hashedInodes, `#!/bin/sh\nfind "$@" | perl -0 -pe 's/^(f \\d+ )\\d+( .* d\\/b\\0)$/\${1}${big}$2/s'\n`, { mode: 0o755 });
      const err = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ findProgram: hashedInodes })).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CatalogError);
      expect((err as Error).message).toContain(`${path.join(stash, 'd', 'b')} has inode number ${big}, past 2^53`);
      expect(JSON.stringify(catalog.db.prepare(`SELECT path, ino, status FROM files ORDER BY path`).all())).toBe(before);
    }
    // 2^53 - 1 itself is exact: recorded as it is.
    const edge = path.join(tmp.path, 'find-edge');
    writeFileSync(edge, `#!/bin/sh\nfind "$@" | perl -0 -pe 's/^(f \\d+ )\\d+( .* d\\/b\\0)$/\${1}9007199254740991$2/s'\n`, { mode: 0o755 });
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ findProgram: edge }));
    expect(catalog.db.prepare(`SELECT ino FROM files WHERE path = 'd/b'`).pluck().get()).toBe(9007199254740991);
  });

  it('a file replaced by another inode of the same size and mtime between the walk and its read is not recorded as read', async () => {
    writeFileSync(path.join(stash, 'f'), 'first');
    utimesSync(path.join(stash, 'f'), 1_600_000_000, 1_600_000_000);
    const walkedIno = lstatSync(path.join(stash, 'f')).ino;
    const s = await scanRoots(
      catalog,
      [{ path: stash, kind: 'library' }],
      opts({
        wrapHash: (hash) => async (job) => {
          // Another inode, same size and mtime, takes the path after the walk saw it.
          if (String(job.path).endsWith('/f')) {
            writeFileSync(path.join(stash, 'twin'), 'other');
            utimesSync(path.join(stash, 'twin'), 1_600_000_000, 1_600_000_000);
            renameSync(path.join(stash, 'twin'), path.join(stash, 'f'));
          }
          return hash(job);
        },
      }),
    );
    expect(lstatSync(path.join(stash, 'f')).ino).not.toBe(walkedIno);
    expect(s.problems.map((p) => `${path.relative(stash, p.path)} ${p.code}`)).toEqual(['f ECHANGED']);
    expect(rows().find((r) => r.path === 'f')?.sha256 ?? null).toBeNull();
  });

  it('the root records how many active rows it holds, after a removal and after a rescan with no change', async () => {
    mkdirSync(path.join(stash, 'lib', 'd'), { recursive: true });
    for (const f of ['a', 'b', 'd/c']) writeFileSync(path.join(stash, 'lib', f), f);
    writeFileSync(path.join(stash, 'outside'), 'o');
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    const fileCount = (): unknown => catalog.db.prepare(`SELECT file_count FROM scan_roots WHERE path = ?`).pluck().get(path.join(stash, 'lib'));
    rmSync(path.join(stash, 'lib', 'b'));
    await scanRoots(catalog, [{ path: path.join(stash, 'lib'), kind: 'library' }], opts());
    expect(fileCount()).toBe(2);
    await scanRoots(catalog, [{ path: path.join(stash, 'lib'), kind: 'library' }], opts());
    expect(fileCount()).toBe(2);
    writeFileSync(path.join(stash, 'lib', 'd', 'new'), 'n');
    await scanRoots(catalog, [{ path: path.join(stash, 'lib'), kind: 'library' }], opts());
    expect(fileCount()).toBe(3);
  });

  it('a rescan with no change writes nothing and keeps the serial', async () => {
    mkdirSync(path.join(stash, 'd'));
    writeFileSync(path.join(stash, 'd', 'f'), 'data');
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    const serial = catalog.serial();
    const s = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    expect(s).toMatchObject({ added: 0, changed: 0, deleted: 0, unchanged: 1, filesHashed: 0 });
    expect(catalog.serial()).toBe(serial);
  });

  it('drift policies: same size and restored mtime is invisible to metadata, caught by quick and full as corruption (never absorbed)', async () => {
    const f = path.join(stash, 'f.bin');
    writeFileSync(f, Buffer.alloc(300_000, 1));
    const T = 1_600_000_000; // whole seconds: restorable exactly
    utimesSync(f, T, T);
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    const changed = Buffer.alloc(300_000, 1);
    changed[0] = 2; // inside the first sampled block
    writeFileSync(f, changed);
    utimesSync(f, T, T);
    const meta = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ drift: 'metadata' }));
    expect(meta).toMatchObject({ changed: 0, unchanged: 1 });
    expect(rows()[0]?.sha256).toBe(sha(Buffer.alloc(300_000, 1)));
    // Same inode, size and mtime, other bytes: corruption. The recorded hash stays; the inode becomes a problem.
    const quick = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ drift: 'quick' }));
    expect(quick).toMatchObject({ changed: 0, unchanged: 1 });
    expect(quick.problems.map((p) => [p.path, p.code])).toEqual([[f, 'ECORRUPT']]);
    expect(rows()[0]?.sha256).toBe(sha(Buffer.alloc(300_000, 1)));
    expect(openIntegrityProblems(catalog).map((p) => [p.path, p.kind, p.expected, p.found])).toEqual([[f, 'corrupted', sha(Buffer.alloc(300_000, 1)), sha(changed)]]);
    const full = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ drift: 'full' }));
    expect(full).toMatchObject({ changed: 0 });
    expect(rows()[0]?.sha256).toBe(sha(Buffer.alloc(300_000, 1)));
    expect(openIntegrityProblems(catalog)).toHaveLength(1);

    // A change outside the sampled blocks is only seen by `full`.
    const g = path.join(stash, 'g.bin');
    writeFileSync(g, Buffer.alloc(300_000, 4));
    utimesSync(g, T, T);
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    const again = Buffer.alloc(300_000, 4);
    again[100_000] = 9;
    writeFileSync(g, again);
    utimesSync(g, T, T);
    expect((await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ drift: 'quick' }))).problems.filter((p) => p.path === g)).toEqual([]);
    expect((await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ drift: 'full' }))).problems.filter((p) => p.path === g).map((p) => p.code)).toEqual(['ECORRUPT']);

    // An edit (the mtime moves) ends the problem and records the new hash.
    writeFileSync(f, changed);
    const edited = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    expect(edited).toMatchObject({ changed: 1 });
    expect(rows().find((r) => r.path === 'f.bin')?.sha256).toBe(sha(changed));
    expect(openIntegrityProblems(catalog).map((p) => p.path)).toEqual([g]);
  });

  it('a quick-hash drift whose full re-read fails keeps the recorded hashes (never replaced by nothing) and reports the read', async () => {
    const f = path.join(stash, 'f.bin');
    const original = Buffer.alloc(300_000, 1);
    writeFileSync(f, original);
    const T = 1_600_000_000;
    utimesSync(f, T, T);
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    const before = catalog.db.prepare(`SELECT quick_hash, sha256 FROM files WHERE path = 'f.bin'`).get();
    const changed = Buffer.from(original);
    changed[0] = 2;
    writeFileSync(f, changed);
    utimesSync(f, T, T);
    // The escalated full read fails (a disk error on cue: the real disk cannot be made to fail on the second read).
    const s = await scanRoots(
      catalog,
      [{ path: stash, kind: 'library' }],
      opts({ drift: 'quick', wrapHash: (hash) => async (job) => (job.full ? { bytesRead: 0, error: { code: 'EIO', message: 'injected read error' } } : hash(job)) }),
    );
    expect(s.problems.map((p) => [p.path, p.code])).toEqual([[f, 'EIO']]);
    expect(catalog.db.prepare(`SELECT quick_hash, sha256 FROM files WHERE path = 'f.bin'`).get()).toEqual(before);
    expect(sha(original)).toBe((before as { sha256: string }).sha256);
  });

  it('a subtree rescan deletes only inside the subtree, never in siblings sharing a name prefix', async () => {
    const names = ['foo', 'foo bar', 'foo_', 'foo%', 'foo-x', 'fooz'];
    for (const n of names) {
      mkdirSync(path.join(stash, 'a', n), { recursive: true });
      writeFileSync(path.join(stash, 'a', n, 'f'), n);
    }
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    for (const n of names) rmSync(path.join(stash, 'a', n, 'f'));
    writeFileSync(path.join(stash, 'a', 'foo', 'g'), 'new');
    const s = await scanRoots(catalog, [{ path: path.join(stash, 'a', 'foo'), kind: 'adhoc' }], opts());
    expect(s).toMatchObject({ added: 1, deleted: 1 });
    expect(paths('deleted')).toEqual(['a/foo/f']);
    expect(paths()).toEqual(['a/foo bar/f', 'a/foo%/f', 'a/foo-x/f', 'a/foo/g', 'a/foo_/f', 'a/fooz/f']);
  });

  it('the deletion pass: an ad-hoc refresh of a file that replaced a directory of the same name deletes the rows under it; a path back from deleted and a removal in one rescan', async () => {
    const item = path.join(stash, 'p', 'item');
    const asDirectory = (): void => {
      rmSync(item, { recursive: true, force: true });
      mkdirSync(item);
      writeFileSync(path.join(item, 'inner'), 'i');
    };
    const asFile = (text: string): void => {
      rmSync(item, { recursive: true, force: true });
      writeFileSync(item, text);
    };
    mkdirSync(path.join(stash, 'p'));
    writeFileSync(path.join(stash, 'p', 'a'), 'a');
    writeFileSync(path.join(stash, 'p', 'b'), 'b');
    asFile('file 1');
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    // The file's own row is still active when only the new inner file was refreshed.
    asDirectory();
    await scanRoots(catalog, [{ path: path.join(item, 'inner'), kind: 'adhoc' }], opts());
    expect(paths()).toEqual(['p/a', 'p/b', 'p/item', 'p/item/inner']);
    asFile('file 2');
    expect(await scanRoots(catalog, [{ path: item, kind: 'adhoc' }], opts())).toMatchObject({ changed: 1, deleted: 1 });
    expect(paths()).toEqual(['p/a', 'p/b', 'p/item']);
    // The file's row is deleted (a full scan saw the directory) and comes back when the file does.
    asDirectory();
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    expect(paths()).toEqual(['p/a', 'p/b', 'p/item/inner']);
    asFile('file 3');
    expect(await scanRoots(catalog, [{ path: item, kind: 'adhoc' }], opts())).toMatchObject({ added: 1, deleted: 1 });
    expect(paths()).toEqual(['p/a', 'p/b', 'p/item']);
    // b goes and comes back while a goes: one rescan reactivates b and deletes a.
    rmSync(path.join(stash, 'p', 'b'));
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    writeFileSync(path.join(stash, 'p', 'b'), 'b');
    rmSync(path.join(stash, 'p', 'a'));
    expect(await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts())).toMatchObject({ added: 1, deleted: 1, unchanged: 1 });
    expect(paths()).toEqual(['p/b', 'p/item']);
  });

  it('an ad-hoc refresh of ONE file (a one-file payload after apply) records it, touches no sibling, and is no scan root; a configured root must be a directory', async () => {
    mkdirSync(path.join(stash, 'movies'), { recursive: true });
    writeFileSync(path.join(stash, 'movies', 'old.mkv'), 'old');
    await scanRoots(catalog, [{ path: stash, kind: 'seeding' }], opts());
    writeFileSync(path.join(stash, 'movies', 'New File 2020.mkv'), 'new bytes');
    rmSync(path.join(stash, 'movies', 'old.mkv'));
    const s = await scanRoots(catalog, [{ path: path.join(stash, 'movies', 'New File 2020.mkv'), kind: 'adhoc' }], opts());
    expect(s).toMatchObject({ status: 'completed', added: 1, deleted: 0 });
    expect(rows().map((r) => [r.path, r.sha256])).toEqual([
      ['movies/New File 2020.mkv', sha('new bytes')],
      ['movies/old.mkv', sha('old')], // a sibling: only a scan of its directory may mark it deleted
    ]);
    expect(catalog.db.prepare(`SELECT count(*) AS n FROM scan_roots WHERE path LIKE '%.mkv'`).get()).toEqual({ n: 0 });
    await expect(scanRoots(catalog, [{ path: path.join(stash, 'movies', 'New File 2020.mkv'), kind: 'seeding' }], opts())).rejects.toThrow(/is not a directory/);
  });

  it('ad-hoc roots on one filesystem (apply refreshing many payload folders): its row is recorded once, every root is refreshed and its guard still runs', async () => {
    const dirs = await scannedPayloadFolders(12);
    for (const [i, d] of dirs.entries()) writeFileSync(path.join(d, 'info.nfo'), `nfo ${i}`);
    const prepare = vi.spyOn(catalog.db, 'prepare');
    try {
      const s = await scanRoots(catalog, dirs.map((d) => ({ path: d, kind: 'adhoc' as const })), opts());
      expect(s).toMatchObject({ status: 'completed', added: 12 });
      expect(prepare.mock.calls.filter(([sql]) => /^\s*UPDATE filesystems/.test(sql)).length).toBe(1);
    } finally {
      prepare.mockRestore();
    }
    expect(paths().filter((p) => p.endsWith('info.nfo'))).toHaveLength(12);
    // Each root's own guard is not skipped: a root recorded on another filesystem at its last scan is refused.
    catalog.db.prepare(`INSERT INTO filesystems (uuid, dev, fs_type, source, mount_point, preferred_mount, preferred_root, name, first_seen, last_seen) VALUES ('other', '0:1', 'tmpfs', 'x', '/x', '/x', '/', NULL, 1, 1)`).run();
    const other = (catalog.db.prepare(`SELECT id FROM filesystems WHERE uuid = 'other'`).get() as { id: number }).id;
    expect(catalog.db.prepare(`UPDATE scan_roots SET fs_id = ? WHERE path = ?`).run(other, realpathSync(dirs[7]!)).changes).toBe(1);
    await expect(scanRoots(catalog, dirs.map((d) => ({ path: d, kind: 'adhoc' as const })), opts())).rejects.toThrow(/Payload\.7 is now on filesystem/);
  });

  it('the statements a root needs are compiled once per connection: a refresh of 12 folders compiles no more than one of 3', async () => {
    const dirs = await scannedPayloadFolders(12);
    // Each refresh finds one new file in every folder it walks (the same work per root either way).
    const compiledBy = async (refreshed: string[], name: string): Promise<number> => {
      for (const [i, d] of refreshed.entries()) writeFileSync(path.join(d, name), `${name} ${i}`);
      const prepare = vi.spyOn(catalog.db, 'prepare');
      try {
        const s = await scanRoots(catalog, refreshed.map((d) => ({ path: d, kind: 'adhoc' as const })), opts());
        expect(s).toMatchObject({ status: 'completed', added: refreshed.length });
        return prepare.mock.calls.length;
      } finally {
        prepare.mockRestore();
      }
    };
    await compiledBy(dirs.slice(0, 1), 'warm.nfo');
    const three = await compiledBy(dirs.slice(0, 3), 'a.nfo');
    const twelve = await compiledBy(dirs, 'b.nfo');
    expect(twelve).toBeLessThanOrEqual(three);
    expect(paths().filter((p) => p.endsWith('b.nfo'))).toHaveLength(12);
  });

  it('a kept statement answers in the mode it was asked for, is one object per connection, and the oldest is let go past the bound', () => {
    const sql = `SELECT key, value FROM meta WHERE key = 'serial'`;
    expect(catalog.statement(sql).get()).toEqual({ key: 'serial', value: String(catalog.serial()) });
    expect(catalog.statement(sql, 'pluck').get()).toBe('serial');
    expect(catalog.statement(sql, 'raw').get()).toEqual(['serial', String(catalog.serial())]);
    expect(catalog.statement(sql)).toBe(catalog.statement(sql));
    expect(catalog.statement(sql, 'pluck')).not.toBe(catalog.statement(sql));
    // The same text asked again answers as objects still (a pluck of the other kept statement changed nothing).
    expect(catalog.statement(sql).get()).toEqual({ key: 'serial', value: String(catalog.serial()) });
    const first = catalog.statement(sql);
    for (let i = 0; i < 300; i++) expect(catalog.statement(`SELECT ${i} AS n`, 'pluck').get()).toBe(i);
    const again = catalog.statement(sql);
    expect(again).not.toBe(first);
    expect(again.get()).toEqual({ key: 'serial', value: String(catalog.serial()) });
  });

  it('a bind mount and a configured alias of a scanned root yield one set of rows under the canonical spelling', async () => {
    mkdirSync(path.join(stash, 'media', 'm'), { recursive: true });
    writeFileSync(path.join(stash, 'media', 'm', 'x'), 'x');
    const data = path.join(tmp.path, 'data', 'media');
    bindMount(path.join(stash, 'media'), data);
    const link = path.join(tmp.path, 'alias');
    const filesystems: Record<string, FilesystemConfig> = { stash: { name: 'stash', path: path.join(stash, 'media'), aliases: [link] } };
    const s = await scanRoots(
      catalog,
      [
        { path: data, kind: 'seeding' },
        { path: path.join(stash, 'media'), kind: 'library' },
        { path: path.join(link, 'm'), kind: 'adhoc' },
      ],
      opts({ filesystems }),
    );
    expect(s.roots.map((r) => r.path)).toEqual([path.join(stash, 'media'), path.join(stash, 'media'), path.join(stash, 'media', 'm')]);
    expect(s.roots.filter((r) => r.coveredBy === null)).toHaveLength(1);
    expect(paths()).toEqual(['media/m/x']);
    const fs = catalog.db.prepare(`SELECT name, preferred_mount FROM filesystems`).all();
    expect(fs).toEqual([{ name: 'stash', preferred_mount: stash }]);
    // Scanning through the bind mount alone changes nothing.
    const again = await scanRoots(catalog, [{ path: path.join(data, 'm'), kind: 'adhoc' }], opts({ filesystems }));
    expect(again).toMatchObject({ added: 0, deleted: 0, unchanged: 1 });
  });

  it('a root reached through a non-recursive bind alias is walked by its canonical path (find started once, there; the Node walk likewise): the folder a sub-mount covers is not read', async () => {
    mkdirSync(path.join(stash, 'media', 'sub'), { recursive: true });
    writeFileSync(path.join(stash, 'media', 'a'), 'a');
    writeFileSync(path.join(stash, 'media', 'sub', 'covered'), 'c');
    mountTmpfs(path.join(stash, 'media', 'sub'), 1024 * 1024, 'child');
    const alias = path.join(tmp.path, 'data', 'stash');
    bindMount(stash, alias); // not --rbind: sub/covered shows through the alias
    const filesystems: Record<string, FilesystemConfig> = { stash: { name: 'stash', path: stash, aliases: [] } };
    const starts = path.join(tmp.path, 'find-starts');
    const counting = path.join(tmp.path, 'find-counting');
    writeFileSync(counting, `#!/bin/sh\necho "$2" >> ${starts}\nexec find "$@"\n`, { mode: 0o755 });
    const s = await scanRoots(catalog, [{ path: path.join(alias, 'media'), kind: 'library' }], opts({ filesystems, findProgram: counting }));
    expect(readFileSync(starts, 'utf8')).toBe(`${path.join(stash, 'media')}\n`);
    expect(s.skippedMounts).toEqual([path.join(stash, 'media', 'sub')]);
    expect(paths()).toEqual(['media/a']);
    const node = await scanRoots(catalog, [{ path: path.join(alias, 'media'), kind: 'library' }], opts({ filesystems, findProgram: null }));
    expect(node).toMatchObject({ added: 0, unchanged: 1, deleted: 0 });
    expect(paths()).toEqual(['media/a']);
  });

  it('does not descend into another filesystem inside a root unless that path is configured', async () => {
    writeFileSync(path.join(stash, 'top'), 't');
    const pool = path.join(stash, 'pool');
    mountTmpfs(pool, 8 * 1024 * 1024, 'pool-test');
    writeFileSync(path.join(pool, 'inner'), 'i');
    const s1 = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    expect(s1.skippedMounts).toEqual([pool]);
    expect(paths()).toEqual(['top']);
    const s2 = await scanRoots(catalog, [{ path: stash, kind: 'library' }, { path: pool, kind: 'seeding' }], opts());
    expect(s2.skippedMounts).toEqual([]);
    const r = rows();
    expect(r.map((x) => x.path)).toEqual(['inner', 'top']);
    expect(new Set(r.map((x) => x.fs_id)).size).toBe(2);
  });

  it('a file bind-mounted from another filesystem into a root is not catalogued as the root\'s (either walk); the row it shadows is kept, as under a mounted folder', async () => {
    const other = path.join(tmp.path, 'other');
    mountTmpfs(other, 8 * 1024 * 1024, 'other-test');
    writeFileSync(path.join(other, 'real.mkv'), 'the other filesystem\'s bytes');
    writeFileSync(path.join(stash, 'top'), 't');
    writeFileSync(path.join(stash, 'film.mkv'), 'stash bytes, shadowed by the mount');
    expect((await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts())).skippedMounts).toEqual([]);
    expect(paths()).toEqual(['film.mkv', 'top']);
    // The file mount: film.mkv now shows the other filesystem's inode (as a container's volume or an admin's bind would).
    execFileSync('mount', ['--bind', path.join(other, 'real.mkv'), path.join(stash, 'film.mkv')]);
    for (const findProgram of [undefined, null]) {
      const s = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ findProgram }));
      expect(s.skippedMounts, String(findProgram)).toEqual([path.join(stash, 'film.mkv')]);
      // Never the other filesystem's inode under the stash's id; the stash's own file, hidden under the mount, keeps its row.
      expect(rows().map((r) => [r.path, r.sha256]), String(findProgram)).toEqual([['film.mkv', sha('stash bytes, shadowed by the mount')], ['top', sha('t')]]);
    }
  });

  it('a file bind-mounted onto a file of the same filesystem in a root is skipped as a mount (either walk): the file under it keeps its row, the mounted inode gets none there', async () => {
    mkdirSync(path.join(stash, 'src'));
    writeFileSync(path.join(stash, 'src', 'x.mkv'), 'the mounted bytes');
    mkdirSync(path.join(stash, 'movies'));
    writeFileSync(path.join(stash, 'movies', 'film.mkv'), 'stash bytes, hidden by the mount');
    writeFileSync(path.join(stash, 'movies', 'other.mkv'), 'o');
    expect(await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts())).toMatchObject({ added: 3, skippedMounts: [] });
    const before = rows();
    // The file mount (`mount --bind /a/x /root/dir/y`): film.mkv shows x.mkv's inode, at two paths with one link.
    execFileSync('mount', ['--bind', path.join(stash, 'src', 'x.mkv'), path.join(stash, 'movies', 'film.mkv')]);
    // A folder first scanned with a file mount already in it: the mount adds no row.
    mkdirSync(path.join(stash, 'later'));
    writeFileSync(path.join(stash, 'later', 'w.mkv'), 'never seen');
    execFileSync('mount', ['--bind', path.join(stash, 'src', 'x.mkv'), path.join(stash, 'later', 'w.mkv')]);
    for (const findProgram of [undefined, null]) {
      const s = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ findProgram }));
      expect(s, String(findProgram)).toMatchObject({ added: 0, changed: 0, deleted: 0, unchanged: 2, problems: [] });
      expect([...s.skippedMounts].sort(), String(findProgram)).toEqual([path.join(stash, 'later', 'w.mkv'), path.join(stash, 'movies', 'film.mkv')]);
      // The rows are the ones recorded before the mount: film.mkv keeps its own inode and hash, x.mkv is still one link.
      expect(rows(), String(findProgram)).toEqual(before);
      expect(before.find((r) => r.path === 'movies/film.mkv')?.sha256).toBe(sha('stash bytes, hidden by the mount'));
    }
  });

  it('an ad-hoc root that is itself a file bind mount (same filesystem, or another) is refused, naming the mount: nothing is read or recorded, the row under it stays', async () => {
    mkdirSync(path.join(stash, 'src'));
    writeFileSync(path.join(stash, 'src', 'x.mkv'), 'the mounted bytes');
    mkdirSync(path.join(stash, 'movies'));
    const film = path.join(stash, 'movies', 'film.mkv');
    writeFileSync(film, 'stash bytes, hidden by the mount');
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    const before = rows();
    const other = path.join(tmp.path, 'other');
    mountTmpfs(other, 1024 * 1024, 'other-test');
    writeFileSync(path.join(other, 'secret'), 'bytes of another filesystem');
    const single = path.join(stash, 'movies', 'single.mkv');
    writeFileSync(single, 'hidden by a file of another filesystem');
    // `hashall scan <file>` (apply's refresh of a one-file payload) where the file is a mount point of a file bind mount.
    execFileSync('mount', ['--bind', path.join(stash, 'src', 'x.mkv'), film]);
    execFileSync('mount', ['--bind', path.join(other, 'secret'), single]);
    for (const [root, from] of [[film, '/src/x.mkv'], [single, '/secret']] as const) {
      const err = await scanRoots(catalog, [{ path: root, kind: 'adhoc' }], opts()).then(() => null, (e: unknown) => e);
      expect(err, root).toBeInstanceOf(CatalogError);
      expect((err as CatalogError).message).toContain(`scan root ${root} is a mount point: a file is bind-mounted there (${from} of`);
      expect((err as CatalogError).message).toContain('nothing was read or recorded');
      expect((err as CatalogError).hint).toContain(`umount ${root}`);
    }
    expect(rows()).toEqual(before);
    expect(catalog.db.prepare(`SELECT count(*) AS n FROM filesystems`).get()).toEqual({ n: 1 });
  });

  it('guards: a missing root, an emptied (unmounted) root and a root now on another filesystem fail without deleting', async () => {
    const pool = path.join(tmp.path, 'pool');
    mountTmpfs(pool, 8 * 1024 * 1024, 'pool-test');
    writeFileSync(path.join(pool, 'keep'), 'k');
    await scanRoots(catalog, [{ path: pool, kind: 'seeding' }], opts());
    await expect(scanRoots(catalog, [{ path: path.join(tmp.path, 'nope'), kind: 'seeding' }], opts())).rejects.toThrow(CatalogError);
    unmount(pool);
    // Now /pool is an empty directory on the parent filesystem: another filesystem than last time.
    await expect(scanRoots(catalog, [{ path: pool, kind: 'seeding' }], opts())).rejects.toThrow(/was on .* at the last scan/);
    expect(paths()).toEqual(['keep']);
    const sessions = catalog.db.prepare(`SELECT status FROM scan_sessions ORDER BY id`).all() as { status: string }[];
    expect(sessions.map((x) => x.status)).toEqual(['completed', 'failed', 'failed']);
    // Same filesystem, emptied directory: refused too.
    mkdirSync(path.join(stash, 'lib'));
    writeFileSync(path.join(stash, 'lib', 'f'), 'f');
    await scanRoots(catalog, [{ path: path.join(stash, 'lib'), kind: 'library' }], opts());
    rmSync(path.join(stash, 'lib', 'f'));
    await expect(scanRoots(catalog, [{ path: path.join(stash, 'lib'), kind: 'library' }], opts())).rejects.toThrow(/is empty but the catalog knows 1/);
    expect(paths()).toContain('lib/f');
  });

  it('the stat walk started before the roots are checked is the one the root is walked with, and ends when a guard refuses the root', async () => {
    writeFileSync(path.join(stash, 'a'), 'a');
    // A find that notes each start: one per scanned root, though the scan starts it before the roots are recorded.
    const starts = path.join(tmp.path, 'find-starts');
    const counting = path.join(tmp.path, 'find-counting');
    writeFileSync(counting, `#!/bin/sh\necho started >> ${starts}\nexec find "$@"\n`, { mode: 0o755 });
    expect(await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ findProgram: counting }))).toMatchObject({ added: 1 });
    expect(await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ findProgram: counting }))).toMatchObject({ unchanged: 1 });
    expect(readFileSync(starts, 'utf8')).toBe('started\nstarted\n');
    // A walk that would never end on its own: the refused root's walk is stopped, not left running.
    const marker = '987654.321';
    const stuck = path.join(tmp.path, 'find-stuck');
    writeFileSync(stuck, `#!/bin/sh\nexec sleep ${marker}\n`, { mode: 0o755 });
    await expect(scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ findProgram: stuck, expectFilesystem: 'pool' }))).rejects.toThrow(/not on filesystem pool/);
    const running = (): string[] => readdirSync('/proc').filter((p) => /^\d+$/.test(p) && readFileSyncOrEmpty(`/proc/${p}/cmdline`).includes(marker));
    expect(running()).toEqual([]);
    // A first root covered by the next one (nested): its early walk is stopped, the outer root is walked by its own find.
    mkdirSync(path.join(stash, 'sub'));
    writeFileSync(path.join(stash, 'sub', 'b'), 'b');
    const stuckForSub = path.join(tmp.path, 'find-stuck-for-sub');
    writeFileSync(stuckForSub, `#!/bin/sh\ncase "$2" in */sub) exec sleep ${marker} ;; esac\nexec find "$@"\n`, { mode: 0o755 });
    const nested = await scanRoots(catalog, [{ path: path.join(stash, 'sub'), kind: 'library' }, { path: stash, kind: 'library' }], opts({ findProgram: stuckForSub }));
    expect(nested).toMatchObject({ added: 1, unchanged: 1, deleted: 0 });
    expect(nested.roots.map((r) => r.coveredBy)).toEqual([stash, null]);
    expect(running()).toEqual([]);
    expect(paths()).toEqual(['a', 'sub/b']);
  });

  it('a changed st_dev of a known filesystem (tmpfs remounted) updates its row instead of adding one', async () => {
    const pool = path.join(tmp.path, 'pool');
    mountTmpfs(pool, 8 * 1024 * 1024, 'pool-test');
    writeFileSync(path.join(pool, 'a'), 'a');
    await scanRoots(catalog, [{ path: pool, kind: 'seeding' }], opts());
    const before = catalog.db.prepare(`SELECT id, dev FROM filesystems WHERE source = 'pool-test'`).get() as { id: number; dev: string };
    // Mount the "same" filesystem again ON TOP while the old one still holds its anonymous device number, so the
    // new mount necessarily gets another st_dev (unmount-then-mount may reuse the freed number: lazy release).
    mountTmpfs(pool, 8 * 1024 * 1024, 'pool-test');
    writeFileSync(path.join(pool, 'a'), 'a');
    const s = await scanRoots(catalog, [{ path: pool, kind: 'seeding' }], opts());
    const after = catalog.db.prepare(`SELECT id, dev FROM filesystems WHERE source = 'pool-test'`).all() as { id: number; dev: string }[];
    expect(after).toHaveLength(1);
    expect(after[0]?.id).toBe(before.id);
    expect(after[0]?.dev).not.toBe(before.dev);
    // New inode, same content: the row is updated, not duplicated.
    expect(s).toMatchObject({ changed: 1, added: 0, deleted: 0 });
  });

  it('a filesystem mounted over a catalogued directory is skipped and its old rows are kept, not deleted', async () => {
    mkdirSync(path.join(stash, 'locked'));
    writeFileSync(path.join(stash, 'locked', 'f'), 'f');
    writeFileSync(path.join(stash, 'ok'), 'o');
    await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    mountTmpfs(path.join(stash, 'locked'), 1024 * 1024, 'locked');
    const s = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    expect(s.skippedMounts).toEqual([path.join(stash, 'locked')]);
    expect(paths()).toEqual(['locked/f', 'ok']);
  });

  it('an aborted scan is marked interrupted, keeps what it wrote, deletes nothing; a rerun completes', async () => {
    for (let i = 0; i < 3000; i++) {
      if (i % 100 === 0) mkdirSync(path.join(stash, `d${i / 100}`));
      writeFileSync(path.join(stash, `d${Math.floor(i / 100)}`, `f${i}`), String(i));
    }
    const ac = new AbortController();
    const s = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts({ signal: ac.signal, progress: (p) => (p.filesSeen >= 1000 ? ac.abort() : undefined) }));
    expect(s.status).toBe('interrupted');
    const partial = rows();
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(3000);
    expect(partial.every((r) => r.sha256 !== null)).toBe(true);
    expect(catalog.db.prepare(`SELECT status FROM scan_sessions`).get()).toEqual({ status: 'interrupted' });
    expect(catalog.db.prepare(`SELECT count(*) AS n FROM scan_roots`).get()).toEqual({ n: 0 });
    const done = await scanRoots(catalog, [{ path: stash, kind: 'library' }], opts());
    expect(done.status).toBe('completed');
    expect(done.added + done.unchanged).toBe(3000);
    expect(rows()).toHaveLength(3000);
  });
});
