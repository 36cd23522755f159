// The folder chain proof (dir-chain.ts): every prove reads every component from the root down, the same folder proven twice included, and refuses a folder outside the root each time.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dirChain, TamperError } from '../../../src/apply/dir-chain.js';
import { realFsPort, type FsPort } from '../../../src/apply/fs-port.js';

let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe('dirChain', () => {
  it('a folder proven twice is read again from the root down: a component swapped for a symlink in between is caught', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hashall-chain-'));
    const root = path.join(dir, 'root');
    const folder = path.join(root, 'a', 'b');
    mkdirSync(folder, { recursive: true });
    const real = realFsPort();
    const read: string[] = [];
    const fs: FsPort = { ...real, lstatId: (p) => (read.push(p), real.lstatId(p)) };
    const chain = dirChain(fs, root);
    await chain.prove(folder);
    await chain.prove(folder);
    expect(read).toEqual([root, path.join(root, 'a'), folder, root, path.join(root, 'a'), folder]);
    // Another user moves `a` away and puts a symlink to it in its place (same inodes below it).
    renameSync(path.join(root, 'a'), path.join(dir, 'moved'));
    symlinkSync(path.join(dir, 'moved'), path.join(root, 'a'));
    await expect(chain.prove(folder)).rejects.toBeInstanceOf(TamperError);
  });

  it('a folder outside the root is refused at every prove', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hashall-chain-'));
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const chain = dirChain(realFsPort(), root);
    for (let i = 0; i < 2; i++) await expect(chain.prove(dir)).rejects.toThrow(/not inside/);
  });
});
