// The FsPort's rename releases the inode it replaces on the thread pool (held by an O_PATH descriptor across the rename): bounded descriptors, never a follow or an open of what it replaces, every byte where rename puts it.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { close, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { inodeReleaser, MAX_HELD_INODES } from '../../../src/apply/inode-release.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

const openFds = () => readdirSync('/proc/self/fd').length;

describe('rename releases the inode it replaces on the thread pool', () => {
  it('a burst of renames over files never holds more than the bound of descriptors; all are closed once settled; each path holds the new bytes', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hashall-release-'));
    const releaser = inodeReleaser();
    const fs = realFsPort(releaser);
    const base = openFds();
    let most = 0;
    for (let i = 0; i < 4 * MAX_HELD_INODES; i++) {
      const victim = path.join(dir, `v${i}`);
      writeFileSync(victim, `old ${i}`);
      writeFileSync(`${victim}.tmp`, `new ${i}`);
      await fs.rename(`${victim}.tmp`, victim);
      most = Math.max(most, openFds() - base);
    }
    expect(most).toBeLessThanOrEqual(MAX_HELD_INODES + 1);
    await releaser.settled();
    expect(openFds()).toBe(base);
    for (let i = 0; i < 4 * MAX_HELD_INODES; i++) expect(readFileSync(path.join(dir, `v${i}`), 'utf8')).toBe(`new ${i}`);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('while the bound of released inodes wait for their close, the next rename waits too; it goes on once one is closed', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hashall-release-'));
    const held: (() => void)[] = [];
    const releaser = inodeReleaser(MAX_HELD_INODES, (fd, done) => held.push(() => close(fd, () => done())));
    const fs = realFsPort(releaser);
    const swap = (i: number) => {
      writeFileSync(path.join(dir, `v${i}`), `old ${i}`);
      writeFileSync(path.join(dir, `v${i}.tmp`), `new ${i}`);
      return fs.rename(path.join(dir, `v${i}.tmp`), path.join(dir, `v${i}`));
    };
    for (let i = 0; i < MAX_HELD_INODES; i++) await swap(i);
    // The closes are handed to the pool together once the event loop turns (not one wake-up of a pool thread per rename).
    expect(held).toHaveLength(0);
    await new Promise((r) => setImmediate(r));
    expect(held).toHaveLength(MAX_HELD_INODES);
    let renamed = false;
    const next = swap(MAX_HELD_INODES).then(() => (renamed = true));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(renamed).toBe(false);
    expect(readFileSync(path.join(dir, `v${MAX_HELD_INODES}`), 'utf8')).toBe(`old ${MAX_HELD_INODES}`);
    held.shift()!();
    await next;
    expect(readFileSync(path.join(dir, `v${MAX_HELD_INODES}`), 'utf8')).toBe(`new ${MAX_HELD_INODES}`);
    await new Promise((r) => setImmediate(r)); // its own close is handed over too
    expect(held).toHaveLength(MAX_HELD_INODES);
    while (held.length) held.shift()!();
    await releaser.settled();
  });

  it('replacing a FIFO does not open it (no reader would ever come: a plain open would hang), a symlink is replaced itself, never followed', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hashall-release-'));
    const releaser = inodeReleaser();
    const fs = realFsPort(releaser);
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    writeFileSync(`${fifo}.tmp`, 'file');
    await fs.rename(`${fifo}.tmp`, fifo);
    expect(lstatSync(fifo).isFile()).toBe(true);
    const target = path.join(dir, 'target');
    writeFileSync(target, 'target bytes');
    const link = path.join(dir, 'link');
    symlinkSync(target, link);
    writeFileSync(`${link}.tmp`, 'replaces the link');
    await fs.rename(`${link}.tmp`, link);
    expect(readFileSync(link, 'utf8')).toBe('replaces the link');
    expect(readFileSync(target, 'utf8')).toBe('target bytes');
    await fs.rename(target, path.join(dir, 'moved')); // nothing to replace: a plain rename
    expect(existsSync(target)).toBe(false);
    await releaser.settled();
  });
});
