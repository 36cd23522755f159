// payloadBulkReader (the snapshot's per-payload bulk queries) against the per-row lookups it replaces, on a real SQLite catalog.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openCatalog, type CatalogDb } from '../../../src/catalog/db.js';
import { payloadBulkReader, payloadReader } from '../../../src/catalog/payload-rows.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function catalogWith(rows: [fs: number, path: string, ino: number, sha: string | null, status?: string][]): CatalogDb {
  const dir = mkdtempSync(path.join(tmpdir(), 'hashall-bulk-'));
  dirs.push(dir);
  const c = openCatalog(path.join(dir, 'c.db'));
  const fs = c.db.prepare(`INSERT INTO filesystems (id, uuid, dev, fs_type, source, mount_point, preferred_mount, first_seen, last_seen) VALUES (?, ?, '0:1', 'tmpfs', 's', ?, ?, 1, 1)`);
  fs.run(1, 'u1', '/stash', '/stash');
  fs.run(2, 'u2', '/', '/');
  const ins = c.db.prepare(`INSERT INTO files (fs_id, path, ino, size, mtime_ns, nlink, sha256, status, first_seen, last_seen) VALUES (?, ?, ?, 10, '5', 1, ?, ?, 1, 1)`);
  for (const [f, p, ino, sha, status] of rows) ins.run(f, p, ino, sha, status ?? 'active');
  return c;
}

/** What the snapshot read one query per file: links per inode (own path included) and copies per sha. */
function perRow(c: CatalogDb, fsId: number, mount: string, rel: string) {
  const resolved = payloadReader(c).resolve(fsId, mount, rel)!;
  const links = c.db.prepare(`SELECT f.path, fs.preferred_mount AS m FROM files f JOIN filesystems fs ON fs.id = f.fs_id WHERE f.fs_id = ? AND f.ino = ? AND f.status = 'active'`);
  const bySha = c.db.prepare(`SELECT f.fs_id, f.path, fs.preferred_mount AS m FROM files f JOIN filesystems fs ON fs.id = f.fs_id WHERE f.sha256 = ? AND f.status = 'active' ORDER BY f.fs_id, f.path`);
  const abs = (m: string, p: string) => (m === '/' ? `/${p}` : `${m}/${p}`);
  return {
    kind: resolved.kind,
    files: resolved.files.map(({ id: _id, ...f }) => f),
    links: resolved.files.map((f) => (links.all(fsId, f.ino) as { path: string; m: string }[]).map((r) => abs(r.m, r.path)).sort()),
    copies: [...new Set(resolved.files.map((f) => f.sha256).filter((s) => s !== null))].map((s) => [s, (bySha.all(s) as { fs_id: number; path: string; m: string }[]).map((r) => `${r.fs_id}:${abs(r.m, r.path)}`)]),
  };
}

function bulk(c: CatalogDb, fsId: number, mount: string, rel: string, known: (s: string) => boolean = () => false) {
  const r = payloadBulkReader(c);
  const b = r.resolve(fsId, mount, rel)!;
  const copies = r.copies(b, fsId, rel, (id) => (id === 1 ? '/stash' : '/'), known);
  return {
    kind: b.kind,
    files: b.files,
    links: b.files.map((f) => [f.path, ...(b.otherLinks.get(f.path) ?? [])].sort()),
    copies: [...new Set(b.files.map((f) => f.sha256).filter((s) => s !== null))].map((s) => [s, (copies.get(s) ?? []).map((x) => `${x.fsId}:${x.path}`)]),
  };
}

describe('payloadBulkReader', () => {
  const rows: [number, string, number, string | null, string?][] = [
    [1, 'seed/Movie/a.mkv', 10, 'aa'],
    [1, 'seed/Movie/b.mkv', 11, 'bb'],
    [1, 'seed/Movie/c.nfo', 12, 'aa'], // same content as a.mkv, another inode
    [1, 'seed/Movie/d.txt', 13, null],
    [1, 'seed/Movie/sub/e', 10, 'aa'], // a hardlink of a.mkv inside the payload
    [1, 'lib/Movie.mkv', 10, 'aa'], // a library link of a.mkv
    [1, 'lib/old.mkv', 11, 'bb', 'deleted'], // deleted rows never count
    [1, 'seed/Movie0', 20, 'zz'], // sorts right after the range; not part of the payload
    [1, 'seed/single.mkv', 30, 'cc'],
    [2, 'pool/x/a.mkv', 10, 'aa'], // same inode number on another filesystem: not a link, but a copy
    [2, 'pool/x/b.mkv', 44, 'bb', 'deleted'],
  ];

  it('gives the same files, links and copies as one lookup per file, for a directory and a single-file payload', () => {
    const c = catalogWith(rows);
    for (const rel of ['seed/Movie', 'seed/single.mkv']) {
      const want = perRow(c, 1, '/stash', rel);
      const got = bulk(c, 1, '/stash', rel);
      expect(got).toEqual(want);
    }
    const dir = bulk(c, 1, '/stash', 'seed/Movie');
    expect(dir.links[0]).toEqual(['/stash/lib/Movie.mkv', '/stash/seed/Movie/a.mkv', '/stash/seed/Movie/sub/e']);
    expect(dir.copies[0]).toEqual(['aa', ['1:/stash/lib/Movie.mkv', '1:/stash/seed/Movie/a.mkv', '1:/stash/seed/Movie/c.nfo', '1:/stash/seed/Movie/sub/e', '2:/pool/x/a.mkv']]);
    expect(bulk(c, 1, '/stash', 'seed/single.mkv').kind).toBe('file');
    c.close();
  });

  it('leaves out content the caller already knows', () => {
    const c = catalogWith(rows);
    const got = bulk(c, 1, '/stash', 'seed/Movie', (s) => s === 'aa');
    expect(got.copies).toEqual([
      ['aa', []],
      ['bb', ['1:/stash/seed/Movie/b.mkv']],
    ]);
    c.close();
  });
});
