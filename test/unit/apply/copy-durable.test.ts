// copyDurable on real files: one syncfs for a batch of many files on one filesystem, fsyncs file by file otherwise — and when the syncfs fails or is declined, whose errors still fail the batch.
import { mkdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { realFsPort, type FsPort } from '../../../src/apply/fs-port.js';
import { copyDurable, SYNCFS_MIN_FILES, type CopyRun } from '../../../src/apply/steps/copy.js';
import { dirChain } from '../../../src/apply/dir-chain.js';
import { makeTempDir, mountTmpfs, type TempDir } from '../../support/mounts.js';

let tmp: TempDir | null = null;
afterEach(() => {
  tmp?.cleanup();
  tmp = null;
});

/**
 * The real FsPort, its sync calls logged (`syncfs`, `data PATH`, `dir PATH`); `override` answers a call in its place. A
 * folder is fsynced through its held descriptor (`/proc/self/fd/N`, checked here): logged as the folder's path.
 */
function loggedFs(log: string[], override: Partial<FsPort> = {}): FsPort {
  const real = realFsPort();
  return {
    ...real,
    syncFilesystem: async (p, e) => {
      log.push(`syncfs ${p}`);
      return (override.syncFilesystem ?? real.syncFilesystem)(p, e);
    },
    fsyncFile: async (p, e) => {
      log.push(`data ${p}`);
      return (override.fsyncFile ?? real.fsyncFile)(p, e);
    },
    fsyncDir: async (d) => {
      expect(d).toMatch(/^\/proc\/self\/fd\/\d+$/);
      log.push(`dir ${readlinkSync(d)}`);
      return (override.fsyncDir ?? real.fsyncDir)(d);
    },
  };
}

/** A copy run that wrote `n` files into `dir` (made here), as copyDurable reads it: its port, its files, its folder. */
function runOf(fs: FsPort, dir: string, n: number): CopyRun {
  mkdirSync(dir, { recursive: true });
  const written = Array.from({ length: n }, (_, i) => {
    const p = path.join(dir, `f${i}.bin`);
    writeFileSync(p, `data ${i}\n`);
    const st = statSync(p);
    return { path: p, ino: st.ino, dev: st.dev };
  });
  return { ctx: { fs }, chain: dirChain(fs, path.dirname(dir)), written, folders: new Set([dir]) } as unknown as CopyRun;
}

describe('copyDurable', () => {
  it(`makes a batch of ${SYNCFS_MIN_FILES} or more files on one filesystem durable with one syncfs, no fsync of each`, async () => {
    tmp = makeTempDir();
    const log: string[] = [];
    const fs = loggedFs(log);
    const half = Math.ceil(SYNCFS_MIN_FILES / 2);
    await copyDurable([runOf(fs, path.join(tmp.path, 'a'), half), runOf(fs, path.join(tmp.path, 'b'), SYNCFS_MIN_FILES - half)]);
    expect(log).toEqual([`syncfs ${path.join(tmp.path, 'a', 'f0.bin')}`]);
  });

  it('fsyncs each file then each folder below that many files, and for the files of a filesystem below it beside one above it', async () => {
    tmp = makeTempDir();
    const small = path.join(tmp.path, 'small');
    mountTmpfs(small, 16 << 20);
    const log: string[] = [];
    const fs = loggedFs(log);
    await copyDurable([runOf(fs, path.join(tmp.path, 'few'), SYNCFS_MIN_FILES - 1)]);
    expect(log.filter((l) => l.startsWith('syncfs'))).toEqual([]);
    expect(log.filter((l) => l.startsWith('data'))).toHaveLength(SYNCFS_MIN_FILES - 1);
    expect(log.at(-1)).toBe(`dir ${path.join(tmp.path, 'few')}`);
    log.length = 0;
    await copyDurable([runOf(fs, path.join(tmp.path, 'many'), SYNCFS_MIN_FILES), runOf(fs, path.join(small, 'two'), 2)]);
    expect(log).toEqual([`syncfs ${path.join(tmp.path, 'many', 'f0.bin')}`, `data ${path.join(small, 'two', 'f0.bin')}`, `data ${path.join(small, 'two', 'f1.bin')}`, `dir ${path.join(small, 'two')}`]);
  });

  it('falls back to an fsync of every file and folder when the syncfs fails or is declined, and fails the batch with the error a file reports', async () => {
    for (const answer of ['failed', 'unsupported'] as const) {
      tmp?.cleanup();
      tmp = makeTempDir();
      const log: string[] = [];
      const fs = loggedFs(log, { syncFilesystem: async () => answer });
      await copyDurable([runOf(fs, path.join(tmp.path, 'many'), SYNCFS_MIN_FILES)]);
      expect(log.filter((l) => l.startsWith('data')), answer).toHaveLength(SYNCFS_MIN_FILES);
      expect(log.filter((l) => l.startsWith('dir')), answer).toEqual([`dir ${path.join(tmp.path, 'many')}`]);
    }
    // The dangerous case: the syncfs failed because a file of the batch cannot be written back; its own fsync says so.
    const log: string[] = [];
    const eio = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    const bad = path.join(tmp!.path, 'bad');
    const fs = loggedFs(log, {
      syncFilesystem: async () => 'failed',
      fsyncFile: async (p) => {
        if (p.startsWith(bad + '/')) throw eio;
      },
    });
    await expect(copyDurable([runOf(fs, bad, SYNCFS_MIN_FILES)])).rejects.toThrow(/EIO/);
  });
});
