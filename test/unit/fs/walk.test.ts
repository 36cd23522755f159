// The walk on a real tmpfs: every kind of entry, raw-byte names, other mounts, a path too long to lstat — the same
// events whether directories are lstat'ed on worker threads or on the calling thread.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { walkTree, type WalkEvent } from '../../../src/fs/walk.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';

let tmp: TempDir;
let root: string;

beforeEach(() => {
  tmp = makeTempDir('hashall-walk-');
  root = path.join(tmp.path, 'root');
  mountTmpfs(root, 64 * 1024 * 1024, 'walk-test');
});
afterEach(() => tmp.cleanup());

async function walk(offloadFrom: number, mountPoints = new Set<string>()): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of walkTree(root, { mountPoints, offloadFrom, offloadAfter: 0, batchSize: 7 })) {
    for (const e of batch as WalkEvent[]) {
      if (e.kind === 'file') out.push(`file ${e.rel} ${e.size} ${e.nlink} ${String(e.mtimeNs).length > 0} ${typeof e.abs === 'string' ? e.abs : `bytes:${e.abs.toString('hex')}`}`);
      else if (e.kind === 'problem') out.push(`problem ${e.rel} ${e.code} ${e.isDir}`);
      else out.push(`${e.kind} ${e.rel}`);
    }
  }
  return out.sort();
}

describe('walkTree', () => {
  it('yields the same events with every directory lstat-ed on the threads as on the calling thread', async () => {
    mkdirSync(path.join(root, 'many'));
    for (let i = 0; i < 150; i++) writeFileSync(path.join(root, 'many', `f${i}`), 'x'.repeat(i));
    // Raw bytes in a name make its directory's listing (and everything below) go by bytes: kept out of the root.
    mkdirSync(path.join(root, 'odd'));
    const raw = Buffer.concat([Buffer.from(root + '/odd/caf'), Buffer.from([0xe9]), Buffer.from('-dir')]);
    mkdirSync(raw);
    for (let i = 0; i < 70; i++) writeFileSync(Buffer.concat([raw, Buffer.from(`/n${i}`)]), String(i));
    writeFileSync(Buffer.concat([raw, Buffer.from('/'), Buffer.from([0xff])]), 'raw name');
    symlinkSync('many', path.join(root, 'link-to-dir'));
    symlinkSync('nowhere', path.join(root, 'dangling'));
    execFileSync('mkfifo', [path.join(root, 'fifo')]);
    mountTmpfs(path.join(root, 'other'), 1024 * 1024, 'walk-other');
    writeFileSync(path.join(root, 'other', 'inside'), 'not walked');
    mkdirSync(path.join(root, 'listed-mount'));
    // A path longer than PATH_MAX: its entries cannot be lstat-ed or listed by absolute path; reported, never dropped.
    const deep = `const fs = require('node:fs'); process.chdir(process.argv[1]);
      for (let i = 1; i <= 17; i++) { const n = String(i).padStart(250, '0'); fs.mkdirSync(n); process.chdir(n); }
      fs.writeFileSync('deep-file', 'deep');`;
    execFileSync(process.execPath, ['-e', deep, root]);

    const onThreads = await walk(0, new Set([path.join(root, 'listed-mount')]));
    const here = await walk(Number.POSITIVE_INFINITY, new Set([path.join(root, 'listed-mount')]));
    expect(onThreads).toEqual(here);
    expect(here.filter((e) => e.startsWith('file many/'))).toHaveLength(150);
    expect(here.filter((e) => e.startsWith('file odd/caf\uFFFDe9-dir/'))).toHaveLength(71);
    expect(here).toContain(`file odd/caf\uFFFDe9-dir/\uFFFDff 8 1 true bytes:${Buffer.concat([raw, Buffer.from('/'), Buffer.from([0xff])]).toString('hex')}`);
    expect(here).toEqual(expect.arrayContaining(['symlink link-to-dir', 'symlink dangling', 'special fifo', 'mount other', 'mount listed-mount']));
    expect(here.some((e) => e.includes('inside') || e.includes('deep-file'))).toBe(false);
    expect(here.filter((e) => e.startsWith('problem ')).map((e) => e.split(' ').slice(2).join(' '))).toEqual(['ENAMETOOLONG false']);
  });

  it('an abort while directories are being lstat-ed on the threads ends the walk at the next batch', async () => {
    for (let d = 0; d < 20; d++) {
      mkdirSync(path.join(root, `d${d}`));
      for (let i = 0; i < 100; i++) writeFileSync(path.join(root, `d${d}`, `f${i}`), '');
    }
    const ac = new AbortController();
    let seen = 0;
    for await (const batch of walkTree(root, { mountPoints: new Set(), offloadFrom: 0, offloadAfter: 0, batchSize: 50, signal: ac.signal })) {
      seen += batch.length;
      ac.abort();
    }
    expect(seen).toBe(50);
  });
});
