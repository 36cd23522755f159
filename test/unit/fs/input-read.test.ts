// readInput reads a file that steers hashall from a descriptor opened without waiting (openInput): a regular file or a pipe to its end, a pipe whose writer stays but sends nothing given up on after the idle bound — never a wait without end.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readInput } from '../../../src/fs/input-read.js';

let dir: string;
let writer: ChildProcess | null = null;
beforeEach(() => {
  dir = mkdtempSync('/tmp/hashall-input-read-');
});
afterEach(() => {
  if (writer !== null && writer.exitCode === null) writer.kill('SIGKILL');
  writer = null;
  rmSync(dir, { recursive: true, force: true });
});

const openNow = (p: string): number => openSync(p, constants.O_RDONLY | constants.O_NONBLOCK);

function fifo(): string {
  const p = path.join(dir, 'fifo');
  expect(spawnSync('mkfifo', ['-m', '0600', p]).status).toBe(0);
  return p;
}

/**
 * A writer holding `p` open for writing, writing `text` (after `delay` seconds) and closing only when `close`; returns
 * the reading descriptor (opened without waiting) whose open let the writer's open go on.
 */
async function startWriter(p: string, text: string, opts: { delay?: number; close: boolean }): Promise<number> {
  const script = `exec 3>'${p}'; echo open >&2; sleep ${opts.delay ?? 0}; printf %s '${text}' >&3; ${opts.close ? 'exec 3>&-' : 'sleep 600'}`;
  writer = spawn('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  const reader = openNow(p);
  await new Promise<void>((resolve) => writer!.stderr!.once('data', () => resolve()));
  return reader;
}

describe('readInput', () => {
  it('a regular file: its bytes; past maxBytes: null', () => {
    const p = path.join(dir, 'f');
    writeFileSync(p, 'version: 1\n');
    for (const [max, want] of [[100, 'version: 1\n'], [11, 'version: 1\n'], [10, null]] as const) {
      const fd = openNow(p);
      try {
        expect(readInput(p, fd, fstatSync(fd), { maxBytes: max })?.toString() ?? null, String(max)).toBe(want);
      } finally {
        closeSync(fd);
      }
    }
  });

  it('a FIFO nobody writes to: given up on once no writer came, saying so', () => {
    const p = fifo();
    const fd = openNow(p);
    try {
      expect(() => readInput(p, fd, fstatSync(fd), { maxBytes: 100, writerMs: 200 })).toThrow(`${p} is a pipe (FIFO) that no process wrote to within 0.2 s`);
    } finally {
      closeSync(fd);
    }
  });

  it('a FIFO whose writer opens it only after the read began: every byte', () => {
    const p = fifo();
    const fd = openNow(p);
    writer = spawn('sh', ['-c', `sleep 0.3; printf %s 'version: 1' > '${p}'`], { stdio: 'ignore' });
    try {
      expect(readInput(p, fd, fstatSync(fd), { maxBytes: 100 })?.toString()).toBe('version: 1');
    } finally {
      closeSync(fd);
    }
  });

  it('a FIFO whose writer sends a little later and closes: every byte', async () => {
    const p = fifo();
    const fd = await startWriter(p, 'version: 1', { delay: 0.3, close: true });
    try {
      expect(readInput(p, fd, fstatSync(fd), { maxBytes: 100 })?.toString()).toBe('version: 1');
    } finally {
      closeSync(fd);
    }
  });

  it('a writer that stays and never ends: given up on after the idle bound, saying what happened', async () => {
    const p = fifo();
    const fd = await startWriter(p, 'version: 1', { close: false });
    try {
      expect(() => readInput(p, fd, fstatSync(fd), { maxBytes: 100, idleMs: 300 })).toThrow(`nothing more came through ${p} for 0.3 s while its writer kept it open`);
    } finally {
      closeSync(fd);
    }
  });
});
