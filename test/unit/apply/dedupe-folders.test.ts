// The dedupe swap folders name a held folder in an error by its path only while its descriptor is open: a number closed and then reused by another folder or file is never told as the folder held before.
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { swapFolders } from '../../../src/apply/dedupe-folders.js';
import { realFsPort } from '../../../src/apply/fs-port.js';
import { anchoredPath } from '../../../src/domain/anchored-path.js';
import { FsError } from '../../../src/errors.js';

let root = '';
const opened: number[] = [];
afterEach(() => {
  for (const fd of opened.splice(0)) closeSync(fd);
  if (root) rmSync(root, { recursive: true, force: true });
});

/** An open descriptor of `dir` with the number `anchor` names (Linux hands out the lowest free number; others opened on the way stay open until the test ends). */
function reopenAs(anchor: string, dir: string): number {
  for (let i = 0; i < 256; i++) {
    const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    opened.push(fd);
    if (anchoredPath(fd) === anchor) return fd;
  }
  throw new Error(`descriptor ${anchor} was not handed out again`);
}

describe('dedupe swap folders: an error is told with the folder its descriptor holds', () => {
  it('while held, the anchor is the folder; after its fsync closed it and the number went to another folder, an error naming that number is not told as the old folder', async () => {
    root = mkdtempSync(path.join(tmpdir(), 'hashall-dedupe-folders-'));
    const a = path.join(root, 'seeding', 'A');
    const b = path.join(root, 'seeding', 'B');
    mkdirSync(a, { recursive: true });
    mkdirSync(b, { recursive: true });
    const folders = swapFolders(realFsPort());
    try {
      const anchor = await folders.open(root, a);
      const held = folders.explain(new FsError(`cannot link ${anchor}/.hashall-x: EEXIST`, { path: `${anchor}/.hashall-x` })) as FsError;
      expect(held.message).toBe(`cannot link ${a}/.hashall-x: EEXIST`);
      await folders.sync(a);
      // The same number, now another folder's (held by other code: a copy, another hold).
      reopenAs(anchor, b);
      const later = folders.explain(new FsError(`cannot link ${anchor}/.hashall-y: EACCES`, { path: `${anchor}/.hashall-y` })) as FsError & { path: string };
      expect(later.message).not.toContain(a);
      expect(later.message).toBe(`cannot link ${anchor}/.hashall-y: EACCES`);
      expect(later.path).toBe(`${anchor}/.hashall-y`);
    } finally {
      await folders.close();
    }
  });
});
