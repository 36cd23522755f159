// Counting the names each inode has in a private directory (inodeNamesInPrivateDir) on real tmpfs: links counted, symlinks and other devices never followed, a directory others may write or own refused.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, linkSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inodeNamesInPrivateDir } from '../../../src/fs/private-dir-inodes.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';

let tmp: TempDir;
afterEach(() => tmp?.cleanup());

function world() {
  tmp = makeTempDir('hashall-privinodes-');
  const fsRoot = path.join(tmp.path, 'fs');
  mountTmpfs(fsRoot, 8 << 20, 'hashall-privinodes');
  const trash = path.join(fsRoot, '.trash');
  mkdirSync(path.join(trash, 'run', 'T', 'sub'), { recursive: true, mode: 0o700 });
  chmodSync(trash, 0o700);
  const library = path.join(fsRoot, 'library');
  mkdirSync(library);
  writeFileSync(path.join(library, 'movie.mkv'), 'library bytes');
  writeFileSync(path.join(trash, 'run', 'T', 'a.bin'), 'a');
  linkSync(path.join(trash, 'run', 'T', 'a.bin'), path.join(trash, 'run', 'T', 'sub', 'a-again.bin'));
  const ino = (p: string) => statSync(p).ino;
  return { fsRoot, trash, library, ino };
}

describe('inodeNamesInPrivateDir', () => {
  it('counts every name of each inode at any depth, and nothing for an absent directory', () => {
    const w = world();
    const counts = inodeNamesInPrivateDir(w.fsRoot, '.trash');
    expect(counts).not.toBeNull();
    expect(counts!.get(w.ino(path.join(w.trash, 'run', 'T', 'a.bin')))).toBe(2);
    expect(counts!.size).toBe(1);
    expect(inodeNamesInPrivateDir(w.fsRoot, '.absent')).toBeNull();
  });

  it('never follows a symlink inside it, nor counts what lies on another filesystem below it', () => {
    const w = world();
    symlinkSync(w.library, path.join(w.trash, 'run', 'lib'));
    symlinkSync(path.join(w.library, 'movie.mkv'), path.join(w.trash, 'run', 'movie.mkv'));
    const other = path.join(w.trash, 'run', 'mnt');
    mkdirSync(other);
    mountTmpfs(other, 1 << 20, 'hashall-privinodes-inner');
    writeFileSync(path.join(other, 'x.bin'), 'x');
    const counts = inodeNamesInPrivateDir(w.fsRoot, '.trash')!;
    expect(counts.has(w.ino(path.join(w.library, 'movie.mkv')))).toBe(false);
    expect([...counts.values()]).toEqual([2]);
  });

  it('refuses a directory that is a symlink, writable by group or others, owned by another user, or too large', () => {
    const w = world();
    symlinkSync(w.library, path.join(w.fsRoot, '.swapped'));
    expect(inodeNamesInPrivateDir(w.fsRoot, '.swapped')).toBeNull();
    chmodSync(w.trash, 0o770);
    expect(inodeNamesInPrivateDir(w.fsRoot, '.trash')).toBeNull();
    chmodSync(w.trash, 0o700);
    chownSync(w.trash, 4242, 4242);
    expect(inodeNamesInPrivateDir(w.fsRoot, '.trash')).toBeNull();
    chownSync(w.trash, process.getuid!(), process.getgid!());
    expect(inodeNamesInPrivateDir(w.fsRoot, '.trash')).not.toBeNull();
    expect(inodeNamesInPrivateDir(w.fsRoot, '.trash', 2)).toBeNull();
  });
});
