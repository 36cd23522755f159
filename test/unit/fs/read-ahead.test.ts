// find's output is read ahead of its parser: a real child's pipe is drained while the consumer holds a chunk, up to a bound.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { readAhead } from '../../../src/fs/find-walk.js';

/**
 * `seq 1 n` as a real child's stdout, the text it must give, and its end — listened for from the start: the child may
 * exit and close while the consumer still takes the chunks read ahead of it, and a 'close' listener added then waits forever.
 */
function seq(n: number): { child: ReturnType<typeof spawn>; expected: string; closed: Promise<unknown> } {
  const child = spawn('seq', ['1', String(n)], { stdio: ['ignore', 'pipe', 'ignore'] });
  const closed = once(child, 'close');
  let expected = '';
  for (let i = 1; i <= n; i++) expected += `${i}\n`;
  return { child, expected, closed };
}

describe('readAhead', () => {
  it('reads what the writer writes while the consumer holds a chunk, stops above the bound, and gives every byte in order', async () => {
    const { child, expected, closed } = seq(400_000); // ~2.7 MB
    const stdout = child.stdout!;
    const limit = 256 * 1024;
    const chunks = readAhead(stdout, limit);
    const first = await chunks.next();
    expect(first.done).toBe(false);
    const got: Buffer[] = [first.value as Buffer];
    // The consumer holds the first chunk: the stream keeps being read until more than `limit` bytes wait, then pauses.
    if (!stdout.isPaused()) await once(stdout, 'pause');
    expect(stdout.isPaused()).toBe(true);
    expect(stdout.readableLength).toBeLessThanOrEqual(stdout.readableHighWaterMark + 64 * 1024);
    for await (const c of chunks) got.push(c);
    expect(Buffer.concat(got).toString('latin1')).toBe(expected);
    await closed;
  });

  it('throws the stream error', async () => {
    const s = new PassThrough();
    const chunks = readAhead(s);
    s.write('abc');
    const first = await chunks.next();
    expect(String(first.value)).toBe('abc');
    s.destroy(new Error('pipe broke'));
    await expect(chunks.next()).rejects.toThrow('pipe broke');
  });
});
