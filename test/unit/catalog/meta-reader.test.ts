// The snapshot's reader of owner, group and mode (withLiveMeta, withPayloadMeta): known only for a regular file that is still the catalogued inode — a symlink or a FIFO at the path is unknown even where its inode, size and mtime equal the row's (an inode number reused after the file was removed: the link or pipe a local user put there).
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withLiveMeta, withPayloadMeta } from '../../../src/catalog/snapshot.js';
import type { CatalogFile, DupeGroup, SnapshotPayload } from '../../../src/domain/snapshot.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hashall-meta-reader-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The catalog row a scan would have written for what lies at `p` now (its own inode, size and mtime). */
function rowOf(p: string, sha256: string): CatalogFile {
  const st = lstatSync(p, { bigint: true });
  return { fsId: 1, path: p, ino: Number(st.ino), size: Number(st.size), mtimeNs: String(st.mtimeNs), nlink: Number(st.nlink), sha256 };
}

/** A regular file, a symlink and a FIFO, each matching its row exactly. */
function world(): { file: string; link: string; fifo: string } {
  const file = path.join(dir, 'file');
  writeFileSync(file, 'x'.repeat(16));
  chmodSync(file, 0o644);
  const link = path.join(dir, 'link');
  symlinkSync('y'.repeat(16), link); // 16 bytes long, as the file
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', ['-m', '0644', fifo]);
  return { file, link, fifo };
}

describe('the meta reader', () => {
  it('withLiveMeta: a regular file gets its meta; a symlink or FIFO matching its row stays unknown', () => {
    const { file, link, fifo } = world();
    const inode = (p: string) => {
      const r = rowOf(p, 'a'.repeat(64));
      return { ino: r.ino, nlink: r.nlink, mtimeNs: r.mtimeNs, paths: [p] };
    };
    const groups: DupeGroup[] = [
      { fsId: 1, size: 16, sha256: 'a'.repeat(64), inodes: [inode(file), inode(link)] },
      { fsId: 1, size: 0, sha256: 'e'.repeat(64), inodes: [inode(fifo)] },
    ];
    withLiveMeta(groups);
    expect(groups[0]!.inodes[0]!.meta).toEqual({ uid: 0, gid: 0, mode: 0o644 });
    expect(groups[0]!.inodes[1]!.meta, 'symlink').toBeUndefined();
    expect(groups[1]!.inodes[0]!.meta, 'FIFO').toBeUndefined();
  });

  it('withPayloadMeta: a copy that is a symlink or a FIFO gets no meta (never a link source)', () => {
    const { file, link, fifo } = world();
    const own = { ...rowOf(file, 'a'.repeat(64)), relpath: 'file' };
    const viaLink = rowOf(link, 'a'.repeat(64));
    const empty = { ...rowOf(fifo, 'e'.repeat(64)) };
    const emptyOwn = path.join(dir, 'empty');
    writeFileSync(emptyOwn, '');
    const ownEmpty = { ...rowOf(emptyOwn, 'e'.repeat(64)), relpath: 'empty' };
    const payload = { rootPath: dir, files: [own, ownEmpty] } as unknown as SnapshotPayload;
    withPayloadMeta({ [dir]: payload }, new Map([['a'.repeat(64), [own, viaLink]], ['e'.repeat(64), [ownEmpty, empty]]]));
    expect(own.meta).toEqual({ uid: 0, gid: 0, mode: 0o644 });
    expect(viaLink.meta, 'symlink').toBeUndefined();
    expect(empty.meta, 'FIFO').toBeUndefined();
  });
});
