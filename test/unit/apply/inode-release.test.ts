// The FsPort's rename releases the inode it replaces on the thread pool (held by an O_PATH descriptor across the rename): bounded descriptors, never a follow or an open of what it replaces, every byte where rename puts it.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { close, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { FALLBACK_HELD_INODES, heldInodeBound, inodeReleaser, MAX_HELD_INODES } from '../../../src/apply/inode-release.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

const openFds = () => readdirSync('/proc/self/fd').length;
/** The bound the tests hold to (the default depends on the descriptor limit: tested apart). */
const BOUND = 64;

describe('rename releases the inode it replaces on the thread pool', () => {
  it('a burst of renames over files never holds more than the bound of descriptors; all are closed once settled; each path holds the new bytes', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hashall-release-'));
    const releaser = inodeReleaser(BOUND);
    const fs = realFsPort(releaser);
    const base = openFds();
    let most = 0;
    for (let i = 0; i < 4 * BOUND; i++) {
      const victim = path.join(dir, `v${i}`);
      writeFileSync(victim, `old ${i}`);
      writeFileSync(`${victim}.tmp`, `new ${i}`);
      await fs.rename(`${victim}.tmp`, victim);
      most = Math.max(most, openFds() - base);
    }
    expect(most).toBeLessThanOrEqual(BOUND + 1);
    await releaser.settled();
    expect(openFds()).toBe(base);
    for (let i = 0; i < 4 * BOUND; i++) expect(readFileSync(path.join(dir, `v${i}`), 'utf8')).toBe(`new ${i}`);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('while the bound of released inodes wait for their close, the next rename waits too; it goes on once half of them are closed', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hashall-release-'));
    const held: (() => void)[] = [];
    const releaser = inodeReleaser(BOUND, (fd, done) => held.push(() => close(fd, () => done())));
    const fs = realFsPort(releaser);
    const swap = (i: number) => {
      writeFileSync(path.join(dir, `v${i}`), `old ${i}`);
      writeFileSync(path.join(dir, `v${i}.tmp`), `new ${i}`);
      return fs.rename(path.join(dir, `v${i}.tmp`), path.join(dir, `v${i}`));
    };
    const turns = async (n: number) => {
      for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
    };
    for (let i = 0; i < BOUND; i++) await swap(i);
    // The closes are handed to the pool together once the event loop turns (not one wake-up of a pool thread per rename).
    expect(held).toHaveLength(0);
    await turns(1);
    expect(held).toHaveLength(BOUND);
    let renamed = false;
    const next = swap(BOUND).then(() => (renamed = true));
    await turns(20);
    expect(renamed).toBe(false);
    expect(readFileSync(path.join(dir, `v${BOUND}`), 'utf8')).toBe(`old ${BOUND}`);
    // One close, then all but one of half: still waiting (one wait per rename at the bound kept the main thread idle).
    held.shift()!();
    await turns(20);
    expect(renamed).toBe(false);
    while (held.length > BOUND / 2 + 1) held.shift()!();
    await turns(20);
    expect(renamed).toBe(false);
    held.shift()!();
    await next;
    expect(readFileSync(path.join(dir, `v${BOUND}`), 'utf8')).toBe(`new ${BOUND}`);
    // Room again for half the bound: the next renames go on without waiting for any close.
    for (let i = BOUND + 1; i < BOUND + BOUND / 2; i++) await swap(i);
    await turns(1); // their closes are handed over too: the bound is reached again
    expect(held).toHaveLength(BOUND);
    while (held.length) held.shift()!();
    await releaser.settled();
  });

  it('holds at most a quarter of the descriptor limit (soft RLIMIT_NOFILE), never more than MAX_HELD_INODES nor fewer than 16', () => {
    const limits = (soft: string, hard: string) =>
      `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63541                63541                processes \nMax open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files     \n`;
    expect(heldInodeBound(limits('1024', '524288'))).toBe(256);
    expect(heldInodeBound(limits('20000', '20000'))).toBe(MAX_HELD_INODES);
    expect(heldInodeBound(limits('unlimited', 'unlimited'))).toBe(MAX_HELD_INODES);
    expect(heldInodeBound(limits('40', '40'))).toBe(16);
    expect(heldInodeBound('no such line')).toBe(FALLBACK_HELD_INODES);
    // This process's own: whatever it is, within the bounds.
    const own = heldInodeBound();
    expect(own).toBeGreaterThanOrEqual(16);
    expect(own).toBeLessThanOrEqual(MAX_HELD_INODES);
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
