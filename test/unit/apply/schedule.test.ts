// Apply's scheduling: the recheck width (config knob bounded by the client's own limit; unknown → 1) and FIFO slots.
import { describe, expect, it } from 'vitest';
import { recheckWidth, Slots } from '../../../src/apply/schedule.js';
import type { TorrentClient } from '../../../src/clients/types.js';
import type { HashallConfig } from '../../../src/config/types.js';

const config = (parallelRechecks?: number) => ({ ...(parallelRechecks ? { apply: { parallelRechecks } } : {}) }) as HashallConfig;
const client = (limit: () => Promise<number | null>) => ({ checkingLimit: limit }) as unknown as TorrentClient;

describe('recheckWidth', () => {
  it('is the knob bounded by the client limit; the knob alone when the client has none; 1 when the limit cannot be read', async () => {
    expect((await recheckWidth(config(8), client(async () => 2))).width).toBe(2);
    expect((await recheckWidth(config(3), client(async () => 16))).width).toBe(3);
    expect((await recheckWidth(config(5), client(async () => null))).width).toBe(5);
    expect((await recheckWidth(config(5), {} as TorrentClient)).width).toBe(5);
    expect((await recheckWidth(config(), client(async () => 100))).width).toBe(8);
    const failed = await recheckWidth(config(8), client(async () => Promise.reject(new Error('HTTP 403'))));
    expect(failed.width).toBe(1);
    expect(failed.note).toContain('HTTP 403');
  });

  it("says when the client's own limit holds the rechecks below the knob (qBittorrent's default is 1: one torrent checked at a time)", async () => {
    const low = await recheckWidth(config(8), client(async () => 1));
    expect(low.width).toBe(1);
    expect(low.note).toMatch(/at most 1 torrent at once.*parallelRechecks.*8.*Max active checking torrents/);
    expect((await recheckWidth(config(8), client(async () => 8))).note).toBeNull();
    expect((await recheckWidth(config(4), client(async () => 16))).note).toBeNull();
  });
});

describe('Slots', () => {
  it('runs at most `size` at once, in the order asked, and frees a slot when a task throws', async () => {
    const slots = new Slots(2);
    let running = 0;
    let max = 0;
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const task = (i: number) =>
      slots.run(async () => {
        running++;
        max = Math.max(max, running);
        order.push(i);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
        if (i === 1) throw new Error('boom');
        return i;
      });
    const all = [0, 1, 2, 3, 4].map((i) => task(i).catch((e: Error) => e.message));
    for (let k = 0; k < 5; k++) {
      await new Promise((r) => setImmediate(r));
      gates.shift()?.();
    }
    expect(await Promise.all(all)).toEqual([0, 'boom', 2, 3, 4]);
    expect(max).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });
});
