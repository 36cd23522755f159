// Scheduling of apply's groups: how many may wait for the client at once, and the FIFO slots that serialize disk work.
import type { TorrentClient } from '../clients/types.js';
import type { HashallConfig } from '../config/types.js';
import type { PlanGroup, PlanStep } from '../plan/types.js';

/** Default of `apply.parallelRechecks` for configs built without it (normalize sets it from the same default). */
export const DEFAULT_PARALLEL_RECHECKS = 8;

/** FIFO counting semaphore: `run(fn)` waits for one of `size` slots, runs fn, frees the slot (also on a throw). */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = Math.max(1, size);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/**
 * How many rechecks may run at once (a recheck asked … its end confirmed): the config's `apply.parallelRechecks`,
 * bounded by the client's own checking limit. A client that cannot say (the read failed) gets 1: unknown means the
 * careful choice. Groups in their client phase: see {@link clientPhaseWidth}.
 */
export async function recheckWidth(config: HashallConfig, client: TorrentClient | null): Promise<{ width: number; clientLimit: number | null; note: string | null }> {
  const knob = config.apply?.parallelRechecks ?? DEFAULT_PARALLEL_RECHECKS;
  if (!client?.checkingLimit) return { width: knob, clientLimit: null, note: null };
  try {
    const limit = await client.checkingLimit();
    const held =
      limit !== null && limit < knob
        ? `the client checks at most ${limit} torrent${limit === 1 ? '' : 's'} at once (apply.parallelRechecks asks for ${knob}): rechecks run ${limit} at a time — raise its limit to overlap more (qBittorrent: Options → Advanced → Max active checking torrents)`
        : null;
    return { width: limit === null ? knob : Math.min(knob, limit), clientLimit: limit, note: held };
  } catch (err) {
    return { width: 1, clientLimit: null, note: `the client's checking limit could not be read (${(err as Error).message}); rechecks run one at a time` };
  }
}

/**
 * How many groups may be in their client phase (repoint: pause, setLocation, recheck, resume) at once, for `width`
 * checks at once: twice as many — while `width` of them check, as many are paused and moved, ready for the next free
 * checking slot (qBittorrent starts queued checks in a pass about once a second: a group that had to pause and move
 * first when a slot freed missed the pass), or resume after their check.
 */
export function clientPhaseWidth(width: number): number {
  return 2 * Math.max(1, width);
}

/** Steps that wait for the torrent client (run in a client slot); every other step works on disks (the disk slot). */
export function waitsForClient(step: PlanStep): boolean {
  return step.kind === 'repoint';
}

/**
 * Groups that may overlap others: those that repoint torrents (a move or reuse: copy/link, then the client). Any other
 * group (dedupe, retire, a move without torrents) runs alone, in plan order, once the groups before it have ended.
 */
export function overlaps(group: PlanGroup): boolean {
  return group.steps.some(waitsForClient);
}

/**
 * `submit(item)` queues an item; the items queued when `slot` comes free run as one `run(items)` in it — at most `take`
 * of them (`take` picks how many of the queued, at least one), the rest at the next turn of the slot, after whatever
 * asked for it meanwhile. `run` answers each item in order; a throw of `run` rejects every item of that call.
 */
export function slotBatcher<T, R>(slot: Slots, run: (items: T[]) => Promise<R[]>, take: (queued: readonly T[]) => number): (item: T) => Promise<R> {
  const queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  let asked = false;
  const drain = async (): Promise<void> => {
    const batch = queue.splice(0, Math.max(1, take(queue.map((q) => q.item))));
    try {
      const out = await run(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(out[i]!));
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      if (queue.length > 0) void slot.run(drain);
      else asked = false;
    }
  };
  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (asked) return;
      asked = true;
      void slot.run(drain);
    });
}
