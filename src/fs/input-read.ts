// Reads a file that steers hashall (hashall.yaml, a saved plan) from a descriptor opened without waiting (O_NONBLOCK, openInput): to its end, never waiting without end.
// A FIFO opened the usual way waits for a writer, and a pipe's read for its writer's next byte: a FIFO nobody writes
// to (root's own `mkfifo`, a stale one) hung every command that read it, and a writer that keeps its end open and sends
// nothing (`sleep | hashall … --config /dev/stdin`) did too. Here a FIFO whose writer does not come within `writerMs`,
// and one whose writer stays silent for `idleMs`, are given up on, saying so; a regular file reads as ever.
import { readSync, type Stats } from 'node:fs';
import { errnoCode, FsError } from '../errors.js';

/** How long a pipe's writer may keep it open without sending a byte before the read is given up on. */
export const PIPE_IDLE_MS = 30_000;
/** How long a FIFO nobody has opened for writing is waited on for its writer. */
export const PIPE_WRITER_MS = 10_000;
/** How long one wait for a pipe's next byte sleeps. */
const POLL_MS = 20;
/** A pipe is read in chunks of this many bytes. */
const CHUNK = 1 << 16;

/**
 * The bytes of the file open on `fd` (opened O_NONBLOCK; `st` its fstat) to its end, or null past `maxBytes` (default:
 * no bound). Throws FsError for a pipe (FIFO) that no process opened for writing within `writerMs` (or one that wrote
 * nothing), and for one whose writer kept it open `idleMs` without sending a byte.
 */
export function readInput(file: string, fd: number, st: Stats, opts: { maxBytes?: number; idleMs?: number; writerMs?: number } = {}): Buffer | null {
  const idleMs = opts.idleMs ?? PIPE_IDLE_MS;
  const writerMs = opts.writerMs ?? PIPE_WRITER_MS;
  const max = opts.maxBytes ?? Infinity;
  const chunks: Buffer[] = [];
  const pause = new Int32Array(new SharedArrayBuffer(4));
  // A regular file's size is known: one read of it (and a byte more, to see its end); a pipe in chunks.
  let buf = Buffer.allocUnsafe(Math.min(max + 1, st.isFile() ? st.size + 1 : CHUNK));
  let at = 0;
  let n = 0;
  let idle = 0;
  let waited = 0;
  while (n <= max) {
    if (at === buf.length) {
      chunks.push(buf);
      buf = Buffer.allocUnsafe(Math.min(max + 1 - n, CHUNK));
      at = 0;
    }
    let got: number;
    try {
      got = readSync(fd, buf, at, buf.length - at, null);
    } catch (err) {
      if (errnoCode(err) !== 'EAGAIN') throw err;
      // A writer is there but has sent nothing yet.
      if (idle >= idleMs) {
        throw new FsError(`nothing more came through ${file} for ${idleMs / 1000} s while its writer kept it open (${n} bytes read): hashall reads a pipe only to its end`, {
          code: 'ETIMEDOUT',
          path: file,
          hint: 'give the path of the file itself, or let the command writing it finish (e.g. --config <(cat file))',
        });
      }
      Atomics.wait(pause, 0, 0, POLL_MS);
      idle += POLL_MS;
      continue;
    }
    if (got === 0) {
      // A FIFO read O_NONBLOCK ends at once while no process has it open for writing: one may still come (`cp plan
      // fifo &`), up to `writerMs`; a writer that came and closed without a byte looks the same, and is said the same.
      if (n > 0 || !st.isFIFO()) break;
      if (waited >= writerMs) {
        throw new FsError(`${file} is a pipe (FIFO) that no process wrote to within ${writerMs / 1000} s: nothing was read from it`, {
          code: 'ENODATA',
          path: file,
          hint: 'give the path of the file itself, or a pipe whose writer is running (e.g. --config <(cat file))',
        });
      }
      Atomics.wait(pause, 0, 0, POLL_MS);
      waited += POLL_MS;
      continue;
    }
    idle = 0;
    at += got;
    n += got;
  }
  if (n > max) return null;
  chunks.push(buf.subarray(0, at));
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n);
}
