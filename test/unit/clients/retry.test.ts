// The transports' one retry policy: how many tries, which waits between them, what is retried and what is thrown.
import { describe, expect, it } from 'vitest';
import { ClientError, HashallError } from '../../../src/errors.js';
import { withRetries } from '../../../src/clients/retry.js';

function recorder() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('withRetries', () => {
  it('returns the first answer that is not a ClientError, without waiting', async () => {
    const r = recorder();
    const seen: [number, number][] = [];
    const got = await withRetries({ sleep: r.sleep }, async (i, n) => (seen.push([i, n]), 'ok'), () => new ClientError('network', 'none'));
    expect(got).toBe('ok');
    expect(seen).toEqual([[0, 3]]);
    expect(r.waits).toEqual([]);
  });

  it('tries again after a returned ClientError, doubling the wait, and throws the last one when every try failed', async () => {
    const r = recorder();
    let n = 0;
    const run = withRetries({ attempts: 4, backoffMs: 10, sleep: r.sleep }, async (i) => (n++, new ClientError('http', `answered 503 (try ${i + 1})`)), () => new ClientError('network', 'none'));
    await expect(run).rejects.toThrow('answered 503 (try 4)');
    expect(n).toBe(4);
    expect(r.waits).toEqual([10, 20, 40]);
  });

  it('succeeds on a later try', async () => {
    const r = recorder();
    const got = await withRetries({ sleep: r.sleep }, async (i) => (i < 2 ? new ClientError('network', 'refused') : i), () => new ClientError('network', 'none'));
    expect(got).toBe(2);
    expect(r.waits).toEqual([250, 500]);
  });

  it('never retries what the try throws', async () => {
    const r = recorder();
    let n = 0;
    const run = withRetries({ sleep: r.sleep }, async () => {
      n++;
      throw new ClientError('auth', 'refused with 403');
    }, () => new ClientError('network', 'none'));
    await expect(run).rejects.toThrow('refused with 403');
    expect(n).toBe(1);
    expect(r.waits).toEqual([]);
  });

  it('makes at least one try whatever the attempts option says', async () => {
    const r = recorder();
    const run = withRetries({ attempts: 0, sleep: r.sleep }, async () => new ClientError('network', 'refused'), () => new ClientError('network', 'none'));
    await expect(run).rejects.toBeInstanceOf(HashallError);
    await expect(withRetries({ attempts: -3, sleep: r.sleep }, async () => 'x', () => new ClientError('network', 'none'))).resolves.toBe('x');
  });
});
