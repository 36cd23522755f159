// The coalescing of per-torrent client calls (src/clients/batch.ts) and the aligned poll delay: what a batch carries, whose answer each caller gets, no request left behind.
import { describe, expect, it } from 'vitest';
import { answersByKey, askedOnce, batcher, type BatchAnswers } from '../../../src/clients/batch.js';
import { pollDelay } from '../../../src/clients/poll.js';

/** A flush that records the keys of each call and answers `v:<key>`, an Error for keys starting with `bad`. */
function recorder(opts: { throwOn?: (keys: string[]) => boolean } = {}) {
  const calls: string[][] = [];
  const flush = async (keys: string[]): Promise<BatchAnswers<string, string>> => {
    calls.push([...keys]);
    await new Promise((r) => setTimeout(r, 5));
    if (opts.throwOn?.(keys)) throw new Error(`call failed for ${keys.join(',')}`);
    return new Map(keys.filter((k) => k !== 'absent').map((k) => [k, k.startsWith('bad') ? new Error(`no ${k}`) : `v:${k}`]));
  };
  return { calls, flush };
}

describe('batcher', () => {
  it('sends the requests of one turn as one call of their distinct keys; each caller gets its own answer', async () => {
    const r = recorder();
    const get = batcher(r.flush);
    const out = await Promise.all([get('a'), get('b'), get('a'), get('absent')]);
    expect(out).toEqual(['v:a', 'v:b', 'v:a', undefined]);
    expect(r.calls).toEqual([['a', 'b', 'absent']]);
  });

  it("one key's error rejects only that key's callers", async () => {
    const r = recorder();
    const get = batcher(r.flush);
    const out = await Promise.allSettled([get('a'), get('bad1'), get('b')]);
    expect(out.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((out[1] as PromiseRejectedResult).reason).toEqual(new Error('no bad1'));
    expect(r.calls).toHaveLength(1);
  });

  it('a call that fails rejects the requests it carried and only those; requests made meanwhile go in the next call', async () => {
    const r = recorder({ throwOn: (keys) => keys.includes('x') });
    const get = batcher(r.flush);
    const first = Promise.allSettled([get('x'), get('y')]);
    await new Promise((res) => setImmediate(res)); // the first call is in flight now
    const second = Promise.allSettled([get('z'), get('w')]);
    const [a, b] = await Promise.all([first, second]);
    expect(a.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    expect(b).toEqual([
      { status: 'fulfilled', value: 'v:z' },
      { status: 'fulfilled', value: 'v:w' },
    ]);
    expect(r.calls).toEqual([
      ['x', 'y'],
      ['z', 'w'],
    ]);
  });

  it('at most maxKeys per call; the rest follow', async () => {
    const r = recorder();
    const get = batcher(r.flush, 2);
    expect(await Promise.all(['a', 'b', 'c', 'd', 'e'].map((k) => get(k)))).toEqual(['v:a', 'v:b', 'v:c', 'v:d', 'v:e']);
    expect(r.calls).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('never strands a request: one made just as a call ends is still sent', async () => {
    const r = recorder();
    const get = batcher(r.flush);
    // Each answer immediately asks again (a poll loop), from every microtask position after the call's end.
    const loop = async (k: string, n: number) => {
      const seen: (string | undefined)[] = [];
      for (let i = 0; i < n; i++) seen.push(await get(`${k}${i % 2}`));
      return seen;
    };
    const out = await Promise.all([loop('p', 20), loop('q', 13)]);
    expect(out[0]).toHaveLength(20);
    expect(out[1]).toHaveLength(13);
    expect(out.flat().every((v) => typeof v === 'string')).toBe(true);
  });
});

describe('pollDelay', () => {
  it('sleeps the interval unaligned; aligned, until the first shared tick at least half an interval away', () => {
    expect(pollDelay(1234, 100, false)).toBe(100);
    expect(pollDelay(1200, 100, true)).toBe(100);
    expect(pollDelay(1234, 100, true)).toBe(66);
    expect(pollDelay(1260, 100, true)).toBe(140);
    expect(pollDelay(1250, 100, true)).toBe(50);
    // Two pollers at different phases wake at the same instant.
    expect(1234 + pollDelay(1234, 100, true)).toBe(1210 + pollDelay(1210, 100, true));
  });
});

describe('answersByKey', () => {
  it('an entry that does not parse fails only its own key; one without a key makes the whole answer unreadable', () => {
    const parse = (e: { k?: string; v: number }): number => {
      if (e.v < 0) throw new Error(`bad ${e.k}`);
      return e.v * 2;
    };
    const keyOf = (e: { k?: string }): string => {
      if (e.k === undefined) throw new Error('no key');
      return e.k;
    };
    const got = answersByKey([{ k: 'a', v: 1 }, { k: 'b', v: -1 }, { k: 'c', v: 3 }], keyOf, parse);
    expect(got.get('a')).toBe(2);
    expect((got.get('b') as Error).message).toBe('bad b');
    expect(got.get('c')).toBe(6);
    expect(() => answersByKey([{ k: 'a', v: 1 }, { v: 2 }], keyOf, parse)).toThrow('no key');
  });
});

describe('askedOnce', () => {
  it('one ask for the callers of the same moment, kept once answered; a failure is asked again by the next caller', async () => {
    let asks = 0;
    let fail = true;
    const version = askedOnce(async () => {
      asks++;
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error(`down ${asks}`);
      return `v${asks}`;
    });
    const first = await Promise.allSettled([version(), version()]);
    expect(first.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    expect(asks).toBe(1);
    fail = false;
    expect(await Promise.all([version(), version(), version()])).toEqual(['v2', 'v2', 'v2']);
    expect(await version()).toBe('v2');
    expect(asks).toBe(2);
  });
});
